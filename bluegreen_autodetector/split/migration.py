"""
One migration's split: each operation through its catalogue row
(``catalogue/``), the contract's database and state operations, the cleanup
steps captured as SQL (``capture/``) and made into the cleanup's operations,
refusals, and the warnings ``--noinput`` owes (a removal and an addition
that may be a rename).
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.migrations import Migration, operations
from django.db.migrations.state import ProjectState

from .. import conf, names
from ..capture.capture import Capture
from ..cleanup_steps import AlterColumn, LingeringColumn
from ..files import pending
from ..operations import (
    RunAlterSQL,
    RunCleanupSQL,
    RunKeptColumnSQL,
    RunSwapSQL,
    RunSyncSQL,
    RunViewSQL,
)
from ..verifier import live
from .catalogue import CATALOGUE, Refused, Split, Walk
from .catalogue.shapes import column_named
from .result import attach


def split_migration(
    migration: Migration,
    state: ProjectState,
    capture: Capture,
    non_interactive: bool,
    created_in_run: set | None = None,
) -> list[str]:
    """
    Rewrite ``migration`` as a contract and attach its cleanup (or ``None``);
    return what must be refused.

    ``state`` is the project state before ``migration``; it is advanced past
    it. Operations the catalogue lets through keep their place; the
    operations that make the database tolerant of the old release take the
    place of those they split; every state-only removal comes last, so that
    no operation of the contract rebuilds a table (SQLite) from a state that
    already forgot a lingering column.
    """
    app_label = migration.app_label
    walk = Walk(
        app_label,
        state,
        deleted_models={
            operation.name_lower
            for operation in migration.operations
            if isinstance(operation, operations.DeleteModel)
        },
        created_models={
            operation.name_lower
            for operation in migration.operations
            if isinstance(operation, operations.CreateModel)
        },
        created_in_run=created_in_run,
        renamed_models={
            name
            for operation in migration.operations
            if isinstance(operation, operations.RenameModel)
            for name in (operation.old_name_lower, operation.new_name_lower)
        },
    )
    database_operations, state_operations, cleanup_items, warnings = [], [], [], []
    refusals, removed_types, added_types, removed = [], {}, {}, {}
    deleted_states, created_operations = {}, {}
    for operation in migration.operations:
        if isinstance(operation, operations.DeleteModel):
            deleted_states[operation.name_lower] = walk.model_state(operation.name)
        elif isinstance(operation, operations.CreateModel):
            created_operations[operation.name_lower] = operation
        if isinstance(operation, operations.RemoveField):
            model_state = walk.model_state(operation.model_name)
            removed_types[operation.model_name_lower, operation.name] = (
                model_state,
                model_state.fields[operation.name],
            )
        elif isinstance(operation, operations.AddField):
            added_types[operation.model_name_lower, operation.name] = type(
                operation.field
            )
        row = CATALOGUE.get(type(operation))
        try:
            split = row(operation, walk) if row else None
        except Refused as refusal:
            if not conf.allow_unsafe():
                refusals.append(str(refusal))
            warnings.append(f"let through by --allow-unsafe: {refusal}")
            split = None
        if split is None:
            split = Split(contract_database=[operation])
        # Removals of earlier operations are deferred to the end: nothing
        # this operation runs may refer to what they remove.
        for operation_added in split.contract_database:
            _refuse_reference_to_removed(migration, operation_added, removed)
        database_operations += split.contract_database
        state_operations += split.contract_state
        removed.update(_removed_by(split.contract_state))
        cleanup_items += split.cleanup
        warnings += split.warnings
        live.state_forwards(operation, app_label, state)
    if non_interactive:
        warnings += _possible_renames(app_label, removed_types, added_types)
        if deleted_states and created_operations:
            from .catalogue.tables import possible_model_renames

            warnings += possible_model_renames(
                app_label, deleted_states, created_operations
            )
    result = attach(migration)
    result.cleanup = None
    result.warnings = warnings
    if not cleanup_items and not state_operations:
        return refusals
    migration.operations = database_operations
    if state_operations:
        migration.operations.append(
            operations.SeparateDatabaseAndState(state_operations=state_operations)
        )
    if not cleanup_items:
        return refusals  # State-only changes (a table taken over): no cleanup.
    cleanup = Migration(f"{pending.CLEANUP_PREFIX}{migration.name}", app_label)
    cleanup.dependencies = [(app_label, migration.name)]
    cleanup_items.sort(key=_cleanup_order)
    cleanup.operations = [
        operation
        for item, captured in zip(
            cleanup_items, capture.capture(cleanup_items), strict=True
        )
        for operation in [*_fill(item), _cleanup_operation(item, captured)]
    ]
    result.cleanup = cleanup
    return refusals


def created_in_run(
    migrations: list[Migration], old_state: ProjectState, new_state: ProjectState
) -> set:
    """
    The keys of the models ``migrations`` create, in any app, less those
    taking over the table of a model deleted beside them: the old release
    knows none of these, so a relation to one needs no split.
    """
    created = set()
    for migration in migrations:
        freed = {
            names.model_table(migration.app_label, old_state.models[key])
            for operation in migration.operations
            if isinstance(operation, operations.DeleteModel)
            and (key := (migration.app_label, operation.name_lower)) in old_state.models
        }
        for operation in migration.operations:
            if not isinstance(operation, operations.CreateModel):
                continue
            key = (migration.app_label, operation.name_lower)
            model_state = new_state.models.get(key)
            if freed and (
                model_state is None
                or names.model_table(migration.app_label, model_state) in freed
            ):
                continue
            created.add(key)
    return created


def _cleanup_order(item) -> int:
    """
    A rename's synchronisation or views first (they read the old column),
    then columns, then finished columns, then M2M tables, then tables.
    """
    if hasattr(item, "captured"):
        return -1
    if isinstance(item, LingeringColumn):
        return 0
    if isinstance(item, AlterColumn):
        return 1
    return 2 if item.m2m else 3


def _fill(item) -> list:
    """A NOT NULL's backfill, before the step that sets it (FillColumn)."""
    if not (isinstance(item, AlterColumn) and item.fills):
        return []
    from ..operations import FillColumn  # Imported here: few cleanups fill.

    if item.backfill_call is not None:
        fill = {"call": item.backfill_call}
    else:
        fill = {"value": item.backfill}
    return [
        FillColumn(
            model_name=item.model[1],
            name=item.name,
            **fill,
            hints={"model_name": item.model[1]},
        )
    ]


