"""
Catalogue row: NOT NULL on a column the old release may leave NULL
(issue 27, item 2): ``null=True`` -> ``null=False``, and AddField NOT NULL
with a callable or constant default.

While both releases run, the old one (its own process, its historical
models) writes NULL, or leaves the column out of its INSERTs, and keeps
succeeding. The cleanup then fills what is left in batches (a callable
default called once per row) and sets NOT NULL, with no hand-written
backfill and no stop; a callable default gives each existing row its own
value already in the contract (Django's AddField gives them all one).
"""

import pytest

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    stock_schema,
)
from .project import Project

HEAD = '''
import os
import uuid
from pathlib import Path

from django.utils import timezone

CALLS = 0


def make_code():
    """A module-level default; fails past the count in file 'fail_fill'."""
    global CALLS
    CALLS += 1
    flag = Path(__file__).resolve().parent.parent / "fail_fill"
    if flag.exists() and CALLS > int(flag.read_text()):
        raise RuntimeError("interrupted")
    return uuid.uuid4().hex
'''

# kind: (v1's field or None, v2's field, the field's name, what fills it:
# "distinct" (a callable, each row its own), "time", or the constant as the
# probe reads it back)
KINDS = {
    "alter_no_default": (
        "code = models.CharField(max_length=40, null=True, blank=True)",
        "code = models.CharField(max_length=40, blank=True)",
        "code",
        "",
    ),
    "alter_function": (
        "code = models.CharField(max_length=40, null=True)",
        "code = models.CharField(max_length=40, default=make_code)",
        "code",
        "distinct",
    ),
    "alter_constant": (
        "stock = models.IntegerField(null=True)",
        "stock = models.IntegerField(default=7)",
        "stock",
        "7",
    ),
    "add_uuid4": (
        None,
        "ref = models.UUIDField(default=uuid.uuid4)",
        "ref",
        "distinct",
    ),
    "add_uuid4_unique": (
        None,
        "ref = models.UUIDField(default=uuid.uuid4, unique=True)",
        "ref",
        "distinct",
    ),
    "add_timezone_now": (
        None,
        "added = models.DateTimeField(default=timezone.now)",
        "added",
        "time",
    ),
    "add_function": (
        None,
        "code = models.CharField(max_length=40, default=make_code)",
        "code",
        "distinct",
    ),
    "add_constant": (
        None,
        "stock = models.IntegerField(default=7)",
        "stock",
        "7",
    ),
}


def models_source(field: str | None) -> str:
    return f"""{HEAD}

class Product(models.Model):
    name = models.CharField(max_length=100)
    {field or ""}
"""


def old_write(project: Project, release: str, kind: str, n: int) -> int:
    """
    A row as the old release writes it, in its own process: NULL in the
    column it declares nullable, or the column left out (it has none).
    """
    v1_field, _, name, _ = KINDS[kind]
    field, value = (name, None) if v1_field else ("name", f"old {n}")
    return project.probe(
        "write",
        app="shop",
        release=release,
        model="Product",
        field=field,
        value=value,
    )


def column(project: Project, name: str) -> list[str]:
    """The column's values, as the probe reads them ("None" for NULL)."""
    return [row[name] for row in project.probe("rows")["shop_product"]]


def contract(make_project, vendor: str, kind: str, rows: int = 3):
    v1_field, v2_field, name, _ = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(v1_field), models_source(v2_field))
    for n in range(rows):  # Rows from before the contract.
        old_write(project, release.v1, kind, n)
    # --noinput: Django asks nothing then about a unique callable default.
    output = release.make_v2("--noinput")
    assert project.pending_files(), output
    assert "stops on NULLs" not in output, output
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    return project, release


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_old_release_leaves_nulls_and_the_cleanup_fills_them(
    make_project, vendor, kind
):
    _, _, name, fills = KINDS[kind]
    project, release = contract(make_project, vendor, kind)
    if kind.startswith("add_") and fills == "distinct":
        # The contract gave each existing row its own value already.
        existing = column(project, name)
        assert "None" not in existing and len(set(existing)) == 3, existing
    # The old release writes on, in its own process, NULL or without the
    # column; each write succeeds. The new release writes too.
    for n in range(3, 6):
        old_write(project, release.v1, kind, n)
    project.probe(
        "write",
        app="shop",
        release=release.v2,
        model="Product",
        field="name",
        value="new",
    )
    assert_idempotent(project)
    # The next release: the cleanup runs through, no hand-written backfill.
    project.manage("promotemigrations")
    result = project.manage("migrate")
    assert "OK" in result.stdout, result.stdout + result.stderr
    assert not project.pending_files()
    assert_idempotent(project)
    schema = project.probe("schema")
    assert schema["shop_product"]["columns"][name]["null"] is False
    values = column(project, name)
    assert len(values) == 7 and "None" not in values, values
    if fills == "distinct":
        assert len(set(values)) == len(values), values
    elif fills != "time":
        # The old release's six rows (the new release wrote its own value).
        assert values.count(fills) >= 6, values
    expected = stock_schema(make_project, vendor, release.v1_models, release.v2_models)
    assert_same_schema(schema, expected, "after cleanup vs stock v2", names=False)


