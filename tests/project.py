"""
Temporary Django projects that the tests drive through real management
commands, each against its own fresh database on one vendor.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

VENDORS = ["sqlite", "postgresql", "mysql"]

SERVERS = {
    "postgresql": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "USER": "postgres",
    },
    "mysql": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": "127.0.0.1",
        "PORT": "3306",
        "USER": "root",
        "PASSWORD": "",
    },
}

PROBE = Path(__file__).with_name("probe.py")

SETTINGS = """\
import json, os
SECRET_KEY = "tests"
INSTALLED_APPS = {installed_apps!r}
DATABASES = json.loads(os.environ["TEST_PROJECT_DATABASES"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# The registry of live releases stays off but where a test turns it on: a
# command such as 'shell' would record itself and add its table to the
# schemas the tests compare (tests/test_registry.py turns it on).
BLUEGREEN_RELEASE_TTL = 0
{extra}
"""

MANAGE = """\
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


class CommandFailed(AssertionError):
    pass


def assert_stopped(result: subprocess.CompletedProcess, message: str) -> None:
    """
    The command stopped on a CommandError saying ``message`` (after any
    system check's warnings): Django prints it without a traceback.
    """
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    _, said, error = result.stderr.rpartition("\nCommandError: ")
    error = error if said else result.stderr.removeprefix("CommandError: ")
    assert (said or result.stderr.startswith("CommandError: ")) and message in error, (
        result.stderr
    )


def create_database(vendor: str) -> dict:
    """A new empty database on ``vendor``'s server; its DATABASES entry."""
    name = f"bg_{uuid.uuid4().hex[:12]}"
    server = SERVERS[vendor]
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(
            host=server["HOST"], user=server["USER"], dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    else:
        import MySQLdb

        connection = MySQLdb.connect(host=server["HOST"], user=server["USER"])
        connection.cursor().execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        connection.close()
    return {**server, "NAME": name, "TEST": {"NAME": f"test_{name}"}}


def drop_database(vendor: str, settings: dict) -> None:
    name = settings["NAME"]
    server = SERVERS[vendor]
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(
            host=server["HOST"], user=server["USER"], dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        import MySQLdb

        connection = MySQLdb.connect(host=server["HOST"], user=server["USER"])
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


class _PostgreSQLDrops:
    """
    PostgreSQL's DROP DATABASE waits for a checkpoint it asks for (PostgreSQL
    15), one per drop: 1.4 s a test's teardown in the suite on three workers
    (599 s in 417 teardowns), most of it flushing what the other tests wrote.
    The drops that ask at the same time share one checkpoint (10 drops: 25 s
    one after the other, 0.4 s at once). So the databases of the projects a
    test process closes are dropped ``BATCH`` at a time, each in a thread of
    its own, while the tests go on; every test still gets a database of its
    own, made for it. The last ones are dropped, and any failure raised, at
    the end of the session (``dropped_databases``).
    """

    BATCH = 8

    def __init__(self) -> None:
        self.pending: list[dict] = []
        self.threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def add(self, settings: dict) -> None:
        self.pending.append(settings)
        if len(self.pending) >= self.BATCH:
            self.start()

    def start(self) -> None:
        pending, self.pending = self.pending, []
        for settings in pending:
            thread = threading.Thread(target=self.drop, args=(settings,))
            thread.start()
            self.threads.append(thread)

    def drop(self, settings: dict) -> None:
        try:
            drop_database("postgresql", settings)
        except Exception as error:  # raised by finish(), in the test process
            self.failures.append(f"DROP DATABASE {settings['NAME']}: {error}")

    def finish(self) -> None:
        self.start()
        for thread in self.threads:
            thread.join()
        self.threads = []
        failures, self.failures = self.failures, []
        if failures:
            raise RuntimeError("\n".join(failures))


_postgresql_drops = _PostgreSQLDrops()


@pytest.fixture(scope="session", autouse=True)
def dropped_databases():
    """The PostgreSQL databases of the projects closed are dropped by the end."""
    yield
    _postgresql_drops.finish()


class Project:
    """
    A Django project in ``root`` with one app (``app_label``) whose models
    are set by ``set_models``; every command runs in a subprocess.
    """

    def __init__(
        self,
        root: Path,
        vendor: str,
        app_label: str = "shop",
        bluegreen: bool = True,
        installed: bool = True,
        extra_settings: str = "",
        apps: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.vendor = vendor
        self.app_label = app_label
        self.apps = (app_label, *apps)  # installed after the package, in order
        self.databases: list[dict] = []
        self.other_databases: dict[str, dict] = {}  # aliases beside "default"
        root.mkdir(parents=True, exist_ok=True)
        for label in self.apps:
            app = root / label
            (app / "migrations").mkdir(parents=True, exist_ok=True)
            (app / "__init__.py").write_text("")
            (app / "migrations" / "__init__.py").write_text("")
            (app / "models.py").write_text("")
        installed_apps = (["bluegreen_autodetector"] if installed else []) + list(
            self.apps
        )
        extra = f"BLUEGREEN_MIGRATIONS = {bluegreen!r}\n" + extra_settings
        (root / "settings.py").write_text(
            SETTINGS.format(installed_apps=installed_apps, extra=extra)
        )
        (root / "manage.py").write_text(MANAGE)
        shutil.copy(PROBE, root / "probe.py")
        self.database = self.new_database()

    # Databases -------------------------------------------------------------

    def new_database(self) -> dict:
        """Create a fresh database and point the project at it."""
        if self.vendor == "sqlite":
            settings = {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(self.root / f"db-{len(self.databases)}.sqlite3"),
            }
        else:
            settings = create_database(self.vendor)
        self.databases.append(settings)
        self.database = settings
        return settings

    def close(self) -> None:
        for settings in self.databases:
            if self.vendor == "postgresql":
                _postgresql_drops.add(settings)
            elif self.vendor != "sqlite":
                drop_database(self.vendor, settings)

    # Files -------------------------------------------------------------------

    @property
    def migrations(self) -> Path:
        return self.root / self.app_label / "migrations"

    @property
    def pending(self) -> Path:
        return self.migrations / "pending"

    def set_models(self, source: str | dict[str, str]) -> None:
        """The app's models; or, by app label, the models of several apps."""
        sources = source if isinstance(source, dict) else {self.app_label: source}
        for label, text in sources.items():
            (self.root / label / "models.py").write_text(
                "from django.db import models\n\n" + textwrap.dedent(text)
            )
            # A second write within the same second must not reuse stale bytecode.
            for cache in (self.root / label).glob("__pycache__"):
                shutil.rmtree(cache)

    def migration_names(self) -> list[str]:
        return sorted(p.stem for p in self.migrations.glob("[0-9]*.py"))

    def pending_files(self) -> list[Path]:
        return sorted(self.pending.glob("*.py")) if self.pending.exists() else []

    def snapshot(self) -> dict[str, str]:
        """Every file under the migrations folder, by relative path."""
        return {
            str(path.relative_to(self.migrations)): path.read_text()
            for path in sorted(self.migrations.rglob("*.py"))
        }

    # Commands ----------------------------------------------------------------

    def run(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "TEST_PROJECT_DATABASES": json.dumps(
                {"default": self.database, **self.other_databases}
            ),
            # black runs on written migrations when it is on PATH, as for users.
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
            "PYTHONDONTWRITEBYTECODE": "1",
            "DJANGO_SETTINGS_MODULE": "settings",
        }
        result = _run(list(args), self.root, env, input or "")
        if check and result.returncode != 0:
            raise CommandFailed(
                f"{' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("manage.py", *args, check=check)

    def probe(self, command: str, **arguments) -> dict | list:
        """Run probe.py (historical-model CRUD, introspection); its JSON answer."""
        result = self.run("probe.py", command, json.dumps(arguments))
        return json.loads(result.stdout.strip().splitlines()[-1])


def _run(args: list[str], cwd: Path, env: dict, input: str):
    """``python ARGS`` in ``cwd``: forked by the zygote, or a plain subprocess."""
    if os.environ.get("TEST_NO_ZYGOTE"):
        return subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            input=input,
        )
    return _Zygote.get().run(args, cwd, env, input)


TIMEOUT = 300  # seconds, for one command


class _Zygote:
    """This test process's fork server (tests/zygote.py), started on first use."""

    _running: _Zygote | None = None

    @classmethod
    def get(cls) -> _Zygote:
        if cls._running is None or cls._running.process.poll() is not None:
            cls._running = cls()
        return cls._running

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("zygote.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        atexit.register(self.process.kill)

    def run(self, args: list[str], cwd: Path, env: dict, input: str):
        with tempfile.TemporaryDirectory() as directory:
            streams = {
                name: os.path.join(directory, name)
                for name in ("stdin", "stdout", "stderr")
            }
            Path(streams["stdin"]).write_text(input)
            Path(streams["stdout"]).touch()
            Path(streams["stderr"]).touch()
            request = {"args": args, "cwd": str(cwd), "env": env, **streams}
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            pid = self._answer()["pid"]
            if not select.select([self.process.stdout], [], [], TIMEOUT)[0]:
                os.kill(pid, signal.SIGKILL)
                self._answer()
                raise subprocess.TimeoutExpired(args, TIMEOUT)
            returncode = self._answer()["returncode"]
            return subprocess.CompletedProcess(
                args,
                returncode,
                Path(streams["stdout"]).read_text(),
                Path(streams["stderr"]).read_text(),
            )

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("tests/zygote.py stopped; run with TEST_NO_ZYGOTE=1")
        return json.loads(line)


@pytest.fixture
def make_project(tmp_path):
    made = []

    def make(vendor: str, **kwargs) -> Project:
        project = Project(tmp_path / f"project{len(made)}", vendor, **kwargs)
        made.append(project)
        return project

    yield make
    for project in made:
        project.close()
