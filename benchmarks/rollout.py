"""
Deploy rehearsal: failed requests during a real blue-green rollout.

    python benchmarks/rollout.py [--vendors postgresql,mysql,sqlite]
        [--modes stock,bluegreen] [--threads 4] [--interval 0.01]
        [--settle 3] [--max-requests 60000] [--no-rename] [--no-reshape]
        [--smoke] [--keep]

For each vendor and each mode (``stock``: ``makemigrations --no-bluegreen``,
``bluegreen``: ``makemigrations --bluegreen``), in temporary copies of
example_project/ sharing one fresh database:

  prepare   release v1 = example_project as it is; release v2 = the same
            with models_v2.py.txt as models.py (Book.font, Font and
            Product.rating removed, Product.stock added NOT NULL with a
            Python default), Book.title renamed Book.headline (``y`` to
            Django's "Did you rename ...?"; ``--no-rename``: kept), and the
            migration that ``makemigrations`` writes for it (as the
            developer's PR would). Reshapes (``--no-reshape``: none): v1
            also has Book.pages, an IntegerField (its own stock migration,
            an earlier release's), which v2 makes a BigIntegerField, and v2
            makes Product.name unique=True.
            v1: ``migrate``, then v1 serves under gunicorn on 127.0.0.1.
  phase 1   v1 serves                          (baseline)
  phase 2   v2's ``migrate`` while v1 serves   (the contract; stock: everything)
  phase 3   v2 starts under gunicorn; traffic goes to v1 and v2 alike
            (the switch-over window of a blue-green or rolling deploy)
  phase 4   traffic only to v2; v1 is stopped (SIGTERM, graceful), all
            but a task worker of v1 (started with v1; it reads Book and
            Product, every column v1 maps, every 200 ms)
  phase 5   next release v3 (= v2 code): ``promotemigrations`` and its
            ``migrate`` (the cleanup) while v2 serves. bluegreen: the
            registry of live releases shows v1's worker still runs:
            ``promotemigrations --list`` says the cleanup waits for it, the
            cleanup is promoted by name (``--through``), and ``migrate
            --wait`` waits until the worker is stopped (2 s in), then applies
            it. stock: the worker is stopped after the phase's migrate

A load generator (benchmarks/loadgen.py: threads + http.client) lists,
creates, updates and deletes Font, Book and Product rows through the JSON
API of example_project/bookstore/views.py all along; each phase lasts as long
as its action plus ``--settle`` seconds. The task worker's reads count as
requests (target ``v1-worker``) of the phase they fall in. Each release serves the same view
code: only models.py (and its migrations) differ. Prints, per vendor, the
failed/total requests per phase for stock and bluegreen, and the errors seen.

Exit status: non-zero when bluegreen failed any request, when a step of the
deploy failed, or (full run only) when stock failed none in phase 2 -- the
negative control: the rehearsal must show the failures stock Django causes.
``--smoke``: short phases and light load, for CI; stock runs on SQLite only
(its breakage is the same on every vendor). It checks completion,
bluegreen's zero, and the negative control where stock ran.

PostgreSQL: 127.0.0.1:5432, user postgres (trust); MariaDB (vendor
``mysql``): 127.0.0.1:3306, user root, empty password; each rehearsal creates
its own database and drops it afterwards. SQLite: a file in the temporary
directory, in WAL mode, shared by both releases and ``migrate``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import LoadGenerator, PhaseStats, Target

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example_project"
APP = "bookstore"
MODES = ("stock", "bluegreen")
PHASES = (
    "1 v1 serves",
    "2 contract: v2's migrate, v1 serves",
    "3 v2 starts, v1+v2 serve",
    "4 traffic to v2, v1 stopped",
    "5 cleanup: promote+migrate, v2 serves",
)
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


class DeployFailed(Exception):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_admin(sql):
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(sql)


def mariadb_admin(sql):
    import MySQLdb

    connection = MySQLdb.connect(**MARIADB)
    try:
        connection.cursor().execute(sql)
    finally:
        connection.close()


def create_database(vendor, name):
    """A fresh server database (SQLite: nothing to do, the file is made)."""
    if vendor == "postgresql":
        pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        pg_admin(f'CREATE DATABASE "{name}"')
    elif vendor == "mysql":
        mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`")
        mariadb_admin(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )


def drop_database(vendor, name):
    if vendor == "postgresql":
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif vendor == "mysql":
        mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`")


class Server:
    """One release under gunicorn on 127.0.0.1:<port>, in its own session."""

    def __init__(self, name, release, env, log):
        self.name = name
        self.release = release
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "-b",
                f"127.0.0.1:{self.port}",
                "--error-logfile",
                str(log),
                "example.wsgi",
            ],
            cwd=release,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: ours to signal
        )
        self.target = Target(name, self.port)

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DeployFailed(
                    f"gunicorn ({self.name}) exited with {self.process.returncode}; "
                    f"see {self.log}"
                )
            try:
                self.target.load_schema()
                return
            except (OSError, RuntimeError):
                time.sleep(0.1)
        raise DeployFailed(f"gunicorn ({self.name}) not answering after {timeout}s")

    def stop(self, timeout=30.0):
        """SIGTERM (graceful: in-flight requests finish), SIGKILL if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


