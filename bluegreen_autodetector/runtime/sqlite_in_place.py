"""
SQLite column changes made in place, without a table rebuild.

Django's SQLite schema editor carries out every ``AlterField`` that keeps
the column's name by rebuilding the table (``_remake_table``: a copy of
every row, under the database's one write lock, so every write of the
release serving waits for it). Many such changes need no change of the
stored data, and SQLite documents a procedure for them
(https://www.sqlite.org/lang_altertable.html#otheralter): edit the table's
CREATE statement in ``sqlite_master`` under ``PRAGMA writable_schema``, then
change the schema version so that every connection reads it again. The
cleanups already set NOT NULL and drop defaults that way
(``capture/sqlite.py``).

While ``migrate`` runs, an ``AlterField`` on SQLite is made that way when
the column's definition, as Django declares it before and after, differs
only in:

- its declared type, within one affinity (``capture.sqlite.affinity``:
  integer to bigint, varchar(50) to text...): no stored value changes;
- NULL allowed (a NOT NULL made NULL: nothing to check) or refused (NULL
  made NOT NULL: only while no row holds NULL; otherwise Django's rebuild
  runs, and fails as stock Django's does);
- its inline foreign key (``REFERENCES ...``) dropped, or added: the schema
  editor checks the foreign keys when it exits, as after a rebuild;
- its plain index (``db_index``, not unique) dropped or created, as
  Django's other vendors do it (``DROP INDEX``, ``CREATE INDEX``).

And only when the table declares the column exactly as Django would before
the change (a definition the package or a person edited otherwise is
rebuilt, as stock Django does), the column keeps its name, is neither the
primary key, unique nor generated, and the table is not STRICT. Anything
else is Django's rebuild (kept lingering columns and triggers:
``sqlite_rebuilds.py``). The triggers, indexes and columns the state does
not know are untouched: the table is not rebuilt.

``sqlmigrate`` (no database to read) shows Django's rebuild. This module is
imported by ``migrate`` only, where it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Index

from ..capture.sqlite import affinity
from . import sqlite_sql
from .editors import editors_changed


@contextmanager
def altering_in_place(connection) -> Iterator[None]:
    """While the block runs, SQLite's AlterField edits the column in place where it can."""
    if connection.vendor != "sqlite":
        yield
        return

    def change(editor):
        alter = editor._alter_field

        def alter_in_place(model, old_field, new_field, old_type, new_type, *args):
            if not _altered_in_place(
                editor, model, old_field, new_field, old_type, new_type
            ):
                alter(model, old_field, new_field, old_type, new_type, *args)

        editor._alter_field = alter_in_place
        return editor

    with editors_changed(connection, change):
        yield


def _altered_in_place(editor, model, old_field, new_field, old_type, new_type) -> bool:
    """Make the change in place and say so, or change nothing and say it cannot."""
    new_model = getattr(new_field, "model", None)
    if (
        editor.collect_sql
        or new_model is None
        or new_model._meta.db_table != model._meta.db_table
        or old_field.column != new_field.column
        or old_type is None
        or new_type is None
        or affinity(old_type) != affinity(new_type)
        or any(
            field.primary_key or field.unique or getattr(field, "generated", False)
            for field in (old_field, new_field)
        )
    ):
        return False
    old_references = _references(editor, model, old_field)
    new_references = _references(editor, new_model, new_field)
    if old_references and new_references and old_references != new_references:
        return False
    before = _definition(editor, model, old_field, old_references)
    after = _definition(editor, new_model, new_field, new_references)
    if _shape(editor, old_field, old_type, before, old_references) != _shape(
        editor, new_field, new_type, after, new_references
    ):
        return False  # a default, collation, check... changes: rebuilt
    table = model._meta.db_table
    # One transaction, also in a migration written atomic = False (a
    # rename's contract): the edit and the new schema version go together.
    with transaction.atomic(using=editor.connection.alias):
        with editor.connection.cursor() as cursor:
            create = _create_statement(cursor, table)
            # A STRICT table checks each value against its declared type.
            if create is None or "STRICT" in sqlite_sql.options(create):
                return False
            definitions = sqlite_sql.definitions(create)
            if definitions.count(before) != 1:
                return False  # declared otherwise than Django would: rebuilt
            if (
                old_field.null
                and not new_field.null
                and _holds_null(cursor, table, old_field.column)
            ):
                return False  # Django's rebuild stops on them, as stock does
            definitions[definitions.index(before)] = after
            edited = sqlite_sql.with_definitions(create, definitions)
            _replace(cursor, table, create, edited)
            if not _declares(cursor, table, new_field, new_type):
                _replace(cursor, table, edited, create)
                return False
        _indexes(editor, model, old_field, new_field)
    return True


