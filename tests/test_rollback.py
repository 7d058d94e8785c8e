"""Migrating back: v1's data survives; rows that cannot go back are named."""

from .oracles import Release, assert_same_schema
from .project import assert_stopped

V1 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    pages = models.IntegerField(default=100)
"""

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
"""

CREATE_V1_BOOK = (
    "from shop.models import Author, Book; "
    "Book.objects.create(title='kept', author=Author.objects.create(name='a'), pages=7)"
)


def test_rolling_back_the_contract_keeps_every_value_v1_wrote(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    project = release.project
    project.manage("shell", "-c", CREATE_V1_BOOK)
    rows = project.probe("rows")
    release.make_v2()
    project.manage("migrate", "-v0")
    project.manage("migrate", "shop", release.v1, "-v0")
    assert project.probe("rows") == rows
    assert_same_schema(project.probe("schema"), release.v1_schema, "back", names=False)


def test_rows_the_new_release_wrote_block_the_rollback_and_are_named(
    make_project, vendor
):
    release = Release(make_project(vendor), V1, V2)
    project = release.project
    release.make_v2()
    project.manage("migrate", "-v0")
    project.manage(
        "shell", "-c", "from shop.models import Book; Book.objects.create(title='new')"
    )
    schema = project.probe("schema")
    result = project.manage("migrate", "shop", release.v1, check=False)
    assert_stopped(
        result, "1 row(s) of shop_book hold NULL in author_id (primary keys 1)"
    )
    # Nothing was unapplied, nothing invented: the row is as the new release left it.
    assert project.probe("schema") == schema
    assert project.probe("rows")["shop_book"] == [
        {"id": "1", "title": "new", "author_id": "None", "pages": "100"}
    ]


def _contract_over_a_v1_book(make_project, vendor) -> Release:
    release = Release(make_project(vendor), V1, V2)
    release.project.manage("shell", "-c", CREATE_V1_BOOK)
    release.make_v2()
    release.project.manage("migrate", "-v0")
    return release


def test_rows_naming_rows_the_new_release_deleted_block_the_rollback(
    make_project, vendor
):
    release = _contract_over_a_v1_book(make_project, vendor)
    project = release.project
    # What the contract allows: the new release deletes the book's author.
    project.manage(
        "shell", "-c", "from shop.models import Author; Author.objects.all().delete()"
    )
    schema, rows = project.probe("schema"), project.probe("rows")
    result = project.manage("migrate", "shop", release.v1, check=False)
    assert_stopped(
        result,
        "1 row(s) of shop_book hold author_id values that shop_author no longer "
        "has (primary keys 1)",
    )
    assert "delete them" not in result.stderr
    # Checked before any DDL, MariaDB's included: nothing was unapplied.
    assert project.probe("schema") == schema
    assert project.probe("rows") == rows
    # Once the row names an author that exists, the way back is open.
    project.manage(
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor(); "
        "c.execute(\"INSERT INTO shop_author (id, name) VALUES (9, 'b')\"); "
        "c.execute('UPDATE shop_book SET author_id = 9')",
    )
    project.manage("migrate", "shop", release.v1, "-v0")
    assert_same_schema(project.probe("schema"), release.v1_schema, "back", names=False)


def test_going_back_past_the_cleanup_names_the_values_it_dropped(
    make_project, vendor
):
    release = _contract_over_a_v1_book(make_project, vendor)
    project = release.project
    release.promote_and_migrate()
    schema = project.probe("schema")
    # One migrate back past the cleanup and the contract: stopped before the
    # cleanup is unapplied, since the column it re-creates is empty.
    result = project.manage("migrate", "shop", release.v1, check=False)
    assert_stopped(
        result,
        "1 row(s) of shop_book will hold NULL (the cleanup before it in this "
        "migrate re-creates the column empty: dropping it lost its values) in "
        "author_id (primary keys 1)",
    )
    assert "restore what was dropped or deleted from a backup" in result.stderr
    assert "delete them" not in result.stderr
    assert project.probe("schema") == schema
