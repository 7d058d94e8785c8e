"""
Django's own ``tests/migrations`` with the package in place of Django's
autodetector and commands (see README, *Tests*, and ``run.py``).

Wired through Django's test runner: ``bluegreen_suite_settings`` (the stock
``test_sqlite`` settings plus ``BLUEGREEN_MIGRATIONS`` and ``TEST_RUNNER``)
names ``Runner`` below, which ``runtests.py`` instantiates after
``django.setup()`` and before any test module is imported. Unless the mode
is ``stock``, ``Runner`` then substitutes, in Django's own modules:

- ``django.db.migrations.autodetector.MigrationAutodetector``: the package's
  autodetector, wrapped so that a direct ``_detect_changes()`` call (as
  ``test_autodetector`` makes) returns the *split* result when the flag is
  on, exactly as ``changes()`` does;
- the ``Command`` of ``makemigrations`` and ``migrate``: the package's, which
  ``call_command`` then loads;
- the package's system checks, registered as its AppConfig would.

In every mode ``Runner`` records each test's outcome, and for each error or
failure where the exception was raised (in the package, below a package
frame, or elsewhere), into the JSON file ``BLUEGREEN_SUITE_RESULTS``.
"""

from __future__ import annotations

import json
import os
import traceback
import unittest

from django.test.runner import DiscoverRunner

MODE = os.environ.get("BLUEGREEN_SUITE_MODE", "stock")  # stock | off | on

# How often the split ran, over the whole run (written with the results).
SPLIT_RUNS = {"changes()": 0, "_detect_changes()": 0, "migrations": 0, "cleanups": 0}


def substitute() -> None:
    """Put the package's autodetector, commands and checks in Django's place."""
    from django.core.management.commands import makemigrations, migrate
    from django.db.migrations import autodetector

    from bluegreen_autodetector import checks  # noqa: F401  (registers them)
    from bluegreen_autodetector.management.commands import makemigrations as ours
    from bluegreen_autodetector.management.commands import migrate as ours_migrate

    splitting = splitting_autodetector()
    autodetector.MigrationAutodetector = splitting
    # Both commands must share one autodetector (Django's commands.E001).
    makemigrations.Command = type(
        "Command", (ours.Command,), {"autodetector": splitting}
    )
    migrate.Command = type(
        "Command", (ours_migrate.Command,), {"autodetector": splitting}
    )


def splitting_autodetector() -> type:
    """
    The package's autodetector, whose ``_detect_changes()``, called directly,
    runs the package's ``changes()`` on its own result, without Django's
    renumbering (``arrange_for_graph``), which the caller may do next.
    """
    from django.db.migrations.graph import MigrationGraph

    from bluegreen_autodetector import conf
    from bluegreen_autodetector.autodetector import BlueGreenAutodetector

    class SplittingAutodetector(BlueGreenAutodetector):
        _detected = None  # Django's result, while changes() splits it
        _in_changes = False

        def changes(self, graph, *args, **kwargs):
            self._in_changes = True
            try:
                changes = super().changes(graph, *args, **kwargs)
            finally:
                self._in_changes = False
            count("changes()", changes)
            return changes

        def _detect_changes(self, convert_apps=None, graph=None):
            if self._detected is not None:
                return self._detected
            changes = super()._detect_changes(convert_apps, graph)
            if self._in_changes or not conf.enabled():
                return changes
            self._detected = changes
            try:
                split = BlueGreenAutodetector.changes(self, graph or MigrationGraph())
            finally:
                self._detected = None
            count("_detect_changes()", split)
            return split

        def arrange_for_graph(self, changes, graph, migration_name=None):
            if self._detected is not None:
                return changes
            return super().arrange_for_graph(changes, graph, migration_name)

    return SplittingAutodetector


def count(way: str, changes: dict) -> None:
    from bluegreen_autodetector import conf
    from bluegreen_autodetector.split.result import split_of

    if not conf.enabled() or not changes:
        return
    SPLIT_RUNS[way] += 1
    for migrations in changes.values():
        SPLIT_RUNS["migrations"] += len(migrations)
        SPLIT_RUNS["cleanups"] += sum(
            split_of(m).cleanup is not None for m in migrations
        )


OUTCOMES: dict[str, dict] = {}


def where_raised(err) -> dict:
    """
    The exception of ``err`` (``sys.exc_info()``-style) and where it was
    raised: ``package`` when the raising frame is in bluegreen_autodetector,
    ``below the package`` when a package frame called the code that raised
    it, else ``elsewhere``; ``refusal`` when it is the package's CommandError.
    """
    from django.core.management.base import CommandError

    import bluegreen_autodetector

    package = os.path.dirname(bluegreen_autodetector.__file__)
    exc_type, exc, tb = err
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if f.filename.startswith(package)]
    if frames and frames[-1].filename.startswith(package):
        raised = "package"
    elif ours:
        raised = "below the package"
    else:
        raised = "elsewhere"
    last = frames[-1] if frames else None
    return {
        "exception": f"{exc_type.__module__}.{exc_type.__qualname__}",
        "message": (str(exc).strip().splitlines() or [""])[0][:300],
        "raised": raised,
        "refusal": bool(ours) and isinstance(exc, CommandError),
        "raising_frame": last and f"{last.filename}:{last.lineno} {last.name}",
        "package_frame": (
            f"{os.path.relpath(ours[-1].filename, os.path.dirname(package))}:"
            f"{ours[-1].lineno} {ours[-1].name}"
            if ours
            else None
        ),
    }


def record(test, outcome: str, err=None) -> None:
    entry = OUTCOMES.setdefault(test.id(), {"outcome": outcome})
    # A failing subtest makes its test fail; the first error is kept.
    if outcome in ("error", "failure") and entry["outcome"] in ("success", "subtests"):
        entry["outcome"] = outcome
    if err is not None and "exception" not in entry:
        entry.update(where_raised(err))


class RecordingResult(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        OUTCOMES.setdefault(test.id(), {"outcome": "success"})

    def addError(self, test, err):
        super().addError(test, err)
        record(test, "error", err)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        record(test, "failure", err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        record(test, "skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        record(test, "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        record(test, "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            record(test, "failure" if failed else "error", err)


class Runner(DiscoverRunner):
    """Django's runner, with the substitution made and each outcome recorded."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if MODE != "stock":
            substitute()

    def get_resultclass(self):
        return RecordingResult

    def run_suite(self, suite, **kwargs):
        try:
            return super().run_suite(suite, **kwargs)
        finally:
            with open(os.environ["BLUEGREEN_SUITE_RESULTS"], "w") as out:
                json.dump({"mode": MODE, "split": SPLIT_RUNS, "tests": OUTCOMES}, out)
