"""
The registry of live releases (release/registry.py, release/guard.py): a process of
the old release that is still running, on this host or another, holds its
cleanup back; once it has stopped (or its TTL has passed) migrate applies
the cleanup. Every process here is a real, separate one: the old release
runs from a copy of the project as it was before the contract.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from .live_processes import (
    Worker,
    environment,
    recorded,
    release_code,
    status,
    wait_for,
)
from .oracles import Release
from .project import SERVERS, assert_stopped, drop_database

V1 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
    rating = models.IntegerField(null=True)
"""

V2 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
"""

# A task worker of the old release: it reads its rows, the column the
# cleanup drops included.
READS_RATING = {
    "first": 'Book.objects.create(title="old", rating=1)',
    "every": 'list(Book.objects.values_list("title", "rating"))',
}

# Another host's process of a release, recorded as its heartbeat records it.
OTHER_HOST = """
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from bluegreen_autodetector.release import heartbeat, registry
heartbeat.leave_unrecorded()
migrations = json.loads(sys.argv[1])
registry.ensure_schema("default")
registry.model().objects.create(
    release=registry.digest(migrations), migrations=json.dumps(migrations),
    host=sys.argv[2], pid=4242, program="celery",
    started=registry.DatabaseNow(), last_seen=registry.DatabaseNow(),
)
"""


def contract_applied(make_project, vendor, ttl):
    """v1 migrated, an old-release worker running, v2's contract applied."""
    project = make_project(vendor, extra_settings=f"BLUEGREEN_RELEASE_TTL = {ttl}\n")
    release = Release(project, V1, V2)
    worker = Worker(release_code(project, "old"), environment(project), READS_RATING)
    release.make_v2()
    # Contracts are never held back by the registry.
    project.manage("migrate", "-v0")
    return project, release, worker


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_a_live_worker_of_the_old_release_holds_its_cleanup_back(make_project, vendor):
    project, release, worker = contract_applied(make_project, vendor, ttl=1)
    try:
        (live,) = recorded(project)
        assert live["migrations"]["shop"] == [release.v1]
        assert live["hosts"] == [
            {
                "host": socket.gethostname(),
                "pids": [worker.pid],
                "programs": ["worker.py"],
            }
        ]
        # promotemigrations: the contract is applied, but a release without it runs.
        listed = project.manage("promotemigrations", "--list").stdout
        assert f"waits: release {live['release']} (shop at {release.v1})" in listed
        assert f"live, without contract {release.v2}" in listed
        project.manage("promotemigrations", "shop", "--through", release.v2, "-v0")
        (cleanup,) = [n for n in project.migration_names() if "cleanup" in n]
        (held,) = status(project)["cleanups"]
        assert held["cleanup"] == cleanup and held["held_by"] == [live["release"]]

        refused = project.manage("migrate", check=False)
        assert_stopped(
            refused,
            f"Cannot apply cleanup shop.{cleanup} on database 'default': release "
            f"{live['release']} (shop at {release.v1}) on {socket.gethostname()} "
            f"(pid {worker.pid}), last seen",
        )
        assert "Stop that release, or wait for it to leave" in refused.stderr
        assert "Applying" not in refused.stdout
        # --wait is bounded: the release did not leave, migrate refuses as before.
        waited = project.manage("migrate", "--wait=1", check=False)
        assert_stopped(
            waited,
            f"Cannot apply cleanup shop.{cleanup} on database "
            f"'default' after waiting 1 s: release {live['release']}",
        )
        assert "Waiting up to 1 s for release" in waited.stdout
        shown = project.manage("deploystatus").stdout
        assert f"  {live['release']}  shop at {release.v1}\n" in shown
        assert f"{socket.gethostname()}: pid {worker.pid} (worker.py)" in shown
        assert (
            f"shop.{cleanup} (promoted, cleanup of {release.v2}): held back by "
            f"release {live['release']}" in shown
        )
        assert "rating" in str(project.probe("schema"))
        assert worker.alive()
    finally:
        said = worker.stop()
    assert "failed" not in said, said
    # It was killed: its record stays until the TTL has passed; --wait waits.
    waited = project.manage("migrate", "--wait=30")
    assert "Waiting up to 30 s for release" in waited.stdout
    assert f"Applying shop.{cleanup}... OK" in waited.stdout
    assert "rating" not in str(project.probe("schema"))


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_negative_control_without_the_guard_the_cleanup_breaks_the_old_worker(
    make_project, vendor
):
    """BLUEGREEN_RELEASE_TTL = 0: no record, no guard; the worker fails at once."""
    project, release, worker = contract_applied(make_project, vendor, ttl=0)
    try:
        assert status(project)["registry"] == "off"
        project.manage("promotemigrations", "-v0")
        project.manage("migrate", "-v0")
        wait_for(lambda: not worker.alive(), timeout=10)
    finally:
        said = worker.stop()
    assert "failed:" in said, said


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"], indirect=True)
def test_a_release_that_stops_leaves_at_once(make_project, vendor):
    """A worker that exits (here on Ctrl-C) marks itself stopped: no TTL to wait."""
    project, release, worker = contract_applied(make_project, vendor, ttl=60)
    recorded(project)
    project.manage("promotemigrations", "shop", "--through", release.v2, "-v0")
    assert "stopped" in worker.stop(signal.SIGINT)
    assert status(project)["releases"] == []
    project.manage("migrate", "-v0")


