"""
A pending cleanup is part of the plan, not a file on the side.

A cleanup that finishes a column (``RunAlterSQL``: drop the database default
a contract kept, or set NOT NULL) brings Django's state to the model only
when it runs, a release later. Until then every later change of that field
or model must be planned with it:

- the field is altered again in a way the database never sees (a
  ``verbose_name``, ``choices``, its Python ``default``...): the new migration
  keeps the column as the contract left it, and the cleanup is rewritten to
  finish it to the new definition;
- the field is altered back to the column the contract left: there is
  nothing left to finish, so that step leaves the cleanup;
- the field or its model is removed: what the cleanup would finish goes
  with it (the new cleanup drops the column or table), so that step leaves
  the cleanup;
- anything else about the column changes: refused, until the cleanup is
  promoted.

A rename's pending cleanup drops the triggers that keep the new column and
the old one equal (``RunSyncSQL``): a change of the renamed field that the
database would see, its removal or another rename, would change one column
of the pair and not the other; refused until the cleanup is promoted.
"""

from __future__ import annotations

from django.db import models
from django.db.migrations import Migration, operations
from django.db.migrations.state import ProjectState

from ..files.pending import PendingCleanup, relative
from ..operations import RunAlterSQL, RunSyncSQL
from ..verifier.live import same_in_database
from ..verifier.shape import column_of


class Replan:
    """What re-planning the pending cleanups refuses, and what it rewrites."""

    def __init__(self) -> None:
        self.refusals: list[str] = []
        # Pending cleanups to write again, by path.
        self.rewrites: dict[str, PendingCleanup] = {}


def replan_before_split(
    migrations: list[Migration],
    cleanups: list[PendingCleanup],
    leaf_state: ProjectState,
) -> Replan:
    """
    Every re-planning of ``cleanups`` that comes before the split of
    ``migrations``: the alterations they finish, then what they forbid (a
    synchronised pair, a table's views, a kept column, a rename of what
    they finish). ``replan_removals`` follows the split.
    """
    # Imported here: they import this module.
    from .replan_renames import refuse_renames_of_finished
    from .replan_views import refuse_kept_column_changes, refuse_view_changes

    result = Replan()
    for step in (
        replan_alterations,
        refuse_synced_changes,
        refuse_view_changes,
        refuse_kept_column_changes,
        refuse_renames_of_finished,
    ):
        step(migrations, cleanups, leaf_state, result)
    return result


def _finishing(cleanups: list[PendingCleanup]) -> dict:
    """(app_label, model, field) -> (its pending cleanup, the step finishing it)."""
    return {
        (cleanup.migration.app_label, step.model_name_lower, step.name_lower): (
            cleanup,
            operation,
        )
        for cleanup in cleanups
        for operation in cleanup.migration.operations
        if isinstance(operation, RunAlterSQL)
        for step in operation.state_operations
        if isinstance(step, operations.AlterField)
    }


def replan_alterations(
    migrations: list[Migration],
    cleanups: list[PendingCleanup],
    leaf_state: ProjectState,
    result: Replan,
) -> None:
    """
    Before the split: an ``AlterField`` of a field that a pending cleanup
    finishes keeps the column as the contract left it (``leaf_state`` is
    Django's state at the graph's leaf, the contracts' shape), and the
    cleanup is rewritten to finish it to the new definition; or, if the
    database would see the change, it is refused.
    """
    finishing = _finishing(cleanups)
    for migration in migrations if finishing else ():
        for operation in migration.operations:
            if not isinstance(operation, operations.AlterField):
                continue
            key = (
                migration.app_label,
                operation.model_name_lower,
                operation.name_lower,
            )
            if key not in finishing:
                continue
            cleanup, finish = finishing[key]
            step = finish.state_operations[0]
            contract_field = leaf_state.models[key[:2]].fields[step.name]
            if _same_in_database(contract_field, operation.field):
                # Back to the column as the contract left it: nothing to finish.
                _remove_finish(cleanup, finish)
                result.rewrites[cleanup.path] = cleanup
                continue
            if not _same_in_database(step.field, operation.field):
                result.refusals.append(
                    f"{key[0]}.{step.model_name}.{step.name}: its cleanup "
                    f"{relative(cleanup.path)} is pending ({finish.describe()}); "
                    f"a change of the column now would run before it, while the "
                    f"old release still uses the column as the contract left it. "
                    f"Make this change after 'python manage.py promotemigrations' "
                    f"has brought the cleanup into the migrations folder."
                )
                continue
            finish.state_operations = [
                operations.AlterField(
                    model_name=step.model_name,
                    name=step.name,
                    field=operation.field,
                    preserve_default=step.preserve_default,
                )
            ]
            operation.field = _as_contract_left(
                operation.field, contract_field, step.field
            )
            result.rewrites[cleanup.path] = cleanup


