"""
Catalogue row: a relation added to a model the old release inserts into,
whose column the contract fills with a value (the one-off default typed at
the prompt, or a ``db_default``). That value must name a row of the target:
a model created by the same migration has none, an existing one may lack
it. So the constraint waits for the cleanup, which stops, naming the rows,
until the row exists. Neighbours: ForeignKey, OneToOneField (a unique
column: added nullable), a ``to_field`` ForeignKey, a ``db_default``; the
target new in the same migration or existing.
"""

import pytest

from .oracles import assert_idempotent, assert_same_schema
from .project import assert_stopped

BOOK = """
class Book(models.Model):
    title = models.CharField(max_length=100)
"""

PUBLISHER = """
class Publisher(models.Model):
    code = models.CharField(max_length=10, unique=True)
"""

# kind -> (the field, the one-off default typed at the prompt or None, the
# default's value as SQL, the column holding it in the target)
KINDS = {
    "foreign_key": ("models.ForeignKey(Publisher, models.CASCADE)", "1", "1", "id"),
    "one_to_one": ("models.OneToOneField(Publisher, models.CASCADE)", "1", "1", "id"),
    "to_field": (
        'models.ForeignKey(Publisher, models.CASCADE, to_field="code")',
        "'p1'",
        "'p1'",
        "code",
    ),
    "db_default": (
        "models.ForeignKey(Publisher, models.CASCADE, db_default=1)",
        None,
        "1",
        "id",
    ),
}

# The old release (the state of its last migration) inserts two books,
# leaving the column it does not know to the database.
OLD_INSERTS = """
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = MigrationLoader(connection).project_state(("shop", "0001_initial")).apps
Book = apps.get_model("shop", "Book")
Book.objects.create(title="old 1")
Book.objects.create(title="old 2")
print("old release inserted")
"""

EXISTING_ROW = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("INSERT INTO shop_book (title) VALUES ('before')")
"""

# The user creates the row the default names (and, for a one-to-one, points
# the old release's rows, which hold NULL, at rows of their own).
REPAIR = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("INSERT INTO shop_publisher (id, code) VALUES (1, 'p1')")
    if {one_to_one}:
        cursor.execute("SELECT id FROM shop_book WHERE publisher_id IS NULL")
        for (book,) in cursor.fetchall():
            cursor.execute(
                "INSERT INTO shop_publisher (id, code) VALUES (%s, %s)",
                [100 + book, f"b{{book}}"],
            )
            cursor.execute(
                "UPDATE shop_book SET publisher_id = %s WHERE id = %s",
                [100 + book, book],
            )
"""


def models_of(kind: str, target: str) -> tuple[str, str]:
    field = KINDS[kind][0]
    v1 = BOOK + (PUBLISHER if target == "existing" else "")
    v2 = PUBLISHER + BOOK + f"    publisher = {field}\n"
    return v1, v2


def make_v2(project, kind: str, v2: str):
    project.set_models(v2)
    one_off = KINDS[kind][1]
    # Django asks for a one-off default: option 1, then the value.
    return project.run(
        "manage.py", "makemigrations", input=f"1\n{one_off}\n" if one_off else ""
    )


def stock(make_project, vendor: str, kind: str, v1: str, v2: str):
    """The same change made by stock Django, on an empty database."""
    twin = make_project(vendor, installed=False)
    twin.set_models(v1)
    twin.manage("makemigrations", "-v0")
    twin.manage("migrate", "-v0")
    make_v2(twin, kind, v2)
    twin.manage("migrate", "-v0")
    return twin


def foreign_key_of(schema: dict) -> list:
    return [
        c["foreign_key"]
        for c in schema["shop_book"]["constraints"].values()
        if c["foreign_key"] and c["columns"] == ["publisher_id"]
    ]


@pytest.mark.parametrize("target", ["new", "existing"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_old_release_inserts_until_the_row_the_default_names_exists(
    make_project, vendor, kind, target
):
    project = make_project(vendor)
    v1, v2 = models_of(kind, target)
    project.set_models(v1)
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    project.manage("shell", "-c", EXISTING_ROW)

    output = make_v2(project, kind, v2).stdout
    assert "must name a row of shop.Publisher" in output, output
    assert ("a model this migration creates" in output) == (target == "new"), output
    assert "its foreign-key constraint waits for the cleanup" in output
    # The contract runs on a table holding a row, the target holding none.
    project.manage("migrate", "-v0")
    assert foreign_key_of(project.probe("schema")) == []
    # The old release, in a process of its own, inserts as it always did.
    result = project.manage("shell", "-c", OLD_INSERTS, check=False)
    assert "old release inserted" in result.stdout, result.stderr

    # The cleanup stops, naming the rows, and changes nothing, until the
    # row exists.
    project.manage("promotemigrations")
    before = project.probe("rows")
    result = project.manage("migrate", check=False)
    if kind == "one_to_one":
        assert_stopped(result, "2 row(s) of shop_book hold NULL in publisher_id")
    else:
        assert_stopped(result, "rows name rows that are gone")
        assert "3 row(s) of shop_book hold publisher_id values" in result.stderr
    assert project.probe("rows") == before
    project.manage(
        "shell", "-c", REPAIR.format(one_to_one=kind == "one_to_one")
    )
    project.manage("migrate", "-v0")
    assert_idempotent(project)

    # The constraint is there, and the schema is stock Django's.
    schema = project.probe("schema")
    assert foreign_key_of(schema) == [["shop_publisher", KINDS[kind][3]]]
    twin = stock(make_project, vendor, kind, v1, v2)
    assert_same_schema(schema, twin.probe("schema"), "after cleanup vs stock")


@pytest.mark.parametrize("kind", list(KINDS))
def test_stock_migration_breaks_the_old_release_inserts(make_project, vendor, kind):
    """Negative control: stock Django's migration of the same change."""
    twin = stock(make_project, vendor, kind, *models_of(kind, "new"))
    result = twin.manage("shell", "-c", OLD_INSERTS, check=False)
    assert result.returncode != 0
    assert "IntegrityError" in result.stderr, result.stderr
