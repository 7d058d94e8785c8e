"""Names that need quoting: reserved words, mixed case, a quote inside a name."""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
)

V1 = """
class Order(models.Model):
    order = models.IntegerField()
    select = models.CharField(max_length=20, db_column="it's")
    group = models.TextField(null=True)

    class Meta:
        db_table = "Shop Order"
"""

V2 = """
class Order(models.Model):
    group = models.TextField(default="")
    limit = models.IntegerField(default=1)

    class Meta:
        db_table = "Shop Order"
"""


def test_odd_names_coexist(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_coexistence(release)


def test_odd_names_reach_stock_schema_and_roll_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)
