"""One cleanup, right on every vendor it names; refused on any other."""

import json

import pytest

from .oracles import Release, assert_same_schema
from .project import SERVERS, assert_stopped, create_database, drop_database

V1 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    pages = models.IntegerField(default=100)
    stock = models.IntegerField(null=True)
"""

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    stock = models.IntegerField(default=0)
    isbn = models.CharField(max_length=13, default="")
"""

CAPTURE = {
    "postgresql": {**SERVERS["postgresql"], "NAME": "postgres"},
    "mysql": {**SERVERS["mysql"], "NAME": "mysql"},
}


def _project_tested_on_sqlite(make_project, vendors):
    extra = (
        f"BLUEGREEN_VENDORS = {vendors!r}\n"
        f"BLUEGREEN_CAPTURE_DATABASES = json.loads({json.dumps(json.dumps(CAPTURE))})\n"
    )
    release = Release(make_project("sqlite", extra_settings=extra), V1, V2)
    release.make_v2()
    release.project.manage("migrate", "-v0")
    release.project.manage("promotemigrations")
    release.project.manage("migrate", "-v0")
    return release


def test_a_project_testing_on_sqlite_gets_cleanups_right_on_every_vendor(
    make_project,
):
    release = _project_tested_on_sqlite(make_project, ["sqlite", "postgresql", "mysql"])
    project = release.project
    (cleanup,) = [p for p in project.migrations.glob("0003_*.py")]
    text = cleanup.read_text()
    assert '"sqlite": [' in text and '"postgresql": [' in text and '"mysql": [' in text
    for vendor in ("postgresql", "mysql"):
        twin = make_project(vendor, installed=False)
        twin.set_models(V1)
        twin.manage("makemigrations", "-v0")
        twin.set_models(V2)
        twin.manage("makemigrations", "-v0")
        twin.manage("migrate", "-v0")
        # The same migration files, replayed on a fresh database of that vendor.
        database = create_database(vendor)
        try:
            project.database = database
            project.manage("migrate", "-v0")
            assert_same_schema(
                project.probe("schema"), twin.probe("schema"), f"replay on {vendor}"
            )
            sql = project.manage("sqlmigrate", "shop", cleanup.stem).stdout
            assert "DROP COLUMN" in sql.upper()
            project.manage("migrate", "shop", "0001", "-v0")
        finally:
            drop_database(vendor, database)


def test_a_vendor_without_captured_sql_is_refused_by_name(make_project):
    release = _project_tested_on_sqlite(make_project, ["sqlite"])
    project = release.project
    database = create_database("postgresql")
    try:
        project.database = database
        result = project.manage("migrate", check=False)
        assert_stopped(result, "holds SQL captured for sqlite, not for 'postgresql'")
    finally:
        drop_database("postgresql", database)


def test_naming_a_vendor_without_a_database_to_capture_with_is_an_error(
    make_project,
):
    project = make_project(
        "sqlite", extra_settings="BLUEGREEN_VENDORS = ['sqlite', 'postgresql']\n"
    )
    release = Release(project, V1, V2)
    project.set_models(V2)
    result = project.manage("makemigrations", check=False)
    assert result.returncode != 0
    assert "BLUEGREEN_CAPTURE_DATABASES has no 'postgresql' entry" in result.stderr
    assert project.migration_names() == [release.v1]
    assert project.pending_files() == []


@pytest.mark.parametrize("entry", ["BLUEGREEN_CAPTURE_DATABASES", "DATABASES"])
@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_a_capture_server_that_is_down_stops_makemigrations_on_one_line(
    make_project, vendor, entry
):
    # A port nothing listens on: the server is down. It is either the
    # capture server named for a vendor DATABASES lacks, or a database of
    # the project's own (capture then uses it).
    down = {**CAPTURE[vendor], "PORT": "1"}
    if entry == "DATABASES":
        extra = f"DATABASES['reports'] = {down!r}\n"
        name = "DATABASES['reports']"
    else:
        extra = (
            f"BLUEGREEN_VENDORS = ['sqlite', {vendor!r}]\n"
            f"BLUEGREEN_CAPTURE_DATABASES = {{{vendor!r}: {down!r}}}\n"
        )
        name = f"BLUEGREEN_CAPTURE_DATABASES[{vendor!r}]"
    project = make_project("sqlite")
    release = Release(project, V1, V2)
    # The server goes down once the release before has its migrations.
    settings = project.root / "settings.py"
    settings.write_text(settings.read_text() + extra)
    project.set_models(V2)
    # Django 6.1's own field checks connect to every MySQL database of
    # DATABASES (has_native_uuid_field) and stop any command on a server
    # that is down, before ours runs: skip them to reach capture.
    result = project.manage("makemigrations", "--skip-checks", check=False)
    assert_stopped(
        result, f"Cannot connect to the {vendor} server of {name} (127.0.0.1:1)"
    )
    assert f"or fix {name} in {project.root / 'settings.py'}, then" in result.stderr
    assert project.migration_names() == [release.v1]
    assert project.pending_files() == []
