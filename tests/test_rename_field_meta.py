"""
Catalogue row: a field's column renamed where the model's ``Meta`` names
the field (``unique_together``, ``indexes``, ``constraints``). Django's
RenameField renames it in the state's ``unique_together``: the contract
builds the same set on the new column once the rows are copied, then drops
the old one. ``Meta.indexes`` and ``Meta.constraints`` come as operations
of their own (RemoveIndex, AddIndex, ...), around the rename.

Each kind: both releases read each other's writes, a duplicate is refused
to either release during the overlap where the set is unique, and the
cleanup reaches stock Django's schema and rolls back to v1's.
"""

import json

import pytest

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    failures,
    stock_schema,
)
from .project import Project
from .test_rename_field import read, write

# kind: (v1's Meta, v2's Meta, the renamed field: old, new, "db_column" for
# a column change, whether the Meta makes (author, title) unique)
KINDS = {
    "unique_together": (
        'unique_together = [("author", "title")]',
        'unique_together = [("author", "headline")]',
        "title",
        True,
    ),
    "unique_together_of_a_foreign_key": (
        'unique_together = [("author", "title")]',
        'unique_together = [("writer", "title")]',
        "author",
        True,
    ),
    "unique_together_two_sets": (
        'unique_together = [("author", "title"), ("pages", "title")]',
        'unique_together = [("author", "headline"), ("pages", "headline")]',
        "title",
        True,
    ),
    "unique_together_db_column": (
        'unique_together = [("author", "title")]',
        'unique_together = [("author", "title")]',
        "db_column",
        True,
    ),
    "an_unchanged_conditional_constraint": (
        'constraints = [models.UniqueConstraint(fields=["pages"], condition=models.Q(pages__gt=1), name="one_big")]',
        'constraints = [models.UniqueConstraint(fields=["pages"], condition=models.Q(pages__gt=1), name="one_big")]',
        "title",
        False,
    ),
    "an_unchanged_expression_index": (
        'indexes = [models.Index(models.F("pages"), name="pages_expression")]',
        'indexes = [models.Index(models.F("pages"), name="pages_expression")]',
        "title",
        False,
    ),
    "index": (
        'indexes = [models.Index(fields=["title"], name="book_title_idx")]',
        'indexes = [models.Index(fields=["headline"], name="book_title_idx")]',
        "title",
        False,
    ),
    "unique_constraint": (
        'constraints = [models.UniqueConstraint(fields=["author", "title"], name="one_title")]',
        'constraints = [models.UniqueConstraint(fields=["author", "headline"], name="one_title")]',
        "title",
        True,
    ),
    "check_constraint": (
        'constraints = [models.CheckConstraint(condition=~models.Q(title=""), name="title_set")]',
        'constraints = [models.CheckConstraint(condition=~models.Q(headline=""), name="title_set")]',
        "title",
        False,
    ),
}

RENAMED = {
    "title": ("title", "headline"),
    "author": ("author", "writer"),
    "db_column": ("title", "title"),
}


def models_source(meta: str, author: str = "author", title: str = "title") -> str:
    column = ', db_column="headline"' if title == "db_column" else ""
    title = "title" if title == "db_column" else title
    return f"""
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    pages = models.IntegerField(default=1)
    {author} = models.ForeignKey(Author, models.CASCADE)
    {title} = models.CharField(max_length=100{column})

    class Meta:
        {meta}
"""


def sources(kind: str) -> tuple[str, str, str, str]:
    v1_meta, v2_meta, renamed, _ = KINDS[kind]
    old, new = RENAMED[renamed]
    v2 = (
        models_source(v2_meta, author=new)
        if renamed == "author"
        else models_source(
            v2_meta, title="db_column" if renamed == "db_column" else new
        )
    )
    title = {"title": "headline"}.get(renamed, "title")
    author = "writer" if renamed == "author" else "author"
    return models_source(v1_meta), v2, title, author


def make_v2(project: Project) -> str:
    # One rename, one question; a db_column change asks none.
    return project.run("manage.py", "makemigrations", input="y\n").stdout


