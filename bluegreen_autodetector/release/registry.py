"""
The registry of live releases: every process that serves the project
records its release in the database it uses, and refreshes the record while
it runs. ``migrate``, ``promotemigrations`` and ``deploystatus`` read it
(``release_guard.py``).

The table, ``bluegreen_live_releases``, is kept the way Django keeps
``django_migrations`` (``MigrationRecorder``): a model of its own app
registry, created on demand by the first process that records itself, never
by a migration of the user's apps. One row per process and database:

- ``release``: a digest of ``migrations``, which names, for each app, the
  migrations of the process's code with the highest number (the leaves, as
  Django numbers them), read from the migrations folders once per process
  without importing a migration: "does this release know contract X" is
  then "is X at or before one of them in the migration graph";
- ``host``, ``pid``, ``program`` (``gunicorn``, ``manage.py runserver``, ...);
- ``started``, ``last_seen``, ``stopped``: by the database's clock.

Who records: a process that set Django up and opens a connection to a
database (``connection_created``): web workers (gunicorn's forked workers
each record themselves), task workers, ``runserver``, ``shell``, scripts.
Not the deploy-time commands (``DEPLOY_COMMANDS``), not the test runner
(Django's test environment is set up), not a database a router keeps this
app off (``allow_migrate`` answers False for ``bluegreen_autodetector``).

The cost on a request is a set lookup: the writes are done by one daemon
thread per process (the heartbeat), every ``BLUEGREEN_RELEASE_TTL`` / 4
seconds and at most every 10, on its own connection, which it closes after
each beat. An idle worker stays live: it would run its old code on its next
task. At exit the heartbeat marks the process stopped, so a graceful stop
needs no TTL to pass. A database where the record cannot be written (a
read-only replica, a user without CREATE rights) is said once in the log
(logger ``bluegreen_autodetector.registry``); serving carries on.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import logging
import os
import pkgutil
import re
import socket
import sys
import threading
from datetime import timedelta

from django.core.signals import request_started
from django.db import DatabaseError, connections, router
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

TABLE = "bluegreen_live_releases"

# Commands run at deploy time or by a person inspecting, not releases serving.
DEPLOY_COMMANDS = frozenset(
    {
        "check",
        "collectstatic",
        "createcachetable",
        "dbshell",
        "deploystatus",
        "diffsettings",
        "ejectbluegreen",
        "help",
        "inspectdb",
        "makemigrations",
        "migrate",
        "optimizemigration",
        "promotemigrations",
        "showmigrations",
        "sqldiff",
        "sqlflush",
        "sqlmigrate",
        "sqlsequencereset",
        "squashmigrations",
        "test",
        "testserver",
        "version",
    }
)

# Rows not seen for this long are deleted by the next process that starts.
FORGET_AFTER = timedelta(hours=1)


_model = _now = None


def DatabaseNow():  # noqa: N802 (an expression, as Django's Now())
    """The database's clock, in UTC on every vendor (MySQL's CURRENT_TIMESTAMP is local)."""
    global _now
    if _now is None:
        from django.db.models.functions import Now

        class UTCNow(Now):
            def as_mysql(self, compiler, connection, **extra_context):
                return self.as_sql(
                    compiler, connection, template="UTC_TIMESTAMP(6)", **extra_context
                )

        _now = UTCNow
    return _now()


def model():
    """The registry's model, built on first use (as ``MigrationRecorder.Migration``)."""
    global _model
    if _model is None:
        from django.apps.registry import Apps
        from django.db import models

        class LiveRelease(models.Model):
            release = models.CharField(max_length=64)
            migrations = models.TextField()  # JSON: {app_label: [names]}
            host = models.CharField(max_length=255)
            pid = models.IntegerField()
            program = models.CharField(max_length=255)
            started = models.DateTimeField()
            last_seen = models.DateTimeField()
            stopped = models.DateTimeField(null=True)

            class Meta:
                apps = Apps()
                app_label = "bluegreen_autodetector"
                db_table = TABLE

        _model = LiveRelease
    return _model


