"""
SQLite table rebuilds that keep what the database has and Django's state
does not.

SQLite cannot ALTER most of a column, so Django's schema editor rebuilds
the table (``_remake_table``: create ``new__<table>`` from the model, copy
the rows, drop the table, rename the new one) for an ``AlterField``, an
``AddField`` that is NOT NULL, unique or defaulted, a ``RemoveField`` of an
indexed or related column, most constraint changes... The new table has
the columns of Django's state only. A column that a contract removed from
the state but left in the database for the old release (it *lingers* until
its cleanup) would go, with its values, and the old release's SELECT and
INSERT with it; so would every trigger on the table, which SQLite drops
with it.

While ``migrate`` runs, each rebuild on SQLite first reads the table as the
database has it (``PRAGMA table_xinfo``, ``sqlite_master``), and then:

- every column the model does not have is declared in the new table as the
  database declares it (its definition copied from the table's CREATE
  statement: type, NULL-ness, default, generated expression), and its
  values are copied with the others;
- the indexes on those columns are created again, as they were;
- the triggers on the table are created again, as they were, where every
  column they name still exists (SQLite resolves a trigger's names only
  when it compiles a statement that fires it; one naming a dropped column
  would break the table's next rebuild): each is checked by compiling the
  statements that fire it, and dropped again, with a word, if they fail.

This module is imported by ``migrate`` only, where it runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.db.backends.utils import strip_quotes

from . import sqlite_sql
from .editors import editors_changed

# Numbers the statements that check a trigger.
_checks = itertools.count()
# PRAGMA table_xinfo's "hidden": 2 a VIRTUAL generated column, 3 a STORED
# one. Neither is written by an INSERT.
GENERATED = (2, 3)


@contextmanager
def keeping_what_lingers(
    connection, log: Callable[[str], None] | None = None
) -> Iterator[None]:
    """While the block runs, table rebuilds on ``connection`` keep what lingers."""
    if connection.vendor != "sqlite":
        yield
        return

    def change(editor):
        remake = editor._remake_table

        def remake_keeping(model, *args, **kwargs):
            # One transaction: in a migration written atomic = False (a
            # backfill's), the rebuild's DROP and RENAME committed each on
            # its own, and another connection found no table between them.
            with transaction.atomic(using=editor.connection.alias, savepoint=False):
                _remake(editor, remake, model, log, *args, **kwargs)

        editor._remake_table = remake_keeping
        return editor

    with editors_changed(connection, change):
        yield


@dataclass
class Column:
    name: str
    definition: str  # as the table's CREATE statement declares it
    generated: bool


@dataclass
class Lingering:
    """What the table holds that a rebuild from the model would lose."""

    columns: list[Column] = field(default_factory=list)
    indexes: list[tuple[str, str]] = field(default_factory=list)  # name, sql
    triggers: list[tuple[str, str]] = field(default_factory=list)  # name, sql


def _remake(editor, remake, model, log, *args, **kwargs) -> None:
    if editor.collect_sql:
        # sqlmigrate: the database need not be at this migration.
        remake(model, *args, **kwargs)
        return
    table = strip_quotes(model._meta.db_table)
    known = {f.column.lower() for f in model._meta.local_concrete_fields if f.column}
    create_field = kwargs.get("create_field", args[0] if args else None)
    if create_field is not None and create_field.column:
        known.add(create_field.column.lower())
    with editor.connection.cursor() as cursor:
        lingering = _read(cursor, table, known)
    if not (lingering.columns or lingering.triggers):
        remake(model, *args, **kwargs)
        return
    rewrite = _Rewrite(editor, model._meta.db_table, lingering.columns)
    own = vars(editor).get("execute")
    execute = editor.execute

    def rewriting_execute(sql, params=()):
        return execute(*rewrite(sql, params))

    editor.execute = rewriting_execute
    try:
        remake(model, *args, **kwargs)
    finally:
        if own is None:
            del editor.execute
        else:
            editor.execute = own
    with editor.connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        existing = {name.lower() for (name,) in cursor.fetchall()}
        for name, sql in lingering.indexes:
            if name.lower() not in existing:
                cursor.execute(sql)
        for name, sql in lingering.triggers:
            cursor.execute(sql)
            error = _fails(cursor, table, sql)
            if error is not None:
                cursor.execute(f"DROP TRIGGER {sqlite_sql.quote(name)}")
                if log is not None:
                    log(
                        f"  Trigger {name} on {table} was not created again after "
                        f"the table's rebuild: {error}"
                    )


def _read(cursor, table: str, known: set[str]) -> Lingering:
    """
    The columns of ``table`` whose lowercase names are not in ``known``, the
    indexes on them, and the table's triggers.
    """
    found = Lingering()
    cursor.execute(f"PRAGMA table_xinfo({sqlite_sql.quote(table)})")
    unknown = {
        name.lower(): hidden
        for _, name, _, _, _, _, hidden in cursor.fetchall()
        if name.lower() not in known
    }
    if unknown:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' "
            "AND lower(name) = lower(%s)",
            (table,),
        )
        (create,) = cursor.fetchone()
        try:
            definitions = sqlite_sql.definitions(create)
        except ValueError:
            definitions = []  # said below
        for definition in definitions:
            name = sqlite_sql.identifier(definition)
            if name is not None and name.lower() in unknown:
                found.columns.append(
                    Column(name, definition, unknown[name.lower()] in GENERATED)
                )
        missing = set(unknown) - {column.name.lower() for column in found.columns}
        if missing:
            raise CommandError(
                f"Cannot rebuild {table} on SQLite keeping column(s) "
                f"{', '.join(sorted(missing))} that its model does not have: "
                f"their definitions are not found in its CREATE TABLE statement. "
                f"Nothing was changed."
            )
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND lower(tbl_name) = lower(%s) AND sql IS NOT NULL",
        (table,),
    )
    for name, sql in cursor.fetchall():
        cursor.execute(f"PRAGMA index_info({sqlite_sql.quote(name)})")
        indexed = {row[2].lower() for row in cursor.fetchall() if row[2] is not None}
        if indexed & set(unknown):
            found.indexes.append((name, sql))
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND lower(tbl_name) = lower(%s) ORDER BY rowid",
        (table,),
    )
    found.triggers = cursor.fetchall()
    return found


class _Rewrite:
    """
    The statements of one rebuild, with the lingering columns added to the
    new table's CREATE TABLE and to the INSERT that copies the rows. Before
    the old table is dropped, both must have been seen.
    """

    def __init__(self, editor, table: str, columns: list[Column]) -> None:
        self.table = editor.quote_name(table)
        self.new_table = editor.quote_name(f"new__{strip_quotes(table)}")
        self.columns = columns
        self.copied = [sqlite_sql.quote(c.name) for c in columns if not c.generated]
        self.created = self.inserted = not columns

    def __call__(self, sql, params):
        if not self.columns:
            return sql, params
        statement = str(sql)
        if statement.startswith(f"CREATE TABLE {self.new_table} ("):
            definitions = [c.definition for c in self.columns]
            if params:  # the cursor reads "%s": a literal "%" is "%%"
                definitions = [d.replace("%", "%%") for d in definitions]
            self.created = True
            return sqlite_sql.with_columns(statement, definitions), params
        if statement.startswith(f"INSERT INTO {self.new_table} (") and (
            statement.endswith(f" FROM {self.table}")
        ):
            self.inserted = True
            if not self.copied:
                return sql, params
            head, tail = sqlite_sql.split_at_close(statement)
            listed = ", ".join(self.copied)
            select = tail[: -len(f" FROM {self.table}")]
            return f"{head}, {listed}{select}, {listed} FROM {self.table}", params
        if statement == f"DROP TABLE {self.table}" and not (
            self.created and self.inserted
        ):
            raise CommandError(
                f"Cannot rebuild {self.table} on SQLite keeping the columns its "
                f"model does not have ({', '.join(c.name for c in self.columns)}): "
                f"this Django's rebuild was not recognised. The table was left "
                f"as it was."
            )
        return sql, params


def _fails(cursor, table: str, trigger: str) -> str | None:
    """
    Why ``trigger``, just created on ``table``, names a column that is not
    there, if it does: a column of its ``UPDATE OF`` list (SQLite never
    checks those), or one of its body or ``WHEN`` clause, which SQLite
    resolves when it compiles a statement firing it. EXPLAIN compiles the
    statement, triggers included, and runs nothing.
    """
    quoted = sqlite_sql.quote(table)
    cursor.execute(f"PRAGMA table_xinfo({quoted})")
    names = [(name, hidden) for _, name, _, _, _, _, hidden in cursor.fetchall()]
    existing = {name.lower() for name, _ in names}
    for column in sqlite_sql.update_of(trigger):
        if column.lower() not in existing:
            return f"it fires on UPDATE OF column {column}, which is gone"
    assignments = ", ".join(
        f"{sqlite_sql.quote(name)} = {sqlite_sql.quote(name)}"
        for name, hidden in names
        if hidden not in GENERATED
    )
    for statement in (
        f"EXPLAIN INSERT INTO {quoted} DEFAULT VALUES",
        f"EXPLAIN UPDATE {quoted} SET {assignments}",
        f"EXPLAIN DELETE FROM {quoted}",
    ):
        try:
            # A text of its own: sqlite3 would run the statement it prepared
            # for the same text, before the trigger existed, as it was.
            cursor.execute(f"{statement} -- {next(_checks)}")
            cursor.fetchall()
        except DatabaseError as error:
            return str(error)
    return None
