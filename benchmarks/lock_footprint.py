"""
Lock footprint of the contract and cleanup migrations on PostgreSQL.

    python benchmarks/lock_footprint.py [--sizes 10000,1000000] [--repeat 3]
        [--smoke] [--keep]

The example project's v1 -> v2 change (example_project/bookstore/
models_v2.py.txt: Book.font, Font and Product.rating removed, Product.stock
added NOT NULL with a Python default), split by ``makemigrations
--bluegreen`` and promoted with ``promotemigrations``: migration 0002 is the
contract, 0003 the cleanup.
For each size N and each repetition, on a fresh database:

  1. ``migrate bookstore 0001`` (v1's schema), then N rows in each of
     bookstore_font, bookstore_book (every row pointing at a font) and
     bookstore_product, inserted with generate_series (foreign-key triggers
     off for the fill only: the rows are valid by construction); VACUUM
     ANALYZE; CHECKPOINT.
  2. ``migrate bookstore 0002`` (contract), then ``migrate bookstore 0003``
     (cleanup), each in a fresh process, with Django's execute_wrapper
     timing every statement and, after each DDL statement, reading pg_locks
     for the migrating backend itself.
  3. A control that *does* rewrite: ``ALTER TABLE bookstore_book ALTER COLUMN
     title TYPE varchar(100)`` (what stock AlterField(max_length=100) runs),
     to show what a size-dependent migration looks like here.

Why pg_locks from inside the migration's own transaction: PostgreSQL holds
every table lock until the end of the transaction, and Django applies each
migration in one transaction on PostgreSQL (``atomic``; the script checks it
and says so), so the locks the backend holds after each statement are exactly
the locks the migration takes, none missed however short the statement. A
second connection sampling pg_locks would miss millisecond-long DDL.

Whether a table was rewritten is read from pg_class.relfilenode (a rewrite
gives the table a new file), before and after each migration: a fact, not a
timing. Prints, per size, the medians of: the whole in-process ``migrate``
call, the lock window (first DDL statement to COMMIT: how long other queries
can queue behind the ACCESS EXCLUSIVE lock) and the DDL time, their ratio
largest/smallest size (target: near 1, no rewrite), and the lock modes per
relation.

Exit status non-zero if a step fails or if a contract or cleanup migration
rewrote a table. ``--smoke``: sizes 100 and 1000, one repetition (CI).
PostgreSQL: 127.0.0.1:5432, user postgres (trust); the database is created
and dropped by the script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example_project"
APP = "bookstore"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
TABLES = ("bookstore_font", "bookstore_book", "bookstore_product")
# MariaDB renames a table with RENAME TABLE (PostgreSQL with ALTER TABLE).
DDL = ("ALTER", "DROP", "CREATE", "SET CONSTRAINTS", "TRUNCATE", "RENAME")
CONTROL_SQL = 'ALTER TABLE "bookstore_book" ALTER COLUMN "title" TYPE varchar(100)'


# -- the worker: one migrate, measured, in its own process --------------------


def worker(project, target):
    """Run ``migrate APP target`` in this process; print a JSON report."""
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    statements = []
    names = {}  # oid -> (relname, relkind), kept for relations dropped later
    held = {}  # relname -> set of modes
    state = {"inside": False, "first": None, "commit": None, "atomic": None}

    def query(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def remember_names():
        for oid, relname, relkind in query(
            "SELECT oid, relname, relkind FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace"
        ):
            names[oid] = (relname, relkind)

    def read_locks():
        for oid, mode in query(
            "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() "
            "AND locktype = 'relation' AND granted"
        ):
            if oid in names:
                relname, relkind = names[oid]
                label = relname if relkind == "r" else f"{relname} ({relkind})"
                held.setdefault(label, set()).add(mode)

    def committed():
        state["commit"] = time.perf_counter()
        state["before_commit"] = state["end"]

    def wrapper(execute, sql, params, many, context):
        if state["inside"]:
            return execute(sql, params, many, context)
        is_ddl = sql.lstrip().upper().startswith(DDL)
        state["inside"] = True
        try:
            if is_ddl:
                remember_names()
                if state["first"] is None:
                    state["atomic"] = connection.in_atomic_block
                    state["first"] = time.perf_counter()
                    transaction.on_commit(committed)
        finally:
            state["inside"] = False
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            state["end"] = time.perf_counter()
            elapsed = state["end"] - start
            statements.append(
                {
                    "sql": sql,
                    "seconds": elapsed,
                    "ddl": is_ddl,
                    "at": start - (state["first"] or start),
                }
            )
            if is_ddl:
                state["inside"] = True
                try:
                    read_locks()
                    state["last"] = time.perf_counter()
                finally:
                    state["inside"] = False

    with connection.execute_wrapper(wrapper):
        start = time.perf_counter()
        call_command("migrate", APP, target, verbosity=0)
        total = time.perf_counter() - start
    end = state["commit"] or state.get("last")
    print(
        json.dumps(
            {
                "target": target,
                "migrate_seconds": total,
                "lock_window_seconds": (end - state["first"]) if end else 0.0,
                "ddl_seconds": sum(s["seconds"] for s in statements if s["ddl"]),
                # last statement's end -> COMMIT done: the commit itself
                "commit_seconds": (
                    state["commit"] - state["before_commit"] if state["commit"] else 0.0
                ),
                "atomic": state["atomic"],
                "ddl": [s["sql"] for s in statements if s["ddl"]],
                "statements": statements,
                "locks": {k: sorted(v) for k, v in sorted(held.items())},
            }
        )
    )


# -- the driver ----------------------------------------------------------------


def connect(dbname):
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, **PG)


def admin(sql):
    with connect("postgres") as conn:
        conn.execute(sql)


class Bench:
    def __init__(self, root, db_name):
        self.root = root
        self.db_name = db_name
        self.env = dict(os.environ)
        for key in [k for k in self.env if k.startswith("EXAMPLE_DB_")]:
            del self.env[key]
        self.env.update(
            DJANGO_SETTINGS_MODULE="example.settings",
            EXAMPLE_DB_VENDOR="postgresql",
            EXAMPLE_DB_NAME=db_name,
            PYTHONDONTWRITEBYTECODE="1",
            PATH=os.pathsep.join(
                [str(Path(sys.executable).parent), os.environ["PATH"]]
            ),
        )
        self.project = root / "project"

    def run(self, *args, cwd=None):
        result = subprocess.run(
            [sys.executable, *args],
            check=False,
            cwd=cwd or self.project,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise SystemExit(
                f"`{' '.join(args)}` exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result.stdout

    def fresh_database(self):
        admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{self.db_name}"')

    def prepare(self):
        """v2's contract (makemigrations --bluegreen) and promoted cleanup."""
        shutil.copytree(
            EXAMPLE,
            self.project,
            ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__", "*.pyc"),
        )
        app = self.project / APP
        shutil.copyfile(app / "models_v2.py.txt", app / "models.py")
        self.fresh_database()  # capture connects (to quote values)
        self.run("manage.py", "makemigrations", APP, "--bluegreen")
        # The database stays fresh until measured: say the contract shipped.
        contract = max(p.stem for p in (app / "migrations").glob("0*.py"))
        self.run("manage.py", "promotemigrations", APP, "--through", contract)
        migrations = sorted(
            p.stem
            for p in (app / "migrations").glob("0*.py")
            if not p.stem.startswith("0001")
        )
        if len(migrations) != 2:
            raise SystemExit(f"expected a contract and a cleanup, found {migrations}")
        self.contract, self.cleanup = migrations

    def fill(self, rows):
        with connect(self.db_name) as conn:
            with conn.transaction():
                # Rows valid by construction; skip the per-row FK triggers.
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute(
                    "INSERT INTO bookstore_font (name) "
                    "SELECT 'font ' || g FROM generate_series(1, %s) g",
                    (rows,),
                )
                conn.execute(
                    "INSERT INTO bookstore_book (title, font_id) "
                    "SELECT 'book ' || g, f.first + (g %% %s) "
                    "FROM generate_series(1, %s) g, "
                    "(SELECT min(id) AS first FROM bookstore_font) f",
                    (rows, rows),
                )
                conn.execute(
                    "INSERT INTO bookstore_product (name, rating) "
                    "SELECT 'product ' || g, g %% 5 FROM generate_series(1, %s) g",
                    (rows,),
                )
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
            counts = [
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES
            ]
        if counts != [rows] * 3:
            raise SystemExit(f"fill: expected {rows} rows per table, got {counts}")

    def filenodes(self):
        with connect(self.db_name) as conn:
            return dict(
                conn.execute(
                    "SELECT relname, relfilenode FROM pg_class WHERE relname = ANY(%s)",
                    (list(TABLES),),
                ).fetchall()
            )

    def relation_sizes(self):
        with connect(self.db_name) as conn:
            return dict(
                conn.execute(
                    "SELECT relname, pg_relation_size(oid) FROM pg_class "
                    "WHERE relnamespace = 'public'::regnamespace"
                ).fetchall()
            )

    def measure(self, target):
        sizes = self.relation_sizes()
        before = self.filenodes()
        report = json.loads(
            self.run(
                str(Path(__file__).resolve()), "--worker", str(self.project), target
            )
        )
        after = self.filenodes()
        remaining = self.relation_sizes()
        report["freed_bytes"] = sum(
            size for name, size in sizes.items() if name not in remaining
        )
        report["rewritten"] = sorted(
            t for t in before if t in after and before[t] != after[t]
        )
        return report

    def control(self):
        before = self.filenodes()["bookstore_book"]
        with connect(self.db_name) as conn:
            start = time.perf_counter()
            conn.execute(CONTROL_SQL)
            seconds = time.perf_counter() - start
        after = self.filenodes()["bookstore_book"]
        return {
            "migrate_seconds": seconds,
            "lock_window_seconds": seconds,
            "ddl_seconds": seconds,
            "rewritten": ["bookstore_book"] if before != after else [],
        }

    def once(self, rows):
        self.fresh_database()
        self.run("manage.py", "migrate", APP, "0001", "-v0")
        start = time.perf_counter()
        self.fill(rows)
        fill_seconds = time.perf_counter() - start
        contract = self.measure(self.contract)
        cleanup = self.measure(self.cleanup)
        control = self.control()
        return fill_seconds, {
            "contract": contract,
            "cleanup": cleanup,
            "control": control,
        }


