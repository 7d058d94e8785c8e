"""
SQLite changes a column's declared type in place (issue 27): its types are
affinities (section 3.1 of https://www.sqlite.org/datatype3.html), so a
change within one affinity changes no stored value. The package's
``migrate`` edits the table's SQL in ``sqlite_master`` for it
(``runtime/sqlite_in_place.py``) instead of Django's rebuild, and
``makemigrations`` lets such a change through where every vendor of the
project makes it in place (``split/catalogue/in_place/``). A change across
affinities takes the second column, as before.

The pairs are generated from Django's fields, and which pairs share an
affinity is asked of SQLite itself (what ``CAST`` to the type makes of a
value), not of the package's rule.
"""

import itertools
import json
import sqlite3

import pytest

from bluegreen_autodetector.capture.connections import capture_connection
from bluegreen_autodetector.split.catalogue.in_place import in_place
from bluegreen_autodetector.split.catalogue.retypes import holds_every_value

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    stock_migrate,
    stock_schema,
)
from .project import SERVERS

# Django's fields of each kind of column (not primary keys, not relations).
FIELDS = {
    "SmallIntegerField": "models.SmallIntegerField()",
    "IntegerField": "models.IntegerField()",
    "BigIntegerField": "models.BigIntegerField()",
    "PositiveIntegerField": "models.PositiveIntegerField()",
    "BooleanField": "models.BooleanField()",
    "CharField(50)": "models.CharField(max_length=50)",
    "CharField(200)": "models.CharField(max_length=200)",
    "TextField": "models.TextField()",
    "SlugField": "models.SlugField(db_index=False)",
    "UUIDField": "models.UUIDField()",
    "JSONField": "models.JSONField()",
    "FloatField": "models.FloatField()",
    "DecimalField(5, 2)": "models.DecimalField(max_digits=5, decimal_places=2)",
    "DateField": "models.DateField()",
    "DateTimeField": "models.DateTimeField()",
    "TimeField": "models.TimeField()",
    "DurationField": "models.DurationField()",
    "BinaryField": "models.BinaryField()",
}
PAIRS = list(itertools.permutations(FIELDS, 2))


def sqlite_type(name: str) -> str:
    from django.db import models  # noqa: F401 (FIELDS name it)

    field = eval(FIELDS[name])
    return field.db_type(capture_connection("sqlite"))


def affinity_by_sqlite(declared: str) -> tuple:
    """What CAST to ``declared`` makes of a text, a number and a decimal text."""
    with sqlite3.connect(":memory:") as database:
        return database.execute(
            f"SELECT typeof(CAST('1.5' AS {declared})), typeof(CAST(12 AS "
            f"{declared})), typeof(CAST('12' AS {declared}))"
        ).fetchone()


