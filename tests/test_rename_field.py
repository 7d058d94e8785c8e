"""
Catalogue row: a field's column renamed (RenameField, answered "y" at
Django's "Did you rename ...?", or a changed db_column). The contract adds
the new column, keeps both equal with triggers and copies the rows; the
cleanup drops the triggers and the old column.
"""

import pytest

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    failures,
    stock_schema,
)
from .project import Project

AUTHOR = """
class Author(models.Model):
    name = models.CharField(max_length=100)
"""

# kind: (v1's field, v2's field, old name, new name, what a value is)
KINDS = {
    "plain": (
        "title = models.CharField(max_length=100)",
        "headline = models.CharField(max_length=100)",
        "title",
        "headline",
        "text",
    ),
    "nullable": (
        "note = models.CharField(max_length=50, null=True)",
        "remark = models.CharField(max_length=50, null=True)",
        "note",
        "remark",
        "text",
    ),
    "unique": (
        "code = models.CharField(max_length=20, unique=True)",
        "sku = models.CharField(max_length=20, unique=True)",
        "code",
        "sku",
        "text",
    ),
    "indexed": (
        "rank = models.IntegerField(db_index=True)",
        "position = models.IntegerField(db_index=True)",
        "rank",
        "position",
        "int",
    ),
    "foreign_key": (
        "author = models.ForeignKey(Author, models.CASCADE)",
        "writer = models.ForeignKey(Author, models.CASCADE)",
        "author",
        "writer",
        "author",
    ),
    "one_to_one": (
        "cover = models.OneToOneField(Author, models.CASCADE)",
        "jacket = models.OneToOneField(Author, models.CASCADE)",
        "cover",
        "jacket",
        "author",
    ),
    "db_column": (
        "title = models.CharField(max_length=100)",
        'title = models.CharField(max_length=100, db_column="headline")',
        "title",
        "title",
        "text",
    ),
}


def models_source(field: str) -> str:
    return f"""{AUTHOR}

class Book(models.Model):
    pages = models.IntegerField(default=1)
    {field}
"""


def rootpage(project: Project) -> int | None:
    """SQLite's root page of shop_book: a rebuild gives the table a new one."""
    if project.vendor != "sqlite":
        return None
    (row,) = project.probe(
        "sql", query="SELECT rootpage FROM sqlite_master WHERE name = 'shop_book'"
    )
    return row[0]


def make_v2(project: Project, *options: str) -> str:
    # One rename, one question; a db_column change asks none.
    return project.run("manage.py", "makemigrations", *options, input="y\n").stdout


class Values:
    """Distinct values of the kind, relations naming rows made as needed."""

    def __init__(self, project: Project, v1: str, kind: str) -> None:
        self.project, self.v1, self.kind, self.n = project, v1, kind, 0

    def __call__(self):
        self.n += 1
        if self.kind == "text":
            return f"value {self.n}"
        if self.kind == "int":
            return self.n * 7
        return self.project.probe(
            "write",
            app="shop",
            release=self.v1,
            model="Author",
            field="name",
            value=f"author {self.n}",
        )


def write(project, release, field, value, pk=None):
    return project.probe(
        "write",
        app="shop",
        release=release,
        model="Book",
        field=field,
        value=value,
        pk=pk,
    )


