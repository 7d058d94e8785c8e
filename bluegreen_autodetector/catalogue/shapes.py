"""
The shapes a field takes in the database while two releases share it.

A contract leaves the database tolerant of the old release: a removed field
lingers (``lingering_field``) until the cleanup drops it. Pure: fields in,
fields out; no state, no SQL.
"""

from __future__ import annotations

from django.db import models


def lingering_field(field: models.Field, *, table_stays: bool) -> models.Field:
    """
    The field as it must linger in the database while both releases run.

    Its foreign-key constraint goes (the new release deletes rows it points
    at, and Django enforces ``on_delete`` in Python). On a table that stays,
    the new release's INSERTs omit the column, so it keeps its constant
    Python default as a database default (NOT NULL stays), or else becomes
    nullable; and it loses its index and uniqueness, since on SQLite only
    such a plain column can be dropped without rebuilding the table.
    """
    name, path, args, kwargs = field.deconstruct()
    if field.is_relation and kwargs.get("db_constraint", True):
        kwargs["db_constraint"] = False
    if field.many_to_many or not table_stays:
        return rebuild(path, args, kwargs)
    if isinstance(field, models.OneToOneField):
        # A one-to-one is unique by definition; a plain foreign key is not.
        path = "django.db.models.ForeignKey"
    if is_constant(field) and not field.has_db_default():
        kwargs["db_default"] = field.default
    elif not field.has_db_default():
        kwargs["null"] = True
    kwargs.pop("unique", None)
    kwargs.pop("primary_key", None)
    if field.is_relation or field.db_index:
        kwargs["db_index"] = False
    return rebuild(path, args, kwargs)


def rebuild(path: str, args, kwargs) -> models.Field:
    module, _, class_name = path.rpartition(".")
    field_class = getattr(__import__(module, fromlist=[class_name]), class_name)
    return field_class(*args, **kwargs)


def is_constant(field: models.Field) -> bool:
    return (
        field.has_default()
        and not callable(field.default)
        and isinstance(field.default, (bool, int, float, str))
    )


def same(a: models.Field, b: models.Field) -> bool:
    return a.deconstruct()[1:] == b.deconstruct()[1:]


def has_auto_through(field: models.Field) -> bool:
    return field.many_to_many and field.remote_field.through is None


def has_column(field: models.Field) -> bool:
    return not field.many_to_many and (
        not field.is_relation or isinstance(field, models.ForeignKey)
    )


def deconstructed(field: models.Field) -> dict:
    """The field's keyword arguments, its path and args under ``__path_args__``."""
    name, path, args, kwargs = field.deconstruct()
    return {**kwargs, "__path_args__": (path, args)}


def callable_name(value) -> str:
    return getattr(value, "__qualname__", None) or repr(value)
