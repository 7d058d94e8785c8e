"""
Online DDL: ``migrate`` runs the statements that would hold a big table's
lock for as long as they scan or copy it in the vendor's online form.

The captured SQL of a cleanup stays what Django's schema editor wrote (what
``sqlmigrate`` of stock Django shows, reviewable in the PR), and stock
operations that pass through keep their stock SQL: the forms below are
chosen where the statements run, as the lock timeout is (``locks.py``),
because only the server tells which form it accepts.

PostgreSQL, where the migration runs outside a transaction (``atomic =
False``, which ``makemigrations`` writes when a migration needs it; in a
transaction the first statement's lock is held to COMMIT, so nothing here
would help):

- ``CREATE INDEX`` becomes ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``, after
  dropping an invalid index a failed try left under that name;
- ``ADD CONSTRAINT ... FOREIGN KEY`` is added ``NOT VALID``, then validated
  (``VALIDATE CONSTRAINT`` lets writes go on);
- ``SET NOT NULL`` is preceded by a ``CHECK (column IS NOT NULL) NOT VALID``
  constraint, validated, which ``SET NOT NULL`` uses instead of scanning the
  table (PostgreSQL 12 and later); the check is then dropped;
- a new unique constraint is a concurrent unique index, then ``ADD
  CONSTRAINT ... USING INDEX``; a new check is added ``NOT VALID``, then
  validated (``online_postgresql.py``, where those forms are declared).

Each step is skipped when the database already has what it makes, so a
migration that stopped part-way runs again.

MariaDB/MySQL (DDL is never transactional): every ``ALTER TABLE`` asks for
``ALGORITHM=INSTANT``, then ``NOCOPY`` (MariaDB only), then ``INPLACE`` with
``LOCK=NONE``, and runs as written only if the server refuses them all;
``CREATE INDEX`` asks for ``NOCOPY`` (MySQL: ``INPLACE``) with ``LOCK=NONE``. A foreign key is added with
``foreign_key_checks`` off, which lets InnoDB add it in place instead of
copying the table, after a query has found no row naming a row that is not
there (the check the server would otherwise make); a column added
nullable without a default together with its foreign key (a rename's new
column) holds only NULLs, which name no row: nothing to check.

In both, a statement that timed out waiting for a lock, in autocommit, is
tried again after a pause (``BLUEGREEN_LOCK_RETRIES``): it changed nothing.
SQLite has no concurrent writers to spare; its statements run as written.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db.migrations import Migration, operations

from .. import conf
from ..operations import CleanupSQL, CopyColumn
from .locks import backoff, is_lock_timeout, statements_run
from .rollback import database_operations
from .rows import dangling

# The server refused the algorithm or lock asked for (MariaDB/MySQL).
MYSQL_ALTER_NOT_SUPPORTED = (1845, 1846)
# The forms asked for, least locking first. NOCOPY is MariaDB's (10.3+);
# MySQL knows INSTANT and INPLACE.
MARIADB_ALGORITHMS = (
    ", ALGORITHM=INSTANT",
    ", ALGORITHM=NOCOPY, LOCK=NONE",
    ", ALGORITHM=INPLACE, LOCK=NONE",
    "",
)
MYSQL_ALGORITHMS = (", ALGORITHM=INSTANT", ", ALGORITHM=INPLACE, LOCK=NONE", "")
MARIADB_INDEX_ALGORITHMS = (" ALGORITHM=NOCOPY LOCK=NONE", "")
MYSQL_INDEX_ALGORITHMS = (" ALGORITHM=INPLACE LOCK=NONE", "")

# Patterns, not compiled ones: re compiles (and caches) each on first use,
# which most runs of makemigrations never come to.
_NAME = r'(?:"[^"]+"|`[^`]+`|\w+)'
_PG_CREATE_INDEX = (
    rf"(?s)^CREATE (?P<unique>UNIQUE )?INDEX (?P<name>{_NAME}) ON (?P<rest>.*)$"
)
_PG_ADD_FOREIGN_KEY = (
    rf"(?s)^ALTER TABLE (?P<table>{_NAME}(?:\.{_NAME})?) ADD CONSTRAINT "
    rf"(?P<name>{_NAME}) FOREIGN KEY .*$"
)
_PG_SET_NOT_NULL = (
    rf"^ALTER TABLE (?P<table>{_NAME}(?:\.{_NAME})?) ALTER COLUMN "
    rf"(?P<column>{_NAME}) SET NOT NULL$"
)
# Django's MySQL schema editor adds a column's foreign key in the ADD
# COLUMN statement itself.
_MYSQL_ADD_COLUMN_FOREIGN_KEY = (
    rf"^ALTER TABLE {_NAME} ADD COLUMN (?P<column>{_NAME}) (?P<definition>[^,]*?) ?, "
    rf"ADD CONSTRAINT {_NAME} FOREIGN KEY \((?P=column)\) REFERENCES {_NAME} ?"
    rf"\({_NAME}\)$"
)
_MYSQL_FOREIGN_KEY = (
    rf"^ALTER TABLE (?P<table>{_NAME}) ADD CONSTRAINT {_NAME} FOREIGN KEY "
    rf"\((?P<column>{_NAME})\) REFERENCES (?P<target>{_NAME}) "
    rf"\((?P<target_column>{_NAME})\)$"
)


def _unquote(name: str) -> str:
    return name[1:-1] if name[:1] in '"`' else name


# -- makemigrations: which migrations run outside a transaction ---------------


def needs_autocommit(migration: Migration, vendors: list[str]) -> bool:
    """
    Whether ``migration`` should be written ``atomic = False``: PostgreSQL is
    deployed on, and an operation builds an index of, validates a
    constraint on, or copies a column of (``CopyColumn``), a table that
    exists (one created by the same migration is empty and unused: its
    statements need no online form). A migration with
    ``RunPython`` or ``RunSQL`` of its author's stays atomic.
    """
    if "postgresql" not in vendors or not migration.atomic:
        return False
    created = {
        operation.name_lower
        for operation in migration.operations
        if isinstance(operation, operations.CreateModel)
    }
    online = False
    for operation in database_operations(migration.operations):
        if isinstance(operation, CleanupSQL):
            online = online or any(
                _pg_online_form(statement)
                for statement in operation.sql.get("postgresql", [])
            )
        elif isinstance(operation, (operations.RunPython, operations.RunSQL)):
            return False
        elif isinstance(operation, CopyColumn):
            # A rename's or retype's copy: in batches, each its own short
            # transaction, not one UPDATE holding the ADD COLUMN's lock.
            online = True
        elif isinstance(operation, operations.AddIndex):
            online = online or operation.model_name_lower not in created
        elif adds_constraint(operation):
            # A unique or check constraint on a table in use (online_postgresql).
            online = online or _model_name(operation) not in created
        elif isinstance(operation, operations.AddField):
            field = operation.field
            indexed = field.db_index or field.unique or field.is_relation
            online = online or (indexed and operation.model_name_lower not in created)
    return online


def adds_constraint(operation) -> bool:
    """Whether a stock operation may add a unique or check constraint."""
    if isinstance(
        operation, (operations.AddConstraint, operations.AlterUniqueTogether)
    ):
        return True
    return (
        isinstance(operation, operations.AlterField)
        and operation.field.unique
        and not operation.field.primary_key
    )


def _model_name(operation) -> str:
    return getattr(operation, "model_name_lower", None) or operation.name_lower


def _pg_online_form(statement: str) -> bool:
    from . import online_postgresql

    statement = statement.strip().rstrip(";")
    return online_postgresql.matches(statement) or any(
        re.match(pattern, statement.strip().rstrip(";"))
        for pattern in (_PG_CREATE_INDEX, _PG_ADD_FOREIGN_KEY, _PG_SET_NOT_NULL)
    )


# -- migrate and sqlmigrate: the statements as they run --------------------------


@contextmanager
def online_statements(connection, log=None) -> Iterator[None]:
    """
    While the block runs, the schema editors of ``connection`` run (or, for
    ``sqlmigrate``, show) each statement in its online form.
    """
    if connection.vendor not in ("postgresql", "mysql") or not conf.online_ddl():
        yield
        return
    original = connection.schema_editor

    def schema_editor(*args, **kwargs):
        editor = original(*args, **kwargs)
        execute = editor.execute

        def run(sql, params, alternatives=()):
            _first_accepted(editor, execute, sql, params, alternatives)

        def online_execute(sql, params=()):
            statement = str(sql).strip()
            if statement.endswith(";") and "\n" not in statement:
                statement = statement[:-1]
            steps = _steps(editor, statement, params)
            if steps is None:  # no online form: as Django wrote it
                return execute(sql, params)
            for step in steps:
                if callable(step):
                    _retrying(editor, lambda step=step: step(run), log)
                else:
                    _retrying(editor, lambda step=step: run(*step), log)

        editor.execute = online_execute
        return editor

    connection.schema_editor = schema_editor
    try:
        yield
    finally:
        del connection.schema_editor


def _first_accepted(editor, execute, sql, params, alternatives=()) -> None:
    """
    Execute ``sql`` with each suffix of ``alternatives`` in turn, until the
    server accepts one (``sqlmigrate``: show ``sql`` and the forms tried).
    """
    suffixes = alternatives or ("",)
    if editor.collect_sql:
        if len(suffixes) > 1:
            editor.collected_sql.append(
                "-- migrate runs the first form the server accepts of: "
                + " / ".join(s.strip(", ") or "as written" for s in suffixes)
            )
        execute(sql, params)
        return
    for suffix in suffixes:
        try:
            execute(sql + suffix, params)
            return
        except DatabaseError as error:
            if not _refused(editor.connection, error) or suffix == suffixes[-1]:
                raise


def _retrying(editor, step, log) -> None:
    """
    Run ``step``; in autocommit, once earlier statements of the migration
    have run, again after a growing pause when it timed out waiting for a
    lock (it changed nothing), ``BLUEGREEN_LOCK_RETRIES`` times at most.
    """
    connection = editor.connection
    retries = conf.lock_retries()
    for attempt in range(retries + 1):
        try:
            return step()
        except DatabaseError as error:
            if (
                editor.collect_sql
                or connection.in_atomic_block
                or not is_lock_timeout(connection, error)
                or attempt == retries
                # Before the migration changed anything, locks.py tries it
                # all again.
                or not statements_run()
            ):
                raise
            pause = backoff(attempt)
            if log is not None:
                log(
                    f"  lock not taken within {conf.lock_timeout()}s by a statement "
                    f"(try {attempt + 1} of {retries + 1}); retrying it in {pause}s"
                )
            time.sleep(pause)


def _refused(connection, error: BaseException) -> bool:
    cause = error.__cause__ or error
    return (
        connection.vendor == "mysql"
        and bool(cause.args)
        and cause.args[0] in MYSQL_ALTER_NOT_SUPPORTED
    )


def _steps(editor, statement: str, params):
    """
    What runs for ``statement``: (sql, params[, alternatives]) to execute, or
    a callable given the function that executes those; None when it runs as
    written.
    """
    vendor = editor.connection.vendor
    if vendor == "postgresql":
        outside = (
            not editor.atomic_migration
            if editor.collect_sql
            else not editor.connection.in_atomic_block
        )
        if outside and not params:
            return _postgresql(editor, statement)
    if vendor == "mysql" and not params:
        return _mysql(editor, statement)
    return None


def _postgresql(editor, statement: str) -> list:
    from . import online_postgresql

    # Unique and check constraints: their forms are declared there.
    forms = online_postgresql.steps(editor, statement)
    if forms is not None:
        return forms
    if match := re.match(_PG_CREATE_INDEX, statement):
        name = match["name"]
        create = (
            f"CREATE {match['unique'] or ''}INDEX CONCURRENTLY IF NOT EXISTS "
            f"{name} ON {match['rest']}"
        )
        if editor.collect_sql:
            return [(create, ())]
        return [create_concurrently(editor, name, create)]
    if match := re.match(_PG_ADD_FOREIGN_KEY, statement):
        table, name = match["table"], match["name"]
        steps = [(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", ())]
        if editor.collect_sql or not _pg_constraint_exists(
            editor.connection, table, _unquote(name)
        ):
            steps.insert(0, (f"{statement} NOT VALID", ()))
        return steps
    if match := re.match(_PG_SET_NOT_NULL, statement):
        table, column = match["table"], match["column"]
        if not editor.collect_sql and _pg_not_null(editor.connection, table, column):
            return []
        check = editor.quote_name(_check_name(table, column))
        steps = [
            (f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}", ()),
            (statement, ()),
            (f"ALTER TABLE {table} DROP CONSTRAINT {check}", ()),
        ]
        if editor.collect_sql or not _pg_constraint_exists(
            editor.connection, table, _unquote(check)
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
        valid = _pg_index_valid(editor.connection, _unquote(name))
        if valid:
            return
        if valid is False:
            run(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", ())
        run(create, ())

    return step


def _check_name(table: str, column: str) -> str:
    """A name for the temporary NOT NULL check, within PostgreSQL's 63 bytes."""
    base = f"{_unquote(table.split('.')[-1])}_{_unquote(column)}"
    digest = hashlib.md5(f"{table}.{column}".encode(), usedforsecurity=False)
    return f"{base[:40]}_{digest.hexdigest()[:8]}_notnull"