@pytest.mark.parametrize("vendor", ["sqlite", "mysql"], indirect=True)
def test_two_hosts_of_the_old_release(make_project, vendor):
    project, release, worker = contract_applied(make_project, vendor, ttl=2)
    try:
        recorded(project)
        (project.root / "other_host.py").write_text(OTHER_HOST)
        project.run(
            "other_host.py", json.dumps({"shop": [release.v1]}), "worker-host-2"
        )
        (live,) = recorded(project, count=2)
        assert [h["host"] for h in live["hosts"]] == sorted(
            [socket.gethostname(), "worker-host-2"]
        )
        project.manage("promotemigrations", "shop", "--through", release.v2, "-v0")
        refused = project.manage("migrate", check=False)
        assert_stopped(refused, "Cannot apply cleanup")
        assert "worker-host-2 (pid 4242)" in refused.stderr
        assert f"{socket.gethostname()} (pid {worker.pid})" in refused.stderr
    finally:
        worker.stop()
    # Neither refreshes its record any more: both leave once the TTL has passed.
    project.manage("migrate", "-v0", "--wait=30")


WSGI = """
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

URLS = """
from django.http import JsonResponse
from django.urls import path
from shop.models import Book

def books(request):
    return JsonResponse({"books": list(Book.objects.values_list("title", "rating"))})