def ms(seconds):
    return f"{1000 * seconds:9.1f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="sizes 100,1000, once")
    parser.add_argument("--keep", action="store_true", help="keep the project")
    parser.add_argument(
        "--worker", nargs=2, metavar=("PROJECT", "TARGET"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1])
        return 0
    if args.smoke:
        args.sizes, args.repeat = "100,1000", 1
    sizes = [int(s) for s in args.sizes.split(",")]

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"lock footprint: {os.cpu_count()} cores, load average {load}")
    root = Path(tempfile.mkdtemp(prefix="bluegreen-locks-"))
    bench = Bench(root, f"bg_locks_{os.getpid()}")
    results = {}  # size -> [runs]
    try:
        bench.prepare()
        print(f"contract: {APP}.{bench.contract}\ncleanup:  {APP}.{bench.cleanup}")
        for size in sizes:
            for rep in range(args.repeat):
                fill_seconds, run = bench.once(size)
                results.setdefault(size, []).append(run)
                print(
                    f"  {size:>9} rows, run {rep + 1}/{args.repeat}: fill "
                    f"{fill_seconds:.1f} s, contract "
                    f"{1000 * run['contract']['migrate_seconds']:.0f} ms, cleanup "
                    f"{1000 * run['cleanup']['migrate_seconds']:.0f} ms, control "
                    f"{1000 * run['control']['migrate_seconds']:.0f} ms",
                    flush=True,
                )
    finally:
        admin(f'DROP DATABASE IF EXISTS "{bench.db_name}" WITH (FORCE)')
        if args.keep:
            print(f"project kept in {root}")
        else:
            shutil.rmtree(root)

    print_report(bench, results, sizes, args.repeat)
    rewrites = [
        f"{migration} rewrote {table}"
        for migration in ("contract", "cleanup")
        for runs in results.values()
        for run in runs
        for table in run[migration]["rewritten"]
    ]
    if rewrites:
        print("LOCK FOOTPRINT FAILED: " + "; ".join(sorted(set(rewrites))))
        return 1
    return 0


