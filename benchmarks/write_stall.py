"""
Write stalls of each deploy step, on PostgreSQL and MariaDB, stock beside
bluegreen.

    python benchmarks/write_stall.py [--sizes 10000,1000000]
        [--vendors postgresql,mysql,sqlite] [--rows remove_fk,add_index,...]
        [--pause 0.005] [--smoke] [--keep]

Renames (rows ``rename_field``, ``rename_fk``) are answered ``y`` at
Django's "Did you rename ...?". Each backfill (a rename's or a retype's
copy, a NOT NULL's fill) prints its rows per second, listed after the
table. SQLite (not in the default vendors):
a file; the writer's connection waits for the lock up to ``SQLITE_BUSY``.

For each row of benchmarks/write_stall_rows.py (one per catalogue row of
DESIGN.md, and AddIndex and AddField of a nullable ForeignKey), in a
temporary project with one app: release v1's models, ``makemigrations``
(0001), then v2's models and the migrations of the two modes:

  bluegreen  ``makemigrations --bluegreen``, then ``promotemigrations
             --through`` the contract: two steps, the contract (0002) and
             the cleanup (0003); a change the split passes through has one
             step, ``unsplit`` (stock's migration).
  stock      ``makemigrations --no-bluegreen``: one step (0002).

The cleanup SQL is captured for every vendor measured. Then, for each
vendor, row, size N and mode, on a fresh database: ``migrate shop 0001``,
the tables filled with N rows each (the tags of a many-to-many, 1000 at
most) in one INSERT ... SELECT per table (PostgreSQL: generate_series, then
VACUUM ANALYZE and CHECKPOINT; MariaDB: its sequence engine, seq_1_to_N;
foreign-key checks off for the fill only, the rows are valid by
construction), then each step in turn: a writer thread on its own autocommit
connection makes single-row writes, INSERT and UPDATE in turn, 5 ms apart,
each one timed, from 0.3 s before ``migrate shop <step>`` (run in a process
of its own) to 0.3 s after it. The writer writes as the release that serves
during the step: v1's columns during the contract and during stock's
migration (the old release still serves), v2's during the cleanup (it ships
once no v1 instance runs).

Per (vendor, row, step, size) it prints:

  DDL        first DDL statement to the end of the last (COMMIT included on
             PostgreSQL, where the migration is one transaction): how long
             the step holds its locks; 0 for a state-only step
  migrate    the whole in-process ``migrate`` call: Django's loading (about
             50 ms), the cleanup's checks (NULLs left, rows naming deleted
             rows), the DDL
  longest, p99   latency of the writes that ended after ``migrate`` began
             and began before 0.3 s after it ended: the stall a client
             sees (about 60 writes at 10k rows: p99 is then the longest)
  failed writes  of those writes, how many failed, per size (stock: the old
             release's writes of a column or table that is gone -- the
             negative control); a failed write's latency is not counted
  rebuilt    tables with a new relfilenode (PostgreSQL) or InnoDB table_id
             (MariaDB) after the step: copied, not altered in place

and the ratio of the DDL time at the largest size to the smallest, as a
Markdown table, then the DDL statements of each step at the largest size.
Exit status non-zero if a bluegreen step's ``migrate`` failed or bluegreen
failed a write. Stock's migration may fail too under the old release's
writes (MariaDB, AlterField to NOT NULL: the old release inserts NULL
between Django's UPDATE and its MODIFY): that is printed, as **failed**,
and is the negative control, not an error of the benchmark.
``--smoke``: 100 and 1000 rows, RemoveField of a NOT NULL column only,
0.1 s of writes before and after each step (CI).
PostgreSQL: 127.0.0.1:5432, user postgres; MariaDB: 127.0.0.1:3306, root,
empty password; the database is created and dropped by the script.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import PhaseStats
from lock_footprint import DDL, PG
from rollout import MARIADB, create_database, drop_database
from write_stall_rows import ROWS, Row

APP = "shop"
VENDORS = ("postgresql", "mysql", "sqlite")
SERVERS = {
    "postgresql": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "USER": "postgres",
        "NAME": "postgres",
    },
    "mysql": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": "127.0.0.1",
        "PORT": "3306",
        "USER": "root",
        "PASSWORD": "",
        "NAME": "mysql",
    },
    # NAME: a file in the run's directory (database_name).
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
SETTINGS = """\
import json, os
SECRET_KEY = "bench"
INSTALLED_APPS = ["bluegreen_autodetector", "shop"]
DATABASES = {"default": json.loads(os.environ["BENCH_DATABASE"])}
BLUEGREEN_VENDORS = json.loads(os.environ["BENCH_VENDORS"])
BLUEGREEN_CAPTURE_DATABASES = json.loads(os.environ["BENCH_SERVERS"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""
PAUSE = 0.005  # between two writes of the writer (--pause)
SQLITE_BUSY = 30.0  # s the writer's SQLite connection waits for the lock
SETTLE = 0.3  # s of writes before migrate begins and after it ends (smoke: 0.1)
MAX_TAGS = 1000
STEPS = ("contract", "cleanup", "unsplit", "stock")
NAMES = {"postgresql": "PostgreSQL", "mysql": "MariaDB", "sqlite": "SQLite"}


# -- the worker: one migrate, timed, in its own process -----------------------


def worker(project: Path, target: str, mode: str) -> None:
    """
    Run ``migrate shop target`` in this process (stock: Django's own
    ``migrate``, without the package's lock timeouts and online forms);
    print a JSON report.
    """
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.commands.migrate import Command as StockMigrate
    from django.db import connection, transaction

    ddl = {"first": None, "last": None, "commit": None, "sql": []}

    def committed():
        ddl["commit"] = time.monotonic()

    def wrapper(execute, sql, params, many, context):
        is_ddl = sql.lstrip().upper().startswith(DDL)
        start = time.monotonic()
        if is_ddl and ddl["first"] is None:
            ddl["first"] = start
            if connection.in_atomic_block:  # else on_commit would run now
                transaction.on_commit(committed)
        try:
            return execute(sql, params, many, context)
        finally:
            if is_ddl:
                ddl["last"] = time.monotonic()
                ddl["sql"].append(sql)

    output = io.StringIO()
    error = None
    # The backfill's progress lines go to sys.stdout (runtime/backfill.py).
    with connection.execute_wrapper(wrapper), contextlib.redirect_stdout(output):
        start = time.monotonic()
        try:
            call_command(
                StockMigrate() if mode == "stock" else "migrate",
                APP,
                target,
                verbosity=1,
                stdout=output,
                stderr=output,
            )
        except Exception as exc:  # reported, the driver exits non-zero
            error = f"{type(exc).__name__}: {exc}"
        end = time.monotonic()
    last = max(filter(None, (ddl["last"], ddl["commit"])), default=None)
    print(
        json.dumps(
            {
                "start": start,
                "end": end,
                "ddl_seconds": last - ddl["first"] if ddl["first"] else 0.0,
                "ddl": ddl["sql"],
                "tries": 1 + output.getvalue().count("lock not taken within"),
                "backfill": backfill_rates(output.getvalue()),
                "error": error,
            }
        )
    )


def backfill_rates(output: str) -> list[tuple[int, float]]:
    """
    (rows, rows/s) of each backfill's last progress line (runtime/backfill.py):
    a rename's or retype's copy, a NOT NULL's fill.
    """
    last = {}
    for what, done, rate in re.findall(
        r"(?:Copying into|Filling) (\S+): (\d+)/\d+ rows, ([\d,]+) rows/s", output
    ):
        last[what] = (int(done), float(rate.replace(",", "")))
    return list(last.values())


# -- the database ---------------------------------------------------------------


def database_name(vendor: str, db: str, root: Path) -> str:
    """The database's NAME: a server database, or (SQLite) a file in ``root``."""
    return str(root / f"{db}.sqlite3") if vendor == "sqlite" else db


def create(vendor: str, name: str) -> None:
    if vendor == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        create_database(vendor, name)


def drop(vendor: str, name: str) -> None:
    if vendor == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        drop_database(vendor, name)


def connect(vendor: str, name: str):
    """An autocommit connection to database ``name``."""
    if vendor == "postgresql":
        import psycopg

        return psycopg.connect(dbname=name, autocommit=True, **PG)
    if vendor == "sqlite":
        # As Django's backend connects, autocommit, waiting for the lock.
        return sqlite3.connect(
            name, isolation_level=None, timeout=SQLITE_BUSY, check_same_thread=False
        )
    import MySQLdb

    return MySQLdb.connect(database=name, autocommit=True, **MARIADB)


def execute(conn, sql: str) -> list:
    cursor = conn.cursor()
    cursor.execute(sql)
    rows = cursor.fetchall() if cursor.description else []
    cursor.close()
    return rows


def fill(vendor: str, name: str, row: Row, size: int) -> None:
    tags = min(size, MAX_TAGS)
    conn = connect(vendor, name)
    try:
        if vendor == "postgresql":
            execute(conn, "BEGIN")
            execute(conn, "SET LOCAL session_replication_role = replica")
        elif vendor == "mysql":
            execute(conn, "SET foreign_key_checks = 0")
        for table in row.fill:
            count = tags if table.tags else size
            values = table.values.format(n=size, m=tags)
            if vendor == "sqlite":
                # No concat() before SQLite 3.44; foreign keys are off in
                # a plain sqlite3 connection.
                values = re.sub(r"concat\(([^,]+), ([^)]+)\)", r"(\1 || \2)", values)
                execute(
                    conn,
                    f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 "
                    f"FROM s WHERE g < {count}) INSERT INTO {table.table} "
                    f"({table.columns}) SELECT {values} FROM s",
                )
                continue
            source = (
                f"generate_series(1, {count}) AS g"
                if vendor == "postgresql"
                else f"(SELECT seq AS g FROM seq_1_to_{count}) AS s"
            )
            execute(
                conn,
                f"INSERT INTO {table.table} ({table.columns}) "
                f"SELECT {values} FROM {source}",
            )
        if vendor == "postgresql":
            execute(conn, "COMMIT")
            execute(conn, "VACUUM ANALYZE")
            execute(conn, "CHECKPOINT")
        for table in row.fill:
            got = execute(conn, f"SELECT count(*) FROM {table.table}")[0][0]
            if got != (tags if table.tags else size):
                raise SystemExit(f"fill: {table.table} holds {got} rows")
    finally:
        conn.close()


def table_ids(vendor: str, name: str) -> dict[str, int]:
    """Table -> relfilenode (PostgreSQL), InnoDB table_id (MariaDB), root page (SQLite)."""
    conn = connect(vendor, name)
    try:
        if vendor == "sqlite":
            return dict(
                execute(
                    conn,
                    "SELECT name, rootpage FROM sqlite_master WHERE type = 'table'",
                )
            )
        if vendor == "postgresql":
            return dict(
                execute(
                    conn,
                    "SELECT relname, relfilenode::bigint FROM pg_class "
                    "WHERE relkind = 'r' AND relnamespace = "
                    "'public'::regnamespace",
                )
            )
        rows = execute(
            conn,
            "SELECT name, table_id FROM information_schema."
            f"INNODB_SYS_TABLES WHERE name LIKE '{name}/%'",
        )
        return {table.split("/", 1)[1]: table_id for table, table_id in rows}
    finally:
        conn.close()


class Writer(threading.Thread):
    """Single-row writes, in turn, each timed, until stopped."""

    def __init__(
        self,
        vendor: str,
        name: str,
        statements: tuple[str, ...],
        size: int,
        pause: float = PAUSE,
    ):
        super().__init__(daemon=True)
        self.conn = connect(vendor, name)
        self.pause = pause
        self.statements = statements
        self.size = size
        self.writes: list[tuple[float, float, str | None]] = []  # start, end, error
        self.stopping = threading.Event()

    def run(self) -> None:
        cursor = self.conn.cursor()
        tags = min(self.size, MAX_TAGS)
        i = 0
        while not self.stopping.is_set():
            sql = self.statements[i % len(self.statements)].format(
                i=i, pk=random.randint(1, self.size), tag=random.randint(1, tags)
            )
            start = time.monotonic()
            try:
                cursor.execute(sql)
                error = None
            except Exception as exc:  # counted: the release's write failed
                error = str(exc).strip().splitlines()[0][:120]
            self.writes.append((start, time.monotonic(), error))
            i += 1
            self.stopping.wait(self.pause)
        self.conn.close()

    def stats(self, begin: float, end: float) -> PhaseStats:
        stats = PhaseStats()
        for start, finish, error in self.writes:
            if finish >= begin and start <= end:
                stats.total += 1
                if error:
                    stats.failed += 1
                    stats.errors[error] += 1
                else:
                    stats.latencies.append(finish - start)
        return stats


# -- the driver -----------------------------------------------------------------


class Project:
    """A temporary project of one app (``shop``), with its migrations."""

    def __init__(self, root: Path, env: dict):
        self.root = root
        self.env = env

    @classmethod
    def create(cls, root: Path, env: dict) -> Project:
        (root / APP / "migrations").mkdir(parents=True)
        (root / APP / "__init__.py").write_text("")
        (root / APP / "migrations" / "__init__.py").write_text("")
        (root / "settings.py").write_text(SETTINGS)
        return cls(root, env)

    def models(self, source: str) -> None:
        (self.root / APP / "models.py").write_text(
            "from django.db import models\n\n\n" + source
        )

    def manage(self, *args: str, answers: str = "") -> str:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, '.'); "
                "from django.core.management import execute_from_command_line; "
                "execute_from_command_line(sys.argv)",
                *args,
            ],
            cwd=self.root,
            env=self.env,
            input=answers,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode:
            raise SystemExit(
                f"`manage.py {' '.join(args)}` in {self.root} exited with "
                f"{result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def steps(self) -> list[str]:
        """The migrations after 0001, in order: contract (and cleanup), or stock's."""
        return sorted(p.stem for p in (self.root / APP / "migrations").glob("0*.py"))[
            1:
        ]


def prepare(root: Path, row: Row, env: dict) -> dict[str, Project]:
    """The bluegreen and stock projects of ``row``, sharing 0001."""
    bluegreen = Project.create(root / row.name / "bluegreen", env)
    bluegreen.models(row.v1)
    bluegreen.manage("makemigrations", APP, "--no-bluegreen")
    shutil.copytree(bluegreen.root, root / row.name / "stock")
    stock = Project(root / row.name / "stock", env)
    for project, flag in ((bluegreen, "--bluegreen"), (stock, "--no-bluegreen")):
        project.models(row.v2)
        project.manage("makemigrations", APP, flag, answers=row.answers)
    if (bluegreen.root / APP / "migrations" / "pending").exists():
        bluegreen.manage("promotemigrations", APP, "--through", bluegreen.steps()[0])
    return {"bluegreen": bluegreen, "stock": stock}


def step_label(mode: str, index: int, count: int) -> str:
    if mode == "stock":
        return "stock"
    if count == 1:
        return "unsplit"  # the split passed it through: stock's migration
    return "contract" if index == 0 else "cleanup"


def measure(
    vendor: str,
    db: str,
    row: Row,
    mode: str,
    project: Project,
    size: int,
    settle: float,
    pause: float = PAUSE,
) -> list:
    """Each step of ``mode``'s migrations on a fresh database of ``size`` rows."""
    env = dict(project.env, BENCH_DATABASE=json.dumps({**SERVERS[vendor], "NAME": db}))
    project = Project(project.root, env)
    create(vendor, db)
    project.manage("migrate", APP, "0001", "-v0")
    fill(vendor, db, row, size)
    results = []
    steps = project.steps()
    for index, target in enumerate(steps):
        label = step_label(mode, index, len(steps))
        before = table_ids(vendor, db)
        writer = Writer(
            vendor, db, row.new if label == "cleanup" else row.old, size, pause
        )
        writer.start()
        time.sleep(settle)
        process = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                str(project.root),
                target,
                mode,
            ],
            cwd=project.root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        try:
            report = json.loads(process.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            report = {
                "error": f"worker exited {process.returncode}: {process.stderr[-2000:]}",
                "start": 0.0,
                "end": 0.0,
                "ddl_seconds": 0.0,
                "tries": 0,
                "backfill": [],
            }
        if not report["error"]:
            time.sleep(settle)
        writer.stopping.set()
        writer.join(60)
        after = table_ids(vendor, db)
        stats = writer.stats(report["start"], report["end"] + settle)
        results.append(
            {
                "vendor": vendor,
                "row": row.name,
                "mode": mode,
                "step": label,
                "size": size,
                "migrate": report["end"] - report["start"],
                "ddl": report["ddl_seconds"],
                "tries": report["tries"],
                "backfill": report.get("backfill", []),
                "sql": report.get("ddl", []),
                "error": report["error"],
                "stats": stats,
                "rebuilt": sorted(
                    t for t in before if t in after and before[t] != after[t]
                ),
            }
        )
        if report["error"]:
            break
    return results


def progress(run: dict) -> str:
    if run["error"]:
        return f"{run['step']} FAILED"
    tries = f", {run['tries']} tries" if run["tries"] > 1 else ""
    return (
        f"{run['step']} DDL {ms(run['ddl'])} ms (migrate {ms(run['migrate'])} ms"
        f"{tries}), longest write {ms(max(run['stats'].latencies, default=0))} ms"
    )


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f}" if seconds >= 0.0095 else f"{1000 * seconds:.1f}"


