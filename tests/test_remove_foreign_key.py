"""Catalogue row: RemoveField of a ForeignKey or OneToOneField."""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_stock_breaks_old_release,
)

V1 = """class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    editor = models.ForeignKey(Author, on_delete=models.PROTECT, null=True, related_name="edited")
    cover = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="cover_of")
"""

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
"""


def test_old_release_keeps_reading_and_writing_the_removed_columns(
    make_project, vendor
):
    release = Release(make_project(vendor), V1, V2)
    assert_coexistence(release)
    assert_idempotent(release.project)


def test_stock_removal_breaks_the_old_release(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    problems = assert_stock_breaks_old_release(release)
    assert any("v1 Book read" in problem for problem in problems)


def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)
