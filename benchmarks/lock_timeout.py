"""
BLUEGREEN_LOCK_TIMEOUT under a long-running reader, on PostgreSQL.

    python benchmarks/lock_timeout.py [--hold 6] [--timeout 1] [--retries 5]
        [--smoke]

A DDL statement waiting for a table lock makes every later query of that
table queue behind it. Here a "long reader" opens a transaction, reads
bookstore_product and keeps the transaction open, as a report or a slow
request would, until ``--hold`` seconds after the contract migration first
waits for the table (timed from then, so that how long ``migrate`` takes to
start, on a loaded machine, does not change what is measured). The contract
is that of the example project's v1 -> v2 change (``makemigrations
--bluegreen``, the same as lock_footprint.py's), applied with ``manage.py
migrate`` half a second after the reader starts, while two probe threads
read bookstore_book and bookstore_product every 50 ms, each query timed.
Three runs, each on a fresh database of 10 000 rows per table:

  no timeout     BLUEGREEN_LOCK_TIMEOUT = 0: the migration waits for the
                 reader and every probe queues behind the migration; the
                 negative control (queries must stall here for the
                 benchmark to mean anything).
  timeout        BLUEGREEN_LOCK_TIMEOUT = --timeout, BLUEGREEN_LOCK_RETRIES =
                 --retries (enough for the reader to end): no probe should
                 wait much longer than the timeout, and the migration must
                 succeed on a later try.
  too few tries  the same timeout, 1 retry, and the reader holds until
                 ``migrate`` exits: the migration gives up; it must fail
                 with nothing applied (the migration is not recorded and the
                 foreign key it drops is still there), and probes still
                 wait at most about the timeout.

Exit status non-zero when an expectation fails: a probe of the "timeout"
run waited longer than the timeout + 0.5 s, or the control's worst probe did
not (it queues for about the hold), the "timeout" migration failed, or the
"too few tries" one did not fail cleanly.
``--smoke``: --hold 3 --timeout 0.5 (CI).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lock_footprint import APP, Bench, admin, connect

OVERRIDE = """\
import os

from example.settings import *  # noqa: F403

BLUEGREEN_LOCK_TIMEOUT = float(os.environ["BENCH_LOCK_TIMEOUT"])
BLUEGREEN_LOCK_RETRIES = int(os.environ["BENCH_LOCK_RETRIES"])
"""
ROWS = 10_000
PROBES = {
    "book": 'SELECT "id", "title" FROM "bookstore_book" ORDER BY "id" DESC LIMIT 5',
    "product": 'SELECT "id", "name" FROM "bookstore_product" ORDER BY "id" DESC LIMIT 5',
}
FK = "bookstore_book_font_id_%_fk_bookstore_font_id"
# A lock request on bookstore_product that is waiting (the contract's DDL).
WAITING = """
    SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'bookstore_product' AND NOT l.granted
