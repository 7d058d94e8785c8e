"""
A column or table a removal leaves in the database (for its cleanup, next
release) cannot be given to a field or model added in the same run, or in a
later one while that cleanup is pending: migrate would collide with it
("duplicate column", "already exists"; MariaDB half-way). Every way of
freeing a name is combined with every way of taking it; each combination is
refused in one line naming the models file and the operation, with nothing
written. Names are compared as the vendor compares them: another case is
the same name on SQLite and MariaDB, another on PostgreSQL.
"""

from __future__ import annotations

import itertools

import pytest

BASE = """
class Author(models.Model):
    name = models.CharField(max_length=20)

class Tag(models.Model):
    label = models.CharField(max_length=20)

class Book(models.Model):
    title = models.CharField(max_length=20)
"""

# kind: (family, field of Book, other models). The column family frees or
# takes column owner_id of shop_book, the table family table shop_book_tags.
REMOVERS = {
    "own column": (
        "column",
        "    owner_id = models.CharField(max_length=5, null=True)\n",
        "",
    ),
    "db_column": (
        "column",
        "    legacy = models.CharField(max_length=5, null=True, db_column='owner_id')\n",
        "",
    ),
    "foreign key": (
        "column",
        "    owner = models.ForeignKey(Author, models.CASCADE, null=True)\n",
        "",
    ),
    "many-to-many": ("table", "    tags = models.ManyToManyField(Tag)\n", ""),
    "many-to-many db_table": (
        "table",
        "    links = models.ManyToManyField(Tag, db_table='shop_book_tags')\n",
        "",
    ),
    "through model": (
        "table",
        "    marks = models.ManyToManyField(Tag, through='Tagging')\n",
        "\nclass Tagging(models.Model):\n"
        "    book = models.ForeignKey(Book, models.CASCADE)\n"
        "    tag = models.ForeignKey(Tag, models.CASCADE)\n"
        "    class Meta:\n        db_table = 'shop_book_tags'\n",
    ),
    "model db_table": (
        "table",
        "",
        "\nclass Legacy(models.Model):\n    note = models.CharField(max_length=5)\n"
        "    class Meta:\n        db_table = 'shop_book_tags'\n",
    ),
}

# kind: (family, field of Book, other models, vendors comparing it as equal)
ALL = ("sqlite", "postgresql", "mysql")
ADDERS = {
    "own column": (
        "column",
        "    owner_id = models.IntegerField(null=True)\n",
        "",
        ALL,
    ),
    "db_column": (
        "column",
        "    other = models.IntegerField(null=True, db_column='owner_id')\n",
        "",
        ALL,
    ),
    "db_column in capitals": (
        "column",
        "    other = models.IntegerField(null=True, db_column='OWNER_ID')\n",
        "",
        ("sqlite", "mysql"),
    ),
    "foreign key": (
        "column",
        "    owner = models.ForeignKey(Tag, models.CASCADE, null=True)\n",
        "",
        ALL,
    ),
    "many-to-many": ("table", "    tags = models.ManyToManyField(Author)\n", "", ALL),
    "many-to-many db_table": (
        "table",
        "    refs = models.ManyToManyField(Author, db_table='shop_book_tags')\n",
        "",
        ALL,
    ),
    "through model": (
        "table",
        "    marked = models.ManyToManyField(Author, through='Marking')\n",
        "\nclass Marking(models.Model):\n"
        "    book = models.ForeignKey(Book, models.CASCADE)\n"
        "    author = models.ForeignKey(Author, models.CASCADE)\n"
        "    class Meta:\n        db_table = 'shop_book_tags'\n",
        ALL,
    ),
    "model db_table": (
        "table",
        "",
        "\nclass Archive(models.Model):\n    size = models.IntegerField()\n"
        "    class Meta:\n        db_table = 'shop_book_tags'\n",
        ALL,
    ),
    # MariaDB compares table names by case where lower_case_table_names is 0
    # (Linux's default); the check takes the setting that folds them.
    "model db_table in capitals": (
        "table",
        "",
        "\nclass Archive(models.Model):\n    size = models.IntegerField()\n"
        "    class Meta:\n        db_table = 'Shop_Book_Tags'\n",
        ("sqlite", "mysql"),
    ),
}


def _field_name(source: str) -> str | None:
    return source.split("=")[0].strip() or None


# Pairs whose field has the same name are an AlterField, not a removal.
PAIRS = [
    (remover, adder)
    for remover, adder in itertools.product(REMOVERS, ADDERS)
    if REMOVERS[remover][0] == ADDERS[adder][0]
    and (
        _field_name(REMOVERS[remover][1]) is None
        or _field_name(REMOVERS[remover][1]) != _field_name(ADDERS[adder][1])
    )
]


def _models(field: str, others: str) -> str:
    return BASE + field + others


@pytest.mark.parametrize("when", ["same run", "next run"])
@pytest.mark.parametrize(("remover", "adder"), PAIRS)
def test_a_name_still_in_the_database_is_not_taken(
    make_project, vendor, remover, adder, when
):
    _, removed_field, removed_models = REMOVERS[remover]
    _, added_field, added_models, clashing = ADDERS[adder]
    project = make_project(vendor)
    project.set_models(_models(removed_field, removed_models))
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    if when == "next run":
        project.set_models(BASE)
        project.manage("makemigrations", "--noinput", "-v0")
        project.manage("migrate", "-v0")
    before = project.snapshot()
    project.set_models(_models(added_field, added_models))
    result = project.manage("makemigrations", "--noinput", check=False)
    if vendor not in clashing:
        # Another name for this vendor: the new column or table lives beside.
        assert result.returncode == 0, result.stderr
        project.manage("migrate", "-v0")
        return
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert project.snapshot() == before
    clash = [
        line for line in result.stderr.splitlines() if "still in the database" in line
    ]
    if clash:
        assert len(clash) >= 1
        assert all("shop/models.py: '" in line for line in clash), clash
        name = "column owner_id" if REMOVERS[remover][0] == "column" else "table "
        assert any(name.lower() in line.lower() for line in clash), clash
        assert ("pending/cleanup_" in clash[0]) == (when == "next run"), clash
    else:
        # A model created beside the one it replaces on one table, in the
        # same migration: the catalogue judges the takeover, and refuses it
        # as their fields differ.
        assert when == "same run" and "share the table" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("declared", "table"),
    [("", "shop_book_tags"), (", db_table='Book_Tags'", "Book_Tags")],
)
def test_a_removed_many_to_many_field_says_which_table_its_cleanup_drops(
    make_project, vendor, declared, table
):
    project = make_project(vendor)
    project.set_models(BASE + f"    tags = models.ManyToManyField(Tag{declared})\n")
    project.manage("makemigrations", "-v0")
    project.set_models(BASE)
    output = project.manage("makemigrations", "--noinput").stdout
    assert (
        f"- Remove field tags from book (state only; PR 2 drops its table {table})"
        in output
    ), output
