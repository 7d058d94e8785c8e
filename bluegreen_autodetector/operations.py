"""
The operations cleanup migrations need beyond Django's own.

Contract migrations use stock operations only. Cleanup migrations hold SQL
captured per database vendor, which stock ``RunSQL`` cannot choose between,
and must cope with a table that a later release changed before they run
(on SQLite, stock Django's ``migrate`` carries out an ``AlterField`` by
rebuilding the table from its state, without the lingering column; the
package's keeps it: ``sqlite_rebuilds``). ``RunCleanupSQL`` and
``RunAlterSQL`` are ``RunSQL`` subclasses: ``sqlmigrate`` shows their SQL.

The operations of the overlap (a rename's, a retype's, a NOT NULL's fill)
are defined in ``overlap/`` and imported from here, their public path.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import router
from django.db.backends.utils import strip_quotes
from django.db.migrations.operations import RunSQL, SeparateDatabaseAndState

from . import lazy


def database_operations(ops):
    """The operations that run on the database, SeparateDatabaseAndState's opened."""
    for operation in ops:
        if isinstance(operation, SeparateDatabaseAndState):
            yield from database_operations(operation.database_operations)
        else:
            yield operation


class CleanupSQL(RunSQL):
    """
    SQL captured per vendor: ``sql`` and ``reverse_sql`` map a vendor
    (``connection.vendor``) to its statements. A vendor without captured SQL
    is an error, never a silent skip and never another vendor's SQL.
    """

    reversible = True

    def __init__(
        self,
        table: str,
        sql: dict[str, list[str]],
        reverse_sql: dict[str, list[str]],
        column: str | None = None,
        state_operations=None,
        hints: dict | None = None,
        elidable: bool = False,
        tables: dict[str, str] | None = None,
    ) -> None:
        self.table = table
        self.column = column
        # The table's name on a vendor where Django names it otherwise (a
        # long default name, truncated and hashed to the vendor's limit).
        self.tables = tables or {}
        super().__init__(
            sql=sql,
            reverse_sql=reverse_sql,
            state_operations=state_operations,
            hints=hints,
            elidable=elidable,
        )

    def deconstruct(self):
        kwargs = {"table": self.table}
        if self.column is not None:
            kwargs["column"] = self.column
        kwargs["sql"] = self.sql
        kwargs["reverse_sql"] = self.reverse_sql
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = self.elidable
        if self.tables:
            kwargs["tables"] = self.tables
        return (self.__class__.__qualname__, [], kwargs)

    def table_on(self, connection) -> str:
        """The table's name as Django's models name it on ``connection``."""
        return self.tables.get(connection.vendor, self.table)

    # Each step sees the states without and with it, whichever way it runs.
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        states = (from_state, to_state)
        self._run(app_label, schema_editor, self.sql, forwards=True, states=states)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        states = (to_state, from_state)
        self._run(app_label, schema_editor, self.reverse_sql, False, states)

    def should_run(self, connection, forwards: bool, states) -> bool:
        """
        Whether the database still needs this step (checked at migrate
        time); ``states`` are Django's states without and with this step.
        """
        raise NotImplementedError

    def check_rows(self, connection, states) -> None:
        """Before running forwards: stop if rows block this step (default: none)."""

    def _run(self, app_label, schema_editor, captured, forwards, states):
        connection = schema_editor.connection
        if not router.allow_migrate(connection.alias, app_label, **self.hints):
            return
        vendor = connection.vendor
        if vendor not in captured:
            raise CommandError(
                f"{self.describe()}: this cleanup holds SQL captured for "
                f"{', '.join(sorted(captured)) or 'no vendor'}, not for {vendor!r}. "
                f"Add {vendor!r} to BLUEGREEN_VENDORS and make the change again "
                f"(README, 'Several vendors'); another vendor's SQL never runs."
            )
        # sqlmigrate collects SQL without running it: show every statement.
        if not schema_editor.collect_sql:
            if not self.should_run(connection, forwards, states):
                return
            if forwards:
                self.check_rows(connection, states)
        self._run_sql(schema_editor, captured[vendor])
        if vendor == "sqlite" and not schema_editor.collect_sql:
            _reload_sqlite_schema(connection, captured[vendor])

    def _columns(self, connection) -> list[str] | None:
        """The table's columns now, or None if the table is gone."""
        table = self.table_on(connection)
        qualified = _schema_and_name(table)
        with connection.cursor() as cursor:
            if qualified is not None and connection.vendor == "postgresql":
                # introspection lists bare names on the search path only.
                cursor.execute(
                    "SELECT column_name FROM information_schema.columns WHERE "
                    "table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    list(qualified),
                )
                return [name for (name,) in cursor.fetchall()] or None
            table = server_name(connection, table)
            if table not in connection.introspection.table_names(cursor):
                return None
            description = connection.introspection.get_table_description(cursor, table)
        return [column.name for column in description]

    def _has_column(self, columns: list[str], connection) -> bool:
        return self.column is None or server_name(connection, self.column) in columns


