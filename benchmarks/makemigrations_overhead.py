"""
makemigrations overhead: stock vs bluegreen, by project shape and size.

    python benchmarks/makemigrations_overhead.py [--shape chain,star,flat]
        [--models 300,1000,3000] [--repeat 5] [--instructions] [--smoke]

For each shape and size, generates a one-app project of ``--models`` models,
makes its first migration, then changes the models as a release would: a
NOT NULL integer removed from one model in six, a ForeignKey from one in
twelve, and one model in thirty deleted, all spread through the middle of
the graph (a model whose target is deleted loses its ForeignKey too). The
shapes:

- ``chain``: each model points at the one before;
- ``star``: every model points at one ``Account``, as real projects point
  at ``User``;
- ``flat``: no relations.

Times ``makemigrations --dry-run`` of stock Django (the project without the
package in ``INSTALLED_APPS``) and of the package (``BLUEGREEN_MIGRATIONS``
on), in pairs whose order alternates (stock first, then
bluegreen first, ...) so that a drift of the machine does not favour one
side, after one untimed warm-up run of each. Each timing is a whole
``manage.py`` process, as a developer runs it. Prints one row per shape and
size: the medians of the wall-clock time and of the CPU time, and the
ratios of the medians.

Both runs must detect the change: the script checks that stock lists every
deleted model and that bluegreen split it (its output names the cleanup
migration), and stops otherwise: a bluegreen run that silently did nothing
would make a meaningless ratio. ``--smoke`` (CI): 30 models of each shape,
one pair; checks completion only.

``--instructions``: instead of timing, count the instructions each side
executes, one run of each under valgrind's callgrind (about 50 times
slower). The count is the same from run to run whatever else the machine
does, where a shared machine's wall-clock medians move by 10 % or more
between two runs of the table; the ratio of the counts is the package's
cost without the noise.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

SHAPES = ("chain", "star", "flat")

# Stock Django is the same project without the package installed.
STOCK_SETTINGS = """\
SECRET_KEY = "bench"
INSTALLED_APPS = ["big"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""

SETTINGS = """\
SECRET_KEY = "bench"
INSTALLED_APPS = ["bluegreen_autodetector", "big"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
BLUEGREEN_MIGRATIONS = True
"""

MANAGE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def deleted(count: int) -> set[int]:
    """One model in thirty, never the first (the star's Account)."""
    return {i for i in range(1, count) if i % 30 == 15}


def target(shape: str, i: int) -> int | None:
    """The model that model ``i`` points at, if any."""
    if shape == "chain":
        return i - 1 if i else None
    if shape == "star":
        return 0 if i else None
    return None


def models_source(shape: str, count: int, v2: bool) -> str:
    """Model i has a name, a NOT NULL integer, a nullable text, maybe a FK."""
    lines = ["from django.db import models", ""]
    gone = deleted(count) if v2 else set()
    for i in range(count):
        if i in gone:
            continue
        name = "Account" if shape == "star" and i == 0 else f"Model{i}"
        lines.append(f"class {name}(models.Model):")
        lines.append("    name = models.CharField(max_length=100)")
        if not (v2 and i % 6 == 3):
            lines.append("    score = models.IntegerField(default=0)")
        lines.append("    note = models.TextField(null=True)")
        parent = target(shape, i)
        if parent is not None and not (v2 and (i % 12 == 5 or parent in gone)):
            parent_name = "Account" if shape == "star" else f"Model{parent}"
            lines.append(
                f"    parent = models.ForeignKey('{parent_name}', "
                f"on_delete=models.CASCADE, related_name='+')"
            )
        lines.append("")
    return "\n".join(lines)


def build(root: Path, shape: str, count: int) -> None:
    app = root / "big"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (root / "settings.py").write_text(SETTINGS)
    (root / "stock_settings.py").write_text(STOCK_SETTINGS)
    (root / "manage.py").write_text(MANAGE)
    (app / "models.py").write_text(models_source(shape, count, v2=False))
    run(root, "stock", "makemigrations", "-v0")
    (app / "models.py").write_text(models_source(shape, count, v2=True))


def manage(root: Path, mode: str, command: list[str]) -> subprocess.CompletedProcess:
    """Run ``command`` (a manage.py command line) in the project of ``mode``."""
    settings = "stock_settings" if mode == "stock" else "settings"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    # As installed: Python's bytecode cached (the warm-up run writes the
    # package's, as a user's first run does; pip wrote Django's).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(
        command,
        cwd=root,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def run(root: Path, mode: str, *args: str) -> tuple[Timing, str]:
    """
    Run manage.py with stock Django (``mode`` "stock") or the package;
    return (seconds, stdout). Stops with its output on failure.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = manage(root, mode, [sys.executable, "manage.py", *args])
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if result.returncode != 0:
        sys.exit(
            f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return Timing(seconds, cpu), result.stdout


class Timing(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + system seconds of the process


def instructions(root: Path, mode: str) -> int:
    """The instructions one ``makemigrations --dry-run`` of ``mode`` executes."""
    result = manage(
        root,
        mode,
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "manage.py",
            "makemigrations",
            "--dry-run",
        ],
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        sys.exit(f"callgrind of {mode} failed:\n{result.stdout}{result.stderr}")
    return int(found.group(1))


def count_instructions(shape: str, count: int) -> dict[str, int]:
    """Instructions of each side on a new project, after a warm-up run."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        build(root, shape, count)
        outputs = {
            mode: run(root, mode, "makemigrations", "--dry-run")[1]
            for mode in ("stock", "bluegreen")
        }
        check_outputs(outputs["stock"], outputs["bluegreen"], count)
        return {mode: instructions(root, mode) for mode in outputs}


def check_outputs(stock: str, bluegreen: str, count: int) -> None:
    """Both sides must see the change; bluegreen must have split it."""
    listed = len(re.findall(r"^\s*- Delete model ", stock, re.MULTILINE))
    if listed != len(deleted(count)):
        sys.exit(
            f"stock makemigrations listed {listed} deleted models, expected "
            f"{len(deleted(count))}:\n{stock}"
        )
    if "pending/cleanup_" not in bluegreen:
        sys.exit(
            "bluegreen makemigrations wrote no cleanup migration: it did not split "
            f"the change, so the timing would compare nothing:\n{bluegreen}"
        )


def measure(shape: str, count: int, repeat: int) -> dict[str, list[Timing]]:
    """The timings of ``repeat`` alternating pairs on a new project."""
    timings: dict[str, list[Timing]] = {"stock": [], "bluegreen": []}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        build(root, shape, count)
        # Warm-up, untimed: .pyc files, the page cache; and the outputs checked.
        outputs = {
            mode: run(root, mode, "makemigrations", "--dry-run")[1] for mode in timings
        }
        check_outputs(outputs["stock"], outputs["bluegreen"], count)
        for pair in range(repeat):
            order = ["stock", "bluegreen"] if pair % 2 == 0 else ["bluegreen", "stock"]
            for mode in order:
                timing, _ = run(root, mode, "makemigrations", "--dry-run")
                timings[mode].append(timing)
    return timings


def names(value: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if allowed is not None and not set(items) <= set(allowed):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument(
        "--shape",
        type=lambda value: names(value, SHAPES),
        default=list(SHAPES),
        help="comma-separated: chain, star, flat (default: all)",
    )
    parser.add_argument(
        "--models",
        type=lambda value: [int(n) for n in names(value)],
        default=[300, 1000, 3000],
        help="comma-separated sizes (default: 300,1000,3000)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed pairs")
    parser.add_argument(
        "--smoke", action="store_true", help="30 models of each shape, one pair (CI)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under callgrind instead of timing",
    )
    args = parser.parse_args()
    if args.smoke:
        args.models, args.repeat = [30], 1
    if args.repeat < 1 or min(args.models) < 30:
        parser.error("need --repeat >= 1 and --models >= 30")
    if args.instructions:
        print(
            "makemigrations --dry-run, whole process, instructions executed "
            "(valgrind --tool=callgrind), one run of each side\n"
            "| shape | models | stock | bluegreen | ratio |\n|---|---:|---:|---:|---:|"
        )
        for shape in args.shape:
            for count in args.models:
                counted = count_instructions(shape, count)
                stock, bluegreen = counted["stock"], counted["bluegreen"]
                print(
                    f"| {shape} | {count} | {stock / 1e9:.3f} G | "
                    f"{bluegreen / 1e9:.3f} G | {bluegreen / stock:.3f} |",
                    flush=True,
                )
        return
    print(
        f"makemigrations --dry-run, whole process, median of {args.repeat} "
        f"alternating pairs; wall-clock seconds, and CPU seconds (user + "
        f"system), which a busy machine disturbs less; {os.cpu_count()} cores"
    )
    print(
        "| shape | models | stock | bluegreen | ratio | stock CPU | bluegreen CPU "
        "| CPU ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for shape in args.shape:
        for count in args.models:
            timings = measure(shape, count, args.repeat)
            row = [shape, str(count)]
            for kind in ("wall", "cpu"):
                stock, bluegreen = (
                    statistics.median(getattr(t, kind) for t in timings[mode])
                    for mode in ("stock", "bluegreen")
                )
                row += [
                    f"{stock:.2f} s",
                    f"{bluegreen:.2f} s",
                    f"{bluegreen / stock:.3f}",
                ]
            print("| " + " | ".join(row) + " |", flush=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
