"""
Names as each vendor spells them. ``makemigrations`` runs on SQLite and
captures the cleanup for every vendor (README, "Several vendors"); the
deploy migrates PostgreSQL or MariaDB. Django names a table on each vendor
its own way: a long default name (a model's, an M2M table's) is truncated
and hashed to the server's limit (PostgreSQL 63, MySQL 64), a quoted
``db_table`` (``'"LegacyBooks"'``, as Django documents for case-sensitive
names) is the table ``LegacyBooks`` on SQLite and PostgreSQL. For each way
of naming a table or column, the cleanup really drops what the contract
left (the schema is then stock Django's on that vendor) and the way back
re-creates it.
"""

import json

import pytest

from .oracles import assert_idempotent, assert_same_schema, stock_schema
from .project import SERVERS

# 60 characters: "shop_" + its name is longer than every limit, and its
# M2M table's column ("<name>_id") is not.
LONG = ("A" + "VeryLongModelName" * 4)[:60]

NAMES = {
    "long default table": (f"class {LONG}(models.Model):", ""),
    "quoted db_table": (
        "class Book(models.Model):",
        "    class Meta:\n        db_table = '\"LegacyBooks\"'\n",
    ),
    "long db_table": (
        "class Book(models.Model):",
        f"    class Meta:\n        db_table = 'shop_{'t' * 58}'\n",  # 63: every limit
    ),
}

COLUMNS = {
    "plain": "",
    "quoted db_column": ", db_column='\"Pages\"'",
    "mixed case db_column": ", db_column='PageCount'",
    "reserved word db_column": ", db_column='order'",
    "long db_column": f", db_column='{'c' * 63}'",
}


def models_for(name: str, change: str, column: str) -> tuple[str, str]:
    """v1 and v2 of a model named the ``name`` way, with ``change`` made."""
    header, meta = NAMES[name]
    fields = (
        "    title = models.CharField(max_length=20)\n"
        f"    pages = models.IntegerField(null=True{COLUMNS[column]})\n"
        '    tags = models.ManyToManyField("Tag")\n'
    )
    tag = "\nclass Tag(models.Model):\n    name = models.CharField(max_length=20)\n"
    v1 = f"{tag}\n{header}\n{fields}{meta}"
    kept = {
        "column removed": "    title = models.CharField(max_length=20)\n",
        "M2M removed": "    title = models.CharField(max_length=20)\n"
        f"    pages = models.IntegerField(null=True{COLUMNS[column]})\n",
    }
    if change == "model deleted":
        return v1, tag
    return v1, f"{tag}\n{header}\n{kept[change]}{meta}"


CASES = {
    f"{name}, {change}" + (f", {column}" if column != "plain" else ""): (
        name,
        change,
        column,
    )
    for name in NAMES
    for change in ("column removed", "M2M removed", "model deleted")
    for column in (COLUMNS if change == "column removed" else ["plain"])
}


def _capture_settings() -> str:
    capture = {
        "postgresql": {**SERVERS["postgresql"], "NAME": "postgres"},
        "mysql": {**SERVERS["mysql"], "NAME": "mysql"},
    }
    return (
        'BLUEGREEN_VENDORS = ["sqlite", "postgresql", "mysql"]\n'
        f"BLUEGREEN_CAPTURE_DATABASES = {json.dumps(capture)}\n"
    )


@pytest.mark.parametrize("case", CASES)
def test_cleanup_drops_what_each_vendor_named(make_project, vendor, case):
    name, change, column = CASES[case]
    v1, v2 = models_for(name, change, column)
    project = make_project(vendor, extra_settings=_capture_settings())
    deployed = project.database
    on_sqlite = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(project.root / "makemigrations.sqlite3"),
    }

    def makemigrations(*options):
        # The developer's machine: SQLite.
        project.database = on_sqlite
        try:
            return project.manage("makemigrations", *options)
        finally:
            project.database = deployed

    project.set_models(v1)
    makemigrations("--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    v1_migration = project.migration_names()[-1]
    v1_schema = project.probe("schema")
    project.set_models(v2)
    makemigrations("-v0")
    assert project.pending_files(), "no cleanup was parked in pending/"
    project.manage("migrate", "-v0")
    project.manage("promotemigrations", "-v0")
    project.manage("migrate", "-v0")
    assert_idempotent(project)
    # The cleanup dropped what the contract left: stock Django's schema.
    expected = stock_schema(make_project, vendor, v1, v2)
    assert_same_schema(project.probe("schema"), expected, "after cleanup vs stock v2")
    # And back: the cleanup's reverse SQL re-creates it, the contract's too.
    project.manage("migrate", project.app_label, v1_migration, "-v0")
    assert_same_schema(project.probe("schema"), v1_schema, "back to v1", names=False)
