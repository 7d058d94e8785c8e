"""
django-extensions' ``sqldiff`` as a second, independent judge of the
schema (DESIGN.md, "Real components"): it compares the database with the
models through its own introspection, not ours.

- After the contract and the promoted cleanup it reports exactly what it
  reports after stock Django's own migration of the same change (it has
  false positives of its own, such as varchar lengths on SQLite and
  PostgreSQL, which must be the same on both sides).
- Between the deploys it reports exactly that, plus what README's
  catalogue says lingers, in the words sqldiff has for it: a column of a
  removed field, a table of a removed model or many-to-many field, a column
  left nullable until the cleanup sets NOT NULL. sqldiff compares neither
  database defaults nor foreign-key constraints, so the rows that keep a
  database default or add a relation without its constraint show nothing
  more than stock.
"""

import importlib

import pytest

from .oracles import Release

DJANGO_EXTENSIONS = 'INSTALLED_APPS = INSTALLED_APPS + ["django_extensions"]\n'


def column(name: str) -> str:
    return f"field '{name}' defined in database but missing in model"


def table(name: str) -> str:
    return f"table '{name}' missing in models"


def nullable(name: str) -> str:
    return f"field '{name}' null constraint should be 'SET' in the database"


def check(table: str, column: str):
    """
    The CHECK constraint of a lingering column (a PositiveIntegerField's
    ``>= 0``), by the name each vendor's introspection gives it: Django's
    on PostgreSQL, the one MariaDB's unnamed column check gets from Django's
    introspection; SQLite's inline checks are not introspected.
    """
    names = {
        "postgresql": f"{table}_{column}_check",
        "mysql": "__unnamed_constraint_1__",
    }
    return lambda vendor: (
        [f"field '{names[vendor]}' INDEX defined in database schema but missing in model"]
        if vendor in names
        else []
    )


# Each catalogue row's test module (its V1 -> V2) and what lingers between
# the deploys, as README's catalogue says.
ROWS = {
    "test_remove_nullable_field": [column("note"), column("stock")],
    "test_remove_not_null_field": [
        column("rating"),
        column("code"),
        column("added"),
        column("stars"),
        check("shop_product", "stars"),
    ],
    "test_remove_foreign_key": [
        column("author_id"),
        column("editor_id"),
        column("cover_id"),
    ],
    "test_remove_many_to_many": [table("shop_book_tags"), table("shop_book_related")],
    "test_delete_model": [
        table("shop_font"),
        table("shop_review"),
        table("shop_review_tags"),
        column("font_id"),
    ],
    # stock, label (a constant) and added (Now()) keep a database default;
    # ref (uuid4) is added nullable.
    "test_add_field_not_null": [nullable("ref")],
    "test_alter_field_not_null": [nullable("note")],
    "test_add_relation": [],
}


def sqldiff(project) -> list[str]:
    """What sqldiff reports, one difference a line (headings left out), sorted."""
    result = project.manage(
        "sqldiff", "--all-applications", "--output_text", "--include-defaults",
        check=False,
    )
    # It exits 1 when it finds any difference, 2 on a usage error.
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return sorted(
        line.removeprefix("|--+ ").strip()
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith("|--+ ")
    )


def stock_sqldiff(make_project, vendor: str, v1: str, v2: str) -> list[str]:
    twin = make_project(vendor, installed=False, extra_settings=DJANGO_EXTENSIONS)
    for models in (v1, v2):
        twin.set_models(models)
        twin.manage("makemigrations", "--noinput", "-v0")
        twin.manage("migrate", "-v0")
    return sqldiff(twin)


@pytest.mark.parametrize("row", ROWS)
def test_sqldiff_sees_what_lingers_between_the_deploys_and_stock_after(
    make_project, vendor, row
):
    source = importlib.import_module(f"tests.{row}")
    release = Release(
        make_project(vendor, extra_settings=DJANGO_EXTENSIONS), source.V1, source.V2
    )
    project = release.project
    project.manage("migrate", "-v0")
    release.make_v2("--noinput")
    assert project.pending_files(), "no cleanup was parked"
    project.manage("migrate", "-v0")
    between = sqldiff(project)
    release.promote_and_migrate()
    after = sqldiff(project)
    stock = stock_sqldiff(make_project, vendor, source.V1, source.V2)
    assert after == stock
    lingering = []
    for each in ROWS[row]:
        lingering += each(vendor) if callable(each) else [each]
    assert between == sorted(stock + lingering)
