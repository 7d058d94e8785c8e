"""
A table rename's pending cleanup drops the views that keep the old names
(``RunViewSQL``). Until it runs, the renamed table lives under two names:
a later change of the model that the database would see would change the
table and not what the view shows (PostgreSQL refuses to drop or retype a
column a view reads; a SQLite rebuild of the table fails on the view that
names it). Refused until the cleanup is promoted, like a change of a
synchronised field (``replan.refuse_synced_changes``).
"""

from __future__ import annotations

import os

from django.db.migrations import Migration, operations
from django.db.migrations.state import ProjectState

from ..files.pending import PendingCleanup
from ..operations import RunViewSQL
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