def _definition(editor, model, field, references: str | None) -> str:
    """The column as Django's CREATE TABLE declares it (``table_sql``'s loop)."""
    connection = editor.connection
    definition, params = editor.column_sql(model, field)
    if params:
        definition %= tuple(editor.quote_value(param) for param in params)
    check = field.db_parameters(connection=connection)["check"]
    if check:
        definition += " " + editor.sql_check_constraint % {"check": check}
    suffix = field.db_type_suffix(connection=connection)
    if suffix:
        definition += f" {suffix}"
    if references:
        definition += f" {references}"
    return f"{editor.quote_name(field.column)} {definition}"


def _references(editor, model, field) -> str | None:
    """The inline foreign key Django declares for ``field``, if any."""
    if not (field.remote_field and field.db_constraint):
        return None
    target = field.remote_field.model._meta.get_field(field.remote_field.field_name)
    parts = {
        "to_table": editor.quote_name(field.remote_field.model._meta.db_table),
        "to_column": editor.quote_name(target.column),
    }
    if hasattr(editor, "_create_on_delete_sql"):
        # Django 6.1 writes a database-level on_delete into the reference.
        parts["on_delete_db"] = editor._create_on_delete_sql(model, field)
    return editor.sql_create_inline_fk % parts


def _shape(editor, field, db_type, definition, references) -> str | None:
    """
    ``definition`` without what may change in place: its type (the first
    word after the name), its NOT NULL, its inline foreign key. None when it
    is not written as expected (nothing is then changed in place).
    """
    head = f"{editor.quote_name(field.column)} {db_type}"
    if not definition.startswith(head):
        return None
    rest = definition[len(head) :]
    if references:
        if not rest.endswith(f" {references}"):
            return None
        rest = rest[: -len(references) - 1]
    if not field.null:
        if " NOT NULL" not in rest:
            return None
        rest = rest.replace(" NOT NULL", " NULL", 1)
    return rest


def _create_statement(cursor, table: str) -> str | None:
    cursor.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table]
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _holds_null(cursor, table: str, column: str) -> bool:
    quote = sqlite_sql.quote
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {quote(table)} WHERE {quote(column)} IS NULL)"
    )
    return bool(cursor.fetchone()[0])


def _replace(cursor, table: str, before: str, after: str) -> None:
    """SQLite's documented edit: the table's SQL, then a new schema version."""
    cursor.execute("PRAGMA schema_version")
    (version,) = cursor.fetchone()
    cursor.execute("PRAGMA writable_schema = ON")
    try:
        cursor.execute(
            "UPDATE sqlite_master SET sql = %s "
            "WHERE type = 'table' AND name = %s AND sql = %s",
            [after, table, before],
        )
        cursor.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        cursor.execute("PRAGMA writable_schema = OFF")


def _declares(cursor, table: str, field, db_type: str) -> bool:
    """Whether SQLite now reads the column as ``field`` of ``db_type``."""
    cursor.execute(f"PRAGMA table_xinfo({sqlite_sql.quote(table)})")
    for _, name, declared, notnull, _, _, _ in cursor.fetchall():
        if name == field.column:
            return declared.lower() == db_type.lower() and bool(notnull) == (
                not field.null
            )
    return False


def _indexes(editor, model, old_field, new_field) -> None:
    """A plain index dropped or created, as Django's ``_alter_field`` does elsewhere."""
    was = editor._field_should_be_indexed(model, old_field)
    will = editor._field_should_be_indexed(new_field.model, new_field)
    if was and not will:
        declared = {index.name for index in model._meta.indexes}
        for name in editor._constraint_names(
            model,
            [old_field.column],
            index=True,
            type_=Index.suffix,
            exclude=declared,
        ):
            editor.execute(editor._delete_index_sql(model, name))
    elif will and not was:
        editor.execute(editor._create_index_sql(model, fields=[new_field]))
