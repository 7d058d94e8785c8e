"""
PostgreSQL at ``migrate`` time: its session lock timeout, the errors that
mean a statement gave up waiting for a lock, and the online forms of its
statements (``online_steps``; the statements and their forms are declared
in ``capture/postgresql.py``). The forms run only where the migration runs
outside a transaction (``atomic = False``, ``split/autocommit.py``).

Each step is skipped when the database already has what it makes, so a
migration that stopped part-way runs again.
"""

from __future__ import annotations

import hashlib
import re

from ..capture import postgresql as statements
from ..capture.postgresql import unquote

# SQLSTATE 55P03 (lock_not_available); a deadlock the server broke by
# aborting the migration (40P01) is retried the same way.
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"


def is_lock_timeout(cause: BaseException) -> bool:
    return getattr(cause, "sqlstate", None) in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED)


def lock_timeout(cursor) -> None:
    """What ``set_lock_timeout`` puts back: the server's own (``RESET``)."""
    return None


def set_lock_timeout(cursor, seconds: float | None) -> None:
    if seconds is None:
        cursor.execute("RESET lock_timeout")
    else:
        cursor.execute(f"SET lock_timeout = '{int(seconds * 1000)}ms'")


# -- online forms ---------------------------------------------------------------


def online_steps(editor, statement: str, params) -> list | None:
    """
    What runs for ``statement`` (``online.py``'s terms: (sql, params) to
    execute, or a callable given the function that executes those); None
    when it runs as written: in a transaction (the first statement's lock
    would be held to COMMIT), or with no online form.
    """
    outside = (
        not editor.atomic_migration
        if editor.collect_sql
        else not editor.connection.in_atomic_block
    )
    if params or not outside:
        return None
    # Unique and check constraints: their forms are declared as data.
    forms = _form_steps(editor, statement)
    if forms is not None:
        return forms
    if match := re.match(statements.CREATE_INDEX, statement):
        name = match["name"]
        create = (
            f"CREATE {match['unique'] or ''}INDEX CONCURRENTLY IF NOT EXISTS "
            f"{name} ON {match['rest']}"
        )
        if editor.collect_sql:
            return [(create, ())]
        return [create_concurrently(editor, name, create)]
    if match := re.match(statements.ADD_FOREIGN_KEY, statement):
        table, name = match["table"], match["name"]
        steps = [(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", ())]
        if editor.collect_sql or not _constraint_exists(
            editor.connection, table, unquote(name)
        ):
            steps.insert(0, (f"{statement} NOT VALID", ()))
        return steps
    if match := re.match(statements.SET_NOT_NULL, statement):
        table, column = match["table"], match["column"]
        if not editor.collect_sql and _not_null(editor.connection, table, column):
            return []
        check = editor.quote_name(_check_name(table, column))
        steps = [
            (f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}", ()),
            (statement, ()),
            (f"ALTER TABLE {table} DROP CONSTRAINT {check}", ()),
        ]
        if editor.collect_sql or not _constraint_exists(
            editor.connection, table, unquote(check)
        ):
            steps.insert(
                0,
                (
                    f"ALTER TABLE {table} ADD CONSTRAINT {check} "
                    f"CHECK ({column} IS NOT NULL) NOT VALID",
                    (),
                ),
            )
        return steps
    return None


def create_concurrently(editor, name: str, create: str):
    """The step that runs ``create``, a concurrent build of index ``name``."""

    def step(run):
        # A try that failed (a lock timeout, a duplicate) leaves an
        # invalid index under the name: drop it, build it again.
        valid = _index_valid(editor.connection, unquote(name))
        if valid:
            return
        if valid is False:
            run(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", ())
        run(create, ())

    return step


def _check_name(table: str, column: str) -> str:
    """A name for the temporary NOT NULL check, within PostgreSQL's 63 bytes."""
    base = f"{unquote(table.split('.')[-1])}_{unquote(column)}"
    digest = hashlib.md5(f"{table}.{column}".encode(), usedforsecurity=False)
    return f"{base[:40]}_{digest.hexdigest()[:8]}_notnull"


def _index_valid(connection, name: str) -> bool | None:
    """Whether the index ``name`` is valid; None if there is none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c "
            "ON c.oid = i.indexrelid WHERE c.relname = %s "
            "AND pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _constraint_exists(connection, table: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s "
            "AND conrelid = to_regclass(%s)",
            [name, table],
        )
        return cursor.fetchone() is not None


def _not_null(connection, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attname = %s",
            [table, unquote(column)],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _form_steps(editor, statement: str) -> list | None:
    """
    What runs for ``statement``, in ``online.py``'s terms: (sql, params) to
    execute, or a callable given the function that executes those; None
    when no form here matches.
    """
    for form in statements.FORMS:
        match = re.match(form.pattern, statement)
        if match is None:
            continue
        groups = {key: value or "" for key, value in match.groupdict().items()}
        if not editor.collect_sql and _there(editor.connection, form, groups):
            return []
        return [_step(editor, step, groups) for step in form.steps]
    return None


def _there(connection, form: statements.Form, groups: dict) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(form.there, [unquote(groups["name"]), groups["table"]])
        return cursor.fetchone() is not None


def _step(editor, step: statements.Step, groups: dict):
    sql = step.sql.format(**groups)
    if step.kind != "index" or editor.collect_sql:
        return (sql, ())
    return create_concurrently(editor, groups["name"], sql)