"""
RELEASE_AT_THE_LATEST = 120  # seconds: a reader never outlives a broken run


class Probes:
    """Threads timing a small query of each table every 50 ms."""

    def __init__(self, db_name):
        self.db_name = db_name
        self.stop_event = threading.Event()
        self.latencies = {name: [] for name in PROBES}
        self.threads = [
            threading.Thread(target=self.work, args=(name, sql), daemon=True)
            for name, sql in PROBES.items()
        ]

    def work(self, name, sql):
        with connect(self.db_name) as conn:
            while not self.stop_event.is_set():
                start = time.perf_counter()
                conn.execute(sql).fetchall()
                self.latencies[name].append(time.perf_counter() - start)
                self.stop_event.wait(0.05)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def worst(self):
        return max(max(values, default=0.0) for values in self.latencies.values())

    def count(self):
        return sum(len(values) for values in self.latencies.values())

    def slow(self, seconds=0.25):
        return sum(v > seconds for values in self.latencies.values() for v in values)


def long_reader(db_name, started, release):
    with connect(db_name) as conn:
        with conn.transaction():
            conn.execute("SELECT count(*) FROM bookstore_product").fetchone()
            started.set()
            release.wait(RELEASE_AT_THE_LATEST)


def release_after_first_wait(db_name, hold, release, migrate_done):
    """
    Set ``release`` ``hold`` seconds after a lock request on the table is
    first seen waiting: the reader's hold is timed from the moment the
    contract queues, however long ``migrate`` took to start.
    """
    with connect(db_name) as conn:
        while not release.is_set() and not migrate_done.is_set():
            if conn.execute(WAITING).fetchone()[0]:
                release.wait(hold)
                break
            time.sleep(0.02)
    release.set()


def scenario(bench, name, timeout, retries, hold, outlast_migrate=False):
    """
    One run. The reader holds the table ``hold`` seconds after the contract
    first waits for it, or, with ``outlast_migrate``, until ``migrate`` has
    exited (so its retries run out against the reader, whatever the timing).
    """
    bench.fresh_database()
    bench.run("manage.py", "migrate", APP, "0001", "-v0")
    bench.fill(ROWS)
    env = dict(
        bench.env,
        DJANGO_SETTINGS_MODULE="example.settings_locks",
        BENCH_LOCK_TIMEOUT=str(timeout),
        BENCH_LOCK_RETRIES=str(retries),
    )
    started, release, migrate_done = (threading.Event() for _ in range(3))
    reader = threading.Thread(
        target=long_reader, args=(bench.db_name, started, release), daemon=True
    )
    releaser = threading.Thread(
        target=release_after_first_wait,
        args=(bench.db_name, hold, release, migrate_done),
        daemon=True,
    )
    with Probes(bench.db_name) as probes:
        time.sleep(0.3)
        reader.start()
        started.wait(10)
        if not outlast_migrate:
            releaser.start()
        time.sleep(0.5)
        begin = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", APP, bench.contract],
            check=False,
            cwd=bench.project,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        duration = time.perf_counter() - begin
        migrate_done.set()
        release.set()
        reader.join(30)
        if releaser.is_alive():
            releaser.join(30)
        time.sleep(0.3)
    output = result.stdout + result.stderr
    retried = len(re.findall(r"lock not taken within", output))
    with connect(bench.db_name) as conn:
        applied = conn.execute(
            "SELECT count(*) FROM django_migrations WHERE app = %s AND name = %s",
            (APP, bench.contract),
        ).fetchone()[0]
        fk_left = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname LIKE %s", (FK,)
        ).fetchone()[0]
    message = ""
    if result.returncode:
        lines = [line for line in output.splitlines() if "could not take" in line]
        message = lines[-1].strip() if lines else output.strip().splitlines()[-1]
    return {
        "name": name,
        "timeout": timeout,
        "retries": retries,
        "ok": result.returncode == 0,
        "tries": retried + 1,
        "duration": duration,
        "worst": probes.worst(),
        "probes": probes.count(),
        "slow": probes.slow(),
        "applied": bool(applied),
        "fk_left": bool(fk_left),
        "message": message,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--hold", type=float, default=6.0, help="reader's seconds")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--retries", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="--hold 3 --timeout 0.5")
    parser.add_argument("--keep", action="store_true", help="keep the project")
    args = parser.parse_args(argv)
    if args.smoke:
        args.hold, args.timeout = 3.0, 0.5
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"lock timeout: {os.cpu_count()} cores, load average {load}")

    root = Path(tempfile.mkdtemp(prefix="bluegreen-lock-timeout-"))
    bench = Bench(root, f"bg_lock_timeout_{os.getpid()}")
    runs = []
    try:
        bench.prepare()
        (bench.project / "example" / "settings_locks.py").write_text(OVERRIDE)
        print(f"contract: {APP}.{bench.contract}")
        print(
            f"a reader holds bookstore_product until {args.hold} s after the "
            f"contract first waits for it (the 'too few tries' run: until "
            f"migrate exits); {ROWS:,} rows per table"
        )
        for name, timeout, retries, outlast in (
            ("no timeout", 0, 0, False),
            ("timeout", args.timeout, args.retries, False),
            ("too few tries", args.timeout, 1, True),
        ):
            run = scenario(bench, name, timeout, retries, args.hold, outlast)
            runs.append(run)
            print(f"  {name}: done in {run['duration']:.1f} s", flush=True)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{bench.db_name}" WITH (FORCE)')
        if args.keep:
            print(f"project kept in {root}")
        else:
            shutil.rmtree(root)

    print(
        f"\n  {'run':15}{'LOCK_TIMEOUT':>13}{'RETRIES':>9}{'migrate':>10}{'tries':>7}"
        f"{'duration':>10}{'worst probe':>13}{'> 0.25 s':>10}{'probes':>8}"
        f"  after the run"
    )
    for run in runs:
        state = (
            "contract applied"
            if run["applied"] and not run["fk_left"]
            else (
                "nothing applied"
                if not run["applied"] and run["fk_left"]
                else f"applied={run['applied']} fk_left={run['fk_left']}"
            )
        )
        print(
            f"  {run['name']:15}{run['timeout'] or 'off':>13}"
            f"{run['retries'] if run['timeout'] else '-':>9}"
            f"{'ok' if run['ok'] else 'FAILED':>10}{run['tries']:>7}"
            f"{run['duration']:>9.1f}s{run['worst']:>12.2f}s{run['slow']:>10}"
            f"{run['probes']:>8}  {state}"
        )
    for run in runs:
        if run["message"]:
            print(f"\n  {run['name']}: {run['message']}")

    control, timed, short = runs
    problems = []
    bound = args.timeout + 0.5
    if control["worst"] <= bound:
        problems.append(
            f"negative control: without a timeout the worst probe waited only "
            f"{control['worst']:.2f} s (<= {bound} s); the reader did not stall "
            f"the migration, so the timed run shows nothing"
        )
    if not timed["ok"] or not timed["applied"]:
        problems.append("with the timeout and enough retries the migration failed")
    if timed["worst"] > bound:
        problems.append(
            f"with the timeout a probe waited {timed['worst']:.2f} s (> {bound} s)"
        )
    if short["ok"] or short["applied"] or not short["fk_left"]:
        problems.append("with too few retries the migration did not fail cleanly")
    print(
        f"\nworst probe wait: {control['worst']:.2f} s without a timeout, "
        f"{timed['worst']:.2f} s with BLUEGREEN_LOCK_TIMEOUT={args.timeout}"
    )
    if problems:
        print("LOCK TIMEOUT FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
