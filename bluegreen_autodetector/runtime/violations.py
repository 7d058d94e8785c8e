"""
New unique and check constraints: rows that already break one stop
``migrate`` before any DDL of its migration, naming the first keys.

The database would refuse too, but late: on PostgreSQL after a concurrent
index build that leaves an invalid index behind, on MariaDB after the DDL
before it in the migration (not transactional: half-applied), on SQLite
after a table rebuild's copy; and its message names a value, not the rows.

What is looked for, per stock operation that adds one to a table that has
rows (``AddConstraint``, ``AlterUniqueTogether``, an ``AlterField`` that
makes a field unique): rows that repeat the values of a new unique
constraint (NULLs are distinct unless ``nulls_distinct=False``; only the
rows its ``condition`` covers), and rows for which a new check constraint's
condition is false (NULL passes, as in the database). A constraint the
vendor does not build (a conditional one on MariaDB) or over columns the
database does not have yet (added in the same migration) is not looked at.

Operations after a ``RunPython`` or ``RunSQL`` of their migration are not
looked at either (it may be the data fix the constraint waits for), nor,
before any DDL, the migrations after one in the plan: those are looked at
when their turn comes (``migrate``'s progress callback), still before their
own first statement.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import models, router
from django.db.backends.utils import truncate_name
from django.db.migrations import Migration, operations
from django.db.migrations.loader import MigrationLoader

from ..operations import CleanupSQL, database_operations, server_name
from ..split.autocommit import adds_constraint
from .rows import SAMPLE, named_keys, selected


class Checker:
    """
    Looks at the rows of ``connection`` for each migration of a ``migrate``
    run once, before its DDL; ``loader`` gives the states.
    """

    def __init__(self, connection) -> None:
        self.connection = connection
        self.loader: MigrationLoader | None = None
        self.checked: set[tuple[str, str]] = set()
        self.tables: set[str] | None = None  # read once, when first needed

    def refuse_plan(self, plan: list[tuple[Migration, bool]]) -> None:
        """Before any DDL: each migration applied up to the first data change."""
        for migration, backwards in plan:
            if backwards:
                continue
            complete = self.refuse(migration)
            if not complete or _changes_data(_database_ops(migration.operations)):
                return  # what comes after may fix the rows: looked at later

    def refuse(self, migration: Migration) -> bool:
        """
        Raise CommandError if rows break a constraint that ``migration``
        adds. Whether every constraint it adds was looked at (False: one's
        table or columns are not there yet).
        """
        key = (migration.app_label, migration.name)
        if key in self.checked:
            return True
        if not any(adds_constraint(op) for op in migration.operations):
            self.checked.add(key)
            return True
        self.tables = None  # earlier migrations may have created some
        if self.loader is None:
            self.loader = MigrationLoader(self.connection)
        # Django's states, not rendered unless a table the constraint goes
        # on has rows: a fresh database (the test runner's) costs nothing.
        state = self.loader.project_state(key, at_end=False)
        found, complete = [], True
        for operation in migration.operations:
            if _changes_data(_database_ops([operation])):
                break
            if not adds_constraint(operation):
                operation.state_forwards(migration.app_label, state)
                continue
            name = getattr(operation, "model_name_lower", None) or operation.name_lower
            rows = self._has_rows(state, migration.app_label, name)
            if not rows:
                operation.state_forwards(migration.app_label, state)
                complete = complete and rows is not None
                continue
            before = state.apps.get_model(migration.app_label, name)
            operation.state_forwards(migration.app_label, state)
            after = state.apps.get_model(migration.app_label, name)
            if not router.allow_migrate_model(self.connection.alias, after):
                continue
            lines, seen = self._violations(before, after)
            found += lines
            complete = complete and seen
        if found:
            raise CommandError(
                f"Cannot apply {key[0]}.{key[1]}: "
                + "; ".join(found)
                + ". Fix or delete those rows, then migrate again; nothing of "
                "this migration ran."
            )
        if complete:
            self.checked.add(key)
        return complete

    def _has_rows(self, state, app_label: str, name: str) -> bool | None:
        """Whether the model's table has rows; None if it is not there yet."""
        model = state.models[app_label, name]
        if model.options.get("proxy") or not model.options.get("managed", True):
            return False  # Django builds nothing for it
        table = model.options.get("db_table") or truncate_name(
            f"{app_label}_{name}", self.connection.ops.max_name_length()
        )
        table = server_name(self.connection, table)
        if self.tables is None:
            with self.connection.cursor() as cursor:
                self.tables = set(self.connection.introspection.table_names(cursor))
        if table not in self.tables:
            return None
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")
            return cursor.fetchone() is not None

    def _violations(self, before, after) -> tuple[list[str], bool]:
        connection = self.connection
        table = after._meta.db_table
        columns = _columns(connection, table)
        if columns is None:
            return [], False
        editor = connection.schema_editor()
        found, seen = [], True
        old = _uniques(before)
        for key, (fields, constraint) in _uniques(after).items():
            if key in old or not _builds(editor, constraint):
                continue
            if not {f.column for f in fields} <= columns:
                seen = False
                continue
            line = _repeated(connection, editor, after, fields, constraint)
            found += [line] if line else []
        old_checks = _checks(before)
        for key, constraint in _checks(after).items():
            if key in old_checks:
                continue
            if not connection.features.supports_table_check_constraints:
                continue
            named = constraint.condition.referenced_base_fields
            if not {after._meta.get_field(n).column for n in named} <= columns:
                seen = False
                continue
            line = _broken(connection, editor, after, constraint)
            found += [line] if line else []
        return found, seen