@pytest.mark.parametrize("kind", ["add_function", "alter_function"])
def test_an_interrupted_backfill_resumes_where_it_stopped(make_project, vendor, kind):
    _, _, name, _ = KINDS[kind]
    project, release = contract(make_project, vendor, kind, rows=0)
    # The old release's rows, left NULL: 2500 of them (one transaction: on
    # SQLite a COMMIT each took 39 s).
    project.manage(
        "shell",
        "-c",
        "from django.db import connection, transaction\n"
        "with transaction.atomic(), connection.cursor() as c:\n"
        "    c.executemany('INSERT INTO shop_product (name) VALUES (%s)',"
        " [(f'old {n}',) for n in range(2500)])",
    )
    project.manage("promotemigrations")
    cleanup = project.migration_names()[-1]
    shown = project.manage("sqlmigrate", "shop", cleanup).stdout
    assert "call of shop.models.make_code()" in shown, shown
    # make_code fails on its 1451st call: the batches before the one it
    # fails in are committed, that one is rolled back. (Not 1500: batches
    # doubling from 100 end there, 100 + 200 + 400 + 800, and the call that
    # fails would start a batch, leaving nothing to roll back.)
    (project.root / "fail_fill").write_text("1450")
    result = project.manage("migrate", check=False)
    assert result.returncode != 0 and "interrupted" in result.stderr, result
    assert "Filling shop_product." in result.stdout, result.stdout
    first = [value for value in column(project, name) if value != "None"]
    assert 0 < len(first) < 1450, len(first)
    assert project.probe("schema")["shop_product"]["columns"][name]["null"] is True
    (project.root / "fail_fill").unlink()
    project.manage("migrate", "-v0")
    values = column(project, name)
    assert "None" not in values and len(set(values)) == 2500
    # What the first try wrote is kept: the second filled the rest only.
    assert set(first) <= set(values)
    assert project.probe("schema")["shop_product"]["columns"][name]["null"] is False


def test_stock_add_field_gives_every_existing_row_one_value(make_project, vendor):
    # Negative control: Django's own AddField evaluates uuid4 once.
    _, v2_field, name, _ = KINDS["add_uuid4"]
    project = make_project(vendor)
    release = Release(project, models_source(None), models_source(v2_field))
    for n in range(3):
        old_write(project, release.v1, "add_uuid4", n)
    release.make_v2("--no-bluegreen")
    project.manage("migrate", "-v0")
    assert len(set(column(project, name))) == 1


COMPOSITE = """
import uuid


class Product(models.Model):
    pk = models.CompositePrimaryKey("shop", "sku")
    shop = models.IntegerField()
    sku = models.IntegerField()
    name = models.CharField(max_length=100)
    {field}
"""


def test_a_composite_primary_key_is_filled_row_by_row(make_project, vendor):
    # No key range to batch by: the rows are found by all their key columns.
    field = "ref = models.UUIDField(default=uuid.uuid4)"
    project = make_project(vendor)
    release = Release(
        project, COMPOSITE.format(field=""), COMPOSITE.format(field=field)
    )
    insert = (
        "from django.db import connection, transaction\n"
        "with transaction.atomic(), connection.cursor() as c:\n"
        "    c.executemany('INSERT INTO shop_product (shop, sku, name) "
        "VALUES (%s, %s, %s)', [(n % 3, n, 'old') for n in range({start}, {end})])"
    )
    project.manage("shell", "-c", insert.format(start=0, end=150))
    release.make_v2("--noinput")
    project.manage("migrate", "-v0")
    assert len(set(column(project, "ref"))) == 150
    project.manage("shell", "-c", insert.format(start=150, end=300))
    release.promote_and_migrate()
    values = column(project, "ref")
    assert "None" not in values and len(set(values)) == 300
    assert project.probe("schema")["shop_product"]["columns"]["ref"]["null"] is False


QUESTION = "will not generate unique values upon migrating"

# A unique field added with a callable default: whether the split fills
# each existing row with its own call (Django's question does not arise) or
# Django's AddField evaluates the default once for every row (it does).
UNIQUE_CALLABLE = {
    "uuid4": ("ref = models.UUIDField(default=uuid.uuid4, unique=True)", False),
    "function": (
        "code = models.CharField(max_length=40, default=make_code, unique=True)",
        False,
    ),
    "uuid4_nullable": (
        "ref = models.UUIDField(default=uuid.uuid4, unique=True, null=True)",
        True,
    ),
    "timezone_now": (
        "added = models.DateTimeField(default=timezone.now, unique=True)",
        True,
    ),
    "uuid4_db_default": (
        "ref = models.UUIDField(default=uuid.uuid4, db_default='x', unique=True)",
        True,
    ),
}


@pytest.mark.parametrize("kind", sorted(UNIQUE_CALLABLE))
def test_the_unique_callable_default_question_is_asked_only_where_it_holds(
    make_project, kind
):
    # Interactive makemigrations (no --noinput) with nothing to answer:
    # Django's question would read end of file and fail.
    field, asked = UNIQUE_CALLABLE[kind]
    project = make_project("sqlite")
    project.set_models(models_source(None))
    project.manage("makemigrations", "-v0")
    project.set_models(models_source(field))
    result = project.run("manage.py", "makemigrations", check=False)
    output = result.stdout + result.stderr
    assert (QUESTION in output) == asked, output
    if not asked:
        assert result.returncode == 0, output
        assert "its own call of" in output, output
        assert project.pending_files(), output
