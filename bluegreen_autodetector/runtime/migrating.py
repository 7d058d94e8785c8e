"""
What ``migrate`` does around Django's own, at run time: the one with-block
its ``handle`` enters.

Outermost first, around Django's ``migrate.Command.handle``:

1. ``locks.lock_timeouts``: on SQLite each migration takes the write lock
   first (``BEGIN IMMEDIATE``); on PostgreSQL, MySQL/MariaDB and SQLite the
   session's lock timeout is short, and Django's migrate command builds a
   ``RetryingExecutor`` (its module's ``MigrationExecutor`` name swapped):
   a migration that times out waiting for a lock is tried again after
   ``locks.backoff``, each try taking its tables' locks first on PostgreSQL
   (``lock_order.locked_first``, for the migration being applied);
2. ``online.online_statements``: the connection's schema editors run each
   statement that would hold a big table's lock while it scans or copies in
   the vendor's online form, each step retried after ``locks.backoff``;
3. ``sqlite_rebuilds.keeping_what_lingers``: on SQLite, Django's table
   rebuilds keep the columns and triggers its state does not know;
4. ``sqlite_in_place.altering_in_place``: on SQLite, an AlterField that
   changes no stored value (a type within one affinity, NOT NULL, an inline
   foreign key, a plain index) edits the table's SQL in ``sqlite_master``
   instead of Django's rebuild;
5. ``resume.resuming_contracts``: a rename's contract that a killed
   ``migrate`` left half-done continues where it stopped;
6. ``permissions.keeping_old_codenames``: from Django 6.1, a model
   rename's contract keeps the permissions' old codenames beside those
   Django renames, for the old release; its cleanup deletes them;
7. ``content_types.renaming_content_types``: a contract whose RenameModel
   is on the state only renames the model's ContentType row, as Django
   does after a RenameModel of its own.

Inside them, two hooks of Django's own run the guards before any DDL (the
command connects and disconnects them): the ``pre_migrate`` signal judges
the plan (``release.releases.refuse_same_deploy``, ``release.guard``, and
``rollback.refuse_blocked_plan``, ``violations.Checker.refuse_plan``), and
the progress callback stops a rollback that rows block
(``rollback.refuse_if_blocked``) and, before each migration's first DDL, a
new unique or check constraint that rows break (``violations.Checker``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from . import (
    content_types,
    locks,
    online,
    permissions,
    resume,
    sqlite_in_place,
    sqlite_rebuilds,
)


@contextmanager
def migrating(connection, log: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, ``migrate`` on ``connection`` runs as above."""
    with (
        locks.lock_timeouts(connection, log),
        online.online_statements(connection, log),
        sqlite_rebuilds.keeping_what_lingers(connection, log),
        sqlite_in_place.altering_in_place(connection),
        resume.resuming_contracts(connection, log),
        permissions.keeping_old_codenames(connection.alias),
        content_types.renaming_content_types(connection.alias),
    ):
        yield
