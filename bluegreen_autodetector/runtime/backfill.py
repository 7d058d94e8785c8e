"""
A rename's backfill at ``migrate`` time: fill the new column from the old
one in primary-key batches, each its own short transaction, sized by time.

- Batches follow the primary key (``WHERE pk > last ORDER BY pk LIMIT n``
  finds the batch's upper bound; the UPDATE covers that range), so no batch
  scans what an earlier one did; the batch size aims at a time per batch
  (``TARGET_SECONDS``, as pt-online-schema-change's ``--chunk-time``),
  doubling or shrinking after each batch. The target is 25 ms, not
  pt-online-schema-change's half second: a batch holds the rows it wrote
  (PostgreSQL, InnoDB) or the whole database (SQLite) until it commits, so
  a release's write to one of them waits as long as the batch
  (benchmarks/write_stall.py measured 204 ms stalls at 100,000 rows on
  PostgreSQL with half-second batches; the goal is 50 ms at most).
- Resumable: only rows where the two columns differ are written, so a
  ``migrate`` interrupted half-way continues where it stopped, and a row
  the releases wrote meanwhile (the synchronisation keeps it equal) is
  never written again.
- Each statement waits for a lock no longer than ``BLUEGREEN_LOCK_TIMEOUT``
  (the session's, set by ``migrate``); a batch that timed out is tried
  again after a pause, ``BLUEGREEN_LOCK_RETRIES`` times.
- Progress as ``migrate`` prints its own: rows done, rows per second, time
  left; on one updating line on a terminal, plain lines in a log.

Only ``migrate`` imports this module (through ``operations.CopyColumn``).
"""

from __future__ import annotations

import sys
import time

from django.db import DatabaseError, transaction

from .. import conf
from ..capture.sync import mysql, postgresql, sqlite
from ..capture.sync.common import copy_statement
from .locks import backoff, is_lock_timeout

TARGET_SECONDS = 0.025
FIRST_BATCH = 1000
MAX_BATCH = 100_000
_VENDORS = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}


def copy_column(
    connection, table: str, source: str, column: str, primary_key: str, out=None
) -> int:
    """Fill ``column`` from ``source`` in ``table``; return the rows written."""
    out = out or sys.stdout
    vendor = _VENDORS[connection.vendor]
    quote = vendor.quote
    t, s, c, pk = quote(table), quote(source), quote(column), quote(primary_key)
    differ = vendor.differ(c, s)
    if connection.in_atomic_block:
        # A migration run in a transaction (written atomic, or a test
        # database): batches cannot commit on their own; one statement.
        with connection.cursor() as cursor:
            cursor.execute(copy_statement(connection.vendor, table, source, column))
            return cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {t} WHERE {differ}")
        (todo,) = cursor.fetchone()
    if not todo:
        return 0
    progress = _Progress(out, f"{table}.{column}", todo)
    size, last, done = FIRST_BATCH, None, 0
    while True:
        started = time.monotonic()
        after = "" if last is None else f"{pk} > %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk} FROM {t}"
                + (f" WHERE {after}" if after else "")
                + f" ORDER BY {pk} LIMIT 1 OFFSET {size - 1}",
                [] if last is None else [last],
            )
            row = cursor.fetchone()
        upper = row[0] if row else None
        bounds, params = [], []
        if last is not None:
            bounds.append(f"{pk} > %s")
            params.append(last)
        if upper is not None:
            bounds.append(f"{pk} <= %s")
            params.append(upper)
        where = " AND ".join([*bounds, f"({differ})"])
        written = _batch(connection, f"UPDATE {t} SET {c} = {s} WHERE {where}", params)
        done += written
        elapsed = time.monotonic() - started
        progress.update(done)
        if upper is None:
            break
        last = upper
        # Aim each batch at TARGET_SECONDS: at most double, at least halve.
        scale = TARGET_SECONDS / max(elapsed, 1e-3)
        size = int(min(MAX_BATCH, max(1, size * min(2.0, max(0.5, scale)))))
    progress.finish(done)
    return done


def _batch(connection, sql: str, params: list) -> int:
    """One batch in its own transaction, retried after a lock timeout."""
    retries = conf.lock_retries()
    for attempt in range(retries + 1):
        try:
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.rowcount
        except DatabaseError as error:
            if attempt == retries or not is_lock_timeout(connection, error):
                raise
            time.sleep(backoff(attempt))
    raise AssertionError("unreachable")


class _Progress:
    """``rows done, rows/s, time left``: one updating line on a terminal."""

    def __init__(self, out, what: str, total: int) -> None:
        self.out = out
        self.what = what
        self.total = total
        self.started = time.monotonic()
        self.shown = self.started  # a first plain line after 5 s
        self.tty = getattr(out, "isatty", lambda: False)()
        # migrate has written "  Applying ..." without its end of line.
        self.out.write("\n")

    def _line(self, done: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = (self.total - done) / rate if rate and done < self.total else 0
        return (
            f"  Copying into {self.what}: {done}/{self.total} rows, "
            f"{rate:,.0f} rows/s, {left:.0f} s left"
        )

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.tty:
            self.out.write("\r" + self._line(done))
            self.out.flush()
        elif now - self.shown >= 5:  # A plain line every 5 s in a log.
            self.out.write(self._line(done) + "\n")
            self.shown = now

    def finish(self, done: int) -> None:
        line = self._line(done)
        self.out.write(("\r" + line + "\n") if self.tty else line + "\n")
        self.out.flush()
