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

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.db import models
from django.db.migrations import operations
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models.functions import Now
from django.utils import timezone

from .capture import AlterColumn, LingeringColumn, LingeringTable


@dataclass
class Split:
    """How one operation becomes a contract (now) and a cleanup (next release)."""

    # Run on the database and the state, before any state-only removal.
    contract_database: list[Operation] = dataclass_field(default_factory=list)
    # Run on the state only (inside SeparateDatabaseAndState), at the very end.
    contract_state: list[Operation] = dataclass_field(default_factory=list)
    # What the cleanup migration drops or finishes, in this order.
    cleanup: list = dataclass_field(default_factory=list)
    # Said to the user by makemigrations.
    warnings: list[str] = dataclass_field(default_factory=list)


class Refused(Exception):
    """An operation no split makes safe: the message gives the safe recipe."""


@dataclass
class Walk:
    """Django's state as the operations of one migration are walked through."""

    app_label: str
    state: ProjectState
    deleted_models: set[str]  # lower-case names deleted by this migration
    created_models: set[str] = dataclass_field(default_factory=set)  # ...created
    # Fields already removed from the state of a model this migration
    # deletes: their columns linger with the table until the cleanup.
    absorbed: dict[str, dict[str, models.Field]] = dataclass_field(default_factory=dict)

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


def _linger(
    walk: Walk, split: Split, model_name: str, name: str, field, *, table_stays
):
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
        or not _has_column(field)
        or field.generated
        or not field.has_default()
    ):
        return None
    tolerant = _deconstructed(field)
    model = f"{walk.app_label}.{operation.model_name}"
    split = Split()
    if _is_constant(field):
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
            f"{model}.{operation.name}: default {_name(field.default)} has no "
            f"database equivalent, so the column is added nullable now and set "
            f"NOT NULL by the cleanup. Rows the old release inserts meanwhile "
            f"hold NULL: backfill them before the cleanup runs (it stops on NULLs)."
        )
    tolerant_field = _rebuild(*tolerant.pop("__path_args__"), tolerant)
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


def alter_field(operation: operations.AlterField, walk: Walk) -> Split | None:
    """
    AlterField null=True -> null=False: nothing changes in the database now
    (the old release may still write NULL); the cleanup backfills a constant
    default, checks no NULL is left, and sets NOT NULL.

    A changed db_column is refused (either release would miss the column);
    other risky changes pass through with a warning.
    """
    old = walk.model_state(operation.model_name).fields[operation.name]
    new = operation.field
    model = f"{walk.app_label}.{operation.model_name}"
    if old.db_column != new.db_column:
        raise Refused(
            f"{model}.{operation.name}: db_column changes from {old.db_column!r} "
            f"to {new.db_column!r}; one release would miss the column. Keep "
            f"db_column={old.db_column!r} (rename in Python only), or add the new "
            f"column, copy, switch, and remove the old one across releases."
        )
    before, after = _deconstructed(old), _deconstructed(new)
    for kwargs in (before, after):
        kwargs.pop("null", None)
        kwargs.pop("default", None)
    if old.null and not new.null and before == after:
        split = Split()
        split.cleanup.append(
            AlterColumn(
                walk.key(operation.model_name),
                operation.name,
                old,
                new,
                backfill=new.default if _is_constant(new) else None,
                state_operations=[operation],
            )
        )
        split.warnings.append(
            f"{model}.{operation.name}: NOT NULL is set by the cleanup; the old "
            f"release may write NULL until then. "
            + (
                f"The cleanup first fills NULLs with the default {new.default!r}."
                if _is_constant(new)
                else "Backfill NULLs before the cleanup runs (it stops on NULLs)."
            )
        )
        return split
    risks = _risks(old, new)
    if not risks:
        return None
    return Split(
        contract_database=[operation],
        warnings=[f"{model}.{operation.name}: {risk}" for risk in risks],
    )


def _risks(old: models.Field, new: models.Field) -> list[str]:
    risks = []
    old_path, new_path = old.deconstruct()[1], new.deconstruct()[1]
    if old_path != new_path:
        risks.append(
            f"type changes ({old_path.rsplit('.', 1)[-1]} -> "
            f"{new_path.rsplit('.', 1)[-1]}): the table may be rewritten under "
            f"lock, and the old release's writes may be rejected."
        )
    old_length = getattr(old, "max_length", None)
    new_length = getattr(new, "max_length", None)
    if old_length and new_length and new_length < old_length:
        risks.append(
            f"max_length narrows ({old_length} -> {new_length}): the old "
            f"release's longer values are rejected."
        )
    if new.unique and not old.unique:
        risks.append("becomes unique: the old release's duplicates are rejected.")
    if old.null and not new.null:
        risks.append(
            "becomes NOT NULL together with other changes, so it is not split: "
            "the old release's NULL writes are rejected. Make the NOT NULL change "
            "alone to have it split."
        )
    return risks


def add_constraint(operation: operations.AddConstraint, walk: Walk) -> Split | None:
    """A new constraint passes through with a warning."""
    return Split(
        contract_database=[operation],
        warnings=[
            f"{walk.app_label}.{operation.model_name}: constraint "
            f"{operation.constraint.name!r} may reject the old release's writes."
        ],
    )


def refuse_rename(operation: Operation, walk: Walk) -> Split | None:
    """RenameField, RenameModel, AlterModelTable: refused, with the safe recipe."""
    if isinstance(operation, operations.RenameField):
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


def _deconstructed(field: models.Field) -> dict:
    name, path, args, kwargs = field.deconstruct()
    return {**kwargs, "__path_args__": (path, args)}


def _name(value) -> str:
    return getattr(value, "__qualname__", None) or repr(value)


CATALOGUE: dict[type[Operation], Callable[[Operation, Walk], Split | None]] = {
    operations.RemoveField: remove_field,
    operations.DeleteModel: delete_model,
    operations.AddField: add_field,
    operations.AlterField: alter_field,
    operations.AddConstraint: add_constraint,
    operations.RenameField: refuse_rename,
    operations.RenameModel: refuse_rename,
    operations.AlterModelTable: refuse_rename,
}
