"""
What a serving process records in the registry of live releases
(``registry.py``): the heartbeat, a daemon thread per process that writes
and refreshes its row in each database the process connects to, and the
signal handlers that start it (``install``, called by ``AppConfig.ready``).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import sys
import threading

from django.core.signals import request_started
from django.db import connections, router
from django.db.backends.signals import connection_created

from .recording import running_command
from .registry import (
    TABLE,
    DatabaseNow,
    digest,
    ensure_schema,
    forget,
    leaves_on_disk,
    model,
)

logger = logging.getLogger("bluegreen_autodetector.release.registry")


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


def program() -> str:
    """What this process runs: 'gunicorn', 'manage.py runserver', 'worker.py'."""
    path = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    name = os.path.basename(path)
    if name == "__main__.py":  # python -m gunicorn
        name = os.path.basename(os.path.dirname(path))
    command = running_command()
    return f"{name} {command}" if command else name


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
    Called by ``AppConfig.ready`` in a process that may serve
    (``recording.records``): record it from its first connection on, unless
    the registry is off (``BLUEGREEN_RELEASE_TTL = 0``).
    """
    if not ttl():
        return
    connection_created.connect(_connected, dispatch_uid="bluegreen_registry")
    request_started.connect(_requested, dispatch_uid="bluegreen_registry")


def leave_unrecorded() -> None:
    """This process records nothing (a tool that is no release, e.g. a test probe)."""
    connection_created.disconnect(dispatch_uid="bluegreen_registry")
    request_started.disconnect(dispatch_uid="bluegreen_registry")
