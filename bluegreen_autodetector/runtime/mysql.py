"""
MySQL and MariaDB at ``migrate`` time: the session's metadata-lock and row-lock
timeouts, and the errors that mean a statement gave up waiting for a lock.
"""

from __future__ import annotations

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
