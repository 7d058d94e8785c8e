"""Catalogue rows for additions: the old release's writes must still succeed."""

from __future__ import annotations

from django.db import models
from django.db.migrations import operations
from django.db.models.functions import Now
from django.utils import timezone

from ..capture import AlterColumn
from .shapes import callable_name, deconstructed, has_column, is_constant, rebuild
from .split import Split, Walk


def add_field(operation: operations.AddField, walk: Walk) -> Split | None:
    """
    AddField NOT NULL whose default lives only in Python (a constant, the
    one-off default typed at the prompt, or a callable).

    Contract: add the column keeping a database default (a constant, or Now()
    for timezone.now), or nullable when the default has no database
    equivalent. Cleanup: drop that default, or set NOT NULL.
    """
    field = operation.field
    if (
        operation.model_name_lower in walk.created_models
        or field.null
        or field.has_db_default()
        or not has_column(field)
        or field.generated
        or not field.has_default()
    ):
        return None
    tolerant = deconstructed(field)
    model = f"{walk.app_label}.{operation.model_name}"
    split = Split()
    if is_constant(field):
        tolerant["db_default"] = field.default
    elif field.default is timezone.now and isinstance(field, models.DateTimeField):
        tolerant["db_default"] = Now()
        split.warnings.append(
            f"{model}.{operation.name}: default timezone.now is kept in the "
            f"database as Now() until the cleanup, for the old release's INSERTs."
        )
    else:
        tolerant["null"] = True
        split.warnings.append(
            f"{model}.{operation.name}: default {callable_name(field.default)} has no "
            f"database equivalent, so the column is added nullable now and set "
            f"NOT NULL by the cleanup. Rows the old release inserts meanwhile "
            f"hold NULL: backfill them before the cleanup runs (it stops on NULLs)."
        )
    tolerant_field = rebuild(*tolerant.pop("__path_args__"), tolerant)
    split.contract_database.append(
        operations.AddField(
            model_name=operation.model_name,
            name=operation.name,
            field=tolerant_field,
            preserve_default=operation.preserve_default,
        )
    )
    # Until the cleanup, Django's state says what the database holds (the
    # database default, or NULL allowed), so that a later rebuild of the
    # table on SQLite keeps it; the cleanup brings the state to the model.
    finish = operations.AlterField(
        model_name=operation.model_name,
        name=operation.name,
        field=field,
        preserve_default=operation.preserve_default,
    )
    split.cleanup.append(
        AlterColumn(
            walk.key(operation.model_name),
            operation.name,
            tolerant_field,
            field,
            state_operations=[finish],
        )
    )
    return split
