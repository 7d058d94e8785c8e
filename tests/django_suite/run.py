"""
Run Django's own ``tests/migrations`` three times on the Django this Python
imports: stock, then with the package substituted (``bluegreen_shim``) with
the flag off, then with it on. Exits non-zero when the flag-off outcomes
differ from stock's in any test, or when, with the flag on, any test errs or
fails with an exception raised in (or below) the package's code that is not
one of its refusals (a CommandError).

    python tests/django_suite/run.py [--keep DIR]

``tests/`` comes from the sdist of the exact Django version installed,
downloaded by pip into ``.cache/django-suite/`` (ignored by git) once.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import django

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent.parent / ".cache" / "django-suite"
MODES = ("stock", "off", "on")


def django_tests() -> Path:
    """Django's ``tests/`` for the installed version, from its sdist."""
    version = django.get_version()
    tests = CACHE / f"django-{version}" / "tests"
    if (tests / "runtests.py").exists():
        return tests
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"django-{version}.tar.gz"
    if not sdist.exists():
        # cwd outside the repository: pip must not see its pyproject.toml.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"django=={version}",
                "-d",
                str(CACHE),
            ],
            cwd=CACHE,
            check=True,
        )
    prefix = f"django-{version}/tests/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        archive.extractall(CACHE, members=members, filter="data")
    return tests


def run_mode(tests: Path, mode: str, out: Path) -> dict:
    """One run of ``runtests.py migrations`` in ``mode``; its recorded outcomes."""
    results = out / f"{mode}.json"
    env = dict(
        os.environ,
        BLUEGREEN_SUITE_MODE=mode,
        BLUEGREEN_SUITE_RESULTS=str(results),
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(HERE), os.environ.get("PYTHONPATH")])
        ),
    )
    log = out / f"{mode}.log"
    start = time.monotonic()
    with open(log, "w") as stream:
        subprocess.run(
            [
                sys.executable,
                "runtests.py",
                "migrations",
                "--settings=bluegreen_suite_settings",
                "--parallel=1",
                "-v",
                "1",
            ],
            cwd=tests,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    seconds = time.monotonic() - start
    if not results.exists():
        sys.exit(f"django-suite: {mode}: runtests.py recorded nothing; see {log}")
    recorded = json.loads(results.read_text())
    recorded["seconds"] = seconds
    return recorded


def tally(run: dict) -> str:
    counts = collections.Counter(test["outcome"] for test in run["tests"].values())
    return (
        f"{len(run['tests'])} tests, "
        + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        + f" ({run['seconds']:.0f} s)"
    )


def differences(stock: dict, off: dict) -> list[str]:
    """Each test whose flag-off outcome is not stock's."""
    found = []
    for test in sorted(set(stock["tests"]) | set(off["tests"])):
        before = stock["tests"].get(test, {}).get("outcome", "not run")
        after = off["tests"].get(test, {}).get("outcome", "not run")
        if before != after:
            detail = off["tests"].get(test, {})
            why = (
                f": {detail['exception']}: {detail['message']}"
                if "exception" in detail
                else ""
            )
            found.append(f"{test}: stock {before}, flag off {after}{why}")
    return found


def crashes(on: dict) -> dict[tuple, list[str]]:
    """
    Flag on: the errors and failures raised in or below the package, other
    than refusals, by cause: the exception's type and its last package frame.
    """
    causes = collections.defaultdict(list)
    for test, result in sorted(on["tests"].items()):
        if result["outcome"] not in ("error", "failure"):
            continue
        if result["raised"] == "elsewhere" or result["refusal"]:
            continue
        cause = (result["exception"], result["package_frame"], result["raised"])
        causes[cause].append((test, result["message"][:160]))
    return causes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--keep", help="write the logs and results into this directory")
    args = parser.parse_args()
    tests = django_tests()
    out = (
        Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="django-suite-"))
    )
    out.mkdir(parents=True, exist_ok=True)
    version = f"Django {django.get_version()} on Python {sys.version.split()[0]}"
    runs = {mode: run_mode(tests, mode, out) for mode in MODES}
    print(f"django-suite: {version}; logs in {out}")
    for mode in MODES:
        print(f"  {mode:5}: {tally(runs[mode])}")

    status = 0
    changed = differences(runs["stock"], runs["off"])
    print(
        f"flag off: {'identical to stock' if not changed else f'{len(changed)} differ'}"
    )
    for line in changed:
        print(f"  - {line}")
    status |= bool(changed)

    split = runs["on"]["split"]
    print(
        f"flag on: the split ran on {split['changes()']} changes() and "
        f"{split['_detect_changes()']} direct _detect_changes() results "
        f"({split['migrations']} migrations, {split['cleanups']} with a cleanup)"
    )
    on = runs["on"]["tests"]
    refusals = [
        t
        for t, r in on.items()
        if r["outcome"] in ("error", "failure") and r["refusal"]
    ]
    expected = [
        t
        for t, r in on.items()
        if r["outcome"] in ("error", "failure") and r["raised"] == "elsewhere"
    ]
    print(
        f"  {len(expected)} errors/failures raised outside the package "
        f"(assertions about stock's exact output)"
    )
    print(f"  {len(refusals)} refusals (the package's CommandError)")
    causes = crashes(runs["on"])
    total = sum(len(tests) for tests in causes.values())
    print(f"  {total} package crashes" + (":" if total else ""))
    for (exception, frame, raised), tests in sorted(
        causes.items(), key=lambda item: -len(item[1])
    ):
        print(
            f"  - {len(tests)} x {exception}, raised {raised}, last package frame {frame}"
        )
        for test, message in tests:
            print(f"      {test}: {message}")
    status |= bool(total)
    return status


if __name__ == "__main__":
    sys.exit(main())
