"""
Online DDL: ``migrate`` runs the statements that would hold a big table's
lock for as long as they scan or copy it in the vendor's online form.

The captured SQL of a cleanup stays what Django's schema editor wrote (what
``sqlmigrate`` of stock Django shows, reviewable in the PR), and stock
operations that pass through keep their stock SQL: the forms are chosen
where the statements run, as the lock timeout is (``locks.py``), because
only the server tells which form it accepts.

The forms are each vendor's (``online_steps`` of ``runtime/<vendor>.py``):

- PostgreSQL, where the migration runs outside a transaction (``atomic =
  False``, which ``makemigrations`` writes when a migration needs it,
  ``split/autocommit.py``): concurrent indexes, foreign keys and check
  constraints added ``NOT VALID`` then validated, ``SET NOT NULL`` through
  a validated check, unique constraints from a concurrent unique index
  (declared as data in ``capture/postgresql.py``);
- MariaDB/MySQL (DDL is never transactional): ``ALGORITHM=INSTANT``, then
  ``NOCOPY``, then ``INPLACE`` with ``LOCK=NONE``, the first the server
  accepts; foreign keys added in place with ``foreign_key_checks`` off,
  after a query found no row that would break them.

Here, in one place for every vendor: the schema editor's ``execute``
swapped for one that runs each statement's steps, the first accepted of a
step's alternatives, and a statement that timed out waiting for a lock, in
autocommit, tried again after a pause (``BLUEGREEN_LOCK_RETRIES``): it
changed nothing. SQLite has no concurrent writers to spare; its statements
run as written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError

from .. import conf
from .editors import editors_changed
from .locks import backoff, is_lock_timeout, statements_run, vendor

# -- migrate and sqlmigrate: the statements as they run --------------------------


@contextmanager
def online_statements(connection, log=None) -> Iterator[None]:
    """
    While the block runs, the schema editors of ``connection`` run (or, for
    ``sqlmigrate``, show) each statement in its online form.
    """
    if getattr(vendor(connection), "online_steps", None) is None or not (
        conf.online_ddl()
    ):
        yield
        return

    def change(editor):
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

    with editors_changed(connection, change):
        yield


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
    """The server refused the form asked for (the vendor's ``refused``)."""
    refused = getattr(vendor(connection), "refused", None)
    return refused is not None and refused(error)


def _steps(editor, statement: str, params):
    """
    What runs for ``statement``: (sql, params[, alternatives]) to execute, or
    a callable given the function that executes those; None when it runs as
    written (the vendor's ``online_steps``, ``runtime/<vendor>.py``).
    """
    online_steps = getattr(vendor(editor.connection), "online_steps", None)
    return None if online_steps is None else online_steps(editor, statement, params)
