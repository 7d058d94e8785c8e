"""
MySQL and MariaDB at ``migrate`` time: the session's metadata-lock and
row-lock timeouts, the errors that mean a statement gave up waiting for a
lock, and the online forms of its statements (``online_steps``; DDL is never
transactional here).

Every ``ALTER TABLE`` asks for ``ALGORITHM=INSTANT``, then ``NOCOPY``
(MariaDB only), then ``INPLACE`` with ``LOCK=NONE``, and runs as written
only if the server refuses them all; ``CREATE INDEX`` asks for ``NOCOPY``
(MySQL: ``INPLACE``) with ``LOCK=NONE``. A foreign key is added with
``foreign_key_checks`` off, which lets InnoDB add it in place instead of
copying the table, after a query has found no row naming a row that is not
there (the check the server would otherwise make); a column added nullable
without a default together with its foreign key (a rename's new column)
holds only NULLs, which name no row: nothing to check.
"""

from __future__ import annotations

import re

from django.core.management.base import CommandError

from .rows import dangling

# Error 1205 (lock wait timeout); a deadlock the server broke by aborting the
# migration (1213) is retried the same way.
LOCK_WAIT_TIMEOUT = 1205
LOCK_DEADLOCK = 1213


def is_lock_timeout(cause: BaseException) -> bool:
    return bool(cause.args) and cause.args[0] in (LOCK_WAIT_TIMEOUT, LOCK_DEADLOCK)


def lock_timeout(cursor) -> None:
    """What ``set_lock_timeout`` puts back: the server's own (``DEFAULT``)."""
    return None


def set_lock_timeout(cursor, seconds: float | None) -> None:
    if seconds is None:
        cursor.execute("SET SESSION lock_wait_timeout = DEFAULT")
        cursor.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT")
    else:
        whole = max(1, round(seconds))
        cursor.execute(f"SET SESSION lock_wait_timeout = {whole}")
        cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {whole}")


# -- online forms ---------------------------------------------------------------

# The server refused the algorithm or lock asked for (MariaDB/MySQL).
ALTER_NOT_SUPPORTED = (1845, 1846)
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

NAME = r'(?:"[^"]+"|`[^`]+`|\w+)'
# Django's MySQL schema editor adds a column's foreign key in the ADD
# COLUMN statement itself.
ADD_COLUMN_FOREIGN_KEY = (
    rf"^ALTER TABLE {NAME} ADD COLUMN (?P<column>{NAME}) (?P<definition>[^,]*?) ?, "
    rf"ADD CONSTRAINT {NAME} FOREIGN KEY \((?P=column)\) REFERENCES {NAME} ?"
    rf"\({NAME}\)$"
)
FOREIGN_KEY = (
    rf"^ALTER TABLE (?P<table>{NAME}) ADD CONSTRAINT {NAME} FOREIGN KEY "
    rf"\((?P<column>{NAME})\) REFERENCES (?P<target>{NAME}) "
    rf"\((?P<target_column>{NAME})\)$"
)


def unquote(name: str) -> str:
    return name[1:-1] if name[:1] in '"`' else name


def refused(error: BaseException) -> bool:
    """The server refused the algorithm or lock asked for."""
    cause = error.__cause__ or error
    return bool(cause.args) and cause.args[0] in ALTER_NOT_SUPPORTED


def online_steps(editor, statement: str, params) -> list | None:
    """
    What runs for ``statement`` (``online.py``'s terms: (sql, params[,
    alternatives]) to execute, or a callable given the function that
    executes those); None when it runs as written.
    """
    if params:
        return None
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
    match = re.match(FOREIGN_KEY, statement)
    if match is None:
        added = re.match(ADD_COLUMN_FOREIGN_KEY, statement)
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
            f"Cannot add the foreign key of {unquote(table)}.{unquote(column)}: "
            f"{count} row(s) name a row of {unquote(target)} that is not there. "
            f"Point them at rows that exist or set them to NULL, then migrate "
            f"again; nothing of this statement ran."
        )
