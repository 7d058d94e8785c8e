"""
Table rebuilds of a table holding a lingering column (issue 24, item 3).

On SQLite, Django carries out many changes by rebuilding the table from its
state (``_remake_table``). A contract removes a field from the state while
its column lingers for the old release; a later rebuild of that table, in
the same release (another change, or a second developer's contract after
``makemigrations --merge``) or in the next one, would drop the column and
its values, and the old release's SELECT and INSERT with them. The
package's ``migrate`` keeps what the database has and the state does not
(``sqlite_rebuilds.py``). Each sequence runs on every vendor; the old
release runs in its own process, with the historical models of its last
migration.
"""

import json
import re

import pytest

from bluegreen_autodetector.runtime import sqlite_sql

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    failures,
    stock_migrate,
    stock_schema,
)

AUTHOR = """
class Author(models.Model):
    name = models.CharField(max_length=50)

"""

# The old release writes these through its models, and reads them back.
WRITTEN = {"title": "t", "pages": 10, "year": 1999}


def old_release(project, migration: str, values: dict, read: list[str]) -> list:
    """
    In a process of its own, the release at ``migration`` INSERTs a book
    with ``values`` ("<author>": an author it creates), then SELECTs every
    book; the ``read`` fields of each, by primary key.
    """
    script = f"""
import json
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = MigrationLoader(connection).project_state(
    ({project.app_label!r}, {migration!r})
).apps
Author, Book = apps.get_model("shop", "Author"), apps.get_model("shop", "Book")
author = Author.objects.create(name="a")
values = {{k: author if v == "<author>" else v for k, v in {values!r}.items()}}
Book.objects.create(**values)
print(json.dumps([
    [book.pk, *[getattr(book, name) for name in {read!r}]]
    for book in Book.objects.order_by("pk")
]))
"""
    output = project.manage("shell", "-c", script).stdout
    return json.loads(output.strip().splitlines()[-1])


# The example --------------------------------------------------------

V1 = AUTHOR + """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
    pages = models.IntegerField()
"""
# Developer A removes rating, developer B removes pages: each a NOT NULL
# removal, split into a contract and a pending cleanup.
V_A = V1.replace("    rating = models.IntegerField()\n", "")
V_B = V1.replace("    pages = models.IntegerField()\n", "")
V_MERGED = V_A.replace("    pages = models.IntegerField()\n", "")


def _two_branches_merged(make_project, vendor) -> Release:
    release = Release(make_project(vendor), V1, V_MERGED)
    project = release.project
    old_release(project, release.v1, {"title": "t", "rating": 4, "pages": 9}, [])
    project.set_models(V_A)
    project.manage("makemigrations", "-v0")
    branch_a = {
        path: path.read_text()
        for path in [*project.migrations.glob("0002_*.py"), *project.pending_files()]
    }
    for path in branch_a:
        path.unlink()
    project.set_models(V_B)
    project.manage("makemigrations", "-v0")
    for path, text in branch_a.items():
        path.write_text(text)
    project.set_models(V_MERGED)
    project.manage("makemigrations", "--merge", "--noinput", "-v0")
    release.v2 = project.migration_names()[-1]
    assert release.v2.startswith("0003_merge"), project.migration_names()
    assert len(project.pending_files()) == 2
    return release


def test_two_merged_not_null_removals_keep_both_columns(make_project, vendor):
    release = _two_branches_merged(make_project, vendor)
    project = release.project
    migrated = project.manage("migrate")
    assert "bluegreen.W001" not in migrated.stderr, migrated.stderr
    columns = project.probe("schema")["shop_book"]["columns"]
    assert {"rating", "pages"} <= set(columns)
    # The old release reads the values it wrote and writes a new row.
    written = {"title": "u", "rating": 5, "pages": 11}
    assert old_release(project, release.v1, written, ["rating", "pages"]) == [
        [1, 4, 9],
        [2, 5, 11],
    ]
    assert failures(release.crud()) == []
    assert_idempotent(project)
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    expected = stock_schema(make_project, vendor, V1, V_MERGED)
    assert_same_schema(project.probe("schema"), expected, "after both cleanups")


