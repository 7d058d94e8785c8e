"""
Backfills at ``migrate`` time, in primary-key batches, each its own short
transaction, sized by time: a rename's (fill the new column from the old
one, ``copy_column``) and a NOT NULL's (fill the NULLs the old release left,
from the field's default, ``fill_column``).

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
- A pause after each batch, half as long as the batch took
  (``PAUSE_RATIO``): batches written back to back outrun the database's
  background writers (PostgreSQL's WAL writer and buffer eviction, with
  ``shared_buffers`` smaller than the table), and then the release's writes
  wait for that I/O, INSERTs no batch holds as much as UPDATEs (write_stall
  at 1,000,000 rows on PostgreSQL, a retype's copy, four runs each on a
  loaded machine: p99 83, 96, 24, 14 ms without the pause, 19, 19, 16,
  16 ms with it; the longest write did not reliably shrink, and the copy
  ran at 45,000 rows/s instead of 72,000; docs/measured.md).
- Resumable: only rows where the two columns differ (or that still hold
  NULL) are written, so a ``migrate`` interrupted half-way continues where
  it stopped, and a row the releases wrote meanwhile (the synchronisation
  keeps it equal, or it holds a value) is never written again.
- Each statement waits for a lock no longer than ``BLUEGREEN_LOCK_TIMEOUT``
  (the session's, set by ``migrate``); a batch that timed out is tried
  again after a pause, ``BLUEGREEN_LOCK_RETRIES`` times.
- Progress as ``migrate`` prints its own: rows done, rows per second, time
  left; on one updating line on a terminal, plain lines in a log.

Only ``migrate`` imports this module (through ``operations.CopyColumn`` and
``operations.FillColumn``).
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
# A NOT NULL's fill writes rows both releases use: short batches, so that
# an old release's write to one of them waits little (issue 27's 50 ms).
FILL_TARGET_SECONDS = 0.05
FILL_FIRST_BATCH = 100
# The pause after a batch, as a share of the time the batch took.
PAUSE_RATIO = 0.5
_VENDORS = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}


def copy_column(
    connection,
    table: str,
    source: str,
    column: str,
    primary_key: str,
    out=None,
    cast: str | None = None,
) -> int:
    """
    Fill ``column`` from ``source`` in ``table``; return the rows written.
    ``cast``: ``column``'s type, to convert ``source``'s values to (a retype's).
    """
    vendor = _VENDORS[connection.vendor]
    quote = vendor.quote
    t, s, c = quote(table), quote(source), quote(column)
    if cast is not None:
        s = vendor.cast(s, cast)
    differ = vendor.differ(c, s)
    if connection.in_atomic_block:
        # A migration run in a transaction (written atomic, or a test
        # database): batches cannot commit on their own; one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                copy_statement(connection.vendor, table, source, column, cast)
            )
            return cursor.rowcount

    def write(cursor, where: str, params: list) -> int:
        cursor.execute(f"UPDATE {t} SET {c} = {s} WHERE {where}", params)
        return cursor.rowcount

    return in_batches(
        connection,
        table,
        primary_key,
        differ,
        write,
        f"Copying into {table}.{column}",
        out,
    )


def fill_column(
    connection,
    table: str,
    column: str,
    primary_key: str,
    value,
    each_row: bool,
    placeholder: str = "%s",
    out=None,
) -> int:
    """
    Fill the NULLs of ``column`` in ``table``; return the rows written.
    ``value()`` gives a value in the column's database form; with
    ``each_row`` it is called once per row (a callable default such as
    ``uuid.uuid4``: each row its own value), else once for them all.
    ``placeholder`` is how a value is written in SQL (PostgreSQL: a CAST to
    the column's type, which a CASE of parameters lacks). Resumable: only
    rows still NULL are written. Batches aim at ``FILL_TARGET_SECONDS``: an
    old release's write to a row of the batch waits for its COMMIT.
    """
    quote = _VENDORS[connection.vendor].quote
    t, c, pk = quote(table), quote(column), quote(primary_key)
    null = f"{c} IS NULL"
    # Three parameters a row: SQLite takes 999 at most (Django's limit).
    per_statement = (connection.features.max_query_params or 3000) // 3

    def write(cursor, where: str, params: list) -> int:
        if not each_row:
            cursor.execute(f"UPDATE {t} SET {c} = %s WHERE {where}", [value(), *params])
            return cursor.rowcount
        cursor.execute(f"SELECT {pk} FROM {t} WHERE {where}", params)
        keys = [key for (key,) in cursor.fetchall()]
        for start in range(0, len(keys), per_statement):
            chunk = keys[start : start + per_statement]
            # One statement for the chunk, each row its own value; a row
            # another writer filled meanwhile keeps its value.
            cases = " ".join(f"WHEN %s THEN {placeholder}" for _ in chunk)
            cursor.execute(
                f"UPDATE {t} SET {c} = CASE {pk} {cases} END WHERE {pk} IN "
                f"({', '.join(['%s'] * len(chunk))}) AND {null}",
                [item for key in chunk for item in (key, value())] + chunk,
            )
        return len(keys)

    if connection.in_atomic_block:
        # In a transaction (written atomic, or a test database): no batch
        # can commit on its own; the whole table at once.
        with connection.cursor() as cursor:
            return write(cursor, null, [])
    return in_batches(
        connection,
        table,
        primary_key,
        null,
        write,
        f"Filling {table}.{column}",
        out,
        target=FILL_TARGET_SECONDS,
        first=FILL_FIRST_BATCH,
    )


def fill_by_keys(
    connection, table: str, column: str, key_columns: list[str], value, each_row: bool
) -> int:
    """
    ``fill_column`` for a table whose primary key has several columns (a
    ``CompositePrimaryKey``), which has no key range to batch by: the keys
    of the rows still NULL are read once, then their rows written in chunks
    of ``FILL_FIRST_BATCH``, each its own transaction (in a migration run in
    one, all at once). Resumable the same way.
    """
    quote = _VENDORS[connection.vendor].quote
    t, c = quote(table), quote(column)
    match = " AND ".join(f"{quote(key)} = %s" for key in key_columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(map(quote, key_columns))} FROM {t} WHERE {c} IS NULL"
        )
        rows = cursor.fetchall()
    constant = None if each_row else value()

    def write(cursor, chunk: list, _) -> int:
        cursor.executemany(
            f"UPDATE {t} SET {c} = %s WHERE {match} AND {c} IS NULL",
            [(value() if each_row else constant, *row) for row in chunk],
        )
        return len(chunk)

    done = 0
    for start in range(0, len(rows), FILL_FIRST_BATCH):
        chunk = rows[start : start + FILL_FIRST_BATCH]
        if connection.in_atomic_block:
            with connection.cursor() as cursor:
                done += write(cursor, chunk, None)
        else:
            done += _batch(connection, write, chunk, None)
    return done


def in_batches(
    connection,
    table,
    primary_key,
    pending,
    write,
    what,
    out=None,
    target: float = TARGET_SECONDS,
    first: int = FIRST_BATCH,
) -> int:
    """
    Run ``write(cursor, where, params)`` over ``table`` in primary-key
    batches sized by time, each in its own transaction, where ``where``
    selects the batch's rows that are still ``pending`` (an SQL condition);
    ``write`` answers the rows it wrote. Answer them all.
    """
    out = out or sys.stdout
    quote = _VENDORS[connection.vendor].quote
    t, pk = quote(table), quote(primary_key)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {t} WHERE {pending}")
        (todo,) = cursor.fetchone()
    if not todo:
        return 0
    progress = _Progress(out, what, todo)
    size, last, done = first, None, 0
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
        where = " AND ".join([*bounds, f"({pending})"])
        done += _batch(connection, write, where, params)
        elapsed = time.monotonic() - started
        progress.update(done)
        if upper is None:
            break
        last = upper
        time.sleep(elapsed * PAUSE_RATIO)
        # Aim each batch at ``target``: at most double, at least halve.
        scale = target / max(elapsed, 1e-3)
        size = int(min(MAX_BATCH, max(1, size * min(2.0, max(0.5, scale)))))
    progress.finish(done)
    return done


def _batch(connection, write, where: str, params: list) -> int:
    """
    ``write(cursor, where, params)`` in its own transaction, retried after a
    lock timeout.
    """
    retries = conf.lock_retries()
    for attempt in range(retries + 1):
        try:
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    return write(cursor, where, params)
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
        self.shown = 0.0  # a first plain line after the first batch
        self.tty = getattr(out, "isatty", lambda: False)()
        # migrate has written "  Applying ..." without its end of line.
        self.out.write("\n")

    def _line(self, done: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = (self.total - done) / rate if rate and done < self.total else 0
        return (
            f"  {self.what}: {done}/{self.total} rows, "
            f"{rate:,.0f} rows/s, {left:.0f} s left"
        )

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.tty:
            self.out.write("\r" + self._line(done))
            self.out.flush()
        elif now - self.shown >= 5 and done < self.total:
            # A plain line every 5 s in a log (the last one is finish's).
            self.out.write(self._line(done) + "\n")
            self.shown = now

    def finish(self, done: int) -> None:
        line = self._line(done)
        self.out.write(("\r" + line + "\n") if self.tty else line + "\n")
        self.out.flush()
