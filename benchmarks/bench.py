"""
Run the measurements of ``make bench`` and print their ratios together.

    python benchmarks/bench.py [--smoke]

1. benchmarks/lock_footprint.py  contract and cleanup at 10k and 1M rows on
   PostgreSQL: duration ratio 1M/10k (target near 1: no table rewrite)
2. benchmarks/lock_timeout.py  a long reader vs the contract migration, with
   and without BLUEGREEN_LOCK_TIMEOUT: how long other queries wait
3. benchmarks/makemigrations_overhead.py  stock vs bluegreen makemigrations
   --dry-run on 300 models (target <= 1.05)
4. benchmarks/write_stall.py  each catalogue row's contract and cleanup (and
   stock's migration) at 10k and 1M rows on PostgreSQL and MariaDB, while a
   writer writes: how long the step runs, the longest write, table rebuilt

Each one's full output is shown as it runs; the summary at the end repeats
their ratio lines, and write_stall.py's table. ``--smoke`` passes ``--smoke``
to each (small sizes).
Exit status: non-zero if any exits non-zero.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "lock_footprint.py",
    "lock_timeout.py",
    "makemigrations_overhead.py",
    "write_stall.py",
)
SUMMARY = ("ratio", "worst probe wait")
TABLE = "write_stall.py"  # its Markdown table is repeated at the end


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}"


def main(argv: list[str]) -> int:
    extra = ["--smoke"] if "--smoke" in argv else []
    print(f"make bench: {machine()}", flush=True)
    summary = []
    table = []
    status = 0
    for script in SCRIPTS:
        print(f"\n=== {script} {' '.join(extra)}".rstrip(), flush=True)
        process = subprocess.Popen(
            [sys.executable, str(HERE / script), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip())
        if process.wait() != 0:
            status = 1
            summary.append(f"{script}: FAILED (exit {process.returncode})")
            continue
        ratios = [
            " ".join(line.split()) for line in lines if line.strip().startswith(SUMMARY)
        ]
        summary.extend(f"{script}: {line}" for line in ratios)
        if script == TABLE:
            table = [line for line in lines if line.startswith("|")]
    print("\n=== ratios")
    for line in summary:
        print(f"  {line}")
    if table:
        print(f"\n=== {TABLE}: duration and longest write per deploy step")
        print("\n".join(table))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
