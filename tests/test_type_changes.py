"""
Catalogue row: a field's type changes. Where the vendor makes the change in
place (a catalog update, no rewrite), Django's AlterField passes through and
runs online; elsewhere a second column of the new type, kept equal by
triggers converting each way and filled in batches, takes the column's name
in the cleanup. Either way the table is never rewritten: its storage (PostgreSQL's
relfilenode, InnoDB's table id, SQLite's root page) stays the same, where
stock Django's AlterField rewrites or copies it.
"""

import json

import pytest

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    failures,
    stock_migrate,
)
from .project import Project

# kind: (v1's field, v2's field, a value v1 writes, a value v2 writes)
KINDS = {
    "int_to_bigint": (
        "models.IntegerField()",
        "models.BigIntegerField()",
        7,
        9,
    ),
    "smallint_to_int": (
        "models.SmallIntegerField()",
        "models.IntegerField()",
        7,
        9,
    ),
    "char50_to_char200": (
        "models.CharField(max_length=50)",
        "models.CharField(max_length=200)",
        "old",
        "new",
    ),
    "char20_to_char60": (
        "models.CharField(max_length=20)",
        "models.CharField(max_length=60)",
        "old",
        "new",
    ),
    "char_to_text": (
        "models.CharField(max_length=50)",
        "models.TextField()",
        "old",
        "new",
    ),
    "int_to_char": (
        "models.IntegerField()",
        "models.CharField(max_length=20)",
        42,
        "43",
    ),
    "decimal_wider": (
        "models.DecimalField(max_digits=5, decimal_places=2)",
        "models.DecimalField(max_digits=8, decimal_places=2)",
        "1.50",
        "2.25",
    ),
    "nullable_int_to_bigint": (
        "models.IntegerField(null=True)",
        "models.BigIntegerField(null=True)",
        7,
        None,
    ),
}

IN_PLACE, STATE_ONLY, SECOND = "in place", "state only", "second column"
# How each vendor makes each change (split/catalogue/in_place/).
PATHS = {
    "postgresql": {
        "char50_to_char200": IN_PLACE,
        "char20_to_char60": IN_PLACE,
        "char_to_text": IN_PLACE,
        "decimal_wider": IN_PLACE,
    },
    "mysql": {"char20_to_char60": IN_PLACE},
    # SQLite declares "decimal" whatever the digits; within one affinity
    # it edits the declared type in sqlite_master (its types are
    # affinities: no stored value changes).
    "sqlite": {
        "decimal_wider": STATE_ONLY,
        "int_to_bigint": IN_PLACE,
        "smallint_to_int": IN_PLACE,
        "char50_to_char200": IN_PLACE,
        "char20_to_char60": IN_PLACE,
        "char_to_text": IN_PLACE,
        "nullable_int_to_bigint": IN_PLACE,
    },
}


def path(vendor, kind):
    return PATHS[vendor].get(kind, SECOND)


def models_source(field: str) -> str:
    return f"""
class Book(models.Model):
    pages = models.IntegerField(default=1)
    amount = {field}
"""


def write(project, release, value, pk=None, check=True):
    result = project.run(
        "probe.py",
        "write",
        json.dumps(
            {
                "app": "shop",
                "release": release,
                "model": "Book",
                "field": "amount",
                "value": value,
                "pk": pk,
            }
        ),
        check=check,
    )
    if not check:
        return result
    return json.loads(result.stdout.strip().splitlines()[-1])


def read(project, release, pk):
    return project.probe(
        "read", app="shop", release=release, model="Book", field="amount", pk=pk
    )


def same(a, b) -> bool:
    """Equal as the database holds them (an int read back from a char column)."""
    if a is None or b is None:
        return a is b
    try:
        return float(a) == float(b)
    except ValueError:
        return str(a) == str(b)


