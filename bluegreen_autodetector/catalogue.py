"""
The catalogue: which operations break the release still serving, and how
each is split. One function per row of README's catalogue table.

A row receives the operation and the ``Walk`` (Django's state just before
the operation) and returns a ``Split``, or ``None`` to let the operation
through unchanged. Rows decide what the state and the database become; they
never run SQL. The SQL of the cleanup is captured later (``capture.py``)
from what the rows describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Callable

from django.db import models
from django.db.migrations import operations
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from .capture import LingeringColumn, LingeringTable


@dataclass
class Split:
    """How one operation becomes a contract (now) and a cleanup (next release)."""

    # Run on the database and the state, before any state-only removal.
    contract_database: list[Operation] = dataclass_field(default_factory=list)
    # Run on the state only (inside SeparateDatabaseAndState), at the very end.
    contract_state: list[Operation] = dataclass_field(default_factory=list)
    # What the cleanup migration drops, in this order.
    cleanup: list[LingeringColumn | LingeringTable] = dataclass_field(
        default_factory=list
    )


@dataclass
class Walk:
    """Django's state as the operations of one migration are walked through."""

    app_label: str
    state: ProjectState
    deleted_models: set[str]  # lower-case names deleted by this migration
    # Fields already removed from the state of a model this migration
    # deletes: their columns linger with the table until the cleanup.
    absorbed: dict[str, dict[str, models.Field]] = dataclass_field(
        default_factory=dict
    )

    def model_state(self, model_name: str):
        return self.state.models[self.key(model_name)]

    def key(self, model_name: str) -> tuple[str, str]:
        return self.app_label, model_name.lower()


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
        return _rebuild(path, args, kwargs)
    if isinstance(field, models.OneToOneField):
        # A one-to-one is unique by definition; a plain foreign key is not.
        path = "django.db.models.ForeignKey"
    if _is_constant(field) and not field.has_db_default():
        kwargs["db_default"] = field.default
    elif not field.has_db_default():
        kwargs["null"] = True
    kwargs.pop("unique", None)
    kwargs.pop("primary_key", None)
    if field.is_relation or field.db_index:
        kwargs["db_index"] = False
    return _rebuild(path, args, kwargs)


def _rebuild(path: str, args, kwargs) -> models.Field:
    module, _, class_name = path.rpartition(".")
    field_class = getattr(__import__(module, fromlist=[class_name]), class_name)
    return field_class(*args, **kwargs)


def _is_constant(field: models.Field) -> bool:
    return (
        field.has_default()
        and not callable(field.default)
        and isinstance(field.default, (bool, int, float, str))
    )


def _same(a: models.Field, b: models.Field) -> bool:
    return a.deconstruct()[1:] == b.deconstruct()[1:]


def _linger(walk: Walk, split: Split, model_name: str, name: str, field, *, table_stays):
    """Alter ``field`` in the contract to its lingering shape; return that shape."""
    lingering = lingering_field(field, table_stays=table_stays)
    if not _same(lingering, field):
        split.contract_database.append(
            operations.AlterField(model_name=model_name, name=name, field=lingering)
        )
    return lingering


def _has_auto_through(field: models.Field) -> bool:
    return field.many_to_many and field.remote_field.through is None


def _has_column(field: models.Field) -> bool:
    return not field.many_to_many and (
        not field.is_relation or isinstance(field, models.ForeignKey)
    )


# Rows -----------------------------------------------------------------------


def remove_field(operation: operations.RemoveField, walk: Walk) -> Split | None:
    """
    RemoveField (nullable, NOT NULL, ForeignKey/OneToOne, ManyToMany).

    Contract: alter the column to its lingering shape, remove the field from
    the state only. Cleanup: drop the column, or the M2M table.
    """
    model_state = walk.model_state(operation.model_name)
    field = model_state.fields[operation.name]
    if not (_has_column(field) or _has_auto_through(field)):
        return None  # Nothing in the database changes (explicit through...).
    split = Split(contract_state=[operation])
    table_stays = operation.model_name_lower not in walk.deleted_models
    lingering = _linger(
        walk, split, operation.model_name, operation.name, field,
        table_stays=table_stays,
    )
    key = walk.key(operation.model_name)
    if not table_stays:
        # The table goes as a whole in the cleanup of its DeleteModel.
        walk.absorbed.setdefault(operation.model_name_lower, {})[
            operation.name
        ] = lingering
    elif field.many_to_many:
        split.cleanup.append(
            LingeringTable(key, {operation.name: lingering}, m2m=operation.name)
        )
    else:
        split.cleanup.append(LingeringColumn(key, operation.name, lingering))
    return split


def delete_model(operation: operations.DeleteModel, walk: Walk) -> Split | None:
    """
    DeleteModel (with outgoing foreign keys and M2M fields too).

    Contract: drop the table's foreign-key constraints (M2M tables too),
    remove the model from the state only. Cleanup: drop the table, with its
    M2M tables (the schema editor drops those first).
    """
    model_state = walk.model_state(operation.name)
    if model_state.options.get("proxy") or not model_state.options.get(
        "managed", True
    ):
        return None  # No table of Django's to keep or drop.
    split = Split(contract_state=[operation])
    key = walk.key(operation.name)
    lingering_fields = dict(walk.absorbed.get(operation.name_lower, {}))
    for name, field in model_state.fields.items():
        if field.is_relation and (_has_column(field) or _has_auto_through(field)):
            lingering_fields[name] = _linger(
                walk, split, operation.name, name, field, table_stays=False
            )
    options = {
        option: model_state.options[option]
        for option in ("unique_together", "indexes", "constraints", "db_tablespace")
        if option in model_state.options
    }
    split.cleanup.append(LingeringTable(key, lingering_fields, options))
    return split


CATALOGUE: dict[type[Operation], Callable[[Operation, Walk], Split | None]] = {
    operations.RemoveField: remove_field,
    operations.DeleteModel: delete_model,
}
