"""
The verifier reads the registry of live releases where a database is at
hand (release/serving.py): ``check`` (bluegreen.W001) and ``makemigrations
--database ALIAS`` take the oldest live release as the old release. A
release that stopped is no longer protected; one still running, older than
the graph supposes, is. Every worker is a real, separate process running a
copy of the project as it was at its release.
"""

from __future__ import annotations

import signal
import socket
import sqlite3

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
from .project import assert_stopped

V1 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
    rating = models.IntegerField(null=True)
"""

# Removes rating (split: a pending cleanup) and adds isbn, which the
# database fills with '' for a release that does not know it (v1).
V2 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
    isbn = models.CharField(max_length=13, db_default="")
"""

# isbn unique: v2 writes it (at worst a warning); v1 leaves it to the
# database, which fills '' in every row: v1's second INSERT fails.
V3 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
    isbn = models.CharField(max_length=13, db_default="", unique=True)
"""

# Removes rating only.
V2_REMOVES = """
class Book(models.Model):
    title = models.CharField(max_length=100)
"""


def named(digest: str, worker: Worker) -> str:
    return (
        f"release {digest} (the oldest live on database 'default': "
        f"{socket.gethostname()} (pid {worker.pid}))"
    )


def live_digests(project) -> list[str]:
    return [release["release"] for release in status(project)["releases"]]


def turn_registry_off(project) -> None:
    settings = project.root / "settings.py"
    settings.write_text(settings.read_text() + "\nBLUEGREEN_RELEASE_TTL = 0\n")


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_makemigrations_database_judges_against_the_oldest_live_release(
    make_project, vendor
):
    project = make_project(vendor, extra_settings="BLUEGREEN_RELEASE_TTL = 30\n")
    release = Release(project, V1, V2)
    v1_code = release_code(project, "v1")
    release.make_v2()
    project.manage("migrate", "-v0")  # the contract; the cleanup is pending
    v2_code = release_code(project, "v2")
    project.set_models(V3)
    today = (
        f"the old release (before shop.{release.v2}): INSERT on shop_book fails: "
        f"the unique constraint on (isbn) rejects its second row"
    )
    # Without --database: the release before the pending contract (v1),
    # whatever runs; no database is read.
    assert_stopped(project.manage("makemigrations", "--dry-run", check=False), today)
    workers = [
        Worker(v1_code, environment(project)),
        Worker(v2_code, environment(project)),
    ]
    try:
        v1, v2 = (r["release"] for r in recorded(project, count=2))
        # A worker of v1 is alive: it is the old release, named.
        refused = project.manage(
            "makemigrations", "--database", "default", "--dry-run", check=False
        )
        assert_stopped(
            refused,
            f"{named(v1, workers[0])}: INSERT on shop_book fails: the unique "
            f"constraint on (isbn) rejects its second row",
        )
        # v1 has stopped: only v2 is live, and v3 breaks nothing it does.
        workers[0].stop(signal.SIGINT)
        assert wait_for(lambda: live_digests(project) == [v2])
        assert_stopped(
            project.manage("makemigrations", "--dry-run", check=False), today
        )
        allowed = project.manage("makemigrations", "--database", "default", "-v1")
        assert "Alter field isbn on book" in allowed.stdout, allowed.stdout
        assert "Warning: Cannot read" not in allowed.stderr
        (v3,) = [n for n in project.migration_names() if n.startswith("0003")]
        (project.migrations / f"{v3}.py").unlink()
        # A v1 worker starts again (a forgotten cron job): refused again.
        workers[0] = Worker(v1_code, environment(project))
        assert wait_for(lambda: live_digests(project) == [v2, v1])
        assert_stopped(
            project.manage("makemigrations", "--database", "default", check=False),
            f"{named(v1, workers[0])}: INSERT on shop_book fails",
        )
        workers[0].stop(signal.SIGINT)
        assert wait_for(lambda: live_digests(project) == [v2])
        # BLUEGREEN_RELEASE_TTL = 0: the registry is off, today's rule holds
        # though the registry shows v1 gone.
        turn_registry_off(project)
        assert_stopped(
            project.manage("makemigrations", "--database", "default", check=False),
            today,
        )
    finally:
        for worker in workers:
            said = worker.stop(signal.SIGINT)
            assert "Traceback" not in said, said


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_check_judges_unapplied_migrations_against_the_oldest_live_release(
    make_project, vendor
):
    project = make_project(vendor, extra_settings="BLUEGREEN_RELEASE_TTL = 30\n")
    release = Release(project, V1, V2_REMOVES)
    v1_code = release_code(project, "v1")
    # A stock removal of rating, not applied yet.
    release.make_v2("--no-bluegreen")
    v2_code = release_code(project, "v2")
    rating = "SELECT on shop_book fails: it lists column rating"
    today = (
        "the release now serving (migrations applied on database 'default'): " + rating
    )
    # No release has recorded itself: the applied migrations (v1) serve.
    checked = project.manage("check").stderr
    assert "bluegreen.W001" in checked and today in checked, checked
    workers = [Worker(v2_code, environment(project))]
    try:
        (v2,) = (r["release"] for r in recorded(project))
        # Only v2 is live (its code ships the removal): nothing to warn of.
        checked = project.manage("check").stderr
        assert "bluegreen" not in checked, checked
        # A worker of v1 is alive: the oldest live release, named, is warned for.
        workers.append(Worker(v1_code, environment(project)))
        v2_again, v1 = (r["release"] for r in recorded(project, count=2))
        assert v2_again == v2
        checked = project.manage("check").stderr
        assert f"bluegreen.W001) {named(v1, workers[1])}: {rating}" in checked, checked
        workers[1].stop(signal.SIGINT)
        assert wait_for(lambda: live_digests(project) == [v2])
        assert "bluegreen" not in project.manage("check").stderr
        # BLUEGREEN_RELEASE_TTL = 0: the applied migrations again.
        turn_registry_off(project)
        checked = project.manage("check").stderr
        assert today in checked, checked
    finally:
        for worker in workers:
            said = worker.stop(signal.SIGINT)
            assert "Traceback" not in said, said


@pytest.mark.parametrize("vendor", ["sqlite", "mysql"], indirect=True)
def test_check_protects_a_forgotten_worker_from_a_promoted_cleanup(
    make_project, vendor
):
    """
    The cleanup is promoted and its contract applied: the graph supposes the
    release serving has the contract (no W001), but a worker of the release
    before it still runs and reads the column the cleanup drops.
    """
    project = make_project(vendor, extra_settings="BLUEGREEN_RELEASE_TTL = 30\n")
    release = Release(project, V1, V2)
    worker = Worker(release_code(project, "v1"), environment(project))
    try:
        (v1,) = (r["release"] for r in recorded(project))
        release.make_v2()
        project.manage("migrate", "-v0")
        project.manage("promotemigrations", "shop", "--through", release.v2, "-v0")
        checked = project.manage("check").stderr
        assert (
            f"bluegreen.W001) {named(v1, worker)}: SELECT on shop_book fails: "
            f"it lists column rating" in checked
        ), checked
    finally:
        worker.stop(signal.SIGINT)
    assert wait_for(lambda: live_digests(project) == [])
    assert "bluegreen" not in project.manage("check").stderr


def test_a_registry_that_cannot_be_read_falls_back_and_says_so_once(make_project):
    project = make_project("sqlite", extra_settings="BLUEGREEN_RELEASE_TTL = 30\n")
    release = Release(project, V1, V2)
    release.make_v2()
    project.manage("migrate", "-v0")
    # A table of that name this package did not make: every read fails.
    with sqlite3.connect(project.database["NAME"]) as connection:
        connection.execute("CREATE TABLE bluegreen_live_releases (id integer)")
    project.set_models(V3)
    refused = project.manage("makemigrations", "--database", "default", check=False)
    assert_stopped(refused, f"the old release (before shop.{release.v2}): INSERT")
    assert (
        refused.stderr.count("Warning: Cannot read the registry") == 1
    ), refused.stderr
    assert "the release before the oldest pending contract" in refused.stderr
    project.set_models(V2)
    project.manage("promotemigrations", "shop", "--through", release.v2, "-v0")
    checked = project.manage("check").stderr
    assert checked.count("(bluegreen.W004) Cannot read the registry") == 1, checked
    assert "bluegreen.W001" not in checked, checked


def test_makemigrations_database_names_a_known_alias(make_project):
    project = make_project("sqlite")
    Release(project, V1, V2)
    assert_stopped(
        project.manage("makemigrations", "--database", "replica", check=False),
        "--database replica: no such database in settings.DATABASES ('default')",
    )
