"""
The four properties (coexistence with its negative control, equivalence,
reversibility, idempotence) for model options beyond the catalogue's
examples (issue 11, item 4), on every vendor: comments, tablespaces, proxy
models, and indexes and constraints covering a removed field.
"""

import pytest

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_stock_breaks_old_release,
)

COMMENTS = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20, db_comment="the title")
    rating = models.IntegerField(db_comment="stars")

    class Meta:
        db_table_comment = "books"
""",
    """
class Book(models.Model):
    title = models.CharField(max_length=20, db_comment="the title")

    class Meta:
        db_table_comment = "books"
""",
)

TABLESPACES = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    code = models.CharField(max_length=20, db_index=True, db_tablespace="pg_default")

    class Meta:
        db_tablespace = "pg_default"
""",
    """
class Book(models.Model):
    title = models.CharField(max_length=20)

    class Meta:
        db_tablespace = "pg_default"
""",
)

PROXY = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    rating = models.IntegerField()


class Paperback(Book):
    class Meta:
        proxy = True
""",
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
""",
)

COVERING = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    code = models.CharField(max_length=20)
    rating = models.IntegerField(default=1)

    class Meta:
        unique_together = [("title", "code")]
        indexes = [models.Index(fields=["code", "rating"], name="code_rating")]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=0), name="rating_gte_0"),
            models.UniqueConstraint(fields=["code"], name="code_unique"),
        ]
""",
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
""",
)

CASES = {
    "comments": COMMENTS,
    "tablespaces": TABLESPACES,
    "proxy": PROXY,
    "indexes_and_constraints_covering_removed_fields": COVERING,
}


@pytest.mark.parametrize("case", CASES)
def test_model_options_coexist_reach_stock_and_roll_back(make_project, vendor, case):
    v1, v2 = CASES[case]
    assert_coexistence(Release(make_project(vendor), v1, v2))
    # Negative control: the same CRUD fails after stock Django's migration.
    assert_stock_breaks_old_release(Release(make_project(vendor), v1, v2))
    assert_equivalent_and_reversible(
        Release(make_project(vendor), v1, v2), make_project
    )