class RunCleanupSQL(CleanupSQL):
    """
    Drop a column (``column`` given) or a whole table that a contract
    migration left in the database but removed from Django's state.

    Forwards, nothing runs when the column or table is already gone (stock
    Django's migrate rebuilt the table on SQLite); backwards, nothing runs
    when it is already there.
    """

    def describe(self) -> str:
        if self.column is None:
            return f"Drop table {self.table} (left by a contract migration)"
        return (
            f"Drop column {self.column} of {self.table} (left by a contract migration)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_{self.table}" + (f"_{self.column}" if self.column else "")

    def should_run(self, connection, forwards, states):
        columns = self._columns(connection)
        present = columns is not None and self._has_column(columns, connection)
        return present == forwards


class RunAlterSQL(CleanupSQL):
    """
    Finish a column the contract left tolerant of the old release: drop the
    database default it kept, set NOT NULL, or (``foreign_keys``) add the
    foreign-key constraint(s) it left out (``column`` None: both of an M2M
    table). ``state_operations`` bring Django's state to the model (until
    then the state says what the database holds).

    Rows that would violate the change stop it, named, before anything
    runs; it never changes them. With ``not_null``: rows holding NULL (with
    ``backfilled``, the ``FillColumn`` before it filled them; rows holding
    NULL again were written since).
    With ``foreign_keys``: rows naming a row that the old release deleted
    while the constraint waited.
    """

    # Django's writer serialises the arguments named in __init__'s signature.
    def __init__(
        self,
        table: str,
        sql: dict[str, list[str]],
        reverse_sql: dict[str, list[str]],
        column: str | None = None,
        not_null: bool = False,
        backfilled: bool = False,
        foreign_keys: bool = False,
        state_operations=None,
        hints: dict | None = None,
        elidable: bool = False,
        tables: dict[str, str] | None = None,
    ) -> None:
        self.not_null = not_null
        self.backfilled = backfilled
        self.foreign_keys = foreign_keys
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
        if self.not_null:
            kwargs["not_null"] = True
        if self.backfilled:
            kwargs["backfilled"] = True
        if self.foreign_keys:
            kwargs["foreign_keys"] = True
        return name, args, kwargs

    def describe(self) -> str:
        if self.foreign_keys:
            if self.column is None:
                return (
                    f"Add the foreign-key constraints of {self.table} (left out "
                    f"by a contract migration)"
                )
            return (
                f"Add the foreign-key constraint of {self.table}.{self.column} "
                f"(left out by a contract migration)"
            )
        what = "Set NOT NULL on" if self.not_null else "Drop the database default of"
        return f"{what} {self.table}.{self.column} (kept by a contract migration)"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.table}" + (f"_{self.column}" if self.column else "")

    def should_run(self, connection, forwards, states):
        columns = self._columns(connection)
        if columns is None or not self._has_column(columns, connection):
            return False
        if self.foreign_keys:
            # On MySQL an earlier try may have added them before a later
            # step stopped (DDL is not transactional): add what is missing.
            missing = self._missing_foreign_keys(connection, states)
            return bool(missing) if forwards else not missing
        # Filled by a FillColumn just before, or (a cleanup written by an
        # earlier version) by an UPDATE first in this step's own SQL.
        fills_itself = self.backfilled and any(
            statement.startswith("UPDATE ") and "IS NULL" in statement
            for statement in self.sql.get(connection.vendor, [])
        )
        if forwards and self.not_null and not fills_itself:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(self.table_on(connection))} "
                    f"WHERE {quote(self.column)} IS NULL"
                )
                (nulls,) = cursor.fetchone()
            if nulls and self.backfilled:
                raise CommandError(
                    f"{self.describe()}: {nulls} row(s) of {self.table} hold NULL in "
                    f"{self.column} again, written after the backfill that ran just "
                    f"before (is a release that writes NULL still serving?). This "
                    f"step changed nothing; migrate again: the backfill fills them."
                )
            if nulls:
                raise CommandError(
                    f"{self.describe()}: {nulls} row(s) of {self.table} hold NULL in "
                    f"{self.column}. Backfill them (UPDATE {self.table} SET "
                    f"{self.column} = ... WHERE {self.column} IS NULL, or a data "
                    f"migration before this one), then migrate again."
                )
        return True

    def _missing_foreign_keys(self, connection, states) -> set:
        """The constraints this step adds that the table does not have."""
        without, with_ = states
        table = self.table_on(connection)
        added = foreign_keys_of(with_, table) - foreign_keys_of(without, table)
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(
                cursor, server_name(connection, table)
            )
        present = {
            (column, *info["foreign_key"])
            for info in constraints.values()
            if info["foreign_key"]
            for column in info["columns"]
        }
        return added - present

    def check_rows(self, connection, states) -> None:
        if not self.foreign_keys:
            return
        from .runtime.rows import dangling_rows

        blocking = [
            line
            for foreign_key in sorted(self._missing_foreign_keys(connection, states))
            if (
                line := dangling_rows(
                    connection, states[1], self.table_on(connection), *foreign_key
                )
            )
        ]
        if blocking:
            raise CommandError(
                f"{self.describe()}: rows name rows that are gone (the old "
                f"release deleted them while the constraint waited, or a default "
                f"named a row that was never created):\n"
                + "\n".join(f"  {line}" for line in blocking)
                + "\nPoint those rows at rows that exist, set the column to NULL "
                "where it allows NULL, or delete them (an M2M link to a row that "
                "is gone links nothing), then migrate again. This step changed "
                "nothing; it never changes those rows itself."
            )


