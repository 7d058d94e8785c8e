"""Catalogue rows for removals: the old release still reads what goes."""

from __future__ import annotations

from django.db.migrations import operations

from ...cleanup_steps import LingeringColumn, LingeringTable
from .shapes import (
    check_default,
    has_auto_through,
    has_column,
    lingering_field,
)
from .split import Split, Walk, taken_over_table


def _linger(
    walk: Walk, split: Split, model_name: str, name: str, field, *, table_stays
):
    """Alter ``field`` in the contract to its lingering shape; return that shape."""
    if table_stays:
        check_default(field, f"{walk.app_label}.{model_name}.{name}")
    lingering = lingering_field(field, table_stays=table_stays)
    if lingering is not field:
        split.contract_database.append(
            operations.AlterField(model_name=model_name, name=name, field=lingering)
        )
    return lingering


def remove_field(operation: operations.RemoveField, walk: Walk) -> Split | None:
    """
    RemoveField (nullable, NOT NULL, ForeignKey/OneToOne, ManyToMany).

    Contract: alter the column to its lingering shape, remove the field from
    the state only. Cleanup: drop the column, or the M2M table.
    """
    model_state = walk.model_state(operation.model_name)
    field = model_state.fields[operation.name]
    if not (has_column(field) or has_auto_through(field)):
        return None  # Nothing in the database changes (explicit through...).
    split = Split(contract_state=[operation])
    table_stays = operation.model_name_lower not in walk.deleted_models
    if not table_stays and walk.table_taken_over(
        operation.model_name, model_state.options
    ):
        return split  # Its DeleteModel hands the table, column and all, over.
    lingering = _linger(
        walk,
        split,
        operation.model_name,
        operation.name,
        field,
        table_stays=table_stays,
    )
    key = walk.key(operation.model_name)
    if not table_stays:
        # The table goes as a whole in the cleanup of its DeleteModel.
        walk.absorbed.setdefault(operation.model_name_lower, {})[operation.name] = (
            lingering
        )
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
    if model_state.options.get("proxy") or not model_state.options.get("managed", True):
        return None  # No table of Django's to keep or drop.
    split = Split(contract_state=[operation])
    if taken_over_table(
        walk, operation.name, model_state.options, dict(model_state.fields)
    ):
        return split  # The model created beside it takes the table over.
    key = walk.key(operation.name)
    lingering_fields = dict(walk.absorbed.get(operation.name_lower, {}))
    for name, field in model_state.fields.items():
        if field.is_relation and (has_column(field) or has_auto_through(field)):
            lingering_fields[name] = _linger(
                walk, split, operation.name, name, field, table_stays=False
            )
    options = {
        option: model_state.options[option]
        for option in ("unique_together", "indexes", "constraints", "db_tablespace")
        if option in model_state.options
    }
    split.cleanup.append(
        LingeringTable(key, lingering_fields, options, fields=list(model_state.fields))
    )
    return split