ROWS = (
    ("migrate_seconds", "migrate (in-process)"),
    ("lock_window_seconds", "lock window"),
    ("commit_seconds", "  of which COMMIT"),
    ("ddl_seconds", "  of which DDL statements"),
)


def print_report(bench, results, sizes, repeat):
    small, large = sizes[0], sizes[-1]
    print(
        f"\nPostgreSQL lock footprint, median of {repeat} "
        f"(N rows in each of {', '.join(TABLES)}):"
    )
    print(
        f"  {'':38}"
        + "".join(f"{f'N={s:,}':>14}" for s in sizes)
        + f"{f'ratio {large:,}/{small:,}':>26}"
    )
    ratios = {}
    for migration in ("contract", "cleanup", "control"):
        for key, label in ROWS:
            if migration == "control" and key != "migrate_seconds":
                continue
            medians = {
                s: statistics.median(run[migration][key] for run in results[s])
                for s in sizes
            }
            ratio = medians[large] / medians[small] if medians[small] else float("nan")
            ratios[(migration, key)] = ratio
            name = (
                "control: ALTER TYPE varchar(100)"
                if migration == "control"
                else f"{migration}: {label}"
            )
            print(
                f"  {name:38}"
                + "".join(f"{ms(medians[s]):>14}" for s in sizes)
                + f"{ratio:26.2f}"
            )
        rewritten = sorted(
            {
                t
                for s in sizes
                for run in results[s]
                for t in run[migration]["rewritten"]
            }
        )
        print(
            f"  {'':38}tables rewritten (relfilenode changed): "
            f"{', '.join(rewritten) or 'none'}"
        )
        if migration != "control":
            freed = {
                s: statistics.median(
                    run[migration]["freed_bytes"] for run in results[s]
                )
                for s in sizes
            }
            print(
                f"  {'':38}files of dropped tables/indexes: "
                + ", ".join(f"{freed[s] / 2**20:.1f} MiB (N={s:,})" for s in sizes)
            )
    print(
        "  lock window: from the first DDL statement to the end of COMMIT, while "
        "the\n  migration holds ACCESS EXCLUSIVE locks and other queries of those "
        "tables queue.\n  COMMIT removes the files of dropped tables and indexes: "
        "it grows with their size,\n  a table rewrite grows with every row."
    )

    last = results[large][-1]
    for migration, name in (("contract", bench.contract), ("cleanup", bench.cleanup)):
        report = last[migration]
        print(f"\n{migration} {APP}.{name}: one transaction: {report['atomic']}")
        print("  DDL:")
        for sql in report["ddl"]:
            print(f"    {sql}")
        print("  locks it held (pg_locks of the migrating backend, after each DDL):")
        for relation, modes in report["locks"].items():
            print(f"    {relation:46} {', '.join(modes)}")
        if not report["atomic"]:
            print(
                "  (not atomic: each statement's locks were released at its end;"
                " the list is every lock held right after some statement)"
            )

    print(
        f"\nratio {large:,}/{small:,} rows: contract migrate "
        f"{ratios[('contract', 'migrate_seconds')]:.2f}, lock window "
        f"{ratios[('contract', 'lock_window_seconds')]:.2f}; cleanup migrate "
        f"{ratios[('cleanup', 'migrate_seconds')]:.2f}, lock window "
        f"{ratios[('cleanup', 'lock_window_seconds')]:.2f}; control (rewrite) "
        f"{ratios[('control', 'migrate_seconds')]:.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