def sql(project: Project, query: str) -> list:
    """The rows of ``query`` on the project's database."""
    output = project.manage(
        "shell",
        "-c",
        "import json\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        f"    c.execute({query!r})\n"
        "    print(json.dumps(c.fetchall(), default=str))",
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def storage(project: Project, table: str = "shop_book"):
    """What a rewrite of ``table`` changes: its file, table id or root page."""
    if project.vendor == "postgresql":
        query = f"SELECT relfilenode FROM pg_class WHERE relname = '{table}'"
    elif project.vendor == "mysql":
        query = (
            "SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES "
            f"WHERE NAME = CONCAT(DATABASE(), '/{table}')"
        )
    else:
        query = f"SELECT rootpage FROM sqlite_master WHERE name = '{table}'"
    (row,) = sql(project, query)
    return row[0]


def contract(make_project, vendor, kind, *options):
    old, new, first, _ = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old), models_source(new))
    before = write(project, release.v1, first)
    stored = storage(project)
    project.set_models(release.v2_models)
    output = project.manage("makemigrations", *options).stdout
    if "--no-bluegreen" in options:
        stock_migrate(project)  # Django's own migrate, not the package's
    else:
        project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    return project, release, before, stored, output


def stock_schema(make_project, vendor, release):
    twin = make_project(vendor, installed=False)
    twin.set_models(release.v1_models)
    twin.manage("makemigrations", "-v0")
    twin.manage("migrate", "-v0")
    twin.set_models(release.v2_models)
    twin.manage("makemigrations", "-v0")
    twin.manage("migrate", "-v0")
    return twin.probe("schema")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_in_place_change_runs_online_and_a_rewrite_goes_through_a_second_column(
    make_project, vendor, kind
):
    project, release, row, stored, output = contract(make_project, vendor, kind)
    way = path(vendor, kind)
    assert ("second column" in output) == (way == SECOND), output
    assert "Custom state/database" not in output, output
    assert ("of the new type, kept equal to" in output) == (way == SECOND), output
    assert bool(project.pending_files()) == (way == SECOND)
    # No rewrite, no copy, no rebuild: the table's storage is the same.
    assert storage(project) == stored
    old, new, first, second = KINDS[kind]
    assert same(read(project, release.v2, row), first)
    # CRUD of both releases (it deletes every row at its end). Until the
    # cleanup the column keeps its old type: where the new release writes
    # text that is not a number, the write fails, as the verifier said.
    problems = failures(release.crud())
    if kind == "int_to_char" and way == SECOND:
        assert "are not integers" in " ".join(output.split()), output
        # (SQLite stores the text: the old release's read of it fails.)
        rejected = (
            "invalid input syntax for type integer",
            "Incorrect integer value",
            "expected a number but got",
        )
        problems = [p for p in problems if not any(r in p for r in rejected)]
    assert not problems, "\n".join(problems)
    # Each release, in its own process, reads the other's writes.
    from_new = write(project, release.v2, second)
    assert same(read(project, release.v1, from_new), second)
    from_old = write(project, release.v1, first)
    assert same(read(project, release.v2, from_old), first)
    write(project, release.v1, first, pk=from_new)
    assert same(read(project, release.v2, from_new), first)
    write(project, release.v2, second, pk=from_old)
    assert same(read(project, release.v1, from_old), second)
    assert_idempotent(project)
    if way != SECOND:
        assert_same_schema(
            project.probe("schema"),
            stock_schema(make_project, vendor, release),
            "after the contract",
        )
        # And back: v1's schema, its values. SQLite edits the declared type
        # back in place too (PostgreSQL and MariaDB rewrite a narrower type).
        project.manage("migrate", "shop", release.v1, "-v0")
        assert_same_schema(project.probe("schema"), release.v1_schema, "back to v1")
        assert same(read(project, release.v1, from_new), first)
        if vendor == "sqlite":
            assert storage(project) == stored
            assert sql(project, "PRAGMA integrity_check") == [["ok"]]
        return
    # The second column holds every row, converted.
    column = "amount__bluegreen_new"
    differing = sql(
        project,
        f"SELECT id, amount, {column} FROM shop_book",
    )
    assert all(same(a, b) for _, a, b in differing), differing
    # The cleanup swaps the names: stock Django's schema, the values kept.
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    # MariaDB sets NOT NULL in place, rebuilding the table without blocking
    # writes (ALGORITHM=INPLACE, LOCK=NONE): it has no instant way.
    rebuilt = vendor == "mysql" and "null=True" not in new
    assert (storage(project) != stored) == rebuilt
    assert same(read(project, release.v2, from_new), first)
    assert same(read(project, release.v2, from_old), second)
    assert_same_schema(
        project.probe("schema"),
        stock_schema(make_project, vendor, release),
        "after the cleanup",
        names=False,
    )
    # And back to v1: its column, NOT NULL again (on SQLite by editing the
    # table's SQL: it adds no NOT NULL column without a default), its values.
    project.manage("migrate", "shop", release.v1, "-v0")
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "back to v1", names=False
    )
    assert same(read(project, release.v1, from_new), first)
    assert same(read(project, release.v1, from_old), second)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_stock_django_rewrites_what_the_package_does_not(make_project, vendor, kind):
    # The negative control: stock Django's AlterField of the same change.
    project, release, row, stored, output = contract(
        make_project, vendor, kind, "--no-bluegreen"
    )
    assert not project.pending_files()
    rewritten = storage(project) != stored
    expected = path(vendor, kind) == SECOND or vendor == "sqlite"
    assert rewritten == expected, (vendor, kind, stored, storage(project))


