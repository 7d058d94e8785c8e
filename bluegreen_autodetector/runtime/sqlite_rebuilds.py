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
from django.db import DatabaseError
from django.db.backends.utils import strip_quotes

# What a table constraint of a CREATE TABLE starts with (a column starts
# with its name).
TABLE_CONSTRAINTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}
# Numbers the statements that check a trigger.
_checks = itertools.count()
# What opens a quoted name or string in SQLite, and what closes it.
QUOTES = {'"': '"', "`": "`", "[": "]", "'": "'"}
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
    own = vars(connection).get("schema_editor")
    original = connection.schema_editor

    def schema_editor(*args, **kwargs):
        editor = original(*args, **kwargs)
        remake = editor._remake_table

        def remake_keeping(model, *args, **kwargs):
            _remake(editor, remake, model, log, *args, **kwargs)

        editor._remake_table = remake_keeping
        return editor

    connection.schema_editor = schema_editor
    try:
        yield
    finally:
        if own is None:
            del connection.schema_editor
        else:
            connection.schema_editor = own


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
                cursor.execute(f"DROP TRIGGER {_quote(name)}")
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
    cursor.execute(f"PRAGMA table_xinfo({_quote(table)})")
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
            definitions = _definitions(create)
        except ValueError:
            definitions = []  # said below
        for definition in definitions:
            name = _identifier(definition)
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
        cursor.execute(f"PRAGMA index_info({_quote(name)})")
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
        self.copied = [_quote(c.name) for c in columns if not c.generated]
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
            return _with_columns(statement, definitions), params
        if statement.startswith(f"INSERT INTO {self.new_table} (") and (
            statement.endswith(f" FROM {self.table}")
        ):
            self.inserted = True
            if not self.copied:
                return sql, params
            head, tail = _split_at_close(statement)
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


def _with_columns(create: str, definitions: list[str]) -> str:
    """``create`` (a CREATE TABLE) with ``definitions`` after its last column."""
    start, end = _body(create)
    parts = _split(create[start + 1 : end])
    at = next(
        (i for i, part in enumerate(parts) if _identifier(part) is None),
        len(parts),
    )
    parts[at:at] = definitions
    return f"{create[: start + 1]}{', '.join(parts)}{create[end:]}"


def _split_at_close(insert: str) -> tuple[str, str]:
    """An INSERT cut before the ``)`` closing its column list."""
    start, end = _body(insert)
    return insert[:end], insert[end:]


def _definitions(create: str) -> list[str]:
    """The column definitions and table constraints of a CREATE TABLE."""
    start, end = _body(create)
    return _split(create[start + 1 : end])


def _body(sql: str) -> tuple[int, int]:
    """The positions of the first top-level ``(`` of ``sql`` and of its ``)``."""
    depth, start = 0, None
    for i, char in _structure(sql):
        if char == "(":
            if depth == 0 and start is None:
                start = i
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and start is not None:
                return start, i
    raise ValueError(f"no parenthesised list in {sql!r}")


def _split(body: str) -> list[str]:
    """``body`` cut at its top-level commas."""
    parts, depth, last = [], 0, 0
    for i, char in _structure(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[last:i].strip())
            last = i + 1
    parts.append(body[last:].strip())
    return [part for part in parts if part]


def _structure(sql: str) -> Iterator[tuple[int, str]]:
    """The parentheses and commas of ``sql`` outside quotes and comments."""
    for i, text, quoted in _scan(sql):
        if not quoted and text in "(),":
            yield i, text


def _identifier(definition: str) -> str | None:
    """The column a definition declares; None for a table constraint."""
    text, quoted = next(_tokens(definition), ("", False))
    if not quoted and (not text or text.upper() in TABLE_CONSTRAINTS):
        return None
    return text


def _fails(cursor, table: str, trigger: str) -> str | None:
    """
    Why ``trigger``, just created on ``table``, names a column that is not
    there, if it does: a column of its ``UPDATE OF`` list (SQLite never
    checks those), or one of its body or ``WHEN`` clause, which SQLite
    resolves when it compiles a statement firing it. EXPLAIN compiles the
    statement, triggers included, and runs nothing.
    """
    quoted = _quote(table)
    cursor.execute(f"PRAGMA table_xinfo({quoted})")
    names = [(name, hidden) for _, name, _, _, _, _, hidden in cursor.fetchall()]
    existing = {name.lower() for name, _ in names}
    for column in _update_of(trigger):
        if column.lower() not in existing:
            return f"it fires on UPDATE OF column {column}, which is gone"
    assignments = ", ".join(
        f"{_quote(name)} = {_quote(name)}"
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


def _update_of(trigger: str) -> list[str]:
    """The columns of a CREATE TRIGGER's ``UPDATE OF`` list (none without one)."""
    tokens = list(_tokens(trigger))
    words = [None if quoted else text.upper() for text, quoted in tokens]
    for i in range(len(tokens) - 1):
        if words[i] == "BEGIN":
            break
        if words[i] == "UPDATE" and words[i + 1] == "OF":
            columns = []
            for (text, _), word in zip(tokens[i + 2 :], words[i + 2 :], strict=False):
                if word == "ON":
                    return columns
                if text != ",":
                    columns.append(text)
    return []


def _tokens(sql: str) -> Iterator[tuple[str, bool]]:
    """The words, quoted names or strings (unquoted, True) and punctuation of ``sql``."""
    for _, text, quoted in _scan(sql):
        yield text, quoted


def _scan(sql: str) -> Iterator[tuple[int, str, bool]]:
    """``_tokens``, each with its position; comments and spaces left out."""
    i = 0
    while i < len(sql):
        char = sql[i]
        if char.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end == -1 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end == -1 else end + 2
        elif char in QUOTES:
            start = i
            text, i = _quoted(sql, i, QUOTES[char])
            yield start, text, True
        elif char.isalnum() or char in "_$":
            start = i
            while i < len(sql) and (sql[i].isalnum() or sql[i] in "_$"):
                i += 1
            yield start, sql[start:i], False
        else:
            yield i, char, False
            i += 1


def _quoted(sql: str, start: int, closing: str) -> tuple[str, int]:
    """The text quoted at ``start`` (doubled quotes undone), and the index after it."""
    text, i = "", start + 1
    while True:
        end = sql.find(closing, i)
        if end == -1:
            raise ValueError(f"unterminated {sql[start]} in {sql!r}")
        text += sql[i:end]
        if closing != "]" and sql[end + 1 : end + 2] == closing:
            text += closing
            i = end + 2
            continue
        return text, end + 1


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