def read(project, release, field, pk):
    return project.probe(
        "read", app="shop", release=release, model="Book", field=field, pk=pk
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_both_releases_see_each_others_writes(make_project, vendor, kind):
    old_field, new_field, old, new, values = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    v1 = release.v1
    value = Values(project, v1, values)
    # A row from before the contract: the backfill copies it.
    before, before_value = None, value()
    before = write(project, v1, old, before_value)
    stored = rootpage(project)
    project.set_models(release.v2_models)
    output = make_v2(project)
    assert "column" in output and "kept equal by triggers" in output, output
    # Each contract step says what it does, not Django's "Custom
    # state/database change combination".
    assert "Custom state/database" not in output, output
    assert "both kept equal while both releases run; PR 2 drops" in output, output
    assert project.pending_files()
    project.manage("migrate", "-v0")
    v2 = release.v2 = project.migration_names()[-1]
    if vendor == "sqlite":
        # The old column's NOT NULL, index and foreign key go by editing the
        # table's SQL, not by a rebuild (the same root page). A unique one's
        # index can only go with one (and adding the new unique column
        # rebuilds it again, which may give back the first root page).
        if kind not in ("unique", "one_to_one"):
            assert rootpage(project) == stored, kind
        assert project.probe("sql", query="PRAGMA integrity_check") == [["ok"]]
    assert read(project, v2, new, before) == before_value
    # In turn, each in its own process, each reading the other's writes.
    a = value()
    from_old = write(project, v1, old, a)
    assert read(project, v2, new, from_old) == a
    b = value()
    from_new = write(project, v2, new, b)
    assert read(project, v1, old, from_new) == b
    c = value()
    write(project, v1, old, c, pk=from_new)
    assert read(project, v2, new, from_new) == c
    d = value()
    write(project, v2, new, d, pk=from_old)
    assert read(project, v1, old, from_old) == d
    if kind == "nullable":
        write(project, v2, new, None, pk=before)
        assert read(project, v1, old, before) is None
        write(project, v1, old, "again", pk=before)
        assert read(project, v2, new, before) == "again"
    assert_idempotent(project)
    problems = failures(release.crud())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor, kind):
    old_field, new_field, old, new, values = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    value = Values(project, release.v1, values)
    kept = value()
    row = write(project, release.v1, old, kept)
    project.set_models(release.v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    assert_idempotent(project)
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    v2 = project.migration_names()[-1]
    assert read(project, v2, new, row) == kept
    # Stock Django's RenameField renames the column, keeping the names of
    # its index and constraints (made from the old column's name); ours
    # are made from the new one's, as a fresh table's: compared unnamed.
    twin = stock_schema(
        make_project, vendor, release.v1_models, release.v2_models, "y\n"
    )
    assert_same_schema(project.probe("schema"), twin, "after cleanup", names=False)
    # Back past the cleanup and the contract: v1's schema, the value kept.
    project.manage("migrate", "shop", release.v1, "-v0")
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "back to v1", names=False
    )
    assert read(project, release.v1, old, row) == kept


@pytest.mark.parametrize("kind", ["plain", "foreign_key", "db_column"])
def test_stock_rename_breaks_the_old_release(make_project, vendor, kind):
    old_field, new_field, old, new, values = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    project.set_models(release.v2_models)
    make_v2(project, "--no-bluegreen")
    assert not project.pending_files()
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    problems = failures(release.crud())
    assert any("v1 Book create" in problem for problem in problems), problems


def contract_applied(make_project, vendor, kind="plain"):
    old_field, new_field, old, new, values = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    project.set_models(release.v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    return project, release


@pytest.mark.parametrize("kind", ["plain", "nullable"])
def test_a_change_of_the_renamed_column_waits_for_the_cleanup(
    make_project, vendor, kind
):
    # (A NOT NULL one has its Set NOT NULL step pending too, which refuses
    # on its own; a nullable one has only the synchronisation's.)
    project, release = contract_applied(make_project, vendor, kind)
    before = project.snapshot()
    project.set_models(release.v2_models.replace("max_length=", "max_length=2"))
    result = project.manage("makemigrations", check=False)
    assert result.returncode != 0
    old, new = KINDS[kind][2:4]
    assert f"would change {new} and not {old}" in result.stderr, result.stderr
    assert project.snapshot() == before
    # One the database never sees goes through.
    project.set_models(
        release.v2_models.replace("max_length=", "help_text='h', max_length=")
    )
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")


def test_a_later_change_that_rebuilds_the_table_keeps_the_pair_synchronised(
    make_project, vendor
):
    # SQLite rebuilds the table for it (Django's _remake_table): migrate
    # carries the triggers through the rebuild (runtime/sqlite_rebuilds.py).
    # Elsewhere there is no rebuild.
    project, release = contract_applied(make_project, vendor)
    project.set_models(release.v2_models.replace("default=1)", "default=1, null=True)"))
    result = project.manage("makemigrations", check=False)
    assert result.returncode == 0, result.stderr
    project.manage("migrate", "-v0")
    v3 = project.migration_names()[-1]
    row = write(project, release.v1, "title", "old release")
    assert read(project, v3, "headline", row) == "old release"


def test_the_backfill_runs_in_batches_and_says_how_far_it_is(make_project, vendor):
    old_field, new_field, *_ = KINDS["plain"]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    project.manage(
        "shell",
        "-c",
        "from shop.models import Book; Book.objects.bulk_create("
        "Book(title=f't{n}') for n in range(2500))",
    )
    project.set_models(release.v2_models)
    make_v2(project)
    output = project.manage("migrate").stdout
    assert "Copying into shop_book.headline: 2500/2500 rows" in output, output
    copied = project.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SELECT COUNT(*) FROM shop_book WHERE headline = title')\n"
        "    print(c.fetchone()[0])",
    ).stdout
    assert copied.splitlines()[-1] == "2500"
    # Resumable: run again, nothing is left to copy, nothing is written.
    project.manage("migrate", "shop", release.v1, "-v0")
    project.manage("migrate", "-v0")
