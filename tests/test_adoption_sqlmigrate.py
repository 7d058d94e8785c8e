"""``sqlmigrate`` shows a pending cleanup's SQL by its name, before promotion."""

from __future__ import annotations

import pytest

from .model_sources import BOOK, BOOK_WITH_RATING
from .oracles import Release

V1, V2 = BOOK_WITH_RATING, BOOK


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"], indirect=True)
def test_pending_cleanup_sql_is_the_sql_it_runs_once_promoted(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    release.make_v2()
    project = release.project
    (cleanup,) = project.pending_files()
    forwards = project.manage("sqlmigrate", "shop", "cleanup_0002").stdout
    backwards = project.manage("sqlmigrate", "shop", cleanup.stem, "--backwards")
    assert "DROP COLUMN" in forwards and "rating" in forwards
    assert "ADD COLUMN" in backwards.stdout
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    promoted = project.migration_names()[-1]
    assert project.manage("sqlmigrate", "shop", promoted).stdout == forwards
    assert (
        project.manage("sqlmigrate", "shop", promoted, "--backwards").stdout
        == backwards.stdout
    )


def test_unknown_names_are_refused_as_django_refuses_them(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    result = release.project.manage("sqlmigrate", "shop", "nosuch", check=False)
    assert result.returncode == 1
    assert "Cannot find a migration matching 'nosuch' from app 'shop'" in result.stderr
    # A prefix of a migration in the folder is still that migration.
    assert "Alter field rating on book" in (
        release.project.manage("sqlmigrate", "shop", "0002").stdout
    )
