"""
SQLite at ``migrate`` time: its busy timeout (how long a migration waits for
the other release's writes to let it write), the error that means it gave
up, and each migration's transaction taking the write lock first.
"""

from __future__ import annotations

from contextlib import contextmanager

SQLITE_BUSY = 5


def is_lock_timeout(cause: BaseException) -> bool:
    code = getattr(cause, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY


def lock_timeout(cursor) -> float:
    """The busy timeout now (seconds), for ``set_lock_timeout`` to put back."""
    cursor.execute("PRAGMA busy_timeout")
    (milliseconds,) = cursor.fetchone()
    return milliseconds / 1000


def set_lock_timeout(cursor, seconds: float | None) -> None:
    if seconds is not None:
        cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


@contextmanager
def write_lock_first(connection):
    """
    Each migration's transaction takes the database's write lock when it
    begins (``BEGIN IMMEDIATE``), waiting its turn. A deferred transaction
    that has read (a cleanup checks what the table holds) and then writes
    gets "database is locked" at once while another connection writes:
    SQLite does not wait where waiting could deadlock.
    """
    # Connecting sets transaction_mode from the settings: connect first.
    connection.ensure_connection()
    mode = connection.transaction_mode
    connection.transaction_mode = "IMMEDIATE"
    try:
        yield
    finally:
        connection.transaction_mode = mode