def replan_removals(
    cleanups: list[PendingCleanup], state_after: ProjectState, result: Replan
) -> None:
    """
    After the split: a step finishing a field or model that is gone from
    ``state_after`` (the state after the new migrations) leaves its cleanup;
    the new cleanup drops the column or the table.
    """
    for cleanup, finish in _finishing(cleanups).values():
        step = finish.state_operations[0]
        model_state = state_after.models.get(
            (cleanup.migration.app_label, step.model_name_lower)
        )
        if model_state is None or step.name not in model_state.fields:
            _remove_finish(cleanup, finish)
            result.rewrites[cleanup.path] = cleanup


def _remove_finish(cleanup: PendingCleanup, finish: RunAlterSQL) -> None:
    """Remove ``finish`` from its cleanup, with the backfill made for it."""
    from ..operations import FillColumn  # Imported here: few runs re-plan.

    operations_ = cleanup.migration.operations
    index = operations_.index(finish)
    before = operations_[index - 1] if index else None
    if (
        isinstance(before, FillColumn)
        and before.model_name == finish.state_operations[0].model_name_lower
        and before.name == finish.state_operations[0].name
    ):
        operations_.remove(before)
    operations_.remove(finish)


def _same_in_database(a: models.Field, b: models.Field) -> bool:
    """
    Whether the column stays as it is. A Python ``default`` is left out: the
    old release never writes this column (it is why the contract kept it
    tolerant), and the new release always writes it.
    """
    return same_in_database(a, b, ignoring=("default",))


def _as_contract_left(
    new: models.Field, contract_field: models.Field, finished: models.Field
) -> models.Field:
    """
    ``new``, keeping what the contract left tolerant of the old release:
    every argument in which ``contract_field`` (as the contract left the
    column) differs from ``finished`` (as the cleanup was to finish it),
    such as ``null``, ``db_default`` or ``db_constraint``.
    """
    name, path, args, kwargs = new.deconstruct()
    left = contract_field.deconstruct()[3]
    meant = finished.deconstruct()[3]
    for argument in set(left) | set(meant):
        if left.get(argument, _ABSENT) == meant.get(argument, _ABSENT):
            continue
        if argument in left:
            kwargs[argument] = left[argument]
        else:
            kwargs.pop(argument, None)
    module, _, class_name = path.rpartition(".")
    field_class = getattr(__import__(module, fromlist=[class_name]), class_name)
    return field_class(*args, **kwargs)


_ABSENT = object()


def pending_drops(cleanups: list[PendingCleanup], kind: type) -> dict:
    """
    (app label, model name) -> (its pending cleanup, the operation of
    ``kind`` there that drops what a contract kept: a rename's triggers,
    a renamed table's views).
    """
    return {
        (cleanup.migration.app_label, (operation.hints or {}).get("model_name")): (
            cleanup,
            operation,
        )
        for cleanup in cleanups
        for operation in cleanup.migration.operations
        if isinstance(operation, kind) and operation.drops
    }


def refuse_synced_changes(
    migrations: list[Migration],
    cleanups: list[PendingCleanup],
    leaf_state: ProjectState,
    result: Replan,
) -> None:
    """
    An operation on a renamed field whose triggers a pending cleanup drops:
    refused unless the column stays as it is (``verbose_name``, ``choices``,
    its Python ``default``...).
    """
    synced = pending_drops(cleanups, RunSyncSQL)
    for migration in migrations if synced else ():
        for operation in migration.operations:
            key = (migration.app_label, getattr(operation, "model_name_lower", None))
            if key not in synced or not isinstance(
                operation,
                (operations.AlterField, operations.RemoveField, operations.RenameField),
            ):
                continue
            cleanup, sync = synced[key]
            name = getattr(operation, "old_name", None) or operation.name
            field = leaf_state.models[key].fields.get(name)
            if field is None or column_of(name, field) != sync.column:
                continue
            if isinstance(operation, operations.AlterField) and _same_in_database(
                field, operation.field
            ):
                continue
            result.refusals.append(
                f"{key[0]}.{key[1]}.{name}: its cleanup {relative(cleanup.path)} "
                f"is pending ({sync.describe()}); '{operation.describe()}' would "
                f"change {sync.column} and not {sync.source}, which the old "
                f"release still uses. Make this change after 'python manage.py "
                f"promotemigrations' has brought the cleanup into the migrations "
                f"folder."
            )
