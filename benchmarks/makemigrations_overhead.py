"""
makemigrations overhead: stock vs bluegreen on a large generated project.

    python benchmarks/makemigrations_overhead.py [--models 300] [--removed 50]
        [--deleted 10] [--repeat 7]

Generates a project of ``--models`` models chained by foreign keys, migrates
nothing (makemigrations needs no database), then changes the models: removes
``--removed`` fields (a third of them foreign keys) and deletes ``--deleted``
models. Times ``makemigrations --dry-run`` with ``--no-bluegreen`` (stock
Django) and with ``--bluegreen``, alternating, and prints the medians and
their ratio. Both runs detect the same changes; bluegreen also splits them
and captures the cleanup SQL.
"""

from __future__ import annotations

import argparse
import os
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


def run(root: Path, *args: str) -> float:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--removed", type=int, default=50)
    parser.add_argument("--deleted", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        build(root, args)
        timings = {"stock": [], "bluegreen": []}
        run(root, "makemigrations", "--dry-run", "--bluegreen")  # warm caches
        for _ in range(args.repeat):
            timings["stock"].append(
                run(root, "makemigrations", "--dry-run", "--no-bluegreen")
            )
            timings["bluegreen"].append(
                run(root, "makemigrations", "--dry-run", "--bluegreen")
            )
    stock = statistics.median(timings["stock"])
    bluegreen = statistics.median(timings["bluegreen"])
    print(
        f"makemigrations --dry-run, {args.models} models, {args.removed} fields "
        f"removed, {args.deleted} models deleted, median of {args.repeat}:"
    )
    print(f"  stock Django   {stock:.3f} s")
    print(f"  bluegreen      {bluegreen:.3f} s")
    print(f"  ratio          {bluegreen / stock:.3f}")


if __name__ == "__main__":
    main()