def server_name(connection, name: str) -> str:
    """
    The name the server gives a table or column that Django's models name
    ``name``: without the quotes of a quoted name (``'"LegacyBooks"'``, as
    Django's docs write a case-sensitive ``db_table``), and on PostgreSQL
    cut to its limit (63 bytes), which it does to longer identifiers that
    Django passes as they are (a ``db_table`` or ``db_column`` given).
    """
    if connection.ops.quote_name(name) == name:
        # Quoted as this vendor quotes (MySQL takes '"x"' as it is).
        name = strip_quotes(name)
    if connection.vendor == "postgresql":
        limit = connection.ops.max_name_length()
        name = name.encode()[:limit].decode(errors="ignore")
    return name


def _schema_and_name(table: str) -> tuple[str, str] | None:
    """
    (schema, table) of a schema-qualified ``db_table`` such as
    ``'"other"."book"'`` (quoted, as Django's docs write it), else None.
    """
    parts = table.split('"."')
    if len(parts) != 2 or not (table.startswith('"') and table.endswith('"')):
        return None
    return parts[0][1:], parts[1][:-1]


def foreign_keys_of(state, table: str) -> set[tuple[str, str, str]]:
    """
    (column, referenced table, referenced column) of each foreign-key
    constraint that Django's ``state`` declares on ``table``.
    """
    found = set()
    for model in state.apps.get_models(include_auto_created=True):
        if model._meta.db_table != table:
            continue
        for field in model._meta.local_concrete_fields:
            if field.is_relation and field.db_constraint:
                target = field.target_field
                found.add((field.column, target.model._meta.db_table, target.column))
    return found


def _reload_sqlite_schema(connection, statements: list[str]) -> None:
    """
    SQLite's documented way to change a default or a NOT NULL without a
    rebuild edits the table's SQL in sqlite_master; the schema version must
    then change so that every connection re-reads it.
    """
    if not any("sqlite_master" in statement for statement in statements):
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA schema_version")
        (version,) = cursor.fetchone()
        cursor.execute("PRAGMA writable_schema = ON")
        cursor.execute(f"PRAGMA schema_version = {version + 1}")
        cursor.execute("PRAGMA writable_schema = OFF")


# The operations of the overlap (``overlap/``), on their public path here,
# imported on first use: ``overlap`` imports this module.
_OVERLAP = {
    "RunSyncSQL": "columns",
    "RunKeptColumnSQL": "columns",
    "RunKeptKeysSQL": "columns",
    "CopyColumn": "columns",
    "RunSwapSQL": "columns",
    "RunViewSQL": "tables",
    "FillColumn": "fill",
}


__getattr__ = lazy.attributes(__name__, f"{__package__}.overlap", _OVERLAP)
