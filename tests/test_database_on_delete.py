"""
Django 6.1's database-level on_delete (DB_CASCADE, DB_SET_NULL,
DB_SET_DEFAULT): the foreign-key constraint's ON DELETE action is what the
relation does, so it is part of the column's shape.

- removed: the contract keeps the constraint, action and all (the old
  release's deletes leave the rows to the database); the cleanup drops it
  with the column;
- added: the constraint comes with the column in the contract (the old
  release's deletes know nothing of the rows; the database acts on them);
- altered: to or from a Python on_delete, or to another DB_* action, the
  verifier sees what each release's deletes meet.

Each end to end, the releases in processes of their own. A declared version
gate: Django before 6.1 has no database-level on_delete. MariaDB has no
ON DELETE SET DEFAULT (Django's check refuses DB_SET_DEFAULT there), so
that action runs on SQLite and PostgreSQL.
"""

import json

import django
import pytest

from .oracles import assert_idempotent, assert_same_schema, stock_schema
from .project import VENDORS, assert_stopped

pytestmark = pytest.mark.skipif(
    django.VERSION < (6, 1), reason="database-level on_delete is new in Django 6.1"
)

AUTHOR = """
class Author(models.Model):
    name = models.CharField(max_length=100)
"""

# action -> the relation's arguments
ACTIONS = {
    "DB_CASCADE": "models.DB_CASCADE",
    "DB_SET_NULL": "models.DB_SET_NULL, null=True",
    "DB_SET_DEFAULT": "models.DB_SET_DEFAULT, null=True, db_default=None",
}

# (vendor, action): MariaDB has no SET DEFAULT (Django's fields.E3xx check).
CASES = [
    pytest.param(vendor, action, id=f"{vendor}-{action}")
    for vendor in VENDORS
    for action in ACTIONS
    if not (vendor == "mysql" and action == "DB_SET_DEFAULT")
]


def book(relation: str | None) -> str:
    return (
        "\nclass Book(models.Model):\n"
        "    title = models.CharField(max_length=100)\n"
        + (f"    author = models.ForeignKey(Author, {relation})\n" if relation else "")
    )


# A release (the state after ``migration``) deletes an author a book names;
# what is left of the book, as JSON. The book is written by the release
# that knows the relation (``writer``).
DELETE = """
import json
from django.db import connection
from django.db.migrations.loader import MigrationLoader
loader = MigrationLoader(connection)
writer = loader.project_state(("shop", {writer!r})).apps
deleter = loader.project_state(("shop", {deleter!r})).apps
author = writer.get_model("shop", "Author").objects.create(name="a")
book = writer.get_model("shop", "Book").objects.create(title="t", author=author)
deleter.get_model("shop", "Author").objects.filter(pk=author.pk).delete()
with connection.cursor() as cursor:
    cursor.execute("SELECT author_id FROM shop_book WHERE id = %s", [book.pk])
    print(json.dumps({{"left": [row[0] for row in cursor.fetchall()]}}))
"""

# What the database does to the book: gone, or its author_id NULL (the
# DB_SET_DEFAULT's default is NULL).
EFFECT = {"DB_CASCADE": [], "DB_SET_NULL": [None], "DB_SET_DEFAULT": [None]}


def delete(project, writer: str, deleter: str) -> list:
    result = project.manage(
        "shell", "-c", DELETE.format(writer=writer, deleter=deleter), check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])["left"]


def start(project, v1: str) -> str:
    project.set_models(v1)
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    return project.migration_names()[-1]


def on_delete_of(project) -> str:
    """The ON DELETE action of shop_book.author_id's constraint, as stored."""
    script = {
        "sqlite": "SELECT on_delete FROM pragma_foreign_key_list('shop_book') "
        "WHERE \"from\" = 'author_id'",
        "postgresql": "SELECT confdeltype FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = 'shop_book'::regclass",
        "mysql": "SELECT delete_rule FROM information_schema.referential_constraints "
        "WHERE constraint_schema = DATABASE() AND table_name = 'shop_book'",
    }[project.vendor]
    result = project.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        f"    c.execute({script!r})\n"
        "    print('ACTIONS', sorted(str(r[0]) for r in c.fetchall()))",
    )
    return result.stdout.strip().splitlines()[-1]


# The same action as each vendor stores it.
STORED = {
    "sqlite": {"DB_CASCADE": "CASCADE", "DB_SET_NULL": "SET NULL",
               "DB_SET_DEFAULT": "SET DEFAULT"},
    "postgresql": {"DB_CASCADE": "c", "DB_SET_NULL": "n", "DB_SET_DEFAULT": "d"},
    "mysql": {"DB_CASCADE": "CASCADE", "DB_SET_NULL": "SET NULL"},
}