# -- the release's identity -------------------------------------------------


def _number(name: str) -> int | None:
    """Django's ``MigrationAutodetector.parse_number``, without importing it."""
    squashed = re.search(r".*_squashed_(\d+)", name)
    if squashed:
        return int(squashed[1])
    match = re.match(r"^\d+", name)
    return int(match[0]) if match else None


def leaves_on_disk() -> dict[str, list[str]]:
    """
    For each installed app with a migrations folder, the names of its
    migrations with the highest number, and those without a number: read
    from the folder's file names as Django's loader reads them, importing
    no migration.
    """
    from django.apps import apps
    from django.conf import settings

    configured = getattr(settings, "MIGRATION_MODULES", {})
    found = {}
    for config in apps.get_app_configs():
        module_name = configured.get(config.label, f"{config.name}.migrations")
        if module_name is None:
            continue
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations or not spec.origin:
            continue  # no migrations package (or a namespace package: unmigrated)
        names = [
            name
            for _, name, is_package in pkgutil.iter_modules(
                spec.submodule_search_locations
            )
            if not is_package and name[0] not in "_~"
        ]
        if names:
            found[config.label] = leaves(names)
    return found


def leaves(names) -> list[str]:
    """
    The names of the highest number (a squash counts as the number it
    squashes to, as Django numbers it), and those without a number: every
    leaf is among them, and each of them is in the release.
    """
    numbers = {name: _number(name) for name in names}
    top = max((n for n in numbers.values() if n is not None), default=None)
    return sorted(
        name for name, number in numbers.items() if number is None or number == top
    )


