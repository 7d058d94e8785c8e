"""
Columns kept equal while both releases run: ``RunSyncSQL`` (the triggers of
a rename or a retype, ``capture/sync/``), ``CopyColumn`` (the existing rows
copied in batches, ``runtime/backfill.py``), ``RunSwapSQL`` (a retype's
cleanup).
"""

from __future__ import annotations

from django.db import router
from django.db.migrations.operations.base import Operation

from ..operations import CleanupSQL


class RunSyncSQL(CleanupSQL):
    """
    A rename's synchronisation: triggers that keep column ``source`` (the
    old release's) and ``column`` (the new release's) of ``table`` equal in
    both directions (``sync/``). In a contract it installs them (``drops``
    False); in the cleanup it drops them (``drops`` True), before the old
    column goes. Its statements are idempotent (``IF EXISTS``, ``OR
    REPLACE``), so a migration stopped part-way runs again.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    def __init__(
        self,
        table: str,
        sql: dict[str, list[str]],
        reverse_sql: dict[str, list[str]],
        column: str | None = None,
        source: str | None = None,
        drops: bool = False,
        owner: str = "",
        state_operations=None,
        hints: dict | None = None,
        elidable: bool = False,
        tables: dict[str, str] | None = None,
    ) -> None:
        self.source = source
        self.drops = drops
        # "app_label.model_name" of the model whose many-to-many field the
        # table is, when it has no model of its own, maybe in another app
        # than the migration's (RunKeptColumnSQL): the verifier judges it.
        self.owner = owner
        super().__init__(
            table,
            sql,
            reverse_sql,
            column=column,
            state_operations=state_operations,
            hints=hints,
            elidable=elidable,
            tables=tables,
        )

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        ordered = {"table": kwargs.pop("table"), "column": kwargs.pop("column")}
        ordered["source"] = self.source
        if self.drops:
            ordered["drops"] = True
        if self.owner:
            ordered["owner"] = self.owner
        return name, args, {**ordered, **kwargs}

    def describe(self) -> str:
        pair = f"{self.table}.{self.source} and {self.column}"
        if self.drops:
            return f"Drop the synchronisation of {pair} (kept by a contract migration)"
        return f"Keep {pair} equal in both directions while both releases run"

    @property
    def migration_name_fragment(self) -> str:
        return f"sync_{self.table}_{self.column}"

    def should_run(self, connection, forwards, states):
        columns = self._columns(connection)
        if columns is None:
            return False
        if forwards == self.drops:
            return True  # Dropping: IF EXISTS makes it safe to repeat.
        # Creating: both columns must be there (a later SQLite rebuild, or a
        # reverse past the column's re-creation, may have left one out).
        return self.source in columns and self.column in columns


class RunKeptColumnSQL(RunSyncSQL):
    """
    A many-to-many table's column named after a renamed model (``book_id``
    of ``shop_shelf_books`` when Book becomes Volume), which Django's
    RenameModel renamed (``column``, ``volume_id``), kept under its old name
    (``source``) while both releases run: in a contract (``drops`` False)
    the old column is added and synchronised with the new one; in the
    cleanup (``drops`` True) the synchronisation and the old column are
    dropped (``capture/sync/common.kept_statements``). The table has no
    model state of its own, so the SQL is captured whole; ``owner`` names
    the model of the many-to-many field. PostgreSQL and
    MariaDB statements are idempotent (``IF [NOT] EXISTS``, ``OR
    REPLACE``); SQLite's run once, in the migration's transaction.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    def describe(self) -> str:
        if not self.drops:
            return super().describe()
        return (
            f"Drop {self.table}.{self.source} and its synchronisation with "
            f"{self.column} (kept by a contract migration)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"keep_{self.table}_{self.source}"

    def should_run(self, connection, forwards, states):
        columns = self._columns(connection)
        if columns is None:
            return False
        if connection.vendor != "sqlite":
            return True  # IF [NOT] EXISTS: safe to repeat.
        adds = forwards != self.drops
        return (self.source in columns) != adds


class RunKeptKeysSQL(RunKeptColumnSQL):
    """
    The keys of a many-to-many table's column added beside the one named
    after a renamed model, before the rename (PostgreSQL, MariaDB: the
    ``column`` ``volume_id`` beside ``source`` ``book_id``): its index, its
    unique pair, its foreign key and its NOT NULL, in Django's statements
    (``capture/sync/keys.py``), which ``migrate`` runs in their online
    forms (``runtime/online.py``), once the column is filled. Forwards, a
    constraint the table has already by its name is not added again (a
    contract stopped part-way, run again); backwards they are dropped.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    def describe(self) -> str:
        return (
            f"Add the index, unique, foreign key and NOT NULL of "
            f"{self.table}.{self.column} (kept equal to {self.source})"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"keys_{self.table}_{self.column}"

    def should_run(self, connection, forwards, states):
        # Backwards too: a column already dropped (a rollback stopped after
        # it, run again) took its keys with it.
        columns = self._columns(connection)
        return columns is not None and self.column in columns

    def _run(self, app_label, schema_editor, captured, forwards, states):
        connection = schema_editor.connection
        vendor = connection.vendor
        # PostgreSQL's online forms find what is there themselves.
        if forwards and not schema_editor.collect_sql and vendor == "mysql":
            if vendor in captured and self._columns(connection) is not None:
                with connection.cursor() as cursor:
                    there = set(
                        connection.introspection.get_constraints(
                            cursor, self.table_on(connection)
                        )
                    )
                captured = {
                    **captured,
                    vendor: [
                        statement
                        for statement in captured[vendor]
                        if _constraint_added(statement) not in there
                    ],
                }
        super()._run(app_label, schema_editor, captured, forwards, states)


def _constraint_added(statement: str) -> str | None:
    """The name ``ALTER TABLE ... ADD CONSTRAINT <name>`` gives, if it adds one."""
    import re

    match = re.search(r"ADD CONSTRAINT [`\"]?([^`\" ]+)", statement)
    return match[1] if match else None


class CopyColumn(Operation):
    """
    A rename's backfill: fill ``column`` of ``table`` from ``source`` where
    they differ, in primary-key batches (``backfill.py``), each its own
    transaction when the migration is not atomic. Nothing to undo
    backwards: the contract drops the new column.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    reversible = True
    reduces_to_sql = True

    def __init__(
        self,
        table: str,
        source: str,
        column: str,
        primary_key: str,
        hints: dict | None = None,
        casts: dict[str, str] | None = None,
    ) -> None:
        self.table = table
        self.source = source
        self.column = column
        self.primary_key = primary_key
        self.hints = hints or {}
        # A retype's: by vendor, the type ``column`` converts values to.
        self.casts = casts or {}

    def deconstruct(self):
        kwargs = {
            "table": self.table,
            "source": self.source,
            "column": self.column,
            "primary_key": self.primary_key,
        }
        if self.hints:
            kwargs["hints"] = self.hints
        if self.casts:
            kwargs["casts"] = self.casts
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        cast = self.casts.get(connection.vendor)
        if not router.allow_migrate(connection.alias, app_label, **self.hints):
            return
        if schema_editor.collect_sql:
            from ..capture.sync.common import copy_statement

            schema_editor.execute(
                copy_statement(
                    connection.vendor, self.table, self.source, self.column, cast
                )
            )
            return
        from ..runtime.backfill import copy_column

        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor, include_views=True)
            base = connection.introspection.table_names(cursor)
        if self.table in tables and self.table not in base:
            # A view now: the table was renamed after this copy, in the same
            # contract (a model's own many-to-many table on MariaDB), which
            # stopped after that and runs again; its triggers keep it equal.
            return
        copy_column(
            connection,
            self.table,
            self.source,
            self.column,
            self.primary_key,
            cast=cast,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self) -> str:
        return (
            f"Copy {self.table}.{self.source} into {self.column} (in batches; "
            f"resumable)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"copy_{self.table}_{self.column}"


class RunSwapSQL(RunSyncSQL):
    """
    A retype's cleanup (``split/catalogue/retypes.py``): drop the
    synchronisation of ``source`` (the column both releases wrote, of the
    old type) and ``column`` (the second column, of the new type), drop
    ``source`` and rename ``column`` to ``source``. It runs while
    ``column`` is there, so a migration stopped after it runs again;
    backwards, while it is not: the old column comes back, filled and
    synchronised.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    def should_run(self, connection, forwards, states):
        columns = self._columns(connection)
        if columns is None:
            return False
        return self._has_column(columns, connection) == forwards

    def describe(self) -> str:
        return (
            f"Drop {self.table}.{self.source} and rename {self.column} (of the new "
            f"type) to {self.source}"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"swap_{self.table}_{self.source}"