def test_negative_control_stock_migrate_drops_the_first_kept_column(make_project):
    release = _two_branches_merged(make_project, "sqlite")
    project = release.project
    stock_migrate(project)
    # The second contract's AlterField rebuilt the table from a state
    # without rating: the column and its values are gone.
    columns = project.probe("schema")["shop_book"]["columns"]
    assert "rating" not in columns and "pages" in columns
    written = {"title": "u", "rating": 5, "pages": 11}
    failed = project.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "from django.db.migrations.loader import MigrationLoader\n"
        "apps = MigrationLoader(connection).project_state(('shop', '0001_initial'))"
        ".apps\n"
        f"apps.get_model('shop', 'Book').objects.create(**{written!r})\n",
        check=False,
    )
    assert failed.returncode != 0
    assert "has no column named rating" in failed.stderr, failed.stderr
    assert failures(release.crud())


# Neighbours: what lingers, and what rebuilds the table ----------------------

BOOK = AUTHOR + """
class Book(models.Model):
    title = models.CharField(max_length=200)
    pages = models.IntegerField(null=True)
    year = models.IntegerField()
    author = models.ForeignKey(Author, models.CASCADE, null=True, related_name="+")
{lingering}{extra}"""

# A field of v1 that v2 removes, as each catalogue row leaves its column:
# its declaration, and what the old release writes to it in two rows
# ("<author>": an author it creates; None: nothing, the database computes it).
LINGERING = {
    "not null": ("rating = models.IntegerField()", 4, 5),
    "nullable": ("note = models.CharField(max_length=20, null=True)", "n, (%)", "m"),
    "constant default": ("stars = models.IntegerField(default=3)", 5, 6),
    "foreign key": (
        'editor = models.ForeignKey(Author, models.PROTECT, related_name="+")',
        "<author>",
        "<author>",
    ),
    "unique": ("code = models.CharField(max_length=10, unique=True)", "c1", "c2"),
    "stored generated": (
        "total = models.GeneratedField(expression=models.F('pages') * 2, "
        "output_field=models.IntegerField(), db_persist=True)",
        None,
        None,
    ),
    # The new release's INSERTs leave it to its database default.
    "database default": (
        'label = models.CharField(max_length=30, db_default="it\'s, (a) 50%")',
        "w1",
        "w2",
    ),
    "odd column name": (
        'odd = models.CharField(max_length=20, null=True, db_column="Odd, name (x)")',
        "o1",
        "o2",
    ),
}

# A change of release N+1 made while the cleanup of v2 is pending: each one
# Django makes on SQLite by rebuilding shop_book, but an AddIndex (an ALTER),
# the first four, which the package's migrate makes in place (a type within
# one affinity, NULL allowed, a plain index: runtime/sqlite_in_place.py),
# and the last two, whose cleanups alter the table in place (the constraint
# of a new foreign key, NOT NULL), after the cleanup of v2 ran.
CHANGES = {
    "longer title": (
        "title = models.CharField(max_length=200)",
        "title = models.CharField(max_length=300)",
    ),
    "type change": (
        "pages = models.IntegerField(null=True)",
        "pages = models.BigIntegerField(null=True)",
    ),
    "nullable year": (
        "year = models.IntegerField()",
        "year = models.IntegerField(null=True)",
    ),
    "indexed title": (
        "title = models.CharField(max_length=200)",
        "title = models.CharField(max_length=200, db_index=True)",
    ),
    "unique addition": (
        "{extra}",
        "    isbn = models.CharField(max_length=13, null=True, unique=True)\n",
    ),
    "not null addition": ("{extra}", "    stock = models.IntegerField(default=0)\n"),
    "check constraint": (
        "{extra}",
        "    class Meta:\n        constraints = [models.CheckConstraint("
        "condition=models.Q(pages__gte=0), name='pages_gte_0')]\n",
    ),
    "unique constraint": (
        "{extra}",
        "    class Meta:\n        constraints = [models.UniqueConstraint("
        "fields=['title', 'year'], name='title_year_uniq')]\n",
    ),
    "index": (
        "{extra}",
        "    class Meta:\n        indexes = [models.Index(fields=['title'], "
        "name='title_idx')]\n",
    ),
    "second not null removal": ("    year = models.IntegerField()\n", ""),
    "foreign key removal": (
        "    author = models.ForeignKey(Author, models.CASCADE, null=True, "
        'related_name="+")\n',
        "",
    ),
    "foreign key addition": (
        "{extra}",
        "    owner = models.ForeignKey(Author, models.SET_NULL, null=True, "
        'related_name="+")\n',
    ),
    "not null pages": (
        "pages = models.IntegerField(null=True)",
        "pages = models.IntegerField(default=0)",
    ),
}

