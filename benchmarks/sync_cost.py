"""
The cost of a rename's synchronisation while both releases run: single-row
INSERT and UPDATE latency with and without the triggers, and one bulk
UPDATE (pgroll measured its triggers making bulk updates 4.4 times slower).

    python benchmarks/sync_cost.py [--vendors postgresql,mysql,sqlite]
        [--writes 2000] [--rows 10000] [--smoke]

For each vendor, on a fresh database, two tables of ``--rows`` rows each:

  stock  ``shop_plain (id, name, title)``: the table as stock Django has it
         before its RenameField, no trigger;
  sync   ``shop_synced (id, name, title, headline)``: as a rename's contract
         leaves it (both columns nullable), with the triggers the contract
         installs (bluegreen_autodetector/capture/sync/, the vendor's own
         module: the same SQL ``migrate`` runs).

One autocommit connection (psycopg, MySQLdb, sqlite3: no ORM, so that the
statement is all that is timed) makes ``--writes`` writes of each kind,
the two tables in turn, write by write, so that both see the same machine:

  insert (old)   INSERT naming ``title`` (the old release; the trigger fills
                 ``headline``)
  insert (new)   INSERT naming ``headline`` (the new release), sync only
  update (old)   UPDATE ``title`` of a random row
  update (new)   UPDATE ``headline`` of a random row, sync only

Each write is timed from the call to its return (its COMMIT included). It
prints p50 and p99 of each, and the ratios sync/stock (the new release's
writes against stock's write of ``title``). Then ``UPDATE ... SET title =
...`` of every row of each table, ``--bulk`` times in turn: median seconds
and ratio. Exit status non-zero if a trigger did not keep the two columns
equal (checked at the end: every row of ``shop_synced``).
PostgreSQL: 127.0.0.1:5432, user postgres; MariaDB: 127.0.0.1:3306, root;
SQLite: a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rollout import create_database, drop_database
from write_stall import NAMES, connect, execute

from bluegreen_autodetector.capture.sync.common import statements

VENDORS = ("postgresql", "mysql", "sqlite")
KEY = {
    "postgresql": "id bigserial PRIMARY KEY",
    "mysql": "id bigint AUTO_INCREMENT PRIMARY KEY",
    "sqlite": "id integer PRIMARY KEY AUTOINCREMENT",
}
KINDS = ("insert (old)", "insert (new)", "update (old)", "update (new)")


def prepare(vendor: str, conn, rows: int) -> None:
    text = "varchar(100)"
    execute(
        conn,
        f"CREATE TABLE shop_plain ({KEY[vendor]}, name {text} NOT NULL, "
        f"title {text} NOT NULL)",
    )
    execute(
        conn,
        f"CREATE TABLE shop_synced ({KEY[vendor]}, name {text} NOT NULL, "
        f"title {text} NULL, headline {text} NULL)",
    )
    create, _ = statements(vendor, "shop_synced", "title", "headline")
    for sql in create:
        execute(conn, sql)
    for n in range(0, rows, 1000):
        values = ", ".join(
            f"('item {i}', 't{i}')" for i in range(n, min(rows, n + 1000))
        )
        execute(conn, f"INSERT INTO shop_plain (name, title) VALUES {values}")
        execute(conn, f"INSERT INTO shop_synced (name, title) VALUES {values}")
    if vendor == "postgresql":
        execute(conn, "VACUUM ANALYZE")


def timed(conn, sql: str) -> float:
    cursor = conn.cursor()
    start = time.perf_counter()
    cursor.execute(sql)
    elapsed = time.perf_counter() - start
    cursor.close()
    return elapsed


def measure(vendor: str, conn, writes: int, rows: int) -> dict:
    got = {("stock", k): [] for k in KINDS[::2]}
    got.update({("sync", k): [] for k in KINDS})
    for i in range(writes):
        pk = random.randint(1, rows)
        plan = [
            ("stock", "insert (old)", f"INSERT INTO shop_plain (name, title) VALUES ('w{i}', 'a{i}')"),
            ("sync", "insert (old)", f"INSERT INTO shop_synced (name, title) VALUES ('w{i}', 'a{i}')"),
            ("sync", "insert (new)", f"INSERT INTO shop_synced (name, headline) VALUES ('w{i}', 'b{i}')"),
            ("stock", "update (old)", f"UPDATE shop_plain SET title = 'c{i}' WHERE id = {pk}"),
            ("sync", "update (old)", f"UPDATE shop_synced SET title = 'c{i}' WHERE id = {pk}"),
            ("sync", "update (new)", f"UPDATE shop_synced SET headline = 'd{i}' WHERE id = {pk}"),
        ]  # fmt: skip
        if i % 2:
            plan.reverse()  # Neither table always goes first.
        for side, kind, sql in plan:
            got[(side, kind)].append(timed(conn, sql))
    return got


def bulk(conn, repeat: int) -> dict[str, list[float]]:
    times = {"stock": [], "sync": []}
    for r in range(repeat):
        for side, table in (("stock", "shop_plain"), ("sync", "shop_synced")):
            times[side].append(timed(conn, f"UPDATE {table} SET title = 'bulk {r}'"))
    return times


def check(conn) -> int:
    """Rows of shop_synced whose two columns differ (0: the triggers held)."""
    return execute(
        conn,
        "SELECT COUNT(*) FROM shop_synced WHERE title <> headline "
        "OR title IS NULL OR headline IS NULL",
    )[0][0]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--vendors", default=",".join(VENDORS))
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--bulk", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="100 writes, 1000 rows")
    args = parser.parse_args(argv)
    if args.smoke:
        args.writes, args.rows, args.bulk = 100, 1000, 1
    vendors = [v for v in args.vendors.split(",") if v]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"sync cost: {os.cpu_count()} cores, load average {load}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="bluegreen-sync-cost-"))
    rows_out, bulk_out, problems = [], [], []
    try:
        for vendor in vendors:
            name = (
                str(root / "sync.sqlite3")
                if vendor == "sqlite"
                else f"bg_sync_{os.getpid()}"
            )
            if vendor != "sqlite":
                create_database(vendor, name)
            conn = connect(vendor, name)
            try:
                prepare(vendor, conn, args.rows)
                got = measure(vendor, conn, args.writes, args.rows)
                times = bulk(conn, args.bulk)
                differ = check(conn)
            finally:
                conn.close()
                if vendor != "sqlite":
                    drop_database(vendor, name)
            if differ:
                problems.append(f"{vendor}: {differ} row(s) with title != headline")
            for kind in KINDS:
                stock = got[("stock", kind.replace("(new)", "(old)"))]
                sync = got[("sync", kind)]
                rows_out.append(
                    (
                        NAMES[vendor],
                        kind,
                        ms(pct(stock, 0.5)),
                        ms(pct(stock, 0.99)),
                        ms(pct(sync, 0.5)),
                        ms(pct(sync, 0.99)),
                        f"{pct(sync, 0.5) / pct(stock, 0.5):.2f}",
                        f"{pct(sync, 0.99) / pct(stock, 0.99):.2f}",
                    )
                )
            stock, sync = (statistics.median(times[s]) for s in ("stock", "sync"))
            bulk_out.append(
                (NAMES[vendor], f"{stock:.3f}", f"{sync:.3f}", f"{sync / stock:.2f}")
            )
            print(f"  {vendor}: done", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\nsingle-row writes ({args.writes} of each, tables of {args.rows:,} rows); "
        "ms"
    )
    print(
        "| vendor | write | stock p50 | stock p99 | sync p50 | sync p99 | "
        "ratio p50 | ratio p99 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows_out:
        print("| " + " | ".join(row) + " |")
    print(f"\nbulk UPDATE of every row ({args.rows:,}), median of {args.bulk}; s")
    print("| vendor | stock | sync | ratio |")
    print("|---|---:|---:|---:|")
    for row in bulk_out:
        print("| " + " | ".join(row) + " |")
    if problems:
        print("SYNC COST FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
