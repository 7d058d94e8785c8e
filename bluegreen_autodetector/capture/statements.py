"""
Capture's statements: for each cleanup step, the forward and reverse SQL
each vendor's schema editor writes, collected, never run.
"""

from __future__ import annotations

import copy

from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from ..fields import _clone
from .connections import capture_connection


class CapturedSQL:
    """Forward and reverse statements of one cleanup step, keyed by vendor."""

    def __init__(self, table: str, column: str | None = None) -> None:
        self.table = table
        self.column = column
        self.sql: dict[str, list[str]] = {}
        self.reverse_sql: dict[str, list[str]] = {}
        # The table's name on a vendor whose Django names it otherwise.
        self.tables: dict[str, str] = {}


class Statements:
    """Capture's methods that collect each step's SQL (see ``Capture``)."""

    def _connection(self, vendor: str):
        """
        ``capture_connection(vendor)``, looked up once per capture: each
        lookup goes through Django's per-thread connection handler, and a
        run captures two statements for each of its steps.
        """
        connection = self._connections.get(vendor)
        if connection is None:
            connection = self._connections[vendor] = capture_connection(vendor)
        return connection

    def _alter_column(self, model, twin, name: str) -> CapturedSQL:
        """
        Alter the column from ``model``'s shape of ``name`` to ``twin``'s
        (same table). On SQLite without rebuilding the table: its documented
        procedure for changing a default or a NOT NULL edits the column's
        definition in sqlite_master.

        Setting NOT NULL, the fields' Python defaults are left out: Django
        would fill the NULLs with one value of the default evaluated now
        (one UUID for every row, captured into the SQL); the cleanup's
        ``FillColumn`` fills them before, in batches, each row its own.
        """
        before = model._meta.get_field(name)
        after = twin._meta.get_field(name)
        if before.null and not after.null:
            before, after = _database_shape(before), _database_shape(after)
            before.model, after.model = model, twin
        captured = CapturedSQL(model._meta.db_table, before.column)
        for vendor in self.vendors:
            connection = self._connection(vendor)
            captured.sql[vendor] = self._collect(
                captured,
                model,
                connection,
                lambda editor: _alter(editor, model, before, twin, after),
            )
            captured.reverse_sql[vendor] = self._collect(
                captured,
                model,
                connection,
                lambda editor: _alter(editor, twin, after, model, before),
            )
        return captured

    def _add_foreign_keys(self, model: type[models.Model], name: str) -> CapturedSQL:
        """The constraint(s) of relation ``name`` (as ``model`` declares it)."""
        # Imported here: most runs add no foreign key, and an import costs.
        from . import foreign_keys

        table, fields = foreign_keys.constrained(model, name)
        column = None if model._meta.get_field(name).many_to_many else fields[0].column
        captured = CapturedSQL(table._meta.db_table, column)
        for vendor in self.vendors:
            connection = self._connection(vendor)
            captured.sql[vendor] = self._collect(
                captured,
                table,
                connection,
                lambda editor: foreign_keys.add(editor, table, fields),
            )
            captured.reverse_sql[vendor] = self._collect(
                captured,
                table,
                connection,
                lambda editor: foreign_keys.drop(editor, table, fields),
            )
        return captured

    def _drop_column(self, model: type[models.Model], field) -> CapturedSQL:
        """Drop column ``field`` (bound to ``model``, its table's model)."""
        captured = CapturedSQL(model._meta.db_table, field.column)
        # A column that kept its foreign-key constraint (Django 6.1's
        # DB_CASCADE...: the old release relied on it) loses it first: SQLite
        # and MySQL refuse to drop a column a constraint uses.
        constrained = field.is_relation and field.db_constraint
        for vendor in self.vendors:
            connection = self._connection(vendor)

            def forwards(editor):
                if constrained and editor.connection.vendor != "postgresql":
                    from . import foreign_keys

                    foreign_keys.drop(editor, model, [field])
                editor.execute(
                    editor.sql_delete_column
                    % {
                        "table": editor.quote_name(model._meta.db_table),
                        "column": editor.quote_name(captured.column),
                    }
                )

            captured.sql[vendor] = self._collect(captured, model, connection, forwards)
            # SQLite's add_field rebuilds the table for any NOT NULL, unique or
            # defaulted column. A lingering column is never unique and carries
            # no Python default, and SQLite adds a NOT NULL column with a
            # constant default in place, so the base class's ALTER TABLE ADD
            # COLUMN is right there; a rebuild from today's definition would
            # drop the columns added since.
            captured.reverse_sql[vendor] = self._collect(
                captured,
                model,
                connection,
                lambda editor: (
                    BaseDatabaseSchemaEditor.add_field(
                        editor, model, _addable_on_sqlite(field)
                    )
                    if editor.connection.vendor == "sqlite"
                    else editor.add_field(model, field)
                ),
            )
        return captured

    def _drop_table(self, model: type[models.Model], m2m: str | None) -> CapturedSQL:
        """The model's table (with its M2M tables), or only the table of ``m2m``."""
        if m2m is not None:
            model = model._meta.get_field(m2m).remote_field.through
        captured = CapturedSQL(model._meta.db_table)
        for vendor in self.vendors:
            connection = self._connection(vendor)
            captured.sql[vendor] = self._collect(
                captured, model, connection, lambda editor: editor.delete_model(model)
            )
            captured.reverse_sql[vendor] = self._collect(
                captured, model, connection, lambda editor: editor.create_model(model)
            )
        return captured

    def _collect(self, captured: CapturedSQL, model, connection, action) -> list[str]:
        """
        ``_collect`` with the tables named as Django names them on the
        connection's vendor (``model``: the table's), which may not be the
        vendor makemigrations runs on: Django truncates and hashes a long
        default name (a model's, an M2M table's) to the limit of the
        database its models were set up with (PostgreSQL 63, MySQL 64).
        """
        renamed = self._renamed.get(connection.vendor, {})
        named = {meta: meta.db_table for meta in renamed}
        for meta, name in renamed.items():
            meta.db_table = name
        try:
            if model._meta.db_table != captured.table:
                captured.tables[connection.vendor] = model._meta.db_table
            return _collect(connection, action)
        finally:
            for meta, name in named.items():
                meta.db_table = name


