"""
A table rename's pending cleanup drops the views that keep the old names
(``RunViewSQL``). Until it runs, the renamed table lives under two names:
a later change of the model that the database would see would change the
table and not what the view shows (PostgreSQL refuses to drop or retype a
column a view reads; a SQLite rebuild of the table fails on the view that
names it). Refused until the cleanup is promoted, like a change of a
synchronised field (``replan.refuse_synced_changes``). So is a change that
would rename, drop or retype a column a model rename kept in another
model's many-to-many table (``refuse_kept_column_changes``).
"""

from __future__ import annotations

import os

from django.db.migrations import Migration, operations
from django.db.migrations.state import ProjectState
from django.db.migrations.utils import resolve_relation

from .. import names
from ..files.pending import PendingCleanup
from ..operations import RunKeptColumnSQL, RunViewSQL
from .replan import Replan, _same_in_database, pending_drops

# What the database never sees.
_STATE_ONLY = (operations.AlterModelOptions, operations.AlterModelManagers)


def refuse_view_changes(
    migrations: list[Migration],
    cleanups: list[PendingCleanup],
    leaf_state: ProjectState,
    result: Replan,
) -> None:
    """
    An operation on a model whose table's views a pending cleanup drops:
    refused unless the database never sees it (``verbose_name``, ``choices``,
    a Python ``default``, the model's options).
    """
    viewed = pending_drops(cleanups, RunViewSQL)
    for migration in migrations if viewed else ():
        for operation in migration.operations:
            name = (
                getattr(operation, "old_name_lower", None)
                if isinstance(operation, operations.RenameModel)
                else getattr(operation, "model_name_lower", None)
                or getattr(operation, "name_lower", None)
            )
            key = (migration.app_label, name)
            if key not in viewed or isinstance(operation, _STATE_ONLY):
                continue
            if isinstance(operation, operations.AlterField):
                field = leaf_state.models[key].fields.get(operation.name)
                if field is not None and _same_in_database(field, operation.field):
                    continue
            cleanup, views = viewed[key]
            result.refusals.append(
                f"{key[0]}.{key[1]}: its cleanup {os.path.relpath(cleanup.path)} "
                f"is pending ({views.describe()}); '{operation.describe()}' would "
                f"change {views.table} under the views the old release still "
                f"uses. Make this change after 'python manage.py promotemigrations' "
                f"has brought the cleanup into the migrations folder."
            )


# What changes a many-to-many table, or the names Django gives its columns.
_TABLE_CHANGES = (
    operations.RenameModel,
    operations.DeleteModel,
    operations.AlterModelTable,
)


def refuse_kept_column_changes(
    migrations: list[Migration],
    cleanups: list[PendingCleanup],
    leaf_state: ProjectState,
    result: Replan,
) -> None:
    """
    A model rename's pending cleanup drops the old column it kept in another
    model's many-to-many table (``RunKeptColumnSQL``: ``book_id`` beside
    ``novel_id``), and the triggers that name both. Until it runs, a change
    of that many-to-many field, of its model's table, or of the renamed
    model's name, table or key would rename, drop or retype a column the
    triggers name: refused until the cleanup is promoted.
    """
    kept = {
        operation.table: (cleanup, operation)
        for cleanup in cleanups
        for operation in cleanup.migration.operations
        if isinstance(operation, RunKeptColumnSQL) and operation.drops
    }
    if not kept:
        return
    # The model and field of each table kept, and the model its column names.
    owners = {}
    for key, model_state in leaf_state.models.items():
        table = names.model_table(key[0], model_state)
        for name, field in model_state.fields.items():
            m2m = field.many_to_many and names.m2m_table(table, name, field)
            if m2m in kept:
                target = resolve_relation(field.remote_field.model, *key)
                owners[m2m] = (key, name, target)
    for migration in migrations:
        for operation in migration.operations:
            for table, (key, field_name, target) in owners.items():
                if not _changes_kept(
                    operation, migration.app_label, key, field_name, target, leaf_state
                ):
                    continue
                cleanup, sync = kept[table]
                result.refusals.append(
                    f"{key[0]}.{key[1]}.{field_name}: its cleanup "
                    f"{os.path.relpath(cleanup.path)} is pending ({sync.describe()}); "
                    f"'{operation.describe()}' would change {table}, whose column "
                    f"{sync.source} the old release still uses. Make this change "
                    f"after 'python manage.py promotemigrations' has brought the "
                    f"cleanup into the migrations folder."
                )


def _changes_kept(operation, app_label, key, field_name, target, leaf_state) -> bool:
    """Whether ``operation`` changes the kept table, its owner's or its target's name."""
    if isinstance(operation, _TABLE_CHANGES):
        name = getattr(operation, "old_name_lower", None) or operation.name_lower
        return (app_label, name) in (key, target)
    if not isinstance(
        operation,
        (operations.AlterField, operations.RemoveField, operations.RenameField),
    ):
        return False
    model = (app_label, operation.model_name_lower)
    name = getattr(operation, "old_name", None) or operation.name
    if model == key:
        changed = name == field_name
    elif model == target:
        target_state = leaf_state.models.get(target)
        field = target_state and target_state.fields.get(name)
        changed = field is not None and field.primary_key
    else:
        return False
    if changed and isinstance(operation, operations.AlterField):
        field = leaf_state.models[model].fields.get(name)
        return field is None or not _same_in_database(field, operation.field)
    return changed
