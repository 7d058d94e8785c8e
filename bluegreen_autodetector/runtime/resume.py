"""
A rename's contract that stopped part-way, run again: ``migrate`` continues
where it stopped.

A contract that fills a column in batches runs outside a transaction
(``atomic = False``; on MySQL/MariaDB DDL is never transactional anyway),
so a ``migrate`` killed during its backfill leaves
what it did: the old column altered, the new column added, the triggers,
the batches committed. Run again, each step must find its work done and go
on:

- altering the old column: Django's schema editor finds the constraints and
  indexes to drop by introspection, and dropping NOT NULL twice changes
  nothing;
- the new column (the contract's ``AddField`` of a field named
  ``<name>__bluegreen_new``): when the table has the column already, the
  statements that add it are not run again; what Django defers to the end
  of the migration (the column's index, MySQL's foreign key) runs unless
  the table has it by that name (a ``migrate`` killed after them);
- the triggers: their statements are idempotent (``IF EXISTS``, ``OR
  REPLACE``, ``IF NOT EXISTS``);
- the backfill writes only rows whose two columns differ
  (``backfill.py``): it continues with the rows left.

SQLite too runs the contract outside a transaction; there Django adds a
unique column by rebuilding the table, which is skipped as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..names import NEW_COLUMN_SUFFIX
from .editors import editors_changed


@contextmanager
def resuming_contracts(
    connection, log: Callable[[str], None] | None = None
) -> Iterator[None]:
    """While the block runs, a contract run again adds no column twice."""

    def change(editor):
        add_field = editor.add_field

        def add_field_once(model, field):
            if (
                editor.collect_sql
                or not field.name.endswith(NEW_COLUMN_SUFFIX)
                or field.column not in _columns(editor, model._meta.db_table)
            ):
                return add_field(model, field)
            _add_what_is_missing(editor, add_field, model, field, log)

        editor.add_field = add_field_once
        return editor

    with editors_changed(connection, change):
        yield


def _columns(editor, table: str) -> set[str]:
    connection = editor.connection
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return set()
        return {
            column.name
            for column in connection.introspection.get_table_description(cursor, table)
        }


def _add_what_is_missing(editor, add_field, model, field, log) -> None:
    """
    ``add_field`` with its immediate statements (the ``ADD COLUMN``, with
    what goes inline in it) not run, and its deferred ones kept only when
    the table has nothing by their name.
    """
    table = model._meta.db_table
    if log is not None:
        log(
            f"  {table}.{field.column} is there already (an earlier migrate "
            f"stopped part-way): continuing"
        )
    deferred = len(editor.deferred_sql)
    # SQLite adds a unique column by rebuilding the table
    # (``_remake_table``), whose wrapper (sqlite_rebuilds.py) writes to
    # the database itself: skipped too.
    skipped = ("execute", "_remake_table")
    own = {name: vars(editor).get(name) for name in skipped}
    for name in skipped:
        setattr(editor, name, lambda *args, **kwargs: None)
    try:
        add_field(model, field)
    finally:
        for name, method in own.items():
            if method is None:
                delattr(editor, name)
            else:
                setattr(editor, name, method)
    connection = editor.connection
    with connection.cursor() as cursor:
        existing = set(connection.introspection.get_constraints(cursor, table))
    added = editor.deferred_sql[deferred:]
    editor.deferred_sql[deferred:] = [
        statement for statement in added if _name(statement) not in existing
    ]


def _name(statement) -> str | None:
    """The index or constraint a deferred ``Statement`` creates, unquoted."""
    parts = getattr(statement, "parts", None) or {}
    name = parts.get("name")
    if name is None:
        return None
    return str(name).strip('"`[]')