def tries(project, release, field, value, pk) -> bool:
    """Whether the release's save of ``field`` on row ``pk`` succeeds."""
    arguments = dict(
        app="shop", release=release, model="Book", field=field, value=value, pk=pk
    )
    result = project.run("probe.py", "write", json.dumps(arguments), check=False)
    assert result.returncode == 0 or "IntegrityError" in result.stderr, result.stderr
    return result.returncode == 0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_both_releases_coexist_under_the_meta(make_project, vendor, kind):
    v1_models, v2_models, title, author = sources(kind)
    unique = KINDS[kind][3]
    project = make_project(vendor)
    release = Release(project, v1_models, v2_models)
    v1 = release.v1
    before = write(project, v1, "title", "before")
    project.set_models(v2_models)
    output = make_v2(project)
    assert "kept equal by triggers" in output, output
    assert project.pending_files()
    project.manage("migrate", "-v0")
    v2 = release.v2 = project.migration_names()[-1]
    assert read(project, v2, title, before) == "before"
    # In turn, each in its own process, each reading the other's writes.
    from_old = write(project, v1, "title", "from old")
    assert read(project, v2, title, from_old) == "from old"
    from_new = write(project, v2, title, "from new")
    assert read(project, v1, "title", from_new) == "from new"
    write(project, v1, "title", "old again", pk=from_new)
    assert read(project, v2, title, from_new) == "old again"
    old_author = read(project, v1, "author", from_old)
    assert read(project, v2, author, from_old) == old_author
    if unique:
        # (author, title) stays unique for both releases: a row of each
        # given the other's author and title is refused.
        assert tries(project, v1, "author", old_author, from_new)
        assert not tries(project, v1, "title", "from old", from_new)
        other = write(project, v2, title, "other")
        assert tries(project, v2, author, old_author, other)
        assert not tries(project, v2, title, "from old", other)
    assert_idempotent(project)
    problems = failures(release.crud())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor, kind):
    v1_models, v2_models, title, _ = sources(kind)
    project = make_project(vendor)
    release = Release(project, v1_models, v2_models)
    row = write(project, release.v1, "title", "kept")
    project.set_models(v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    v2 = project.migration_names()[-1]
    assert read(project, v2, title, row) == "kept"
    expected = stock_schema(make_project, vendor, v1_models, v2_models, "y\n")
    if kind == "check_constraint" and vendor == "sqlite":
        # The contract adds the constraint while the column is nullable
        # (NOT NULL comes with the cleanup), and Django writes ~Q(headline="")
        # on a nullable column as NOT ("headline" = '' AND "headline" IS NOT
        # NULL): the same on a NOT NULL column, where SQLite's introspection
        # lists the column twice.
        for constraint in expected["shop_book"]["constraints"].values():
            if constraint["check"]:
                constraint["columns"] *= 2
    assert_same_schema(project.probe("schema"), expected, "after cleanup", names=False)
    project.manage("migrate", "shop", release.v1, "-v0")
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "back to v1", names=False
    )
    assert read(project, release.v1, "title", row) == "kept"


def test_stock_rename_under_unique_together_breaks_the_old_release(make_project):
    # The negative control: Django's own RenameField renames the column.
    v1_models, v2_models, _, _ = sources("unique_together")
    project = make_project("sqlite")
    release = Release(project, v1_models, v2_models)
    project.set_models(v2_models)
    output = project.run(
        "manage.py", "makemigrations", "--no-bluegreen", input="y\n"
    ).stdout
    assert "Rename field title on book to headline" in output, output
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    problems = failures(release.crud())
    assert any("v1 Book create" in problem for problem in problems), problems


def test_a_rename_of_the_field_order_with_respect_to_names_is_refused(make_project):
    # Its rows' order is kept by the field: refused in one line, nothing
    # written (a string option, once read as the letters of the name).
    project = make_project("sqlite")
    v1_models = models_source('order_with_respect_to = "author"')
    Release(project, v1_models, v1_models)
    before = project.snapshot()
    project.set_models(
        models_source('order_with_respect_to = "writer"', author="writer")
    )
    result = project.run("manage.py", "makemigrations", input="y\n", check=False)
    assert result.returncode != 0
    assert "order_with_respect_to name it" in result.stderr, result.stderr
    assert project.snapshot() == before
