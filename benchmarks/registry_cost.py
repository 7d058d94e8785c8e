"""
The registry of live releases' cost on a request: latency p50 / p99 of the
example project with the registry on and off, in the same run.

    python benchmarks/registry_cost.py [--vendors postgresql,sqlite,mysql]
        [--seconds 20] [--threads 2] [--ttl 60] [--warmup 2] [--smoke]

For each vendor: one copy of example_project/, migrated on a fresh
database, served twice under gunicorn (2 sync workers each, as the
rehearsal): ``on`` with ``BLUEGREEN_RELEASE_TTL = --ttl`` (every worker
records itself and its heartbeat thread refreshes the record every TTL / 4
seconds, at most every 10), ``off`` with ``BLUEGREEN_RELEASE_TTL = 0``
(nothing recorded). Each load thread alternates between the two servers,
request by request (a list, a create, a read of the row it created), so
both see the same machine at the same moments. ``--ttl 2`` refreshes every
0.5 s: the registry's cost made as large as a setting makes it.

Prints, per vendor, the requests, p50 and p99 of each server and the
ratios on/off (goal: p99 ratio <= 1.01; on a shared machine the noise of
two identical servers is of that order: the line says what it is), and
checks that the ``on`` workers recorded themselves and the ``off`` ones did
not. Exit status non-zero when a request failed or the records are wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import PhaseStats
from rollout import EXAMPLE, DeployFailed, Server, create_database, drop_database


def percentile(latencies, q):
    return PhaseStats(latencies=latencies).percentile(q)


class Run:
    def __init__(self, vendor, args, root):
        self.vendor = vendor
        self.args = args
        self.root = root / vendor
        self.release = self.root / "release"
        shutil.copytree(
            EXAMPLE,
            self.release,
            ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__", "*.pyc"),
        )
        if vendor == "sqlite":
            self.db_name = str(self.root / "db.sqlite3")
        else:
            self.db_name = f"bg_registry_cost_{os.getpid()}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMPLE_")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="example.settings",
            EXAMPLE_DB_VENDOR=vendor,
            EXAMPLE_DB_NAME=self.db_name,
            PYTHONDONTWRITEBYTECODE="1",
        )

    def manage(self, *args, ttl=0):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.release,
            env={**self.env, "EXAMPLE_RELEASE_TTL": str(ttl)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode:
            raise DeployFailed(f"manage.py {' '.join(args)}: {result.stderr}")
        return result.stdout

    def run(self):
        create_database(self.vendor, self.db_name)
        servers = []
        try:
            self.manage("migrate", "-v0")
            for name, ttl in (("on", self.args.ttl), ("off", 0)):
                env = {**self.env, "EXAMPLE_RELEASE_TTL": str(ttl)}
                server = Server(name, self.release, env, self.root / f"{name}.log")
                servers.append(server)
                server.wait_ready()
            targets = [s.target for s in servers]
            # Warm up: every worker connects (and the 'on' ones record
            # themselves: a table created once, a row each) before counting.
            self.load(targets, self.args.warmup)
            latencies, failures = self.load(targets, self.args.seconds)
            status = json.loads(
                self.manage("deploystatus", "--format", "json", ttl=self.args.ttl)
            )
            return latencies, failures, status, servers
        finally:
            for server in servers:
                server.stop()
            drop_database(self.vendor, self.db_name)

    def load(self, targets, seconds):
        latencies = {target.name: [] for target in targets}
        failures = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def work(index):
            turn = index
            while time.monotonic() < stop:
                for target in targets[turn % 2 :] + targets[: turn % 2]:
                    took, problem = self.request(target, f"{index}-{turn}")
                    with lock:
                        latencies[target.name].extend(took)
                        if problem:
                            failures.append(f"{target.name}: {problem}")
                turn += 1

        threads = [
            threading.Thread(target=work, args=(i,)) for i in range(self.args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return latencies, failures

    @staticmethod
    def request(target, serial):
        """A list, a create and a read of the created row: three latencies."""
        took = []
        steps = [
            ("GET", "/api/font/", None, 200),
            ("POST", "/api/font/", {"name": f"font {serial}"}, 201),
        ]
        created = None
        for method, path, data, expected in steps:
            start = time.perf_counter()
            try:
                status, body = target.request(method, path, data)
            except OSError as error:
                return took, f"{method} {path}: {error}"
            took.append(time.perf_counter() - start)
            if status != expected:
                return took, f"{method} {path}: {status}"
            if method == "POST":
                created = json.loads(body)["pk"]
        start = time.perf_counter()
        status, _ = target.request("GET", f"/api/font/{created}/")
        took.append(time.perf_counter() - start)
        return took, None if status == 200 else f"GET font {created}: {status}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--vendors", default="postgresql,sqlite,mysql")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ttl", type=float, default=60.0)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load not counted"
    )
    parser.add_argument("--smoke", action="store_true", help="3 s on SQLite")
    args = parser.parse_args(argv)
    if args.smoke:
        args.vendors, args.seconds = "sqlite", 3.0
    root = Path(tempfile.mkdtemp(prefix="bluegreen-registry-cost-"))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"registry cost: {args.seconds:g} s per vendor, {args.threads} threads, "
        f"BLUEGREEN_RELEASE_TTL {args.ttl:g} vs 0; {os.cpu_count()} cores, "
        f"load average {load}"
    )
    problems = []
    for vendor in [v for v in args.vendors.split(",") if v]:
        latencies, failures, status, servers = Run(vendor, args, root).run()
        on, off = latencies["on"], latencies["off"]
        p50 = percentile(on, 0.5) / percentile(off, 0.5)
        p99 = percentile(on, 0.99) / percentile(off, 0.99)
        print(f"\n{vendor}:")
        for name, values in latencies.items():
            print(
                f"  {name:<4} {len(values):6d} requests  p50 "
                f"{1000 * percentile(values, 0.5):6.2f} ms  p99 "
                f"{1000 * percentile(values, 0.99):6.2f} ms"
            )
        print(f"  ratio on/off: p50 {p50:.3f}, p99 {p99:.3f} (goal p99 <= 1.01)")
        pids = sorted(
            pid
            for release in status["releases"]
            for host in release["hosts"]
            for pid in host["pids"]
        )
        print(
            f"  recorded: {len(pids)} process(es) of {len(status['releases'])} release(s)"
        )
        if failures:
            problems.append(f"{vendor}: {len(failures)} failed: {failures[:3]}")
        # Only the 'on' server's workers (two, one of which may have served
        # nothing) record themselves.
        if not 1 <= len(pids) <= 2:
            problems.append(f"{vendor}: {len(pids)} processes recorded, not 1 or 2")
    shutil.rmtree(root, ignore_errors=True)
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