def digest(migrations: dict[str, list[str]]) -> str:
    """A release's short name: the same code, the same digest on every host."""
    text = json.dumps(migrations, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# -- recording -----------------------------------------------------------------


class _Heartbeat:
    """
    This process's record: the databases it has connected to, and the
    daemon thread that writes its row in each (started once per process,
    again in a forked child).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Held during each write: a fork waits for it (``_before_fork``), so
        # that no child starts with a lock the writing thread held (a module
        # being imported, the driver's), which no thread of the child would
        # ever release.
        self.writing = threading.Lock()
        self.writing_held = False
        self.pid = 0  # the process the thread below runs in
        self.thread: threading.Thread | None = None
        self.stop = threading.Event()
        self.aliases: set[str] = set()
        self.rows: dict[str, int] = {}  # alias -> id of this process's row
        self.told: set[str] = set()  # aliases whose failure was logged
        self.identity: tuple[str, str] | None = None  # (digest, JSON)

    def before_fork(self) -> None:
        if self.thread is not None and self.pid == os.getpid():
            self.writing_held = self.writing.acquire(timeout=10)

    def after_fork_in_parent(self) -> None:
        if self.writing_held:
            self.writing_held = False
            self.writing.release()

    def forked(self) -> None:
        """In a forked child: the parent's thread is not here (nor its locks)."""
        self.lock, self.writing = threading.Lock(), threading.Lock()
        self.writing_held = False
        self.pid, self.thread = 0, None

    def add(self, alias: str) -> None:
        with self.lock:
            self.aliases.add(alias)
            if self.pid == os.getpid():
                return
            # The first connection of this process (or of a forked child,
            # whose parent's rows are the parent's): start its heartbeat.
            self.pid, self.rows, self.stop = os.getpid(), {}, threading.Event()
            model(), DatabaseNow()  # their imports, in this thread
            self.thread = threading.Thread(
                target=self.run, name="bluegreen-registry", daemon=True
            )
            self.thread.start()

    def run(self) -> None:
        interval = beat_interval(ttl())
        while True:
            with self.lock:
                aliases = sorted(self.aliases)
            for alias in aliases:
                with self.writing:
                    self.beat(alias)
            if self.stop.wait(interval):
                break
        for alias in sorted(self.rows):
            with self.writing:
                self.beat(alias, stopping=True)

    def beat(self, alias: str, stopping: bool = False) -> None:
        connection = connections[alias]
        try:
            self.write(alias, stopping)
        except Exception as error:  # never break the process that serves
            if alias not in self.told:
                self.told.add(alias)
                logger.warning(
                    "bluegreen_autodetector cannot record this release on "
                    "database %r (%s: %s); serving carries on, but migrate "
                    "cannot know this process runs. Grant the user CREATE "
                    "(once) and INSERT/UPDATE on %s, or set "
                    "BLUEGREEN_RELEASE_TTL = 0 to turn the registry off.",
                    alias,
                    type(error).__name__,
                    error,
                    TABLE,
                )
        finally:
            try:
                connection.close()
            except Exception:
                pass

    def write(self, alias: str, stopping: bool) -> None:
        rows = model().objects.using(alias)
        row = self.rows.get(alias)
        if row is not None:
            changes = {"last_seen": DatabaseNow()}
            if stopping:
                changes["stopped"] = DatabaseNow()
            if rows.filter(pk=row).update(**changes):
                return
        if stopping:
            return
        ensure_schema(alias)
        if self.identity is None:
            migrations = leaves_on_disk()
            self.identity = digest(migrations), json.dumps(migrations, sort_keys=True)
        forget(alias)
        self.rows[alias] = rows.create(
            release=self.identity[0],
            migrations=self.identity[1],
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            program=program()[:255],
            started=DatabaseNow(),
            last_seen=DatabaseNow(),
        ).pk

    def exit(self) -> None:
        """At exit: the thread marks this process stopped (bounded wait)."""
        thread = self.thread
        if thread is not None and self.pid == os.getpid() and thread.is_alive():
            self.stop.set()
            thread.join(timeout=5)


_heartbeat = _Heartbeat()
atexit.register(_heartbeat.exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_heartbeat.before_fork,
        after_in_parent=_heartbeat.after_fork_in_parent,
        after_in_child=_heartbeat.forked,
    )


def ensure_schema(alias: str) -> None:
    """Create the table if it is not there (as ``MigrationRecorder.ensure_schema``)."""
    connection = connections[alias]
    if has_table(alias):
        return
    try:
        with connection.schema_editor() as editor:
            editor.create_model(model())
    except DatabaseError:
        # Another process may have created it meanwhile.
        if not has_table(alias):
            raise


def has_table(alias: str) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return TABLE in connection.introspection.table_names(cursor)


def forget(alias: str) -> None:
    """Delete the rows not seen for ``FORGET_AFTER`` (a process starting does it)."""
    rows = model().objects.using(alias)
    old = [
        row["pk"]
        for row in rows.annotate(now=DatabaseNow()).values("pk", "last_seen", "now")
        if row["now"] - row["last_seen"] > FORGET_AFTER
    ]
    if old:
        rows.filter(pk__in=old).delete()


def program() -> str:
    """What this process runs: 'gunicorn', 'manage.py runserver', 'worker.py'."""
    path = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    name = os.path.basename(path)
    if name == "__main__.py":  # python -m gunicorn
        name = os.path.basename(os.path.dirname(path))
    command = _command()
    return f"{name} {command}" if command else name


def _command() -> str | None:
    """The management command this process runs through ``manage.py``, if any."""
    management = sys.modules.get("django.core.management")
    if management is None:
        return None
    code = management.ManagementUtility.execute.__code__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return frame.f_locals.get("subcommand")
        frame = frame.f_back
    return None


def ttl() -> float:
    """``BLUEGREEN_RELEASE_TTL``; a bad value is logged once here (migrate refuses it)."""
    from django.core.management.base import CommandError

    from .. import conf

    try:
        return conf.release_ttl()
    except CommandError as error:
        logger.error("%s", error)
        return conf.DEFAULT_RELEASE_TTL


def beat_interval(seconds: float) -> float:
    """How often a process refreshes its record: four times per TTL, at most every 10 s."""
    return min(max(seconds / 4, 0.05), 10.0)


def _testing() -> bool:
    """Django's test environment is set up (``manage.py test``, pytest-django)."""
    utils = sys.modules.get("django.test.utils")
    return utils is not None and hasattr(utils._TestState, "saved_data")


def _connected(sender, connection, **kwargs) -> None:
    alias = connection.alias
    if alias in _heartbeat.aliases and _heartbeat.pid == os.getpid():
        return  # the common case: one set lookup per new connection
    if threading.current_thread() is _heartbeat.thread or _testing():
        return
    try:
        if router.allow_migrate(alias, "bluegreen_autodetector") is False:
            return
    except Exception:
        return
    _heartbeat.add(alias)


def _requested(sender, **kwargs) -> None:
    # A worker forked with its parent's connection open never connects
    # anew: its first request starts its own record.
    if _heartbeat.aliases and _heartbeat.pid != os.getpid():
        _heartbeat.add(min(_heartbeat.aliases))


def install() -> None:
    """
    Called by ``AppConfig.ready``: record this process from its first
    connection on, unless it runs a deploy-time command or the registry is
    off (``BLUEGREEN_RELEASE_TTL = 0``).
    """
    if _command() in DEPLOY_COMMANDS or not ttl():
        return
    connection_created.connect(_connected, dispatch_uid="bluegreen_registry")
    request_started.connect(_requested, dispatch_uid="bluegreen_registry")


def leave_unrecorded() -> None:
    """This process records nothing (a tool that is no release, e.g. a test probe)."""
    connection_created.disconnect(dispatch_uid="bluegreen_registry")
    request_started.disconnect(dispatch_uid="bluegreen_registry")


# -- reading -------------------------------------------------------------------


class Process:
    """One process of a live release, as its row says."""

    def __init__(self, row: dict, now) -> None:
        self.host = row["host"]
        self.pid = row["pid"]
        self.program = row["program"]
        self.started = row["started"]
        self.last_seen = row["last_seen"]
        self.age = (now - row["last_seen"]).total_seconds()  # by the database's clock


class Release:
    """A live release: the processes whose code has the same migrations."""

    def __init__(self, name: str, migrations: dict[str, list[str]]) -> None:
        self.name = name  # the digest
        self.migrations = migrations
        self.processes: list[Process] = []

    @property
    def first_seen(self):
        return min(process.started for process in self.processes)

    @property
    def last_seen(self):
        return max(process.last_seen for process in self.processes)

    @property
    def age(self) -> float:
        return min(process.age for process in self.processes)

    def hosts(self) -> dict[str, list[int]]:
        hosts: dict[str, list[int]] = {}
        for process in self.processes:
            hosts.setdefault(process.host, []).append(process.pid)
        return {host: sorted(pids) for host, pids in sorted(hosts.items())}


def live_releases(alias: str, seconds: float) -> list[Release] | None:
    """
    The releases seen on database ``alias`` within ``seconds`` and not
    stopped, oldest first (by when their first process started); None if
    no process ever recorded itself there (no table).
    """
    if not has_table(alias):
        return None
    rows = (
        model()
        .objects.using(alias)
        .filter(stopped__isnull=True)
        .annotate(now=DatabaseNow())
        .values(
            "release",
            "migrations",
            "host",
            "pid",
            "program",
            "started",
            "last_seen",
            "now",
        )
        .order_by("started", "pk")
    )
    releases: dict[str, Release] = {}
    for row in rows:
        process = Process(row, row["now"])
        if process.age > seconds:
            continue
        if row["release"] not in releases:
            releases[row["release"]] = Release(
                row["release"], json.loads(row["migrations"])
            )
        releases[row["release"]].processes.append(process)
    return sorted(releases.values(), key=lambda release: release.first_seen)
