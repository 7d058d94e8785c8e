"""
The registry of live releases: every process that serves the project
records its release in the database it uses, and refreshes the record while
it runs. ``migrate``, ``promotemigrations`` and ``deploystatus`` read it
(``guard.py``).

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
Not the deploy-time commands (``recording.DEPLOY_COMMANDS``), not the test runner
(Django's test environment is set up), not a database a router keeps this
app off (``allow_migrate`` answers False for ``bluegreen_autodetector``).

The cost on a request is a set lookup: the writes are done by one daemon
thread per process (the heartbeat, ``heartbeat.py``), every ``BLUEGREEN_RELEASE_TTL`` / 4
seconds and at most every 10, on its own connection, which it closes after
each beat. An idle worker stays live: it would run its old code on its next
task. At exit the heartbeat marks the process stopped, so a graceful stop
needs no TTL to pass. A database where the record cannot be written (a
read-only replica, a user without CREATE rights) is said once in the log
(logger ``bluegreen_autodetector.release.registry``, written by
``heartbeat.py``); serving carries on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import pkgutil
import re
from datetime import timedelta

from django.db import DatabaseError, connections

TABLE = "bluegreen_live_releases"

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


# -- the table -----------------------------------------------------------------


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
