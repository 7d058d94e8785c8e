"""
Catalogue row: a relation added to a model the old release uses (a new
ForeignKey, OneToOneField or ManyToManyField, or a new model pointing at an
existing one). Its constraint waits for the cleanup.
"""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_stock_breaks_old_release,
)
from .project import assert_stopped

V1 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Tag(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
"""

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Tag(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, models.CASCADE, null=True)
    publisher = models.ForeignKey(
        Author, models.CASCADE, default=1, related_name="published"
    )
    tags = models.ManyToManyField(Tag)


class Review(models.Model):
    text = models.CharField(max_length=200)
    book = models.ForeignKey(Book, models.CASCADE)
    reviewer = models.OneToOneField(Author, models.CASCADE, related_name="review")
    tags = models.ManyToManyField(Tag, related_name="reviews")


class Ebook(Book):
    url = models.CharField(max_length=200)
"""

# As the old release would: it deletes a book and a tag that rows of the new
# release name (no constraint stops it while the cleanup waits).
ORPHANS = """
from django.db import connection
from shop.models import Author, Book, Review, Tag
author = Author.objects.create(name="a")
book = Book.objects.create(title="b", author=author, publisher=author)
tag = Tag.objects.create(name="t")
book.tags.add(tag)
Review.objects.create(text="r", book=book, reviewer=author).tags.add(tag)
with connection.cursor() as cursor:
    for table, pk in (("shop_book", book.pk), ("shop_tag", tag.pk)):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])
"""

# The rows naming them, deleted by the user once the cleanup has said so.
REPAIR = """
from django.db import connection
with connection.cursor() as cursor:
    for table in ("shop_review_tags", "shop_book_tags", "shop_review", "shop_ebook"):
        cursor.execute(f"DELETE FROM {table}")
"""


def test_old_release_deletes_rows_the_new_release_links_to(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    project = release.project
    assert_coexistence(release)
    assert_idempotent(project)
    project.manage("shell", "-c", ORPHANS)
    # The cleanup stops before adding the constraints, naming the rows that
    # name deleted rows, and changes no row.
    before = project.probe("rows")
    project.manage("promotemigrations")
    result = project.manage("migrate", check=False)
    assert_stopped(result, "rows name rows that are gone")
    assert "shop_book_tags hold book_id values that shop_book no longer has" in (
        result.stderr
    )
    assert "hold tag_id values that shop_tag no longer has" in result.stderr
    assert project.probe("rows") == before
    # Once those rows are gone (the user's call), it runs; on MySQL, the
    # constraints of shop_book that the stopped run added are not added again.
    project.manage("shell", "-c", REPAIR)
    project.manage("migrate", "-v0")
    assert_idempotent(project)


def test_stock_relation_breaks_the_old_release_deletes(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    problems = assert_stock_breaks_old_release(release)
    for model in ("Author", "Tag", "Book"):
        assert any(
            f"v1 {model} delete rows the new release links to" in problem
            for problem in problems
        ), problems


def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)
