"""
Migrating back past a contract: say which rows block it, before any DDL.

A contract relaxes what the new release no longer honours: NOT NULL on a
column it stops writing, the foreign-key constraint of a relation it
removes. Rows the new release wrote may then hold NULL there, or name rows
it deleted, and unapplying the contract restores NOT NULL and the
constraint. The database would refuse too, but late (after other DDL, which
MariaDB cannot roll back, leaving the migration half-unapplied) and without
naming the rows. Data is never invented or deleted to get through.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.migrations import Migration, operations
from django.db.migrations.loader import MigrationLoader

from ..operations import RunCleanupSQL, RunSyncSQL, database_operations
from .rows import dangling_rows, selected


def blocking_rows(
    migration: Migration,
    connection,
    recreated: frozenset = frozenset(),
    refilled: frozenset = frozenset(),
) -> list[str]:
    """
    What stops ``migration`` from being unapplied on ``connection``, a line
    each: NULLs in a column one of its AlterFields made nullable, values of a
    relation whose constraint one of them dropped that name rows gone.
    ``recreated``: what an earlier step of the same ``migrate`` re-creates
    empty (a cleanup's, unapplied): (table, column) pairs, where every row
    will hold NULL, and (table, None), a table without rows. ``refilled``:
    (table, column) pairs an earlier step re-creates and fills from the
    column a rename's triggers kept equal to it, which holds what the
    release before accepts: not looked at.
    """
    altered = [
        operation
        for operation in database_operations(migration.operations)
        if isinstance(operation, operations.AlterField)
    ]
    if not altered:
        return []
    loader = MigrationLoader(connection)
    before = loader.project_state((migration.app_label, migration.name), at_end=False)
    # The tables with rows: those there now, but none re-created empty.
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor)) - {
            table for table, column in recreated if column is None
        }
    found = []
    for operation in altered:
        model = before.apps.get_model(migration.app_label, operation.model_name)
        restored = model._meta.get_field(operation.name)
        if model._meta.db_table not in tables:
            continue  # an empty table the migrate re-creates, or none at all
        if (model._meta.db_table, restored.column) in refilled:
            continue
        if restored.column and not restored.null and operation.field.null:
            found += _nulls(connection, model, restored.column, recreated)
        if _constraint_dropped(restored, operation.field):
            for child, column, parent, parent_column in _foreign_keys(restored):
                if child not in tables or (child, column) in recreated:
                    continue  # re-created empty: NULL everywhere, said above
                line = dangling_rows(
                    connection,
                    before,
                    child,
                    column,
                    parent,
                    parent_column,
                    target_empty=parent not in tables,
                )
                found += [line] if line else []
    return found


def _nulls(connection, model, column, recreated) -> list[str]:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    emptied = (table, column) in recreated
    where = f"FROM {quote(table)} c" + (
        "" if emptied else f" WHERE c.{quote(column)} IS NULL"
    )
    count, keys = selected(connection, model, where)
    if not count:
        return []
    how = (
        "will hold NULL (the cleanup before it in this migrate re-creates the "
        "column empty: dropping it lost its values)"
        if emptied
        else "hold NULL"
    )
    return [f"{count} row(s) of {table} {how} in {column} (primary keys {keys})"]


def _constraint_dropped(restored, relaxed) -> bool:
    return _constrained(restored) and not _constrained(relaxed)


def _constrained(field) -> bool:
    """Whether ``field`` has foreign-key constraints (an M2M: its table's)."""
    if not field.is_relation:
        return False
    holder = field.remote_field if field.many_to_many else field
    return bool(getattr(holder, "db_constraint", False))


def _foreign_keys(field):
    """(table, column, referenced table, referenced column) of ``field``'s constraints."""
    if field.many_to_many:
        through = field.remote_field.through
        if not through._meta.auto_created:
            return []
        fields = [f for f in through._meta.local_fields if f.is_relation]
    else:
        fields = [field]
    return [
        (
            f.model._meta.db_table,
            f.column,
            f.target_field.model._meta.db_table,
            f.target_field.column,
        )
        for f in fields
    ]


def refuse_if_blocked(
    migration: Migration,
    connection,
    recreated: frozenset = frozenset(),
    refilled: frozenset = frozenset(),
) -> None:
    """Raise CommandError naming the rows that stop ``migration``'s unapplying."""
    blocked = blocking_rows(migration, connection, recreated, refilled)
    if not blocked:
        return
    raise CommandError(
        f"Cannot unapply {migration.app_label}.{migration.name}: the release "
        f"before it declares these columns NOT NULL, or their foreign keys, and "
        f"rows do not fit:\n"
        + "\n".join(f"  {line}" for line in blocked)
        + "\nGive those rows values the release before accepts (UPDATE ... SET "
        "the column to an existing row's key), or restore what was dropped or "
        "deleted from a backup, then migrate back again. Nothing of this "
        "migration was unapplied."
    )


def refuse_blocked_plan(plan: list[tuple[Migration, bool]], connection) -> None:
    """
    Before ``migrate`` runs any DDL of ``plan`` (Django's ``[(migration,
    backwards)]``): stop if rows block one of the migrations it unapplies,
    counting the columns that the cleanups unapplied before re-create.
    """
    recreated: set[tuple[str, str]] = set()
    refilled: set[tuple[str, str]] = set()
    for migration, backwards in plan:
        if not backwards:
            continue
        refuse_if_blocked(
            migration, connection, frozenset(recreated), frozenset(refilled)
        )
        unapplied = list(database_operations(migration.operations))
        # A rename's cleanup, unapplied, fills the old column it re-creates
        # from the new one (its RunSyncSQL's reverse).
        refills = {
            (operation.table_on(connection), operation.source)
            for operation in unapplied
            if isinstance(operation, RunSyncSQL) and operation.drops
        }
        refilled |= refills
        recreated |= {
            (operation.table_on(connection), operation.column)
            for operation in unapplied
            if isinstance(operation, RunCleanupSQL)
        } - refills
