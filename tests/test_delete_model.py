"""Catalogue row: DeleteModel, with outgoing foreign keys and M2M fields, and the model a removed FK pointed at."""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_stock_breaks_old_release,
)

V1 = """class Font(models.Model):
    name = models.CharField(max_length=100)


class Tag(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    font = models.ForeignKey(Font, on_delete=models.CASCADE)


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag)
    score = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["score"], name="review_score_idx")]
        unique_together = [("book", "score")]
"""

V2 = """
class Tag(models.Model):
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
