"""
Serving processes for the registry's tests (test_registry*.py): a copy of
the test project as it was at a release (its code), a worker of that release
running from the copy as a real, separate process until stopped, and what
``deploystatus`` says of them.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

# A worker of whichever release its copy of the project holds: it set Django
# up, runs {first} once, then {every} every 100 ms until stopped; a failure
# of {every} is printed and ends it.
WORKER = """
import os, signal, sys, time
# Ctrl-C stops it even where the suite runs in the background (a shell's
# '&' sets SIGINT to ignored, and a child inherits that).
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from shop.models import Book
{first}
print("ready", flush=True)
try:
    while True:
        try:
            {every}
        except Exception as error:
            print("failed:", type(error).__name__, error, flush=True)
            sys.exit(1)
        time.sleep(0.1)
except KeyboardInterrupt:
    print("stopped", flush=True)
"""

# Reads every column its models have.
READS = {"first": "list(Book.objects.all())", "every": "list(Book.objects.all())"}


def environment(project, databases: dict | None = None) -> dict:
    """The environment ``project.run`` gives a command, for a long-running process."""
    return {
        **os.environ,
        "TEST_PROJECT_DATABASES": json.dumps(
            databases or {"default": project.database, **project.other_databases}
        ),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "settings",
    }


def release_code(project, name: str) -> Path:
    """A copy of the project as it is now: a release's code, beside the project."""
    root = project.root.with_name(f"{project.root.name}-{name}")
    shutil.copytree(
        project.root, root, ignore=shutil.ignore_patterns("*.sqlite3*", "__pycache__")
    )
    return root


class Worker:
    """``worker.py`` of a copy of the project (a release), running until stopped."""

    def __init__(self, root: Path, env: dict, script: dict = READS) -> None:
        (root / "worker.py").write_text(WORKER.format(**script))
        self.process = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.pid = self.process.pid
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else ""
        assert line.strip() == "ready", line + self.process.stderr.read()

    def stop(self, how=signal.SIGKILL) -> str:
        """
        Stop it: SIGKILL gives it no chance to say so; SIGINT (Ctrl-C) lets it
        mark itself stopped, so it leaves the registry at once. What it printed.
        """
        if self.process.poll() is None:
            self.process.send_signal(how)
        out, err = self.process.communicate(timeout=30)
        return out + err

    def alive(self) -> bool:
        return self.process.poll() is None


def status(project) -> dict:
    return json.loads(project.manage("deploystatus", "--format", "json").stdout)


def wait_for(condition, timeout=20.0, every=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def recorded(project, count=1) -> list[dict]:
    """The live releases, once ``count`` processes have recorded themselves."""

    def enough():
        found = status(project)["releases"]
        pids = sum(len(host["pids"]) for r in found for host in r["hosts"])
        return found if pids >= count else None

    return wait_for(enough)
