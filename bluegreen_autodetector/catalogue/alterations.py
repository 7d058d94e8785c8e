"""Catalogue rows for alterations and renames of what both releases use."""

from __future__ import annotations

from django.db import models
from django.db.migrations import operations
from django.db.migrations.operations.base import Operation

from ..capture import AlterColumn
from .shapes import (
    check_default,
    column_named,
    deconstructed,
    from_deconstructed,
    has_column,
    is_constant,
    rebuild,
)
from .split import Refused, Split, Walk


def alter_field(operation: operations.AlterField, walk: Walk) -> Split | None:
    """
    AlterField null=True -> null=False: the NOT NULL waits for the cleanup
    (the old release may still write NULL), which backfills a constant
    default, checks no NULL is left, and sets NOT NULL. Other changes of the
    field made with it pass through now, the column staying nullable.

    A changed db_column is a rename of the column (``renames.py``); other
    risky changes pass through with a warning.
    """
    old = walk.model_state(operation.model_name).fields[operation.name]
    new = operation.field
    model = f"{walk.app_label}.{operation.model_name}"
    # The columns, not the arguments: db_column naming the column the
    # field already has is the rename recipe itself.
    old_column = column_named(operation.name, old)
    new_column = column_named(operation.name, new)
    if old_column != new_column and old_column is not None and new_column is not None:
        # Imported here: most runs rename nothing.
        from .renames import change_column

        return change_column(operation, walk, old)
    if old_column != new_column:
        raise Refused(
            f"{model}.{operation.name}: its column changes from {old_column!r} "
            f"to {new_column!r}; one release would miss the column. Keep "
            f"db_column={old_column!r} (rename in Python only), or add the new "
            f"column, copy, switch, and remove the old one across releases."
        )
    before, after = deconstructed(old), deconstructed(new)
    for kwargs in (before, after):
        kwargs.pop("null", None)
        kwargs.pop("default", None)
    if old.has_db_default() and not new.has_db_default() and not new.null:
        before.pop("db_default")
        if before == after and old.null == new.null:
            return _keep_database_default(operation, walk, old, new)
    # null means nothing to a field without a column (an M2M field).
    if old.null and not new.null and has_column(new):
        return _set_not_null_later(operation, walk, old, new, alone=before == after)
    risks = _risks(old, new)
    if not risks:
        return None
    return Split(
        contract_database=[operation],
        warnings=[f"{model}.{operation.name}: {risk}" for risk in risks],
    )


def _keep_database_default(operation, walk: Walk, old, new) -> Split:
    """
    db_default dropped from a NOT NULL field (a Python ``default`` instead):
    the old release leaves the value to the database. Contract: the new
    field, keeping the database default. Cleanup: drop it.
    """
    kwargs = deconstructed(new)
    kwargs["db_default"] = old.db_default
    kept = rebuild(*kwargs.pop("__path_args__"), kwargs)
    split = Split(
        contract_database=[
            operations.AlterField(
                model_name=operation.model_name, name=operation.name, field=kept
            )
        ]
    )
    split.cleanup.append(
        AlterColumn(
            walk.key(operation.model_name),
            operation.name,
            kept,
            new,
            state_operations=[operation],
        )
    )
    split.warnings.append(
        f"{walk.app_label}.{operation.model_name}.{operation.name}: its database "
        f"default is kept until the cleanup drops it, for the old release's "
        f"INSERTs, which leave the value to the database."
    )
    return split


def _set_not_null_later(operation, walk: Walk, old, new, alone: bool) -> Split:
    """
    The NOT NULL part of ``operation`` goes to the cleanup; with other
    changes (not ``alone``), the contract makes them, keeping NULL allowed.
    """
    model = f"{walk.app_label}.{operation.model_name}"
    check_default(new, f"{model}.{operation.name}")
    split = Split()
    tolerant = old
    if not alone:
        kwargs = deconstructed(new)
        kwargs["null"] = True
        if not operation.preserve_default:
            kwargs.pop("default", None)  # A one-off default: the backfill's.
        tolerant = from_deconstructed(kwargs)
        split.contract_database.append(
            operations.AlterField(
                model_name=operation.model_name, name=operation.name, field=tolerant
            )
        )
        split.warnings += [
            f"{model}.{operation.name}: {risk}" for risk in _risks(old, tolerant)
        ]
    key = walk.key(operation.model_name)
    split.cleanup.append(
        AlterColumn(
            key,
            operation.name,
            tolerant,
            new,
            backfill=new.default if is_constant(new) else None,
            state_operations=[operation],
            model_states=walk.joined_states(key, new),
        )
    )
    split.warnings.append(
        f"{model}.{operation.name}: NOT NULL is set by the cleanup; the old "
        f"release may write NULL until then. "
        + (
            f"The cleanup first fills NULLs with the default {new.default!r}."
            if is_constant(new)
            else "Backfill NULLs before the cleanup runs (it stops on NULLs)."
        )
    )
    return split


def _risks(old: models.Field, new: models.Field) -> list[str]:
    """
    What the contract's lock may cost. What the old release's writes may
    meet (a narrower type, a new unique) is the verifier's to say: it judges
    the database the migration leaves, however Django declares the change.
    """
    old_path, new_path = old.deconstruct()[1], new.deconstruct()[1]
    if old_path == new_path:
        return []
    return [
        f"type changes ({old_path.rsplit('.', 1)[-1]} -> "
        f"{new_path.rsplit('.', 1)[-1]}): the table may be rewritten under lock."
    ]


def refuse_rename(operation: Operation, walk: Walk) -> Split | None:
    """RenameField, RenameModel, AlterModelTable: refused, with the safe recipe."""
    if isinstance(operation, operations.RenameField):
        field = walk.model_state(operation.model_name).fields[operation.old_name]
        column = column_named(operation.old_name, field)
        if column is not None and column == column_named(operation.new_name, field):
            return None  # Renamed in Python only: db_column keeps the column.
        if column is not None:
            # A concrete column: two columns kept equal (renames.py).
            from .renames import rename_field

            return rename_field(operation, walk)
        what = (
            f"{walk.app_label}.{operation.model_name}: field {operation.old_name!r} "
            f"is renamed to {operation.new_name!r}"
        )
        recipe = (
            f"rename it in Python only, keeping the column: "
            f"{operation.new_name} = models.XField(..., db_column={operation.old_name!r})"
        )
    elif isinstance(operation, operations.RenameModel):
        what = (
            f"{walk.app_label}: model {operation.old_name!r} is renamed to "
            f"{operation.new_name!r}"
        )
        recipe = (
            f"rename it in Python only, keeping the table: class Meta: db_table = "
            f"'{walk.app_label}_{operation.old_name_lower}'"
        )
    else:
        what = (
            f"{walk.app_label}.{operation.name}: db_table changes to "
            f"{operation.table!r}"
        )
        recipe = "keep the old db_table"
    raise Refused(
        f"{what}; one release would miss it. Safe recipe: {recipe}; or add the "
        f"new one, copy, switch, and remove the old one across releases."
    )