def print_report(results: list[dict], sizes: list[int], rows: list[Row]) -> None:
    small, large = sizes[0], sizes[-1]
    by_key = {
        (r["vendor"], r["row"], r["mode"], r["step"], r["size"]): r for r in results
    }
    change = {row.name: row.change for row in rows}
    header = (
        ["vendor", "change", "step"]
        + [f"N={s:,}: DDL / migrate / longest / p99 write (ms)" for s in sizes]
        + [f"DDL {large:,}/{small:,}", "failed writes", "rebuilt"]
    )
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * 3 + "---:|" * (len(sizes) + 1) + "---:|---|")
    keys = sorted(
        {k[:4] for k in by_key},
        key=lambda k: (
            VENDORS.index(k[0]),
            [r.name for r in rows].index(k[1]),
            STEPS.index(k[3]),
        ),
    )
    for vendor, name, mode, step in keys:
        runs = [by_key.get((vendor, name, mode, step, s)) for s in sizes]
        cells = []
        for run in runs:
            if not run:
                cells.append("-")
            elif run["error"]:
                cells.append("**failed**")
            else:
                stats = run["stats"]
                cells.append(
                    f"{ms(run['ddl'])} / {ms(run['migrate'])} / "
                    f"{ms(max(stats.latencies, default=0))} / "
                    f"{ms(stats.percentile(0.99))}"
                )
        first, last = runs[0], runs[-1]
        ratio = (
            f"{last['ddl'] / first['ddl']:.1f}"
            if first and last and first["ddl"] and not last["error"]
            else "-"
        )
        failed = ", ".join(
            f"{r['stats'].failed}/{r['stats'].total}" if r else "-" for r in runs
        )
        rebuilt = sorted({t for r in runs if r for t in r["rebuilt"]})
        vendor_name = NAMES[vendor]
        print(
            f"| {vendor_name} | {change[name]} | {step} | "
            + " | ".join(cells)
            + f" | {ratio} | {failed} | {', '.join(rebuilt) or '-'} |"
        )
    errors = {}
    for run in results:
        for text, count in run["stats"].errors.items():
            key = (run["vendor"], run["row"], run["mode"], run["step"])
            errors.setdefault(key, {}).setdefault(text, 0)
            errors[key][text] += count
    if errors:
        print("\nfailed writes (all sizes), first kinds:")
        for (vendor, name, _mode, step), kinds in sorted(errors.items()):
            for text, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:2]:
                print(f"  {vendor} {name} {step}: {count} x {text}")


