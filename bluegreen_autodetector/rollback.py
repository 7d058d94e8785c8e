"""
Migrating back past a contract: say which rows block it, before any DDL.

A contract relaxes NOT NULL on a column the new release stops writing;
rows the new release inserted then hold NULL there, and unapplying the
contract restores NOT NULL. The database would refuse too, but late (after
other DDL, which MySQL cannot roll back) and without naming the rows. Data
is never invented or dropped to get through.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import CommandError
from django.db.migrations import Migration, operations
from django.db.migrations.loader import MigrationLoader


@dataclass
class BlockingRows:
    table: str
    column: str
    count: int
    sample: list  # primary keys of the first few


def blocking_rows(migration: Migration, connection) -> list[BlockingRows]:
    """
    Rows that stop ``migration`` from being unapplied on ``connection``:
    NULLs in a column that one of its AlterFields made nullable.
    """
    altered = [
        operation
        for operation in database_operations(migration.operations)
        if isinstance(operation, operations.AlterField) and operation.field.null
    ]
    if not altered:
        return []
    loader = MigrationLoader(connection)
    before = loader.project_state((migration.app_label, migration.name), at_end=False)
    found = []
    for operation in altered:
        model_state = before.models[migration.app_label, operation.model_name_lower]
        if model_state.fields[operation.name].null:
            continue
        model = before.apps.get_model(migration.app_label, operation.model_name)
        field = model._meta.get_field(operation.name)
        table, column = model._meta.db_table, field.column
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(model._meta.pk.column)} FROM {quote(table)} "
                f"WHERE {quote(column)} IS NULL ORDER BY 1"
            )
            keys = [row[0] for row in cursor.fetchall()]
        if keys:
            found.append(BlockingRows(table, column, len(keys), keys[:5]))
    return found


def refuse_if_blocked(migration: Migration, connection) -> None:
    blocked = blocking_rows(migration, connection)
    if not blocked:
        return
    lines = [
        f"  {b.count} row(s) of {b.table} hold NULL in {b.column} "
        f"(primary keys {', '.join(map(str, b.sample))}"
        f"{', ...' if b.count > len(b.sample) else ''})"
        for b in blocked
    ]
    raise CommandError(
        f"Cannot unapply {migration.app_label}.{migration.name}: the release "
        f"before it declares these columns NOT NULL, and rows written since "
        f"hold NULL:\n" + "\n".join(lines) + "\nSet a value in those rows or "
        "delete them, then migrate back again. Nothing of this migration was "
        "unapplied."
    )


def database_operations(ops):
    """The operations that run on the database, SeparateDatabaseAndState's opened."""
    for operation in ops:
        if isinstance(operation, operations.SeparateDatabaseAndState):
            yield from database_operations(operation.database_operations)
        else:
            yield operation