def _cleanup_operation(item, captured):
    common = {
        "table": captured.table,
        "column": captured.column,
        "sql": captured.sql,
        "reverse_sql": captured.reverse_sql,
        "hints": {"model_name": item.model[1]},
        "tables": captured.tables,
    }
    if hasattr(item, "views"):  # views.DropViews
        common.pop("column")
        return RunViewSQL(**common, **item.arguments(), drops=True)
    if getattr(item, "kept", False):  # sync.DropKeptColumn
        owner = f"{item.model[0]}.{item.model[1]}"
        return RunKeptColumnSQL(**common, source=item.old, drops=True, owner=owner)
    if getattr(item, "swaps", False):  # sync.SwapColumns (a retype's)
        return RunSwapSQL(**common, source=item.old, drops=True)
    if hasattr(item, "captured"):  # sync.DropSync
        return RunSyncSQL(**common, source=item.old, drops=True)
    if isinstance(item, AlterColumn):
        return RunAlterSQL(
            **common,
            not_null=item.sets_not_null,
            backfilled=item.fills,
            foreign_keys=item.adds_foreign_keys,
            state_operations=item.state_operations,
        )
    return RunCleanupSQL(**common)


def _possible_renames(app_label: str, removed: dict, added: dict) -> list[str]:
    """
    With --noinput Django never asks "did you rename?": say when a removed
    field and an added one of the same model have the same type, with what to
    do: answer 'y' at makemigrations' question (a concrete column's rename is
    split), or the recipe keeping the removed one's column or table.
    ``removed`` maps (model name, field name) to the model state and the
    field, ``added`` to the field class.
    """
    warnings = []
    for (model, old), (model_state, field) in removed.items():
        for (added_model, new), new_type in added.items():
            if added_model != model or new_type is not type(field):
                continue
            # Imported here: most removals come without an addition.
            from .catalogue.alterations import python_only_rename

            recipe = python_only_rename(app_label, model_state, old, new, field)
            if column_named(old, field) is not None:
                advice = (
                    "run makemigrations without --noinput and answer 'y' when it "
                    "asks whether it was renamed (the rename is split)"
                    + (f", or {recipe}" if recipe else "")
                )
            else:
                advice = recipe or "rename it in Python only"
            warnings.append(
                f"{app_label}.{model}: {old!r} is removed and {new!r} of the same "
                f"type added. If this is a rename, the cleanup would drop {old!r} "
                f"with its data: {advice} instead."
            )
    return warnings


def _refuse_reference_to_removed(migration, operation, removed: dict) -> None:
    """
    A state-only removal moves to the end of the contract; an operation that
    refers to what it removes (a model recreated under the same name, a field
    re-added) would then see it still there. Refuse rather than reorder
    wrongly. ``removed`` maps what the state-only removals so far remove, a
    (model, field) or a (model, None) in lower case, to how to name it.
    """
    model = getattr(operation, "model_name_lower", None)
    name = getattr(operation, "name_lower", None)
    if model is not None:
        # The same field again (re-added or altered), or the model given one.
        clashes = [(model, name), (model, None)]
    else:
        # The same model again (recreated, or altered).
        clashes = [(name, None)]
    what = next((removed[key] for key in clashes if key in removed), None)
    if what is not None:
        raise CommandError(
            f"Migration {migration.app_label}.{migration.name}: "
            f"'{operation.describe()}' refers to {what}, which this "
            f"migration removes. A blue-green split moves that removal to "
            f"the end of the contract migration, so remove it in this "
            f"release and add it back once 'promotemigrations' has brought "
            f"its cleanup into the migrations folder, or run makemigrations "
            f"--no-bluegreen for this change."
        )


def _removed_by(removals) -> dict:
    """What ``removals`` remove, keyed as ``_refuse_reference_to_removed`` reads."""
    removed = {}
    for removal in removals:
        if isinstance(removal, operations.RemoveField):
            key = (removal.model_name_lower, removal.name_lower)
            removed[key] = f"{removal.model_name}.{removal.name}"
        else:
            removed[removal.name_lower, None] = removal.name
    return removed
