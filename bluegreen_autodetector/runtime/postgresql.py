"""
PostgreSQL at ``migrate`` time: its session lock timeout, and the errors
that mean a statement gave up waiting for a lock.
"""

from __future__ import annotations

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
