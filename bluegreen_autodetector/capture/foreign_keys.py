"""
The foreign-key constraints a contract left out, added by the cleanup: the
SQL per vendor, forward (add) and reverse (drop).

Each constraint is the one Django creates with the column or table itself
(the same name, ``DEFERRABLE INITIALLY DEFERRED`` on PostgreSQL), so that
the schema after the cleanup is stock Django's. On SQLite, where adding a
constraint would rebuild the table, the column's definition gains Django's
own inline ``REFERENCES`` clause in place (``sqlite_schema``).
"""

from __future__ import annotations

from django.db import models

from .sqlite import column_definition, edit_column_definitions

# Django's suffix for the constraint of a column: hence Django's names.
SUFFIX = "_fk_%(to_table)s_%(to_column)s"


def constrained(
    model: type[models.Model], name: str
) -> tuple[type[models.Model], list[models.Field]]:
    """
    The table and the foreign keys that the relation ``name`` of ``model``
    constrains: its own column, or both columns of its auto-created M2M table.
    """
    field = model._meta.get_field(name)
    if field.many_to_many:
        through = field.remote_field.through
        return through, [f for f in through._meta.local_fields if f.is_relation]
    return model, [field]


def add(editor, model: type[models.Model], fields: list[models.Field]) -> None:
    if editor.connection.vendor == "sqlite":
        edit_column_definitions(
            editor, model._meta.db_table, _inline(editor, model, fields)
        )
        return
    for field in fields:
        editor.execute(editor._create_fk_sql(model, field, SUFFIX), None)


def drop(editor, model: type[models.Model], fields: list[models.Field]) -> None:
    if editor.connection.vendor == "sqlite":
        edit_column_definitions(
            editor,
            model._meta.db_table,
            [(after, before) for before, after in _inline(editor, model, fields)],
        )
        return
    for field in fields:
        # The name is known: the live database is never asked for it.
        name = str(editor._fk_constraint_name(model, field, SUFFIX))
        editor.execute(editor._delete_fk_sql(model, name), None)


def _inline(editor, model, fields) -> list[tuple[str, str]]:
    """Each column's definition without, then with, its inline foreign key."""
    pairs = []
    for field in fields:
        target = field.target_field
        parts = {
            "to_table": editor.quote_name(target.model._meta.db_table),
            "to_column": editor.quote_name(target.column),
        }
        if hasattr(editor, "_create_on_delete_sql"):
            # Django 6.1 writes a database-level on_delete into the reference.
            parts["on_delete_db"] = editor._create_on_delete_sql(model, field)
        references = editor.sql_create_inline_fk % parts
        before = column_definition(editor, model, field)
        pairs.append((before, f"{before} {references}"))
    return pairs