@pytest.mark.parametrize(("vendor", "action"), CASES)
def test_removed_key_keeps_its_database_action_until_the_cleanup(
    make_project, vendor, action
):
    project = make_project(vendor)
    v1_models = AUTHOR + book(ACTIONS[action])
    v2_models = AUTHOR + book(None)
    v1 = start(project, v1_models)
    project.set_models(v2_models)
    project.manage("makemigrations", "-v0")
    assert project.pending_files()
    v2 = project.migration_names()[-1]
    project.manage("migrate", "-v0")
    assert on_delete_of(project) == f"ACTIONS ['{STORED[vendor][action]}']"
    # The old release's deletes leave the book to the database, which acts.
    assert delete(project, v1, v1) == EFFECT[action]
    # The new release, which no longer knows the relation, deletes an author
    # an old release's book names: the database acts, nothing blocks.
    assert delete(project, v1, v2) == EFFECT[action]
    assert_idempotent(project)
    project.manage("promotemigrations")
    project.manage("migrate", "-v0")
    assert_idempotent(project)
    expected = stock_schema(make_project, vendor, v1_models, v2_models)
    assert_same_schema(project.probe("schema"), expected, "after cleanup vs stock")
    # Back to v1: the column and its constraint, action and all.
    project.manage("migrate", "shop", v1, "-v0")
    assert on_delete_of(project) == f"ACTIONS ['{STORED[vendor][action]}']"


@pytest.mark.parametrize(("vendor", "action"), CASES)
def test_added_key_acts_on_the_old_release_deletes(make_project, vendor, action):
    project = make_project(vendor)
    v1_models = AUTHOR + book(None)
    relation = ACTIONS[action]
    if "null=True" not in relation:
        relation += ", null=True"
    v2_models = AUTHOR + book(relation)
    v1 = start(project, v1_models)
    project.set_models(v2_models)
    project.manage("makemigrations", "-v0")
    v2 = project.migration_names()[-1]
    # The constraint is the relation's behaviour: nothing waits for a cleanup.
    assert not project.pending_files()
    project.manage("migrate", "-v0")
    assert on_delete_of(project) == f"ACTIONS ['{STORED[vendor][action]}']"
    # The old release deletes an author that a new release's book names.
    assert delete(project, v2, v1) == EFFECT[action]
    assert delete(project, v2, v2) == EFFECT[action]
    assert_idempotent(project)
    expected = stock_schema(make_project, vendor, v1_models, v2_models)
    assert_same_schema(project.probe("schema"), expected, "contract vs stock")


PYTHON = {
    "DB_CASCADE": "models.CASCADE",
    "DB_SET_NULL": "models.SET_NULL, null=True",
    "DB_SET_DEFAULT": "models.SET_DEFAULT, null=True, default=None",
}


@pytest.mark.parametrize(("vendor", "action"), CASES)
def test_database_action_to_python_is_refused(make_project, vendor, action):
    """
    DB_CASCADE -> CASCADE (each DB_* to its Python twin): stock Django drops
    the ON DELETE action, and the old release's deletes, which leave the
    rows to the database, are blocked by the constraint.
    """
    project = make_project(vendor)
    start(project, AUTHOR + book(ACTIONS[action]))
    project.set_models(AUTHOR + book(PYTHON[action]))
    before = project.snapshot()
    result = project.manage("makemigrations", check=False)
    assert_stopped(result, "nothing was written")
    assert (
        f"DELETE on shop_author fails: column author_id (shop.Book.author) has "
        f"on_delete={action}" in result.stderr
    ), result.stderr
    assert "the database has a constraint that blocks the delete" in result.stderr
    assert project.snapshot() == before


@pytest.mark.parametrize(("vendor", "action"), CASES)
def test_stock_database_action_to_python_breaks_the_old_release(
    make_project, vendor, action
):
    """Negative control of the refusal: stock Django's migration of it."""
    project = make_project(vendor)
    v1 = start(project, AUTHOR + book(ACTIONS[action]))
    project.set_models(AUTHOR + book(PYTHON[action]))
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    result = project.manage(
        "shell", "-c", DELETE.format(writer=v1, deleter=v1), check=False
    )
    assert "IntegrityError" in result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize(("vendor", "action"), CASES)
def test_python_action_to_database_one_passes(make_project, vendor, action):
    """
    CASCADE -> DB_CASCADE: the constraint gains the action in the contract;
    the old release's Python on_delete acts first, the new release's deletes
    leave the rows to the database.
    """
    project = make_project(vendor)
    v1 = start(project, AUTHOR + book(PYTHON[action]))
    project.set_models(AUTHOR + book(ACTIONS[action]))
    project.manage("makemigrations", "-v0")
    assert not project.pending_files()
    v2 = project.migration_names()[-1]
    project.manage("migrate", "-v0")
    assert on_delete_of(project) == f"ACTIONS ['{STORED[vendor][action]}']"
    assert delete(project, v1, v1) == EFFECT[action]
    assert delete(project, v2, v2) == EFFECT[action]
    assert delete(project, v1, v2) == EFFECT[action]


@pytest.mark.parametrize("vendor", VENDORS)
def test_one_database_action_to_another_is_refused(make_project, vendor):
    """DB_CASCADE -> DB_SET_NULL: one constraint cannot act for both releases."""
    project = make_project(vendor)
    start(project, AUTHOR + book(ACTIONS["DB_CASCADE"] + ", null=True"))
    project.set_models(AUTHOR + book(ACTIONS["DB_SET_NULL"]))
    result = project.manage("makemigrations", check=False)
    assert_stopped(result, "nothing was written")
    assert "the database has ON DELETE SET NULL" in result.stderr, result.stderr
