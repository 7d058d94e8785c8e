"""
The shapes a field takes in the database while two releases share it.

A contract leaves the database tolerant of the old release: a removed field
lingers (``lingering_field``) until the cleanup drops it; an added one keeps
a database default for the old release's INSERTs (``filled_db_default``, and
the AddField row), and its foreign-key constraint waits (``unconstrained``)
for the old release's DELETEs. Pure: fields in, fields out; no state, no SQL.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models.functions import Cast, Now

from ...fields import deconstruct, rebuild, reshaped
from ...verifier.shape import database_on_delete


def lingering_field(field: models.Field, *, table_stays: bool) -> models.Field:
    """
    The field as it must linger in the database while both releases run.

    Its foreign-key constraint goes (the new release deletes rows it points
    at, and Django enforces ``on_delete`` in Python), unless the database
    enforces it (Django 6.1's DB_CASCADE, DB_SET_NULL, DB_SET_DEFAULT). On a table that stays,
    the new release's INSERTs omit the column, so it keeps its constant
    Python default as a database default (NOT NULL stays), or else becomes
    nullable; and it loses its index and uniqueness, since on SQLite only
    such a plain column can be dropped without rebuilding the table.

    ``field`` itself where it already has that shape.
    """
    if field.generated:
        # The database computes it: no release writes it, none is blocked.
        return field
    name, path, args, kwargs = deconstruct(field)
    declared = (path, args, dict(kwargs))
    if (
        field.is_relation
        and kwargs.get("db_constraint", True)
        and not database_on_delete(field)
    ):
        # A DB_CASCADE (Django 6.1) keeps its constraint, which is what the
        # old release's deletes rely on; the new release's deletes succeed,
        # the database acting on the rows.
        kwargs["db_constraint"] = False
    if field.many_to_many or not table_stays:
        return _unless_same(field, declared, (path, args, kwargs))
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
    return _unless_same(field, declared, (path, args, kwargs))


def _unless_same(field: models.Field, declared: tuple, shaped: tuple) -> models.Field:
    """
    ``field`` if ``shaped`` (its deconstruction, edited) is still ``declared``
    (as it was), else the field ``shaped`` describes. Each edit above sets
    what the field's ``deconstruct`` would then return, so an edit that
    changes the arguments changes the field.
    """
    return field if shaped == declared else reshaped(field, declared, shaped)


def unconstrained(field: models.Field) -> models.Field:
    """``field`` without its foreign-key constraint (an M2M table's: both)."""
    name, path, args, kwargs = deconstruct(field)
    kwargs["db_constraint"] = False
    return rebuild(path, args, kwargs)


def filled_db_default(field: models.Field):
    """
    For a NOT NULL field without an explicit default: the database default
    equivalent to what Django's schema editor fills existing rows with when
    it adds the column (``_effective_default``), or None if it fills nothing:
    "" for a blank string or file field, b"" for a blank binary one, the
    current time for ``auto_now``/``auto_now_add``. A date or a time is
    ``Now()`` cast to it, a default every vendor takes (SQLite's
    ``date(...)``, PostgreSQL's ``::date``, MySQL's ``CAST(... AS date)``).
    """
    if field.null or field.has_default() or field.has_db_default():
        return None
    filled = BaseDatabaseSchemaEditor._effective_default(field)
    if filled is None or isinstance(filled, (str, bytes)):
        return filled
    cast_to = {"DateField": models.DateField, "TimeField": models.TimeField}
    output_field = cast_to.get(field.get_internal_type())
    return Now() if output_field is None else Cast(Now(), output_field=output_field())


# Values a database default can hold as they are (what Django's
# MigrationWriter writes as literals, less the containers).
CONSTANTS = (
    bool,
    int,
    float,
    str,
    bytes,
    decimal.Decimal,
    datetime.date,  # datetime.datetime too
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    enum.Enum,
)


def is_constant(field: models.Field) -> bool:
    """Whether ``field``'s Python default is a value the database can hold."""
    return (
        field.has_default()
        and not callable(field.default)
        and isinstance(field.default, CONSTANTS)
    )


def check_default(field: models.Field, where: str) -> None:
    """
    Refuse (CommandError) a constant default that ``field`` cannot store,
    such as ``1`` typed at the prompt for a DateTimeField: Django would fail
    on it only at migrate time, the package when capturing the cleanup.
    """
    if not is_constant(field) or field.is_relation:
        return  # A relation's value is its target's, unknown here.
    try:
        field.get_prep_value(field.default)
    except (TypeError, ValueError, ValidationError) as error:
        reason = "; ".join(getattr(error, "messages", [str(error)]))
        raise CommandError(
            f"{where}: the default {field.default!r} is not a value of "
            f"{type(field).__name__} ({reason}). Give the field a default of its "
            f"type (in models.py, or at the prompt), then run makemigrations "
            f"again."
        ) from error


def has_auto_through(field: models.Field) -> bool:
    return field.many_to_many and field.remote_field.through is None


def has_column(field: models.Field) -> bool:
    """
    Whether ``field`` is a column of its model's table: not an M2M, not a
    relation without a column of its own (GenericRelation, ForeignObject),
    not a CompositePrimaryKey (a constraint over other fields' columns).
    """
    if isinstance(field, models.CompositePrimaryKey):
        return False
    return not field.many_to_many and (
        not field.is_relation or isinstance(field, models.ForeignKey)
    )


def column_named(name: str, field: models.Field) -> str | None:
    """The column ``field`` has under the name ``name`` (None: no column)."""
    if not has_column(field):
        return None
    unbound = field.clone()  # set_attributes_from_name keeps a name it has
    unbound.set_attributes_from_name(name)
    return unbound.column


def same_columns(a: dict[str, models.Field], b: dict[str, models.Field]) -> bool:
    """
    Whether fields ``a`` and ``b`` (by name) declare the same columns, alike
    in the database: a relation may point at a renamed model.
    """

    def columns(fields):
        shapes = {}
        for name, field in fields.items():
            _, path, args, kwargs = deconstruct(field)
            for python_only in ("to", "related_name", "related_query_name"):
                kwargs.pop(python_only, None)
            for python_only in ("verbose_name", "help_text", "choices"):
                kwargs.pop(python_only, None)
            shapes[column_named(name, field) or name] = (path, args, kwargs)
        return shapes

    return columns(a) == columns(b)


def callable_name(value) -> str:
    return getattr(value, "__qualname__", None) or repr(value)


def callable_path(value, where: str) -> str:
    """
    The import path of the callable default ``value`` (``uuid.uuid4``), which
    a cleanup's ``FillColumn`` calls for each row; a CommandError naming
    ``where`` if it has none that imports (a lambda, a nested function),
    as Django's writer refuses to serialise one.
    """
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise CommandError(
            f"{where}: its default {callable_name(value)} cannot be imported by "
            f"a migration (a lambda or a nested function). Make it a function "
            f"at the top level of a module, then run makemigrations again."
        )
    return f"{module}.{qualname}"