# A task worker of release v1 (a Celery worker of the old image, say): it set
# Django up and reads Book and Product rows, every column v1 maps (Book.font
# and Product.rating included), every 200 ms; one line per read. SIGTERM is
# a warm shutdown (as Celery's): it exits, and its record says it stopped.
TASK_WORKER = """
import os, signal, sys, time
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.db import connection
from bookstore.models import Book, Product
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    try:
        list(Book.objects.all()[:20])
        list(Product.objects.all()[:20])
        print(time.time(), "ok", flush=True)
    except Exception as error:
        said = str(error).splitlines()[0][:100] if str(error) else ""
        print(time.time(), f"failed {type(error).__name__}: {said}", flush=True)
        connection.close()
    time.sleep(0.2)
"""


class TaskWorker:
    """``TASK_WORKER`` run from a release's folder, its reads logged to ``log``."""

    def __init__(self, release, env, log):
        self.log = log
        (release / "task_worker.py").write_text(TASK_WORKER)
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "task_worker.py"],
                cwd=release,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def reads(self):
        """(time, error or None) of each read."""
        found = []
        for line in Path(self.log).read_text().splitlines():
            stamp, _, said = line.partition(" ")
            try:
                found.append((float(stamp), None if said == "ok" else said))
            except ValueError:
                continue  # a traceback's line, if any
        return found