def test_a_value_the_old_type_cannot_hold_is_named_and_waits_for_the_cleanup(
    make_project, vendor
):
    project, release, row, stored, output = contract(
        make_project, vendor, "int_to_bigint"
    )
    said = " ".join(output.split())
    big = 2**40
    if path(vendor, "int_to_bigint") == IN_PLACE:
        # SQLite's integer holds 64 bits whatever declared: the column is
        # bigint at once, each release reads the other's big values.
        assert "may fail" not in said, output
        assert read(project, release.v1, write(project, release.v2, big)) == big
        assert read(project, release.v2, write(project, release.v1, big)) == big
        return
    assert "the new release: INSERT on shop_book may fail" in said, output
    assert "column amount (shop.Book.amount)" in said, output
    assert "outside -2147483648..2147483647" in said, output
    refused = write(project, release.v2, big, check=False)
    assert refused.returncode != 0
    release.promote_and_migrate()
    assert read(project, release.v2, write(project, release.v2, big)) == big


def test_a_narrower_char_is_named_with_its_limit(make_project, vendor):
    project, release, row, stored, output = contract(
        make_project, vendor, "char_to_text"
    )
    said = " ".join(output.split())
    if path(vendor, "char_to_text") == SECOND:
        assert "longer than 50 characters are rejected" in said, output
    else:
        assert "may fail" not in said, output


@pytest.mark.parametrize(
    "old, new",
    [
        ("models.CharField(max_length=200)", "models.CharField(max_length=50)"),
        ("models.CharField(max_length=20)", "models.IntegerField()"),
        ("models.BigIntegerField()", "models.IntegerField()"),
    ],
)
def test_a_type_that_may_not_hold_the_old_values_is_not_split_and_says_so(
    make_project, vendor, old, new
):
    # A copy into the narrower column would stop on the first value that
    # does not fit, half-way on MariaDB: Django's AlterField, with a warning.
    project = make_project(vendor)
    release = Release(project, models_source(old), models_source(new))
    project.set_models(release.v2_models)
    output = project.manage("makemigrations").stdout
    said = " ".join(output.split())
    assert not project.pending_files()
    one_affinity = (
        "Char" in old + new and "Integer" not in old + new or ("Char" not in old + new)
    )
    if vendor == "sqlite" and one_affinity:
        # One affinity: SQLite changes no stored value, only the declared
        # type (in place, no rewrite, no copy that could stop).
        assert "not split" not in said, output
        return
    assert "not split through a second column" in said, output


