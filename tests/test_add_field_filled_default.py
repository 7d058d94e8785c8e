"""
Catalogue row: AddField NOT NULL without an explicit default that Django
still fills (blank strings, files and bytes; auto_now date and time fields).
"""

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
"""

V2 = """
class Product(models.Model):
    name = models.CharField(max_length=255)
    nickname = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    slug = models.SlugField(blank=True)
    attachment = models.FileField(blank=True)
    blob = models.BinaryField(blank=True)
    changed = models.DateTimeField(auto_now=True)
    changed_on = models.DateField(auto_now=True)
    changed_at = models.TimeField(auto_now=True)
"""


def test_old_release_keeps_inserting_without_the_filled_columns(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_coexistence(release)
    assert_idempotent(release.project)
    # A row the old release inserts holds what Django would have filled.
    release.project.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "connection.cursor().execute(\"INSERT INTO shop_product (name) VALUES ('old')\")",
    )
    (row,) = release.project.probe("rows")["shop_product"]
    assert row["nickname"] == row["notes"] == row["attachment"] == "", row
    assert "None" not in (row["changed"], row["changed_on"], row["changed_at"]), row


def test_stock_addition_breaks_the_old_release(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    problems = assert_stock_breaks_old_release(release)
    assert any("v1 Product create" in problem for problem in problems)


def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)