class Rehearsal:
    def __init__(self, vendor, mode, args, root):
        self.vendor = vendor
        self.mode = mode
        self.args = args
        self.root = root / f"{vendor}-{mode}"
        self.root.mkdir()
        self.servers = []
        self.workers = []
        self.waited = None  # seconds the cleanup's migrate waited for v1's worker
        self.served = {}  # release -> "model(field, ...)" as its GET /api/ says
        self.log_lines = []
        if vendor in ("postgresql", "mysql"):
            self.db_name = f"bg_rehearsal_{mode}_{os.getpid()}"
        else:
            self.db_name = str(self.root / "db.sqlite3")
        self.env = dict(os.environ)
        for key in [k for k in self.env if k.startswith("EXAMPLE_DB_")]:
            del self.env[key]
        self.env.update(
            DJANGO_SETTINGS_MODULE="example.settings",
            EXAMPLE_DB_VENDOR=vendor,
            EXAMPLE_DB_NAME=self.db_name,
            PYTHONDONTWRITEBYTECODE="1",
            # Django formats the migrations it writes with the venv's black.
            PATH=os.pathsep.join(
                [str(Path(sys.executable).parent), os.environ["PATH"]]
            ),
        )

    # -- helpers --------------------------------------------------------------

    def release(self, name, source=EXAMPLE):
        path = self.root / name
        shutil.copytree(
            source,
            path,
            ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__", "*.pyc"),
        )
        return path

    def manage(self, release, *args, answers=None):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            check=False,
            cwd=release,
            env=self.env,
            input=answers,
            capture_output=True,
            text=True,
            timeout=300,
        )
        elapsed = time.perf_counter() - start
        shown = f"[{release.name}] manage.py {' '.join(args)}"
        self.log_lines.append(f"$ {shown}  ({elapsed:.2f} s, exit {result.returncode})")
        self.log_lines.extend(
            "    " + line for line in (result.stdout + result.stderr).splitlines()
        )
        if result.returncode != 0:
            raise DeployFailed(
                f"{shown} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def serve(self, name, release):
        server = Server(name, release, self.env, self.root / f"gunicorn-{name}.log")
        self.servers.append(server)
        server.wait_ready()
        self.served[name] = ", ".join(
            f"{model}({', '.join(f['name'] for f in fields)})"
            for model, fields in sorted(server.target.schema.items())
        )
        return server

    # -- the deploy -----------------------------------------------------------

    def run(self):
        create_database(self.vendor, self.db_name)
        load = LoadGenerator(
            threads=self.args.threads,
            interval=self.args.interval,
            max_requests=self.args.max_requests,
        )
        try:
            return self.deploy(load)
        finally:
            load.stop()
            for server in self.servers:
                server.stop()
            for worker in self.workers:
                worker.stop()
            drop_database(self.vendor, self.db_name)

    def deploy(self, load):
        flag = "--bluegreen" if self.mode == "bluegreen" else "--no-bluegreen"
        # The two releases, as their PRs leave them.
        v1 = self.release("v1")
        if self.args.reshape:
            # An earlier release added Book.pages: v1 has it and its migration.
            models = (v1 / APP / "models.py").read_text()
            (v1 / APP / "models.py").write_text(with_pages(models, "IntegerField"))
            self.manage(v1, "makemigrations", APP, "--no-bluegreen")
        v2 = self.release("v2", source=v1)
        models = (v2 / APP / "models_v2.py.txt").read_text()
        if self.args.reshape:
            models = reshaped(models)
        if self.args.rename:
            models = renamed(models)
        (v2 / APP / "models.py").write_text(models)
        self.manage(
            v2, "makemigrations", APP, flag, answers="y\n" if self.args.rename else ""
        )

        self.manage(v1, "migrate")
        blue = self.serve("v1", v1)
        worker = TaskWorker(v1, self.env, self.root / "task-worker-v1.log")
        self.workers.append(worker)
        load.seed(blue.target)
        load.set_targets([blue.target])
        load.set_phase(PHASES[0])
        load.start()
        timings = {}
        started = {}  # phase -> time.time() it began, for the worker's reads

        def phase(name, action=None):
            load.set_phase(name)
            started[name] = time.time()
            start = time.perf_counter()
            if action:
                action()
            time.sleep(self.args.settle)
            timings[name] = time.perf_counter() - start

        phase(PHASES[0])
        phase(PHASES[1], lambda: self.manage(v2, "migrate"))
        green = None

        def start_green():
            nonlocal green
            green = self.serve("v2", v2)
            load.set_targets([blue.target, green.target])

        phase(PHASES[2], start_green)

        def switch():
            load.set_targets([green.target])
            blue.stop()

        phase(PHASES[3], switch)

        def cleanup():
            v3 = self.release("v3", source=v2)
            if self.mode == "stock":
                self.manage(v3, "promotemigrations")
                self.manage(v3, "migrate")
                worker.stop()
                return
            # v1's task worker still runs (phase 4 stopped only its web
            # servers): promotemigrations says the cleanup waits for it.
            listed = self.manage(v3, "promotemigrations", "--list").stdout
            if "waits: release" not in listed:
                raise DeployFailed(f"promotemigrations --list did not wait: {listed}")
            contract = sorted((v2 / APP / "migrations").glob("[0-9]*.py"))[-1].stem
            self.manage(v3, "promotemigrations", APP, "--through", contract)
            # migrate waits for v1's last worker, which stops 2 s later.
            start = time.perf_counter()
            migrate = subprocess.Popen(
                [sys.executable, "manage.py", "migrate", "--wait=120"],
                cwd=v3,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            time.sleep(2)
            worker.stop()
            output, _ = migrate.communicate(timeout=300)
            self.log_lines.append(
                f"$ [v3] manage.py migrate --wait=120  (exit {migrate.returncode})"
            )
            self.log_lines.extend("    " + line for line in output.splitlines())
            if migrate.returncode or "Waiting up to" not in output:
                raise DeployFailed(
                    f"migrate --wait did not wait for v1's worker:\n{output}"
                )
            self.waited = time.perf_counter() - start

        phase(PHASES[4], cleanup)
        load.stop()
        worker.stop()
        for name, seconds in timings.items():
            load.stats.setdefault(name, PhaseStats()).seconds = seconds
        # The task worker's reads count as requests of the phase they fell in.
        names = sorted(started, key=started.get)
        for stamp, error in worker.reads():
            name = [n for n in names if started[n] <= stamp][-1:] or names[:1]
            stats = load.stats.setdefault(name[0], PhaseStats())
            stats.total += 1
            stats.by_target["v1-worker"] += 1
            if error:
                stats.failed += 1
                stats.errors[f"v1-worker read: {error}"] += 1
        return load.stats


def cell(stats):
    return f"{stats.failed}/{stats.total}" if stats else "-"


def report(vendor, results):
    print(f"\n{vendor}: failed/total requests per phase")
    width = max(len(p) for p in PHASES) + 2
    modes = [m for m in MODES if m in results]
    print("  " + "phase".ljust(width) + "".join(m.rjust(14) for m in modes))
    for name in PHASES:
        row = "".join(cell(results[m].get(name)).rjust(14) for m in modes)
        print("  " + name.ljust(width) + row)
    print(
        "\n  per phase: seconds; p50 / p99 / max latency; requests per release; "
        "404 'gone' (not failures)"
    )
    for mode in modes:
        for name in PHASES:
            stats = results[mode].get(name)
            if not stats:
                continue
            print(
                f"  {mode:<10} {name:<{width}} {stats.seconds:5.1f} s  "
                f"{1000 * stats.percentile(0.5):6.1f} / "
                f"{1000 * stats.percentile(0.99):6.1f} / "
                f"{1000 * max(stats.latencies, default=0):7.1f} ms  "
                + " ".join(f"{t}:{n}" for t, n in sorted(stats.by_target.items()))
                + f"  gone {stats.gone}"
            )
    for mode in modes:
        errors = [(n, s.errors) for n, s in results[mode].items() if s.errors]
        if errors:
            print(f"\n  {mode}: errors (count, first kinds)")
            for name, counter in errors:
                print(f"    {name}")
                for text, count in counter.most_common(6):
                    print(f"      {count:6d}  {text}")


def renamed(models):
    """models_v2.py.txt with Book.title renamed Book.headline."""
    book = models.index("class Book(")
    head, body = models[:book], models[book:]
    end = body.index("\nclass ", 1)
    book_text = (
        body[:end]
        .replace("title = ", "headline = ")
        .replace("self.title", "self.headline")
    )
    if book_text == body[:end]:
        raise SystemExit("models_v2.py.txt: Book has no title to rename")
    return head + book_text + body[end:]


def with_pages(models, kind):
    """``models`` with Book.pages, a ``kind`` field (default 0), after its title."""
    line = "    title = models.CharField(max_length=200)\n"
    if models.count(line) != 1:
        raise SystemExit("models: Book has no title to add pages after")
    return models.replace(line, f"{line}    pages = models.{kind}(default=0)\n")


def reshaped(models):
    """
    models_v2.py.txt reshaping what v1 writes: Book.pages (an IntegerField
    in v1) a BigIntegerField, and Product.name unique.
    """
    line = "    name = models.CharField(max_length=255)\n"
    if models.count(line) != 1:
        raise SystemExit("models_v2.py.txt: Product has no name to make unique")
    models = models.replace(line, line.replace(")", ", unique=True)"))
    return with_pages(models, "BigIntegerField")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--vendors", default="postgresql,mysql,sqlite")
    parser.add_argument("--modes", default="stock,bluegreen")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--interval",
        type=float,
        default=0.01,
        help="pause of each thread between its requests (s)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds of load after each phase's action",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=60_000,
        help="hard bound on requests per rehearsal",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="short and light (CI), stock on SQLite only: checks completion, "
        "bluegreen's zero failed requests and stock's failures",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary releases and logs"
    )
    parser.add_argument(
        "--no-rename",
        dest="rename",
        action="store_false",
        help="v2 keeps Book.title (no field rename in the release)",
    )
    parser.add_argument(
        "--no-reshape",
        dest="reshape",
        action="store_false",
        help="no Book.pages retype nor Product.name unique in the release",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.threads, args.settle, args.max_requests = 2, 1.0, 5_000
    vendors = [v for v in args.vendors.split(",") if v]
    modes = [m for m in args.modes.split(",") if m]
    for name in modes:
        if name not in MODES:
            parser.error(f"unknown mode {name!r}")
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        sys.exit("rollout.py needs gunicorn in this environment: pip install gunicorn")

    root = Path(tempfile.mkdtemp(prefix="bluegreen-rollout-"))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"deploy rehearsal in {root}  (python {sys.version.split()[0]}, "
        f"{args.threads} threads, settle {args.settle} s; {os.cpu_count()} cores, "
        f"load average {load})"
    )
    problems = []
    for vendor in vendors:
        results = {}
        for mode in modes:
            if args.smoke and mode == "stock" and vendor != "sqlite":
                continue
            rehearsal = Rehearsal(vendor, mode, args, root)
            started = time.perf_counter()
            try:
                results[mode] = rehearsal.run()
            except (
                DeployFailed,
                RuntimeError,
                OSError,
                subprocess.TimeoutExpired,
            ) as exc:
                problems.append(f"{vendor}/{mode}: the deploy failed: {exc}")
                results[mode] = {}
            (rehearsal.root / "deploy.log").write_text(
                "\n".join(rehearsal.log_lines) + "\n"
            )
            print(f"  {vendor}/{mode}: {time.perf_counter() - started:.1f} s")
            if rehearsal.waited is not None:
                print(
                    f"    phase 5: migrate --wait waited {rehearsal.waited:.1f} s for "
                    f"v1's task worker to stop, then applied the cleanup"
                )
            for name, models in rehearsal.served.items():
                print(f"    {name} served {models}")
        report(vendor, results)
        if "bluegreen" in results:
            failed = sum(s.failed for s in results["bluegreen"].values())
            if failed:
                problems.append(f"{vendor}: bluegreen failed {failed} request(s)")
        if "stock" in results:
            contract = results["stock"].get(PHASES[1])
            if contract and not contract.failed:
                problems.append(
                    f"{vendor}: negative control: stock failed no request in "
                    f"phase 2; the rehearsal did not catch the breakage"
                )
    if args.keep or problems:
        print(f"\nreleases, deploy.log and gunicorn logs kept in {root}")
    else:
        shutil.rmtree(root)
    if problems:
        print("\nREHEARSAL FAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nrehearsal OK: bluegreen failed no request in any phase")
    return 0


if __name__ == "__main__":
    sys.exit(main())