def _pg_index_valid(connection, name: str) -> bool | None:
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


def _pg_constraint_exists(connection, table: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s "
            "AND conrelid = to_regclass(%s)",
            [name, table],
        )
        return cursor.fetchone() is not None


def _pg_not_null(connection, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attname = %s",
            [table, _unquote(column)],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _mysql(editor, statement: str) -> list:
    mariadb = editor.connection.mysql_is_mariadb
    algorithms = MARIADB_ALGORITHMS if mariadb else MYSQL_ALGORITHMS
    index_algorithms = MARIADB_INDEX_ALGORITHMS if mariadb else MYSQL_INDEX_ALGORITHMS
    upper = statement.upper()
    if "ALGORITHM" in upper or "\n" in statement:
        return None
    if upper.startswith("CREATE INDEX ") or upper.startswith("CREATE UNIQUE INDEX "):
        return [(statement, (), index_algorithms)]
    if not upper.startswith("ALTER TABLE "):
        return None
    match = re.match(_MYSQL_FOREIGN_KEY, statement)
    if match is None:
        added = re.match(_MYSQL_ADD_COLUMN_FOREIGN_KEY, statement)
        if added is None or not _all_null(added["definition"]):
            return [(statement, (), algorithms)]
    connection = editor.connection
    if editor.collect_sql:
        return [
            ("SET SESSION foreign_key_checks = 0", ()),
            (statement, (), algorithms),
            ("SET SESSION foreign_key_checks = 1", ()),
        ]

    def add_in_place(run):
        if match is not None:
            _refuse_dangling(connection, match)
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION foreign_key_checks = 0")
        try:
            run(statement, (), algorithms)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION foreign_key_checks = 1")

    return [add_in_place]


def _all_null(definition: str) -> bool:
    """A column definition whose rows are all NULL once added."""
    upper = definition.upper().removesuffix(" UNIQUE")  # NULLs are never equal
    return upper.endswith("NULL") and "NOT NULL" not in upper and "DEFAULT" not in upper


def _refuse_dangling(connection, match) -> None:
    """The check InnoDB skips with foreign_key_checks off, made first."""
    table, column = match["table"], match["column"]
    target, target_column = match["target"], match["target_column"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) {dangling(table, column, (target, target_column))}"
        )
        (count,) = cursor.fetchone()
    if count:
        raise CommandError(
            f"Cannot add the foreign key of {_unquote(table)}.{_unquote(column)}: "
            f"{count} row(s) name a row of {_unquote(target)} that is not there. "
            f"Point them at rows that exist or set them to NULL, then migrate "
            f"again; nothing of this statement ran."
        )
