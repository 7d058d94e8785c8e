"""Catalogue row: RemoveField of a nullable field (or one with db_default)."""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_stock_breaks_old_release,
)

V1 = """
class Product(models.Model):
    name = models.CharField(max_length=255)
    note = models.TextField(null=True)
    stock = models.IntegerField(db_default=0)
"""

V2 = """
class Product(models.Model):
    name = models.CharField(max_length=255)
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
    assert any("v1 Product read" in problem for problem in problems)


def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)
