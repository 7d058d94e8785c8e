"""
Short lock timeouts for ``migrate``, with bounded retries; on SQLite, each
migration takes the write lock first.

A DDL statement that waits for a table lock also makes every later query of
that table wait behind it (PostgreSQL's lock queue; MariaDB's metadata
locks), so one long-running reader can stall the whole site during a deploy.
With ``BLUEGREEN_LOCK_TIMEOUT``, every statement ``migrate`` runs on
PostgreSQL or MySQL/MariaDB gives up after that many seconds instead, and the
migration is tried again after a growing pause, ``BLUEGREEN_LOCK_RETRIES``
times at most. On SQLite the timeout is the busy timeout: how long a
migration waits for the other release's writes to let it write.

The timeout lives in the ``migrate`` command, not in the migrations: contract
migrations stay plain Django migrations. A migration is retried only when
that is safe: on PostgreSQL it ran in a transaction that was rolled back; on
MySQL/MariaDB (no transactional DDL) only if none of its statements had run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module

from django.core.management.base import CommandError
from django.core.management.commands import migrate as migrate_command
from django.db import DatabaseError

from .. import conf
from . import lock_order

# The statements of the migration being tried that changed something.
_executed: ContextVar[list | None] = ContextVar("bluegreen_executed", default=None)


# The pause before each retry after a lock timeout doubles from 0.5 s, up to
# 10 s: the one backoff of every retry loop at migrate time (a migration,
# one online statement, one backfill batch).
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 10


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt + 1`` (``attempt`` from 0)."""
    return min(FIRST_PAUSE * 2**attempt, LONGEST_PAUSE)


def statements_run() -> int | None:
    """
    How many statements of the migration being tried have changed
    something (None outside a try): while none has, a lock timeout retries
    the whole migration.
    """
    executed = _executed.get()
    return None if executed is None else len(executed)


def vendor(connection):
    """
    The module of ``connection``'s vendor (``runtime/<vendor>.py``: its lock
    timeout, its lock-timeout errors), or None for a vendor without one.
    """
    if connection.vendor not in _VENDORS:
        return None
    return import_module(f"{__package__}.{connection.vendor}")


_VENDORS = ("postgresql", "mysql", "sqlite")


def is_lock_timeout(connection, error: BaseException) -> bool:
    module = vendor(connection)
    return module is not None and module.is_lock_timeout(error.__cause__ or error)


def set_timeout(connection, seconds: float | None) -> None:
    """Set (or, with ``None``, put back) the session's lock timeout."""
    with connection.cursor() as cursor:
        vendor(connection).set_lock_timeout(cursor, seconds)


@contextmanager
def lock_timeouts(connection, log: Callable[[str], None]):
    """While the block runs, migrations on ``connection`` time out and retry."""
    module = vendor(connection)
    with _write_lock_first(connection, module):
        seconds = conf.lock_timeout()
        if not seconds or module is None:
            yield
            return
        # Django's migrate command builds its executor from the name its own
        # module imported, and offers no other way to choose the class: that
        # name is what is swapped (as django-syzygy's migrate does), never
        # Django's MigrationExecutor itself.
        swapped = migrate_command.MigrationExecutor
        migrate_command.MigrationExecutor = _retrying_executor(
            swapped, connection, seconds, conf.lock_retries(), log
        )
        with connection.cursor() as cursor:
            before = module.lock_timeout(cursor)
        set_timeout(connection, seconds)
        try:
            yield
        finally:
            migrate_command.MigrationExecutor = swapped
            set_timeout(connection, before)


def _retrying_executor(base, connection, seconds, retries, log) -> type:
    """
    A ``MigrationExecutor`` (subclass of ``base``) whose ``apply_migration``
    and ``unapply_migration`` are tried again after a lock timeout on
    ``connection`` (``_retrying``).
    """

    class RetryingExecutor(base):
        apply_migration = _retrying(
            base.apply_migration, connection, seconds, retries, log
        )
        unapply_migration = _retrying(
            base.unapply_migration, connection, seconds, retries, log
        )

    return RetryingExecutor


@contextmanager
def _write_lock_first(connection, module):
    """The vendor's ``write_lock_first`` (SQLite's), where it has one."""
    first = getattr(module, "write_lock_first", None)
    if first is None:
        yield
        return
    with first(connection):
        yield


def _retrying(original, connection, seconds, retries, log):
    """
    ``MigrationExecutor.apply_migration`` or ``unapply_migration``, tried
    again after a growing pause when ``connection`` timed out waiting for a
    lock, if nothing of the migration stayed applied.
    """

    def run(executor, state, migration, *args, **kwargs):
        if executor.connection is not connection:
            return original(executor, state, migration, *args, **kwargs)
        for attempt in range(retries + 1):
            executed = []
            token = _executed.set(executed)
            try:
                with (
                    connection.execute_wrapper(_count(executed)),
                    lock_order.locked_first(migration, state, connection, seconds),
                ):
                    # A migration changes the state it is given: each try
                    # starts from its own copy.
                    return original(executor, state.clone(), migration, *args, **kwargs)
            except DatabaseError as error:
                if not is_lock_timeout(connection, error):
                    raise
                rolled_back = connection.features.can_rollback_ddl and migration.atomic
                if attempt == retries or (executed and not rolled_back):
                    # One line, as migrate prints a CommandError.
                    raise CommandError(
                        f"{migration.app_label}.{migration.name} could not take "
                        f"its locks within {seconds}s, {attempt + 1} time(s): "
                        f"a long transaction holds them. Nothing of it was "
                        f"applied"
                        + (
                            "."
                            if rolled_back or not executed
                            else f" but its first {len(executed)} statement(s)."
                        )
                        + " Migrate again when it ends (BLUEGREEN_LOCK_TIMEOUT, "
                        "BLUEGREEN_LOCK_RETRIES)."
                    ) from error
                pause = backoff(attempt)
                log(
                    f"  {migration.app_label}.{migration.name}: lock not taken within "
                    f"{seconds}s (try {attempt + 1} of {retries + 1}); retrying in "
                    f"{pause}s"
                )
                time.sleep(pause)
            finally:
                _executed.reset(token)
        raise AssertionError("unreachable")

    return run


def _count(executed: list):
    """An execute wrapper recording every statement that changed something."""

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not str(sql).lstrip().upper().startswith(("SELECT", "SHOW", "SET")):
            executed.append(sql)
        return result

    return wrapper