def print_backfills(results: list[dict]) -> None:
    """Rows per second of each backfill (a rename's contract), per size."""
    runs = [r for r in results if r["backfill"]]
    if not runs:
        return
    print("\nbackfill throughput (rows copied, rows/s):")
    for run in runs:
        for rows, rate in run["backfill"]:
            print(
                f"  {NAMES[run['vendor']]} {run['row']} {run['step']} "
                f"N={run['size']:,}: {rows:,} rows, {rate:,.0f} rows/s"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--vendors", default="postgresql,mysql", help="and sqlite")
    parser.add_argument(
        "--pause", type=float, default=PAUSE, help="s between two writes (0.005)"
    )
    parser.add_argument(
        "--rows",
        default=",".join(r.name for r in ROWS),
        help="catalogue rows (benchmarks/write_stall_rows.py)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="100,1000 rows; 1 row (CI)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the projects")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1], args.worker[2])
        return 0
    settle = SETTLE
    if args.smoke:
        args.sizes, args.rows, settle = "100,1000", "remove_not_null", 0.1
    sizes = [int(s) for s in args.sizes.split(",")]
    vendors = [v for v in args.vendors.split(",") if v]
    known = {r.name: r for r in ROWS}
    unknown = [n for n in args.rows.split(",") if n not in known] + [
        v for v in vendors if v not in VENDORS
    ]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)} (rows: {', '.join(known)})")
    rows = [known[n] for n in args.rows.split(",")]

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"write stall: {os.cpu_count()} cores, load average {load}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="bluegreen-write-stall-"))
    dbs = {v: database_name(v, f"bg_stall_{os.getpid()}", root) for v in vendors}
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.update(
        DJANGO_SETTINGS_MODULE="settings",
        PYTHONDONTWRITEBYTECODE="1",
        BENCH_VENDORS=json.dumps(vendors),
        BENCH_SERVERS=json.dumps({v: SERVERS[v] for v in vendors}),
        BENCH_DATABASE=json.dumps({**SERVERS[vendors[0]], "NAME": dbs[vendors[0]]}),
    )
    results: list[dict] = []
    try:
        create(vendors[0], dbs[vendors[0]])  # capture connects to quote values
        projects = {row.name: prepare(root, row, env) for row in rows}
        for vendor in vendors:
            for row in rows:
                for size in sizes:
                    for mode, project in projects[row.name].items():
                        started = time.perf_counter()
                        runs = measure(
                            vendor,
                            dbs[vendor],
                            row,
                            mode,
                            project,
                            size,
                            settle,
                            args.pause,
                        )
                        results.extend(runs)
                        print(
                            f"  {vendor} {row.name} {mode} N={size:,}: "
                            + ", ".join(progress(r) for r in runs)
                            + f"  ({time.perf_counter() - started:.1f} s)",
                            flush=True,
                        )
    finally:
        for vendor in vendors:
            drop(vendor, dbs[vendor])
        if args.keep:
            print(f"projects kept in {root}")
        else:
            shutil.rmtree(root)

    print_report(results, sizes, rows)
    print_backfills(results)
    print(f"\nDDL statements of each step (N={sizes[-1]:,}):")
    for run in results:
        if run["size"] == sizes[-1]:
            print(f"  {run['vendor']} {run['row']} {run['step']}:")
            print(
                "".join(f"    {sql}\n" for sql in run["sql"]) or "    (none)\n", end=""
            )
    for run in results:
        if run["error"] and run["mode"] == "stock":
            print(
                f"stock's migrate failed (the negative control; not counted in the "
                f"exit status): {run['vendor']} {run['row']} N={run['size']:,}: "
                f"{run['error']}"
            )
    problems = [
        f"{r['vendor']} {r['row']} {r['step']} N={r['size']:,}: migrate failed: "
        f"{r['error']}"
        for r in results
        if r["error"] and r["mode"] == "bluegreen"
    ]
    problems += [
        f"{r['vendor']} {r['row']} {r['step']} N={r['size']:,}: bluegreen failed "
        f"{r['stats'].failed} write(s)"
        for r in results
        if r["mode"] == "bluegreen" and r["stats"].failed
    ]
    if problems:
        print("WRITE STALL FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