CASES = [
    *[("not null", rebuild) for rebuild in CHANGES],
    # (A longer title was made by a rebuild until SQLite's in place edit.)
    *[(kind, "check constraint") for kind in LINGERING if kind != "not null"],
    ("database default", "not null addition"),
]


def _models(kind: str, rebuild: str | None = None, removed: bool = False) -> str:
    declaration = LINGERING[kind][0]
    source = BOOK.replace("{lingering}", "" if removed else f"    {declaration}\n")
    if rebuild is not None:
        before, after = CHANGES[rebuild]
        assert before in source, before
        source = source.replace(before, after)
    return source.replace("{extra}", "")


def _written(kind: str, row: int) -> tuple[dict, object]:
    """What the old release writes in its ``row``-th book, and reads back."""
    declaration, *values = LINGERING[kind]
    name, value = declaration.split(" = ")[0], values[row - 1]
    written = {"title": f"t{row}", "pages": 10, "year": 1999}
    if value is not None:
        written[name] = value
    if kind == "foreign key":
        return written, row  # The author it created with the row.
    if kind == "stored generated":
        return written, 20
    return written, value


@pytest.mark.parametrize(("kind", "rebuild"), CASES)
def test_a_rebuild_keeps_the_lingering_column(make_project, vendor, kind, rebuild):
    declaration = LINGERING[kind][0]
    name = declaration.split(" = ")[0]
    attribute = f"{name}_id" if kind == "foreign key" else name
    column = re.search(r'db_column="([^"]+)"', declaration)
    column = column[1] if column else attribute
    v1, v2 = _models(kind), _models(kind, removed=True)
    v3 = _models(kind, rebuild, removed=True)
    release = Release(make_project(vendor), v1, v3)
    project = release.project
    first, first_read = _written(kind, 1)
    assert old_release(project, release.v1, first, [attribute]) == [[1, first_read]]
    # Release N: the contract; its cleanup waits.
    project.set_models(v2)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    # Release N+1, while the cleanup of release N is pending.
    project.set_models(v3)
    project.manage("makemigrations", "-v0")
    migrated = project.manage("migrate")
    warned = [line for line in migrated.stderr.splitlines() if "W001" in line]
    assert not [line for line in warned if column in line], migrated.stderr
    assert column in project.probe("schema")["shop_book"]["columns"]
    # The old release still reads what it wrote, and writes.
    second, second_read = _written(kind, 2)
    assert old_release(project, release.v1, second, [attribute]) == [
        [1, first_read],
        [2, second_read],
    ]
    release.v2 = project.migration_names()[-1]
    assert failures(release.crud()) == []
    # No cleanup rebuilds a table: replayed a release later, a rebuild
    # would drop every column added since.
    for cleanup in project.pending_files():
        assert "new__" not in cleanup.read_text(), cleanup.read_text()
    # Release N+2: the cleanups drop it; the schema is stock Django's.
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    expected = stock_schema(make_project, vendor, v1, v3)
    assert_same_schema(project.probe("schema"), expected, "after the cleanups")


# Triggers and indexes the state does not know ------------------------------

TRIGGERED = AUTHOR + """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
    pages = models.IntegerField(null=True, db_index=True)
    year = models.IntegerField()
"""
TRIGGERED_V2 = TRIGGERED.replace("    rating = models.IntegerField()\n", "")
TRIGGERED_V3 = TRIGGERED_V2.replace(
    "    pages = models.IntegerField(null=True, db_index=True)\n", ""
)
# As the package's triggers for renames will: one names the lingering
# column, two a column that the next rebuild drops (in the list of columns
# whose update fires it, in its body).
OWN_SCHEMA = [
    'CREATE TRIGGER "shop_book_rating" AFTER INSERT ON "shop_book" '
    'WHEN NEW."rating" IS NULL BEGIN UPDATE "shop_book" SET "rating" = '
    'NEW."year" WHERE "id" = NEW."id"; END',
    'CREATE TRIGGER "shop_book_pages" AFTER UPDATE OF "pages" ON "shop_book" '
    "BEGIN SELECT 1; END",
    'CREATE TRIGGER "shop_book_pages_body" AFTER INSERT ON "shop_book" '
    'BEGIN SELECT NEW."pages"; END',
    'CREATE INDEX "shop_book_rating_raw" ON "shop_book" ("rating")',
]


