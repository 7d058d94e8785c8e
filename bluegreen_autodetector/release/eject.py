"""
The way out: rewrite the cleanups a project has promoted and applied as
stock ``migrations.RunSQL``, holding the SQL captured for one vendor, so
that its migrations import only Django and the package can be uninstalled.
A rename's contract is rewritten too: inside its
``SeparateDatabaseAndState``, the synchronisation (``RunSyncSQL``) becomes
a ``RunSQL`` of the vendor's trigger statements, and the backfill
(``CopyColumn``) a ``RunSQL`` of one ``UPDATE`` filling the new column
where the two differ (on a fresh database the table is empty; the batches
matter only where it is not, and there the contract is applied already).

What holds after the rewrite, on a database that had applied them: nothing
changes (the rewritten migrations are recorded as applied under the same
names). On a fresh database: ``migrate`` runs the same statements, and
Django's state after each rewritten migration is the one the original gave
(``RunAlterSQL``'s state operations move to ``RunSQL(state_operations=...)``).

What the rewrite gives up, and why that is safe for applied cleanups:
``RunCleanupSQL``'s "already gone" guard (a migration made with
``--allow-unsafe`` that rebuilt the table on SQLite before the cleanup; the
verifier refuses such a rebuild otherwise), the count of NULLs or dangling
rows before a constraint (a fresh database has no rows), and the choice
between vendors (a stock ``RunSQL`` holds one vendor's statements).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.management.base import CommandError
from django.db.migrations import Migration, RunSQL, SeparateDatabaseAndState
from django.db.migrations.loader import MigrationLoader

from ..capture.sync.common import copy_statement
from ..conf import SUPPORTED_VENDORS
from ..files.pending import list_pending, migration_path, relative, render
from ..operations import CleanupSQL, CopyColumn

# SQLite: the captured cleanup edits sqlite_master under writable_schema,
# and RunAlterSQL then bumps schema_version so every connection re-reads
# the schema. Plain SQL cannot compute the new version; RESET makes the
# connection that migrates re-read it (other open connections keep the old
# schema until they reconnect, which a fresh database has none of).
SQLITE_SCHEMA_RESET = "PRAGMA writable_schema = RESET;"


@dataclass
class Rewrite:
    """One promoted cleanup, and the stock migration it becomes."""

    path: str
    migration: Migration  # as loaded, operations replaced


def plan_rewrites(
    loader: MigrationLoader, app_labels: list[str], vendor: str, database: str
) -> list[Rewrite]:
    """
    The promoted cleanups of ``app_labels`` (every app when empty) as stock
    migrations for ``vendor``. Refuses, with nothing planned, while a
    cleanup is pending, or a promoted one is not applied on ``database``
    (its guards still matter there), or holds no SQL for ``vendor``.
    """
    if vendor not in SUPPORTED_VENDORS:
        raise CommandError(
            f"--vendor {vendor!r}: cleanups hold SQL for "
            f"{', '.join(SUPPORTED_VENDORS)} only."
        )
    labels = app_labels or sorted({label for label, _ in loader.disk_migrations})
    still_pending = [c.path for label in labels for c in list_pending(label)]
    if still_pending:
        raise CommandError(
            "Cleanups are still pending (they run only with this package): "
            + ", ".join(map(relative, still_pending))
            + ". Promote and apply them on every database first "
            "(promotemigrations, then migrate). Nothing was rewritten."
        )
    rewrites = []
    for (label, name), migration in sorted(loader.disk_migrations.items()):
        if label not in labels:
            continue
        if not any(_holds_package(op) for op in migration.operations):
            continue
        path = migration_path(migration)
        if (label, name) not in loader.applied_migrations:
            raise CommandError(
                f"{relative(path)} is not applied on database {database!r}. "
                f"Apply it there first (migrate), then rewrite it; until then "
                f"it needs this package. Nothing was rewritten."
            )
        migration.operations = [
            _stock_operation(operation, vendor, path)
            for operation in migration.operations
        ]
        rewrites.append(Rewrite(path, migration))
    return rewrites


def _holds_package(operation) -> bool:
    """Whether ``operation`` is, or holds, an operation of this package."""
    if isinstance(operation, SeparateDatabaseAndState):
        return any(
            _holds_package(op)
            for op in (*operation.database_operations, *operation.state_operations)
        )
    return isinstance(operation, (CleanupSQL, CopyColumn))


def _stock_operation(operation, vendor: str, path: str):
    """``operation`` with each of this package's operations in it made stock."""
    if isinstance(operation, CleanupSQL):
        return _stock(operation, vendor, path)
    if isinstance(operation, CopyColumn):
        return RunSQL(
            sql=[
                copy_statement(
                    vendor, operation.table, operation.source, operation.column
                )
            ],
            reverse_sql=RunSQL.noop,
            hints=dict(operation.hints) or None,
        )
    if isinstance(operation, SeparateDatabaseAndState) and _holds_package(operation):
        return SeparateDatabaseAndState(
            database_operations=[
                _stock_operation(op, vendor, path)
                for op in operation.database_operations
            ],
            state_operations=[
                _stock_operation(op, vendor, path) for op in operation.state_operations
            ],
        )
    return operation


def _stock(operation: CleanupSQL, vendor: str, path: str) -> RunSQL:
    """``operation`` as a stock RunSQL holding ``vendor``'s statements."""
    if vendor not in operation.sql:
        raise CommandError(
            f"{relative(path)}: '{operation.describe()}' holds SQL for "
            f"{', '.join(sorted(operation.sql))}, not {vendor!r}. Nothing was "
            f"rewritten."
        )
    sql = _with_sqlite_reset(list(operation.sql[vendor]), vendor)
    reverse_sql = _with_sqlite_reset(list(operation.reverse_sql[vendor]), vendor)
    return RunSQL(
        sql=sql,
        reverse_sql=reverse_sql,
        state_operations=list(operation.state_operations) or None,
        hints=dict(operation.hints) or None,
        elidable=operation.elidable,
    )


def _with_sqlite_reset(statements: list[str], vendor: str) -> list[str]:
    if vendor == "sqlite" and any("sqlite_master" in s for s in statements):
        return [*statements, SQLITE_SCHEMA_RESET]
    return statements


def rendered(rewrite: Rewrite, include_header: bool = True) -> str:
    return render(rewrite.migration, include_header)


def importing_package(loader: MigrationLoader) -> list[str]:
    """Migration files of the project that still import this package."""
    found = []
    for migration in loader.disk_migrations.values():
        path = migration_path(migration)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as stream:
            if "bluegreen_autodetector" in stream.read():
                found.append(path)
    return sorted(found)
