"""
Models beyond the catalogue's examples, held to the same oracles on every
vendor: natural, UUID and composite primary keys, ``to_field`` relations,
multi-table inheritance.
"""

import pytest

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_stock_breaks_old_release,
)

NATURAL_KEYS = (
    """
import uuid


class Country(models.Model):
    code = models.CharField(primary_key=True, max_length=2)


class Token(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)


class Slug(models.Model):
    slug = models.SlugField(unique=True)


class City(models.Model):
    name = models.CharField(max_length=20)
    country = models.ForeignKey(Country, on_delete=models.CASCADE)
    token = models.OneToOneField(Token, on_delete=models.CASCADE, null=True)
    slugged = models.ForeignKey(Slug, to_field="slug", on_delete=models.CASCADE, null=True)
""",
    """
import uuid


class Country(models.Model):
    code = models.CharField(primary_key=True, max_length=2)


class Token(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)


class Slug(models.Model):
    slug = models.SlugField(unique=True)


class City(models.Model):
    name = models.CharField(max_length=20)
""",
)

INHERITANCE = (
    """
class Place(models.Model):
    name = models.CharField(max_length=20)
    rating = models.IntegerField(default=3)


class Restaurant(Place):
    seats = models.IntegerField(null=True)


class Bar(Place):
    taps = models.IntegerField(default=2)
""",
    """
class Place(models.Model):
    name = models.CharField(max_length=20)


class Restaurant(Place):
    seats = models.IntegerField(null=True)
""",
)

COMPOSITE_KEY = (
    """
class Student(models.Model):
    name = models.CharField(max_length=20)


class Enrolment(models.Model):
    pk = models.CompositePrimaryKey("student_id", "term")
    student = models.ForeignKey(Student, on_delete=models.CASCADE)
    term = models.IntegerField(default=1)
    grade = models.IntegerField(default=0)
    note = models.TextField(null=True)
""",
    """
class Student(models.Model):
    name = models.CharField(max_length=20)


class Enrolment(models.Model):
    pk = models.CompositePrimaryKey("student_id", "term")
    student = models.ForeignKey(Student, on_delete=models.CASCADE)
    term = models.IntegerField(default=1)
""",
)

CASES = {
    "natural_keys": NATURAL_KEYS,
    "inheritance": INHERITANCE,
    "composite_key": COMPOSITE_KEY,
}


@pytest.mark.parametrize("case", CASES)
def test_other_models_coexist_reach_stock_and_roll_back(make_project, vendor, case):
    v1, v2 = CASES[case]
    assert_coexistence(Release(make_project(vendor), v1, v2))
    # Negative control: the same CRUD fails after stock Django's migration.
    assert_stock_breaks_old_release(Release(make_project(vendor), v1, v2))
    assert_equivalent_and_reversible(
        Release(make_project(vendor), v1, v2), make_project
    )