@pytest.mark.parametrize("old, new", PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_in_place_on_sqlite_is_one_affinity_as_sqlite_casts(old, new):
    before, after = sqlite_type(old), sqlite_type(new)
    same = affinity_by_sqlite(before) == affinity_by_sqlite(after)
    assert in_place("sqlite", before, after) == same, (before, after)


def test_the_five_affinities_are_told_apart():
    # The oracle above tells INTEGER from NUMERIC (they differ in CAST only).
    found = {
        affinity_by_sqlite(declared)
        for declared in ("integer", "decimal", "real", "text", "blob")
    }
    assert len(found) == 5


# The pairs a database test runs: each kind of column against its
# neighbours (integers, texts, a real). (A date and a datetime share the
# NUMERIC affinity too, but each release reads the other's values as its
# own type: not a question of the database's.)
COLUMNS = [
    "SmallIntegerField",
    "IntegerField",
    "BigIntegerField",
    "CharField(50)",
    "CharField(200)",
    "TextField",
    "FloatField",
]
NEIGHBOURS = list(itertools.permutations(COLUMNS, 2))
# A value each writes, and one the other release writes.
VALUES = {
    "SmallIntegerField": (7, 9),
    "IntegerField": (7, 9),
    "BigIntegerField": (7, 9),
    "CharField(50)": ("42", "43"),
    "CharField(200)": ("42", "43"),
    "TextField": ("42", "43"),
    "FloatField": (1.5, 2.5),
}


def models_source(field: str) -> str:
    return f"""
class Book(models.Model):
    pages = models.IntegerField(default=1)
    amount = {field}
"""


def sql(project, query: str) -> list:
    return project.probe("sql", query=query)


def rootpage(project) -> int:
    ((page,),) = sql(
        project, "SELECT rootpage FROM sqlite_master WHERE name = 'shop_book'"
    )
    return page


def declared(project) -> str:
    rows = sql(project, "PRAGMA table_xinfo(shop_book)")
    # (SQLite reads back its own type names in capitals: INTEGER, TEXT.)
    return next(row[2] for row in rows if row[1] == "amount").lower()


def write(project, release, value, pk=None):
    return project.probe(
        "write",
        app="shop",
        release=release,
        model="Book",
        field="amount",
        value=value,
        pk=pk,
    )


def read(project, release, pk):
    return project.probe(
        "read", app="shop", release=release, model="Book", field="amount", pk=pk
    )


def fields(old, new):
    from django.db import models  # noqa: F401 (FIELDS name it)

    return eval(FIELDS[old]), eval(FIELDS[new])


@pytest.mark.parametrize(
    "old, new", NEIGHBOURS, ids=[f"{a}->{b}" for a, b in NEIGHBOURS]
)
def test_a_change_within_one_affinity_edits_the_declared_type_in_place(
    make_project, old, new
):
    project = make_project("sqlite")
    release = Release(project, models_source(FIELDS[old]), models_source(FIELDS[new]))
    first, second = VALUES[old]
    row = write(project, release.v1, first)
    stored = rootpage(project)
    output = release.make_v2()
    project.manage("migrate", "-v0")
    before, after = sqlite_type(old), sqlite_type(new)
    one_affinity = affinity_by_sqlite(before) == affinity_by_sqlite(after)
    if not one_affinity:
        # The paths of before: a second column where the new type holds
        # every old value, else Django's AlterField (a rebuild) and a word.
        second_column = holds_every_value(*fields(old, new))
        said = " ".join(output.split())
        assert ("is kept equal to amount" in said) == second_column, output
        assert bool(project.pending_files()) == second_column
        assert ("not split through a second column" in said) != second_column
        assert (rootpage(project) == stored) == second_column
        return
    # In place: no rebuild (the same root page), no second column, no
    # cleanup; the column declares the new type, its value kept.
    assert "second column" not in output, output
    assert not project.pending_files()
    assert rootpage(project) == stored
    assert declared(project) == after
    columns = [row[1] for row in sql(project, "PRAGMA table_xinfo(shop_book)")]
    assert columns == ["id", "pages", "amount"]
    assert sql(project, "PRAGMA integrity_check") == [["ok"]]
    assert_idempotent(project)
    release.v2 = project.migration_names()[-1]
    # Each release, in a process of its own, reads the other's writes.
    assert str(read(project, release.v2, row)) == str(first)
    from_new = write(project, release.v2, second)
    assert str(read(project, release.v1, from_new)) == str(second)
    write(project, release.v1, first, pk=from_new)
    assert str(read(project, release.v2, from_new)) == str(first)
    # Stock Django's schema; and back to v1's declared type, in place too.
    expected = stock_schema(
        make_project, "sqlite", release.v1_models, release.v2_models
    )
    assert_same_schema(project.probe("schema"), expected, "in place")
    project.manage("migrate", "shop", release.v1, "-v0")
    assert declared(project) == before
    assert rootpage(project) == stored
    assert_same_schema(project.probe("schema"), release.v1_schema, "back to v1")
    assert str(read(project, release.v1, row)) == str(first)
    assert sql(project, "PRAGMA integrity_check") == [["ok"]]


def test_stock_migrate_rebuilds_the_table_for_the_same_change(make_project):
    # The negative control: Django's own migrate copies every row.
    project = make_project("sqlite")
    release = Release(
        project,
        models_source(FIELDS["IntegerField"]),
        models_source(FIELDS["BigIntegerField"]),
    )
    write(project, release.v1, 7)
    stored = rootpage(project)
    release.make_v2("--no-bluegreen")
    stock_migrate(project)
    assert declared(project) == "bigint"
    assert rootpage(project) != stored


CAPTURE = {"postgresql": {**SERVERS["postgresql"], "NAME": "postgres"}}


@pytest.mark.parametrize(
    "old, new, second_column",
    [
        # PostgreSQL makes a longer varchar in place too: through.
        ("CharField(50)", "CharField(200)", False),
        # PostgreSQL rewrites integer to bigint: the second column, on
        # SQLite too, as for a project on PostgreSQL alone.
        ("IntegerField", "BigIntegerField", True),
    ],
)
def test_a_project_on_postgresql_too_keeps_postgresql_safe(
    make_project, old, new, second_column
):
    extra = (
        "BLUEGREEN_VENDORS = ['sqlite', 'postgresql']\n"
        f"BLUEGREEN_CAPTURE_DATABASES = json.loads({json.dumps(json.dumps(CAPTURE))})\n"
    )
    project = make_project("sqlite", extra_settings=extra)
    release = Release(project, models_source(FIELDS[old]), models_source(FIELDS[new]))
    stored = rootpage(project)
    output = release.make_v2()
    assert ("second column" in output) == second_column, output
    assert bool(project.pending_files()) == second_column
    project.manage("migrate", "-v0")
    assert rootpage(project) == stored
