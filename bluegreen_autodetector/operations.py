"""
The one operation cleanup migrations need beyond Django's own.

Contract migrations use stock operations only. A cleanup migration uses
``RunCleanupSQL``, a ``RunSQL`` that holds SQL captured per database vendor
and runs only the SQL captured for the vendor it migrates, because stock
``RunSQL`` cannot choose between vendors, and because on SQLite a later
release may already have rebuilt the table without the column it drops.
"""

from __future__ import annotations

from django.db import router
from django.db.migrations.operations import RunSQL


class RunCleanupSQL(RunSQL):
    """
    Drop a column (``column`` given) or a whole table that a contract
    migration left in the database but removed from Django's state.

    ``sql`` and ``reverse_sql`` map a vendor (``connection.vendor``) to the
    statements captured from that vendor's schema editor. Forwards, nothing
    runs when the column or table is already gone; backwards, nothing runs
    when it is already there. A vendor without captured SQL is an error, never
    a silent skip and never another vendor's SQL.
    """

    reversible = True

    def __init__(
        self,
        table: str,
        sql: dict[str, list[str]],
        reverse_sql: dict[str, list[str]],
        column: str | None = None,
        hints: dict | None = None,
        elidable: bool = False,
    ) -> None:
        self.table = table
        self.column = column
        super().__init__(
            sql=sql, reverse_sql=reverse_sql, hints=hints, elidable=elidable
        )

    def deconstruct(self):
        kwargs = {"table": self.table}
        if self.column is not None:
            kwargs["column"] = self.column
        kwargs["sql"] = self.sql
        kwargs["reverse_sql"] = self.reverse_sql
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = self.elidable
        return (self.__class__.__qualname__, [], kwargs)

    def describe(self) -> str:
        if self.column is None:
            return f"Drop table {self.table} (left by a contract migration)"
        return f"Drop column {self.column} of {self.table} (left by a contract migration)"

    @property
    def migration_name_fragment(self) -> str:
        if self.column is None:
            return f"drop_{self.table}"
        return f"drop_{self.table}_{self.column}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, self.sql, run_if_present=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, self.reverse_sql, run_if_present=False)

    def _run(self, app_label, schema_editor, captured, run_if_present):
        connection = schema_editor.connection
        if not router.allow_migrate(connection.alias, app_label, **self.hints):
            return
        vendor = connection.vendor
        if vendor not in captured:
            raise ValueError(
                f"{self.describe()}: this cleanup holds SQL captured for "
                f"{', '.join(sorted(captured)) or 'no vendor'}, not for {vendor!r}. "
                f"Add {vendor!r} to BLUEGREEN_VENDORS and recreate the cleanup "
                f"(see README, 'Several vendors'); never run another vendor's SQL."
            )
        # sqlmigrate collects SQL without running it: show every statement.
        if not schema_editor.collect_sql and self._present(connection) != run_if_present:
            return
        self._run_sql(schema_editor, captured[vendor])

    def _present(self, connection) -> bool:
        """Whether the dropped column or table exists now (at migrate time)."""
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
            if self.table not in tables:
                return False
            if self.column is None:
                return True
            description = connection.introspection.get_table_description(
                cursor, self.table
            )
        return any(column.name == self.column for column in description)
