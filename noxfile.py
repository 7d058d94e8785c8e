"""
The Django/Python test matrix: one nox session per supported Django series,
each on the Python it runs on, each in its own virtualenv under ``.nox/``.

    nox -l                                   list the legs
    nox                                      every leg, every database
    nox -s tests-6.1                         one leg
    nox -s tests-6.0 -- --vendors=sqlite     one leg, SQLite only
    TEST_VENDORS=sqlite nox                  every leg, SQLite only
    nox -s tests-6.1 -- -x -k capture        anything else goes to pytest

``make test`` is the default leg (Django 5.2, Python 3.11, the repo's
``.venv``); ``make test-matrix`` runs this file. PostgreSQL and MariaDB must
be up for any leg that uses them: ``bash scripts/services.sh``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
# A leg whose interpreter is missing fails; nox would otherwise skip it and
# report success. Never fetch interpreters from the internet: use the
# machine's (pyenv's or PATH's).
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"
nox.options.error_on_external_run = True

# Django series -> the Python it is tested on. Django 6.x needs Python >= 3.12.
LEGS = {
    "5.2": "3.11",
    "6.0": "3.12",
    "6.1": "3.13",
}

VENDORS = ("sqlite", "postgresql", "mysql")


def interpreter(version: str) -> str:
    """
    The newest pyenv build of ``version`` (``X.Y``) as an absolute path, or
    ``version`` itself for nox to find on PATH. pyenv's shims cannot be used:
    ``python3.12`` fails unless 3.12 is pyenv's global version.
    """
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    builds = []
    for python in root.glob(f"versions/{version}.*/bin/python{version}"):
        patch = re.fullmatch(rf"{re.escape(version)}\.(\d+)", python.parent.parent.name)
        if patch:
            builds.append((int(patch.group(1)), python))
    return str(max(builds)[1]) if builds else version


def pytest_args(session: nox.Session) -> list[str]:
    """
    pytest's arguments from the session's positional ones: ``--vendors=a,b``
    (else ``TEST_VENDORS``, else ``all``) becomes a ``-k`` expression that
    deselects the other vendors' tests, merged with any ``-k`` given; the
    rest goes to pytest as it is.

    Tests take their database from the ``vendor`` fixture, whose ids are the
    vendor names; tests without it run on SQLite (a few of those replay SQL
    on the servers too). ``-k`` matches substrings of test ids, so leaving
    out a vendor also leaves out a test that has its name in its own.
    """
    chosen = os.environ.get("TEST_VENDORS", "all")
    keywords: list[str] = []
    passed: list[str] = []
    args = iter(session.posargs)
    for arg in args:
        if arg == "--vendors":
            chosen = next(args, "")
        elif arg.startswith("--vendors="):
            chosen = arg.removeprefix("--vendors=")
        elif arg == "-k":
            keywords.append(next(args, ""))
        elif arg.startswith("-k"):
            keywords.append(arg.removeprefix("-k"))
        else:
            passed.append(arg)
    vendors = [name.strip() for name in chosen.split(",") if name.strip()]
    if vendors == ["all"]:
        vendors = list(VENDORS)
    if not vendors or not set(vendors) <= set(VENDORS):
        session.error(
            f"--vendors / TEST_VENDORS: {chosen!r} is neither 'all' nor a "
            f"comma-separated list of {', '.join(VENDORS)}"
        )
    keywords += [f"not {vendor}" for vendor in VENDORS if vendor not in vendors]
    if keywords:
        passed = ["-k", " and ".join(f"({keyword})" for keyword in keywords), *passed]
    return passed


def run_suite(session: nox.Session, django: str) -> None:
    """The test suite on Django ``django`` (its newest patch release)."""
    args = pytest_args(session)
    session.install("-e", ".[test]", f"django~={django}.0")
    session.run(
        "python",
        "-c",
        "import django, sys; print('Django', django.get_version(), 'on Python', sys.version.split()[0])",
    )
    # session.run fails the leg on any non-zero status, including pytest's 5
    # (no tests collected), so a selection that matches nothing is an error.
    session.run("python", "-m", "pytest", *args)


def leg(django: str, python: str) -> None:
    """Define the session ``tests-<django>``."""

    def tests(session: nox.Session) -> None:
        run_suite(session, django)

    tests.__doc__ = f"Django {django}.x on Python {python}"
    nox.session(name=f"tests-{django}", python=interpreter(python))(tests)


for django, python in LEGS.items():
    leg(django, python)