def _database_ops(ops):

    return list(database_operations(ops))


def _changes_data(ops) -> bool:
    """A RunPython, or a RunSQL of the author's (the package's own change no row)."""
    return any(
        isinstance(op, operations.RunPython)
        or (isinstance(op, operations.RunSQL) and not isinstance(op, CleanupSQL))
        for op in ops
    )


def _columns(connection, table: str) -> set[str] | None:
    """The columns of ``table`` in the database; None if it is not there."""
    name = server_name(connection, table)
    with connection.cursor() as cursor:
        if name not in connection.introspection.table_names(cursor):
            return None
        return {
            column.name
            for column in connection.introspection.get_table_description(cursor, name)
        }


def _uniques(model) -> dict:
    """
    Each unique constraint ``model`` declares over fields, however it is
    declared: (sorted columns, condition, nulls_distinct) -> (fields,
    the UniqueConstraint or None).
    """
    meta = model._meta
    found = {}

    def add(fields, constraint=None):
        condition = getattr(constraint, "condition", None)
        nulls = getattr(constraint, "nulls_distinct", None)
        key = (tuple(sorted(f.column for f in fields)), repr(condition), nulls)
        found.setdefault(key, (fields, constraint))

    for field in meta.local_concrete_fields:
        if field.unique and not field.primary_key:
            add([field])
    for together in meta.unique_together:
        add([meta.get_field(name) for name in together])
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            add([meta.get_field(name) for name in constraint.fields], constraint)
    return found


def _checks(model) -> dict:
    return {
        (constraint.name, repr(constraint.condition)): constraint
        for constraint in model._meta.constraints
        if isinstance(constraint, models.CheckConstraint)
    }


def _builds(editor, constraint) -> bool:
    """Whether the vendor builds ``constraint`` (MariaDB skips a conditional one)."""
    if constraint is None:
        return True
    return editor._unique_supported(
        condition=constraint.condition,
        deferrable=constraint.deferrable,
        include=constraint.include,
        expressions=constraint.expressions,
        nulls_distinct=constraint.nulls_distinct,
    )


def _repeated(connection, editor, model, fields, constraint) -> str | None:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    columns = [quote(field.column) for field in fields]
    where = []
    if getattr(constraint, "nulls_distinct", None) is not False:
        where += [f"{column} IS NOT NULL" for column in columns]
    if constraint is not None and constraint.condition is not None:
        where.append(f"({constraint._get_condition_sql(model, editor)})")
    condition = " AND ".join(where) or "1 = 1"
    grouped = ", ".join(columns)
    keys = ", ".join(quote(field.column) for field in model._meta.pk_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {grouped}, COUNT(*) FROM {quote(table)} WHERE {condition} "
            f"GROUP BY {grouped} HAVING COUNT(*) > 1 ORDER BY {grouped}"
        )
        groups = cursor.fetchall()
        if not groups:
            return None
        count = sum(group[-1] for group in groups)
        sample = []
        for group in groups:
            if len(sample) >= SAMPLE:
                break
            same = " AND ".join(
                f"{column} IS NULL" if value is None else f"{column} = %s"
                for column, value in zip(columns, group[:-1], strict=False)
            )
            cursor.execute(
                # With parameters, a % of the condition's SQL is written %%.
                f"SELECT {keys} FROM {quote(table)} "
                f"WHERE {condition.replace('%', '%%')} AND {same} "
                f"ORDER BY {keys}",
                [value for value in group[:-1] if value is not None],
            )
            sample += cursor.fetchall()
    sample = sample[:SAMPLE]
    names = ", ".join(field.column for field in fields)
    return (
        f"{count} row(s) of {table} repeat values of ({names}) that its new unique "
        f"constraint forbids (primary keys {named_keys(connection, model, sample)}"
        f"{', ...' if count > len(sample) else ''})"
    )


def _broken(connection, editor, model, constraint) -> str | None:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    check = constraint._get_check_sql(model, editor)
    count, keys = selected(
        connection, model, f"FROM {quote(table)} c WHERE NOT ({check})"
    )
    if not count:
        return None
    return (
        f"{count} row(s) of {table} break its new check constraint "
        f"{constraint.name} ({check}) (primary keys {keys})"
    )