def _sql(project, *statements: str) -> list:
    """Run ``statements`` in the project's database; the last one's rows."""
    script = (
        "import json\nfrom django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        + "".join(f"    cursor.execute({s!r})\n" for s in statements)
        + "    rows = cursor.fetchall() if cursor.description else []\n"
        "print(json.dumps(rows))\n"
    )
    output = project.manage("shell", "-c", script).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_a_rebuild_keeps_the_tables_triggers_and_the_lingering_columns_indexes(
    make_project,
):
    release = Release(make_project("sqlite"), TRIGGERED, TRIGGERED_V3)
    project = release.project
    project.set_models(TRIGGERED_V2)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    _sql(project, *OWN_SCHEMA)
    own = "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'shop_book_%'"
    before = {name: (kind, sql) for kind, name, sql in _sql(project, own)}
    assert {"shop_book_rating", "shop_book_pages_body", "shop_book_rating_raw"} < set(
        before
    )
    # Stock Django's RemoveField of an indexed column: a rebuild dropping it.
    project.set_models(TRIGGERED_V3)
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    migrated = project.manage("migrate").stdout
    for trigger, why in (
        ("shop_book_pages", "it fires on UPDATE OF column pages, which is gone"),
        ("shop_book_pages_body", "no such column: NEW.pages"),
    ):
        assert (
            f"Trigger {trigger} on shop_book was not created again after the "
            f"table's rebuild: {why}"
        ) in migrated, migrated
    after = {name: (kind, sql) for kind, name, sql in _sql(project, own)}
    assert after["shop_book_rating"] == before["shop_book_rating"]
    assert after["shop_book_rating_raw"] == before["shop_book_rating_raw"]
    assert not {"shop_book_pages", "shop_book_pages_body"} & set(after)
    assert "pages" not in project.probe("schema")["shop_book"]["columns"]
    # The trigger still fires: the new release's row gets a rating.
    project.manage(
        "shell",
        "-c",
        "from shop.models import Book\nBook.objects.create(title='n', year=2001)",
    )
    assert _sql(project, 'SELECT "rating" FROM "shop_book"') == [[2001]]


# Reading SQLite's own statements -------------------------------------------

TABLE = (
    'CREATE TABLE "shop_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"title" varchar(200) DEFAULT \'a, (b\' NOT NULL CHECK (length("title") > 0), '
    '"Odd, ""name"" (x)" integer NULL, [brack,et] text, `tick` int, plain int, '
    'CONSTRAINT "u" UNIQUE ("title", plain), CHECK (plain > 0))'
)


def test_definitions_are_read_as_sqlite_writes_them():
    definitions = sqlite_sql.definitions(TABLE)
    assert [sqlite_sql.identifier(d) for d in definitions] == [
        "id",
        "title",
        'Odd, "name" (x)',
        "brack,et",
        "tick",
        "plain",
        None,
        None,
    ]
    assert definitions[1] == (
        '"title" varchar(200) DEFAULT \'a, (b\' NOT NULL CHECK (length("title") > 0)'
    )


def test_columns_go_after_the_last_column_before_the_table_constraints():
    created = sqlite_sql.with_columns(TABLE, ['"rating" integer NULL'])
    definitions = sqlite_sql.definitions(created)
    assert definitions[6] == '"rating" integer NULL'
    assert definitions[7].startswith('CONSTRAINT "u"')
    assert created.endswith("CHECK (plain > 0))")
    no_constraints = 'CREATE TABLE "new__t" ("id" integer NOT NULL PRIMARY KEY)'
    assert sqlite_sql.with_columns(no_constraints, ['"a" int']) == (
        'CREATE TABLE "new__t" ("id" integer NOT NULL PRIMARY KEY, "a" int)'
    )


def test_the_columns_a_trigger_fires_on():
    update_of = sqlite_sql.update_of
    assert update_of(
        'CREATE TRIGGER "t" AFTER UPDATE OF "a", b ON "x" BEGIN SELECT 1; END'
    ) == ["a", "b"]
    assert update_of('CREATE TRIGGER "update of" AFTER UPDATE ON "x" BEGIN END') == []
    # An UPDATE OF in the body is no list of the trigger's.
    assert (
        update_of("CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE OF SET a = 1; END")
        == []
    )
