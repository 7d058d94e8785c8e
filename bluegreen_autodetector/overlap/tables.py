"""
A renamed table's old names while both releases run: ``RunViewSQL``
(``capture/views/``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.utils import strip_quotes

from ..operations import CleanupSQL


class RunViewSQL(CleanupSQL):
    """
    A table rename's old names: views of the renamed tables (``views``, each
    old name -> the table under its new name), through which the old release
    reads and writes while both releases run (``capture/views/``); a
    many-to-many table named after the renamed model or field is one of
    them, with its columns named after the model (``columns``: view ->
    {its column: the table's}). In a contract it creates them (``drops``
    False), after Django's operation renamed the tables; in the cleanup it
    drops them (``drops`` True). Its statements are idempotent (``OR
    REPLACE``, ``IF EXISTS``), so a migration stopped part-way runs again.

    ``renames`` (old table -> new table; PostgreSQL, MariaDB): the tables
    it renames itself (where Django's RenameModel is state-only: it would
    rename a column the contract keeps), their statements first in ``sql``
    (the schema editor's), and last in ``reverse_sql``, after the views are
    dropped; a table already renamed is not renamed again (a migration
    stopped part-way). On PostgreSQL the renames and the views are one
    transaction, even in a migration that runs outside one. A renamed
    table's columns of ``columns`` (a many-to-many table's ``book_id``) are
    renamed right after it, and back right before it; a column already
    renamed is not renamed again.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    def __init__(
        self,
        table: str,
        views: dict[str, str],
        sql: dict[str, list[str]],
        reverse_sql: dict[str, list[str]],
        columns: dict[str, dict[str, str]] | None = None,
        drops: bool = False,
        renames: dict[str, str] | None = None,
        state_operations=None,
        hints: dict | None = None,
        elidable: bool = False,
        tables: dict[str, str] | None = None,
    ) -> None:
        self.views = views
        self.columns = columns or {}
        self.drops = drops
        self.renames = renames or {}
        super().__init__(
            table,
            sql,
            reverse_sql,
            state_operations=state_operations,
            hints=hints,
            elidable=elidable,
            tables=tables,
        )

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        ordered = {"table": kwargs.pop("table"), "views": self.views}
        if self.columns:
            ordered["columns"] = self.columns
        if self.drops:
            ordered["drops"] = True
        if self.renames:
            ordered["renames"] = self.renames
        return name, args, {**ordered, **kwargs}

    def describe(self) -> str:
        named = ", ".join(f"{view} of {table}" for view, table in self.views.items())
        if self.drops:
            return f"Drop the views {named} (kept by a contract migration)"
        return f"Keep the old names while both releases run: views {named}"

    @property
    def migration_name_fragment(self) -> str:
        return f"view_{next(iter(self.views))}"

    def should_run(self, connection, forwards, states):
        if forwards == self.drops or self.renames:
            return True  # Dropping: IF EXISTS makes it safe to repeat.
        return self._columns(connection) is not None  # The table is there.

    def _run(self, app_label, schema_editor, captured, forwards, states):
        connection = schema_editor.connection
        if self.renames and connection.vendor in captured:
            done = self._renamed_already(
                schema_editor, forwards, captured[connection.vendor]
            )
            captured = {
                **captured,
                connection.vendor: [
                    statement
                    for statement in captured[connection.vendor]
                    if statement not in done
                ],
            }
            if (
                connection.vendor == "postgresql"
                and not schema_editor.collect_sql
                and not connection.in_atomic_block
            ):
                with transaction.atomic(using=connection.alias):
                    super()._run(app_label, schema_editor, captured, forwards, states)
                return
        if connection.vendor == "sqlite" and forwards != self.drops:
            # SQLite's old name is a shadow table made from the renamed one's
            # own definition, read now (capture/views/sqlite.py); then the
            # captured triggers.
            captured = {
                **captured,
                "sqlite": [*self._shadows(schema_editor), *captured["sqlite"]],
            }
        super()._run(app_label, schema_editor, captured, forwards, states)

    def _renamed_already(
        self, schema_editor, forwards: bool, statements: list[str]
    ) -> set[str]:
        """
        The statements of ``renames`` (back, backwards) whose work is done:
        of ``statements``, MariaDB's swaps (``capture/views/mysql.swap``)
        of the tables already under the name they get.
        """
        connection = schema_editor.connection
        if schema_editor.collect_sql:
            return set()
        with connection.cursor() as cursor:
            tables = set(connection.introspection.table_names(cursor))
        pairs = self.renames.items()
        if not forwards:
            pairs = [(new, old) for old, new in pairs]
        done = {
            rename_statement(schema_editor, before, after)
            for before, after in pairs
            if before not in tables or after in tables
        }
        if connection.vendor == "mysql":
            from ..capture.views.mysql import swapped

            for old, new in self.renames.items():
                if (new if forwards else old) in tables:
                    done.update(
                        statement
                        for statement in statements
                        if swapped(old, new, statement, forwards)
                    )
        # A renamed table's columns named after the model (a many-to-many
        # table's book_id): renamed under the table's new name, after it
        # forwards, before it backwards; done once the column it becomes is
        # there, under whichever name the table has now.
        for old, new in self.renames.items():
            renamed = self.columns.get(old, {})
            table = new if new in tables else old
            if not renamed or table not in tables:
                continue
            with connection.cursor() as cursor:
                present = {
                    column.name
                    for column in connection.introspection.get_table_description(
                        cursor, table
                    )
                }
            for view_column, column in renamed.items():
                before, after = (
                    (view_column, column) if forwards else (column, view_column)
                )
                if after in present or before not in present:
                    done.add(rename_column_statement(schema_editor, new, before, after))
        return done

    def _shadows(self, schema_editor) -> list[str]:
        from ..capture.views.sqlite import shadow

        statements = []
        for view, table in self.views.items():
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s",
                    [strip_quotes(table)],
                )
                row = cursor.fetchone()
                cursor.execute(
                    "SELECT name FROM pragma_table_info(%s)", [strip_quotes(table)]
                )
                names = [name for (name,) in cursor.fetchall()]
            if row is None:
                if schema_editor.collect_sql:
                    statements.append(
                        f"-- The table {view}, made at migrate time as {table} is"
                    )
                continue
            renamed = {new: old for old, new in self.columns.get(view, {}).items()}
            pairs = [(renamed.get(name, name), name) for name in names]
            statements += shadow(row[0], view, table, pairs)
        return statements


def rename_statement(schema_editor, old_table: str, new_table: str) -> str:
    """The schema editor's statement renaming ``old_table`` to ``new_table``."""
    quote = schema_editor.quote_name
    return schema_editor.sql_rename_table % {
        "old_table": quote(old_table),
        "new_table": quote(new_table),
    }


def rename_column_statement(
    schema_editor, table: str, old_column: str, new_column: str
) -> str:
    """
    The schema editor's statement renaming ``old_column`` of ``table``
    (``ALTER TABLE ... RENAME COLUMN``: every MariaDB Django supports).
    """
    quote = schema_editor.quote_name
    return schema_editor.sql_rename_column % {
        "table": quote(table),
        "old_column": quote(old_column),
        "new_column": quote(new_column),
    }
