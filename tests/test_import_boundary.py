"""
What each command imports of the package, read from ``sys.modules`` of a
fresh interpreter (not the suite's zygote, which imported Django once for
every command): ``makemigrations`` and the system checks import nothing of
migrate time (``runtime/``; ``sqlmigrate`` shows what ``migrate`` runs,
and imports it), and neither imports the heartbeat that records a serving
process (``release/recording.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .project import Project

MODELS_V1 = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
"""

MODELS_V2 = """
class Book(models.Model):
    title = models.CharField(max_length=200)
"""

# Runs manage.py's command line in this interpreter, then prints the
# package's modules it imported (atexit: the command may sys.exit).
IMPORTED = """
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted(
    name for name in sys.modules if name.startswith("bluegreen_autodetector")
))))
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
"""

MIGRATE_TIME = "bluegreen_autodetector.runtime"
HEARTBEAT = "bluegreen_autodetector.release.heartbeat"


def imported(project: Project, *command: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED, *command],
        cwd=project.root,
        env={
            **os.environ,
            "TEST_PROJECT_DATABASES": json.dumps({"default": project.database}),
            "DJANGO_SETTINGS_MODULE": "settings",
        },
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture
def project(make_project):
    """A project serving v1 (migrated), its models changed to v2."""
    project = make_project("sqlite")
    project.set_models(MODELS_V1)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    project.set_models(MODELS_V2)
    return project


@pytest.mark.parametrize(
    "command",
    [
        ("makemigrations", "--dry-run"),
        ("makemigrations",),
        ("check",),
        ("showmigrations",),
    ],
    ids=" ".join,
)
def test_makemigrations_and_checks_import_nothing_of_migrate_time(project, command):
    modules = imported(project, *command)
    # The command did run the package (its checks at least).
    assert "bluegreen_autodetector.checks" in modules
    assert not {m for m in modules if m.startswith(MIGRATE_TIME)}
    assert HEARTBEAT not in modules


def test_migrate_imports_its_runtime(project):
    # The control of the test above: what migrate time imports is seen.
    project.manage("makemigrations", "-v0")
    modules = imported(project, "migrate", "-v0")
    assert "bluegreen_autodetector.runtime.migrating" in modules


def test_a_process_that_may_serve_imports_the_heartbeat(project):
    # The positive control: ``shell`` may be a release's worker.
    modules = imported(project, "shell", "-c", "pass")
    assert HEARTBEAT in modules
