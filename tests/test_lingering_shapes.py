"""
A removed field's lingering shape (``lingering_field``) is, where only the
arguments Django's own constructors store as they are change, a copy of
the field with those attributes set (``fields.reshaped``) rather than a
field built again from its deconstruction. The copy must be that field:
for every concrete field class of Django's, in every shape a state holds it
(null or not, a constant default or none, an index, a database default, a
relation with or without its constraint, its table staying or not), the
lingering field and one built from the lingering field's own deconstruction
hold the same instance attributes and deconstruct alike.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import uuid

import pytest
from django.db import models

from bluegreen_autodetector import fields
from bluegreen_autodetector.fields import cached_attributes, deconstruct
from bluegreen_autodetector.split.catalogue.shapes import lingering_field

MODULES = (
    "django.db.models.fields",
    "django.db.models.fields.related",
    "django.db.models.fields.json",
    "django.db.models.fields.files",
)

# What each class needs to be built, beyond its defaults.
REQUIRED = {
    "CharField": {"max_length": 20},
    "CommaSeparatedIntegerField": {"max_length": 20},
    "DecimalField": {"max_digits": 7, "decimal_places": 2},
    "ForeignKey": {"to": "shop.target", "on_delete": models.CASCADE},
    "OneToOneField": {"to": "shop.target", "on_delete": models.CASCADE},
    "ManyToManyField": {"to": "shop.target"},
}

# Classes with no column of their own to linger, or none a state holds.
WITHOUT_COLUMN = {
    "ForeignObject",  # no column of its own
    "CompositePrimaryKey",  # a constraint over other fields' columns
    "GeneratedField",  # the database computes it: never reshaped
    "OrderWrt",  # Django's own _order, never a field of a state
    "NullBooleanField",  # removed, historical migrations only
    "RelatedField",  # the abstract base of relations
}

# A constant of each internal type, to be a Python default.
CONSTANTS = {
    "BooleanField": True,
    "CharField": "x",
    "TextField": "x",
    "SlugField": "x",
    "EmailField": "a@b.cd",
    "URLField": "https://a.b",
    "IntegerField": 3,
    "BigIntegerField": 3,
    "SmallIntegerField": 3,
    "PositiveIntegerField": 3,
    "PositiveBigIntegerField": 3,
    "PositiveSmallIntegerField": 3,
    "FloatField": 1.5,
    "DecimalField": decimal.Decimal("1.50"),
    "DateField": datetime.date(2020, 1, 2),
    "DateTimeField": datetime.datetime(2020, 1, 2, 3, 4, tzinfo=datetime.UTC),
    "TimeField": datetime.time(3, 4),
    "DurationField": datetime.timedelta(seconds=5),
    "UUIDField": uuid.UUID(int=5),
    "BinaryField": b"x",
    "GenericIPAddressField": "10.0.0.1",
    "FilePathField": "a.txt",
    "FileField": "a.txt",
    "ImageField": "a.png",
    "JSONField": "x",
}


def django_field_classes() -> list[type[models.Field]]:
    classes, seen, found = [models.Field], set(), []
    while classes:
        kind = classes.pop()
        if kind in seen:
            continue
        seen.add(kind)
        classes += kind.__subclasses__()
        if kind.__module__ in MODULES and kind.__name__ not in WITHOUT_COLUMN:
            if kind is not models.Field and not kind.__name__.endswith("Mixin"):
                found.append(kind)
    return sorted(found, key=lambda kind: kind.__name__)


def variants(kind: type[models.Field]):
    """The field in each shape a model state may hold it (as states do: cloned)."""
    required = REQUIRED.get(kind.__name__, {})
    internal = kind(**required).get_internal_type()
    relation = issubclass(kind, models.ForeignKey)
    defaults = [None, CONSTANTS.get(internal, CONSTANTS.get(kind.__name__))]
    for null, default, db_index, db_default, constrained in itertools.product(
        (False, True),
        defaults,
        (False, True),
        (False, True),
        (True, False) if relation else (True,),
    ):
        kwargs = dict(required, null=null, db_index=db_index)
        if default is not None:
            kwargs["default"] = default
        if db_default and default is not None:
            kwargs["db_default"] = default
        if not constrained:
            kwargs["db_constraint"] = False
        try:
            field = kind(**kwargs)
        except (TypeError, ValueError) as error:
            pytest.fail(f"{kind.__name__}({kwargs}): {error}")
        yield field.clone()


def comparable(field: models.Field) -> dict:
    """What the constructor stored: the instance dictionary, less its place."""
    kept = {
        name: value
        for name, value in vars(field).items()
        if name not in cached_attributes(type(field)) and name != "creation_counter"
    }
    if field.remote_field is not None:
        relation = field.remote_field
        kept["remote_field"] = {
            name: value
            for name, value in vars(relation).items()
            if name != "field" and name not in cached_attributes(type(relation))
        }
    return kept


CLASSES = django_field_classes()


def lingering_both_ways(field, table_stays, monkeypatch) -> tuple:
    """
    ``lingering_field``'s answer, whether it was a copy (no field built),
    and its answer when every shape is built again from its arguments.
    """
    built = []
    rebuild = fields.rebuild
    with monkeypatch.context() as patch:
        patch.setattr(
            fields, "rebuild", lambda *args: built.append(1) or rebuild(*args)
        )
        lingering = lingering_field(field, table_stays=table_stays)
    with monkeypatch.context() as patch:
        patch.setattr(fields, "_DJANGO_FIELD_MODULES", frozenset())
        rebuilt = lingering_field(field, table_stays=table_stays)
    return lingering, not built, rebuilt


def test_every_class_of_django_s_is_generated():
    names = {kind.__name__ for kind in CLASSES}
    assert {"IntegerField", "CharField", "ForeignKey", "OneToOneField"} <= names
    assert {"ManyToManyField", "JSONField", "FileField", "UUIDField"} <= names


@pytest.mark.parametrize("kind", CLASSES, ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("table_stays", [True, False], ids=["stays", "dropped"])
def test_a_lingering_copy_is_the_field_its_arguments_build(
    kind, table_stays, monkeypatch
):
    for field in variants(kind):
        lingering, copied, rebuilt = lingering_both_ways(
            field, table_stays, monkeypatch
        )
        if lingering is field:
            assert rebuilt is field
            continue
        assert type(lingering) is type(rebuilt)
        assert deconstruct(lingering) == deconstruct(rebuilt)
        assert comparable(lingering) == comparable(rebuilt), (
            field.deconstruct(),
            copied,
        )
        assert lingering.remote_field is None or (
            lingering.remote_field is not field.remote_field
            and lingering.remote_field.field is lingering
        )
        # The state's own field is left as it was.
        assert comparable(field) == comparable(field.clone())


def test_common_removals_linger_as_copies(monkeypatch):
    """The copy is taken where it pays: plain columns and foreign keys."""
    for kind in (models.IntegerField, models.CharField, models.ForeignKey):
        copies = [
            lingering_both_ways(field, True, monkeypatch)[1] for field in variants(kind)
        ]
        assert any(copies), kind.__name__
