"""
makemigrations overhead: stock vs bluegreen on a large generated project.

    python benchmarks/makemigrations_overhead.py [--models 300] [--removed 50]
        [--deleted 10] [--repeat 11] [--smoke]

Generates a project of ``--models`` models chained by foreign keys, migrates
nothing (makemigrations needs no database), then changes the models: removes
``--removed`` fields (a third of them foreign keys) and deletes ``--deleted``
models. Times ``makemigrations --dry-run`` with ``--no-bluegreen`` (stock
Django) and with ``--bluegreen``, in pairs whose order alternates (stock
first, then bluegreen first, ...) so that a drift of the machine does not
favour one side, after one untimed warm-up run of each. Prints the medians,
their spread (min-max, interquartile range), the ratio of the medians, the
median of the per-pair ratios, and the absolute difference.

Each timing is a whole ``manage.py`` process, as a developer runs it:
interpreter start-up and ``django.setup()`` are in both sides.

Both runs must detect the changes: the script checks that stock lists every
deleted model and that bluegreen split the change (its output names the
cleanup migration), and stops otherwise: a bluegreen run that silently did
nothing would make a meaningless ratio. ``--smoke`` (CI): 30 models, 6
fields removed, 2 models deleted, one pair; checks completion only.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def models_source(count: int, removed: int, deleted: int, v2: bool) -> str:
    """Model i has a name, a NOT NULL integer, a nullable text and a FK to i-1."""
    lines = ["from django.db import models", ""]
    gone_models = set(range(count - deleted, count)) if v2 else set()
    gone_fields = set(range(removed)) if v2 else set()
    for i in range(count):
        if i in gone_models:
            continue
        lines.append(f"class Model{i}(models.Model):")
        lines.append("    name = models.CharField(max_length=100)")
        if not (i in gone_fields and i % 3 == 0):
            lines.append("    score = models.IntegerField(default=0)")
        if not (i in gone_fields and i % 3 == 1):
            lines.append("    note = models.TextField(null=True)")
        if i and not (i in gone_fields and i % 3 == 2):
            lines.append(
                f"    parent = models.ForeignKey('Model{i - 1}', on_delete=models.CASCADE)"
            )
        lines.append("")
    return "\n".join(lines)


def build(root: Path, args) -> None:
    app = root / "big"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (root / "settings.py").write_text(SETTINGS)
    (root / "manage.py").write_text(MANAGE)
    (app / "models.py").write_text(models_source(args.models, 0, 0, v2=False))
    run(root, "makemigrations", "--no-bluegreen", "-v0")
    # Deleted models must not be pointed at by kept ones: delete the tail.
    (app / "models.py").write_text(
        models_source(args.models, args.removed, args.deleted, v2=True)
    )


def run(root: Path, *args: str) -> tuple[float, str]:
    """Run manage.py; return (seconds, stdout). Stops with its output on failure."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return seconds, result.stdout


def check_outputs(stock: str, bluegreen: str, args) -> None:
    """Both sides must see the change; bluegreen must have split it."""
    deleted = len(re.findall(r"^\s*- Delete model ", stock, re.MULTILINE))
    if deleted != args.deleted:
        sys.exit(
            f"stock makemigrations listed {deleted} deleted models, expected "
            f"{args.deleted}:\n{stock}"
        )
    if "pending/cleanup_" not in bluegreen:
        sys.exit(
            "bluegreen makemigrations wrote no cleanup migration: it did not split "
            f"the change, so the timing would compare nothing:\n{bluegreen}"
        )


def spread(values: list[float]) -> str:
    """min-max and the interquartile range, in seconds."""
    if len(values) < 4:
        return f"min {min(values):.3f}  max {max(values):.3f}"
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"min {min(values):.3f}  max {max(values):.3f}  IQR {q3 - q1:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--removed", type=int, default=50)
    parser.add_argument("--deleted", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=11, help="timed pairs")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny project, one pair (CI)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.models, args.removed, args.deleted, args.repeat = 30, 6, 2, 1
    if args.repeat < 1 or args.deleted >= args.models or args.removed > args.models:
        parser.error("need --repeat >= 1, --deleted < --models, --removed <= --models")
    modes = {"stock": "--no-bluegreen", "bluegreen": "--bluegreen"}
    timings: dict[str, list[float]] = {"stock": [], "bluegreen": []}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        build(root, args)
        # Warm-up, untimed: .pyc files, the page cache; and the outputs checked.
        outputs = {
            mode: run(root, "makemigrations", "--dry-run", flag)[1]
            for mode, flag in modes.items()
        }
        check_outputs(outputs["stock"], outputs["bluegreen"], args)
        for pair in range(args.repeat):
            order = ["stock", "bluegreen"] if pair % 2 == 0 else ["bluegreen", "stock"]
            for mode in order:
                seconds, _ = run(root, "makemigrations", "--dry-run", modes[mode])
                timings[mode].append(seconds)
    stock = statistics.median(timings["stock"])
    bluegreen = statistics.median(timings["bluegreen"])
    paired = statistics.median(
        b / s for s, b in zip(timings["stock"], timings["bluegreen"], strict=True)
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average at the end {load}")
    print(
        f"makemigrations --dry-run, {args.models} models, {args.removed} fields "
        f"removed, {args.deleted} models deleted, median of {args.repeat} "
        f"(alternating pairs, whole process):"
    )
    print(f"  stock Django   {stock:.3f} s   ({spread(timings['stock'])})")
    print(f"  bluegreen      {bluegreen:.3f} s   ({spread(timings['bluegreen'])})")
    print(f"  difference     {1000 * (bluegreen - stock):+.0f} ms")
    print(f"  median of per-pair ratios  {paired:.3f}")
    print(f"  ratio          {bluegreen / stock:.3f}")


if __name__ == "__main__":
    main()