urlpatterns = [path("", books)]
"""


# --preload: the arbiter imports the application, which reads the database
# (and closes its connection, as Django asks of a process that forks); each
# worker is a fork of it.
PRELOADED = """
from django.db import connection
from shop.models import Book
Book.objects.count()
connection.close()
"""


@pytest.mark.parametrize("preload", [False, True], ids=["workers", "preload"])
@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"], indirect=True)
def test_gunicorn_workers_record_themselves(make_project, vendor, preload):
    project = make_project(
        vendor,
        extra_settings='ROOT_URLCONF = "urls"\nALLOWED_HOSTS = ["*"]\n'
        "BLUEGREEN_RELEASE_TTL = 30\n",
    )
    (project.root / "wsgi.py").write_text(WSGI + (PRELOADED if preload else ""))
    (project.root / "urls.py").write_text(URLS)
    Release(project, V1, V2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arbiter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            *(["--preload"] if preload else []),
            "wsgi",
        ],
        cwd=project.root,
        env=environment(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def served():
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/", timeout=5
                ) as r:
                    return json.loads(r.read())["books"] == []
            except OSError:
                return False

        if not wait_for(served, timeout=30):
            arbiter.kill()
            pytest.fail(f"gunicorn does not serve:\n{arbiter.communicate()[1]}")
        for _ in range(10):
            assert served()
        # With --preload the arbiter read the database too: it is a process
        # of the release (it forks the release's next workers).
        (live,) = recorded(project, count=2 if preload else 1)
        workers = {
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent(p) == arbiter.pid
        }
        pids = {pid for host in live["hosts"] for pid in host["pids"]}
        if preload:
            assert arbiter.pid in pids, (pids, arbiter.pid)
            pids.discard(arbiter.pid)
        assert pids and pids <= workers, (pids, workers)
        assert live["hosts"][0]["programs"] == ["gunicorn"]
    finally:
        arbiter.send_signal(signal.SIGTERM)  # graceful: the workers exit
        arbiter.wait(30)
    # Each worker marked itself stopped on its way out (TTL 30 s has not passed).
    assert status(project)["releases"] == []


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def read_only(project, vendor, name: str) -> dict:
    """A DATABASES entry of a user who may only read the project's database."""
    database = project.database
    if vendor == "sqlite":
        return {
            **database,
            "NAME": f"file:{database['NAME']}?mode=ro",
            "OPTIONS": {"uri": True},
        }
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(
            host=database["HOST"],
            user="postgres",
            dbname=database["NAME"],
            autocommit=True,
        ) as connection:
            connection.execute(f'CREATE ROLE "{name}" LOGIN')
            connection.execute(
                f'GRANT CONNECT ON DATABASE "{database["NAME"]}" TO "{name}"'
            )
            connection.execute(f'GRANT USAGE ON SCHEMA public TO "{name}"')
            connection.execute(
                f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{name}"'
            )
        return {**database, "USER": name}
    import MySQLdb

    connection = MySQLdb.connect(host=database["HOST"], user="root")
    cursor = connection.cursor()
    cursor.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY ''")
    cursor.execute(f"CREATE USER '{name}'@'localhost' IDENTIFIED BY ''")
    for host in ("%", "localhost"):
        cursor.execute(f"GRANT SELECT ON `{database['NAME']}`.* TO '{name}'@'{host}'")
    connection.close()
    return {**database, "USER": name, "PASSWORD": ""}


def drop_user(vendor, name: str) -> None:
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(
            host=SERVERS[vendor]["HOST"],
            user="postgres",
            dbname="postgres",
            autocommit=True,
        ) as connection:
            connection.execute(f'DROP ROLE IF EXISTS "{name}"')
    elif vendor == "mysql":
        import MySQLdb

        connection = MySQLdb.connect(host=SERVERS[vendor]["HOST"], user="root")
        for host in ("%", "localhost"):
            connection.cursor().execute(f"DROP USER IF EXISTS '{name}'@'{host}'")
        connection.close()


READER = """
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from django.db import connection
from shop.models import Book
for _ in range(20):
    titles = list(Book.objects.values_list("title", flat=True))
    connection.close()  # a new connection each time, as CONN_MAX_AGE = 0 does
    time.sleep(0.05)
print("served", titles)
"""


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_a_read_only_database_user_serves(make_project, vendor):
    """The record cannot be written: said once in the log; serving carries on."""
    project = make_project(vendor, extra_settings="BLUEGREEN_RELEASE_TTL = 0.4\n")
    Release(project, V1, V2)
    name = f"bg_ro_{uuid.uuid4().hex[:8]}"
    try:
        databases = {"default": read_only(project, vendor, name)}
        (project.root / "reader.py").write_text(READER)
        result = subprocess.run(
            [sys.executable, "reader.py"],
            cwd=project.root,
            env=environment(project, databases),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        # The project's databases are dropped after the test; the user now.
        # (PostgreSQL: its database first, now, as the user holds privileges
        # on it; Project.close() would only queue the drop.)
        if vendor == "postgresql":
            for settings in project.databases:
                drop_database(vendor, settings)
            project.databases = []
        drop_user(vendor, name)
    assert result.returncode == 0, result.stderr
    assert "served []" in result.stdout, result.stdout
    assert (
        result.stderr.count("cannot record this release on database 'default'") == 1
    ), result.stderr
