"""
SQLite's documented procedure for changing a column in place, as SQL.

SQLite's ALTER TABLE cannot change a column's default, NOT NULL or foreign
key, so Django rebuilds the table from its state instead. A cleanup must
never do that: captured now and replayed a release later, the rebuild would
drop every column added since. SQLite documents a procedure for changes
that need no change of the stored data
(https://www.sqlite.org/lang_altertable.html#otheralter): edit the table's
definition in sqlite_master under ``PRAGMA writable_schema``, then change
the schema version so that every connection re-reads it (done at migrate
time by ``operations``). A cleanup that adds a constraint this way first
checks that the rows already satisfy it (``operations.RunAlterSQL``).
"""

from __future__ import annotations

from django.db import models


def column_definition(editor, model: type[models.Model], field: models.Field) -> str:
    """
    The column as CREATE TABLE and ADD COLUMN write it into sqlite_master,
    up to its inline foreign key (the schema editor appends that after).
    """
    definition, params = editor.column_sql(model, field)
    if params:
        definition %= tuple(editor.quote_value(param) for param in params)
    return f"{editor.quote_name(field.column)} {definition}"


def edit_column_definitions(
    editor, table: str, replacements: list[tuple[str, str]]
) -> None:
    """Emit the statements replacing each definition ``before`` by ``after``."""
    editor.execute("PRAGMA writable_schema = ON", None)
    for before, after in replacements:
        before, after, quoted_table = (
            editor.quote_value(value) for value in (before, after, table)
        )
        editor.execute(
            f"UPDATE sqlite_master SET sql = replace(sql, {before}, {after}) "
            f"WHERE type = 'table' AND name = {quoted_table}",
            None,
        )
    editor.execute("PRAGMA writable_schema = OFF", None)


def affinity(declared: str | None) -> str:
    """
    The affinity SQLite gives a column of type ``declared``, by the rules of
    https://www.sqlite.org/datatype3.html#determination_of_column_affinity
    (section 3.1), in their order: a type containing "INT" is INTEGER; else
    one containing "CHAR", "CLOB" or "TEXT" is TEXT; else one containing
    "BLOB", or no type, is BLOB; else one containing "REAL", "FLOA" or
    "DOUB" is REAL; else NUMERIC. Two types of one affinity store every
    value alike, so a column changed from one to the other keeps its data
    as it is: only its declared type changes.
    """
    upper = (declared or "").upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"