@pytest.mark.parametrize(
    "there, written, said",
    [
        ("IntegerField", "BigIntegerField", "outside -2147483648..2147483647"),
        ("SmallIntegerField", "IntegerField", "outside -32768..32767"),
        ("PositiveIntegerField", "IntegerField", "outside 0..2147483647"),
        ("BigIntegerField", "IntegerField", None),
        ("CharField(50)", "TextField", "longer than 50 characters"),
        ("CharField(50)", "CharField(200)", "its longer values are rejected"),
        ("TextField", "CharField(50)", None),
        ("IntegerField", "CharField(20)", "not integers within"),
        ("CharField(5)", "BigIntegerField", "longer than 5 characters"),
        ("DecimalField(5, 2)", "DecimalField(8, 2)", "more than 3 digits"),
    ],
)
def test_the_verifier_names_the_limit_a_written_value_crosses(there, written, said):
    # In-process, no database: the column's type in the database against
    # the type a release writes (verifier/judge.py).
    from bluegreen_autodetector.verifier.judge import _rejects

    def parsed(text):
        name, _, rest = text.partition("(")
        numbers = [int(n) for n in rest.rstrip(")").split(",") if n.strip()]
        if name == "DecimalField":
            return (name, None, *numbers)
        return (name, numbers[0] if numbers else None, None, None)

    rejected = _rejects(parsed(there), parsed(written))
    if said is None:
        assert rejected is None
    else:
        assert said in rejected, rejected


@pytest.mark.parametrize("kind", ["int_to_bigint", "int_to_char"])
def test_the_second_column_is_filled_in_batches_converted(make_project, vendor, kind):
    old, new, *_ = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old), models_source(new))
    project.manage(
        "shell",
        "-c",
        "from shop.models import Book; Book.objects.bulk_create("
        "Book(amount=n) for n in range(2500))",
    )
    project.set_models(release.v2_models)
    project.manage("makemigrations", "-v0")
    output = project.manage("migrate").stdout
    column = "amount__bluegreen_new"
    if path(vendor, kind) == IN_PLACE:  # SQLite's integer to bigint
        assert "Copying" not in output, output
        assert not project.pending_files()
        rows = sql(project, "SELECT amount FROM shop_book ORDER BY id")
        assert rows == [[n] for n in range(2500)]
        return
    # In batches where the migration is not atomic: MariaDB's DDL never is,
    # PostgreSQL's contract is written atomic = False; SQLite's is one
    # transaction (one writer at a time anyway), the copy one statement.
    if vendor != "sqlite":
        assert f"Copying into shop_book.{column}: 2500/2500 rows" in output, output
    rows = sql(project, f"SELECT amount, {column} FROM shop_book")
    assert len(rows) == 2500
    assert all(same(a, b) for a, b in rows), rows[:5]
    if kind == "int_to_char":
        assert all(isinstance(b, str) for _, b in rows), rows[:5]
    # Resumable: back and forth, nothing left to copy.
    project.manage("migrate", "shop", release.v1, "-v0")
    project.manage("migrate", "-v0")
    release.promote_and_migrate()
    assert sorted(int(a) for (a,) in sql(project, "SELECT amount FROM shop_book")) == (
        list(range(2500))
    )


def test_a_class_that_brings_an_index_is_not_taken_for_a_type_change(make_project):
    # CharField -> SlugField: the same varchar, plus an index Django creates.
    project = make_project("sqlite")
    release = Release(
        project,
        models_source("models.CharField(max_length=50)"),
        models_source("models.SlugField(max_length=50)"),
    )
    project.set_models(release.v2_models)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    indexed = sql(
        project,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'shop_book' AND sql LIKE '%amount%'",
    )
    assert indexed == [[1]]


# A change the split makes whose overlap leaves a write that may fail
# depending on its values: the new release's big value in the old int
# column, the old release's write meeting a unique constraint it does not
# know. (On SQLite the int column holds 64 bits: only the constraint.)
WARNED = {
    "int_to_bigint": ("models.IntegerField()", "models.BigIntegerField()"),
    "unique": ("models.IntegerField()", "models.IntegerField(unique=True)"),
}


@pytest.mark.parametrize("kind", sorted(WARNED))
def test_the_check_before_migrate_does_not_ask_to_split_what_was_split(
    make_project, vendor, kind
):
    if kind == "int_to_bigint" and path(vendor, kind) != SECOND:
        pytest.skip("SQLite's integer holds 64 bits: nothing may fail")
    old, new = WARNED[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old), models_source(new))
    write(project, release.v1, 1)
    output = release.make_v2()
    assert "may fail" in output, output
    said = project.manage("check").stderr
    assert "bluegreen.W001" in said and "may fail" in said, said
    assert "warns of it, and no split avoids it" in said, said
    assert "so that it is split" not in said, said