def _alter(editor, model, before, twin, after) -> None:
    """Emit the SQL that alters ``before`` (on ``model``) to ``after`` (on ``twin``)."""
    if editor.connection.vendor != "sqlite":
        # Without the relation, alter_field has no constraint to look up in
        # the live database; a NULL or default change never touches it.
        emitted = len(editor.collected_sql)
        editor.alter_field(
            model, _unconstrained(before, model), _unconstrained(after, twin)
        )
        if editor.connection.vendor == "mysql":
            _redeclare_check(editor, after, emitted)
        return
    # Imported here: most runs alter no column, and an import costs.
    from .sqlite import column_definition, edit_column_definitions

    edit_column_definitions(
        editor,
        model._meta.db_table,
        [
            (
                column_definition(editor, model, before),
                column_definition(editor, twin, after),
            )
        ],
    )


def _redeclare_check(editor, field: models.Field, emitted: int) -> None:
    """
    MySQL's MODIFY re-declares the whole column: a column-level CHECK that
    it does not repeat is gone (a PositiveIntegerField's ``>= 0``; MariaDB
    adds a JSONField's json_valid back for its ``json`` alias only). Repeat
    the field's CHECK in each MODIFY of its column that ``editor`` emitted
    since statement number ``emitted``.
    """
    check = field.db_parameters(editor.connection)["check"]
    if not check:
        return
    modify = f"MODIFY {editor.quote_name(field.column)} "
    statements = editor.collected_sql
    for index in range(emitted, len(statements)):
        statement = statements[index]
        if modify in statement and "CHECK" not in statement:
            statements[index] = statement.rstrip(";") + f" CHECK ({check});"


def _unconstrained(field: models.Field, model) -> models.Field:
    if not (field.is_relation and field.db_constraint):
        return field
    name, path, args, kwargs = field.deconstruct()
    kwargs["db_constraint"] = False
    kwargs["to"] = field.remote_field.model
    clone = type(field)(*args, **kwargs)
    clone.set_attributes_from_name(name)
    clone.model = model
    return clone


def _database_shape(field: models.Field) -> models.Field:
    """
    ``field`` without its Python default: only what the database holds.
    (A Python default makes the schema editor set and drop a default, and
    makes SQLite's add_field rebuild the table.) A copy, as a skeleton's
    fields are (see ``_clone``).
    """
    if not field.has_default():
        return field
    shaped = _clone(field)
    shaped.default = models.NOT_PROVIDED
    return shaped


def _collect(connection, action) -> list[str]:
    """Run ``action`` on a collecting schema editor; never touch the database."""
    editor = connection.schema_editor(collect_sql=True, atomic=False)
    # Entering the editor would open a transaction (and, on SQLite, switch
    # constraint checking off); collecting SQL needs neither.
    editor.deferred_sql = []
    if connection.vendor == "mysql":
        editor.quote_value = _mysql_quote_value(editor.quote_value)
    action(editor)
    for statement in editor.deferred_sql:
        editor.execute(statement, None)
    return list(editor.collected_sql)


def _addable_on_sqlite(field: models.Field) -> models.Field:
    """
    SQLite cannot ADD COLUMN a STORED generated column to a table holding
    rows ("cannot add a STORED column"); a VIRTUAL one reads the same.
    """
    if not (field.generated and field.db_persist):
        return field
    virtual = copy.copy(field)
    virtual.db_persist = False
    return virtual


def _mysql_quote_value(quote_value):
    """
    MySQL's ``quote_value`` writes bytes as Python's repr (``b"..."``, not
    SQL: Django's migrate passes them to the driver instead); a hex literal
    is the value the driver would send. A value the driver escapes to bytes
    (a UUID, on MariaDB's native uuid column) is the text of those bytes.
    """

    def quote(value):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"X'{bytes(value).hex()}'"
        quoted = quote_value(value)
        return quoted.decode() if isinstance(quoted, bytes) else quoted

    return quote
