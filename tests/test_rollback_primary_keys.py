"""
The rollback guard names the rows that block migrating back past a
contract by their primary key: every form of primary key Django has.

Each model below loses a NOT NULL foreign key (the contract makes it
nullable, without its constraint) and is named by a primary key of one
form: auto, natural, UUID, composite, a multi-table child's parent link,
and a relation through ``to_field``. Rows block the way back when the new
release leaves the column NULL, or deletes the row it names; the guard says
which rows, before any DDL. With no such row, the way back is open and
keeps every value.
"""

import pytest

from .oracles import Release, assert_same_schema
from .project import assert_stopped

AUTHOR = """
import uuid


class Author(models.Model):
    code = models.CharField(max_length=10, unique=True)


class Place(models.Model):
    name = models.CharField(max_length=20)
"""

# form: (the declaration of Book's key, its fields' values for two rows,
# the key as the guard names each of those rows)
KEYS = {
    "auto": ("", [{}, {}], ["1", "2"]),
    "natural": (
        "isbn = models.CharField(max_length=13, primary_key=True)",
        [{"isbn": "'978-1'"}, {"isbn": "'978-2'"}],
        ["978-1", "978-2"],
    ),
    "uuid": (
        "id = models.UUIDField(primary_key=True, default=uuid.uuid4)",
        [
            {"id": "uuid.UUID(int=1)"},
            {"id": "uuid.UUID(int=2)"},
        ],
        [
            "00000000-0000-0000-0000-000000000001",
            "00000000-0000-0000-0000-000000000002",
        ],
    ),
    "composite": (
        'pk = models.CompositePrimaryKey("shelf", "number")\n'
        "    shelf = models.IntegerField()\n"
        "    number = models.IntegerField()",
        [{"shelf": "1", "number": "7"}, {"shelf": "2", "number": "3"}],
        ["(1, 7)", "(2, 3)"],
    ),
}


def book(key: str, relation: str, base: str = "models.Model") -> str:
    return f"""
class Book({base}):
    {key or "pass"}
    title = models.CharField(max_length=20, default="t")
    {relation}
"""


RELATION = "author = models.ForeignKey(Author, on_delete=models.CASCADE)"
TO_FIELD = (
    "author = models.ForeignKey(Author, to_field='code', on_delete=models.CASCADE)"
)

# case: (v1 Book, v2 Book, values of two rows (Python), their keys as named)
CASES = {
    **{
        form: (book(key, RELATION), book(key, ""), values, named)
        for form, (key, values, named) in KEYS.items()
    },
    "parent link": (
        book("", RELATION, base="Place"),
        book("", "", base="Place"),
        [{"name": "'p1'"}, {"name": "'p2'"}],
        ["1", "2"],
    ),
    "to_field": (book("", TO_FIELD), book("", ""), [{}, {}], ["1", "2"]),
}


def _create(values: dict, author: str | None) -> str:
    """Python for the shell: create a Book with ``values``."""
    arguments = [f"{name}={value}" for name, value in values.items()]
    if author is not None:
        arguments.append(f"author={author}")
    return f"Book.objects.create({', '.join(arguments)})"


def _release(make_project, vendor, case) -> Release:
    v1, v2, _, _ = CASES[case]
    return Release(make_project(vendor), AUTHOR + v1, AUTHOR + v2)


def _shell(project, *lines: str) -> None:
    prelude = "import uuid; from shop.models import Author, Book, Place; "
    project.manage("shell", "-c", prelude + "; ".join(lines))


@pytest.mark.parametrize("case", CASES)
def test_rows_left_null_by_the_new_release_are_named(make_project, vendor, case):
    release = _release(make_project, vendor, case)
    project = release.project
    _, _, values, named = CASES[case]
    release.make_v2()
    project.manage("migrate", "-v0")
    # The new release writes rows without the column it no longer knows.
    _shell(project, *(_create(row, None) for row in values))
    schema, rows = project.probe("schema"), project.probe("rows")
    result = project.manage("migrate", "shop", release.v1, check=False)
    assert_stopped(
        result,
        f"2 row(s) of shop_book hold NULL in author_id (primary keys "
        f"{', '.join(named)})",
    )
    assert project.probe("schema") == schema
    assert project.probe("rows") == rows


@pytest.mark.parametrize("case", CASES)
def test_rows_naming_deleted_rows_are_named(make_project, vendor, case):
    release = _release(make_project, vendor, case)
    project = release.project
    _, _, values, named = CASES[case]
    _shell(
        project,
        "a = Author.objects.create(code='a1')",
        *(_create(row, "a") for row in values),
    )
    release.make_v2()
    project.manage("migrate", "-v0")
    # What the contract allows: the new release deletes the books' author.
    _shell(project, "Author.objects.all().delete()")
    schema, rows = project.probe("schema"), project.probe("rows")
    result = project.manage("migrate", "shop", release.v1, check=False)
    assert_stopped(
        result,
        f"2 row(s) of shop_book hold author_id values that shop_author no longer "
        f"has (primary keys {', '.join(named)})",
    )
    assert project.probe("schema") == schema
    assert project.probe("rows") == rows


@pytest.mark.parametrize("case", CASES)
def test_nothing_blocks_the_way_back(make_project, vendor, case):
    release = _release(make_project, vendor, case)
    project = release.project
    _, _, values, _ = CASES[case]
    _shell(
        project,
        "a = Author.objects.create(code='a1')",
        *(_create(row, "a") for row in values),
    )
    rows = project.probe("rows")
    release.make_v2()
    project.manage("migrate", "-v0")
    project.manage("migrate", "shop", release.v1, "-v0")
    assert project.probe("rows") == rows
    assert_same_schema(project.probe("schema"), release.v1_schema, "back", names=False)
