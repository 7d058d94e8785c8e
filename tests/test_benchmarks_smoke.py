"""
The benchmarks' short smoke runs (small sizes): they complete, and the
deploy rehearsal counts no failed request for bluegreen and some for stock
(run on SQLite only, the negative control). The measurements
themselves are `make bench` and `make rehearsal`, never timed tests.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize(
    "script",
    [
        "rollout.py",
        "lock_footprint.py",
        "lock_timeout.py",
        "makemigrations_overhead.py",
        "registry_cost.py",
        "sync_cost.py",
    ],
)
def test_benchmark_smoke_run_passes(script):
    smoke(script)


def smoke(script):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_benchmark_smoke_write_stall_reports_every_step_and_stock_failures():
    """
    Every step of the smoke's row was measured on both vendors (a number in
    every cell), and stock's removal failed the old release's writes (the
    negative control) while bluegreen failed none (else the exit status).
    """
    output = smoke("write_stall.py")
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    header, rows = lines[0], lines[1:]
    assert header.count("DDL / migrate / longest / p99 write (ms)") == 2, header
    cells = {}
    for line in rows:
        vendor, change, step, *rest = [c.strip() for c in line.strip("|").split("|")]
        cells[(vendor, change, step)] = rest
    changes = ("RemoveField, NOT NULL, no default",)
    expected = {
        (vendor, change, step)
        for vendor in ("PostgreSQL", "MariaDB")
        for change in changes
        for step in ("contract", "cleanup", "stock")
    }
    assert set(cells) == expected, output
    number = re.compile(r"^[0-9.]+ / [0-9.]+ / [0-9.]+ / [0-9.]+$")
    for key, (small, large, ratio, failed, rebuilt) in cells.items():
        assert number.match(small) and number.match(large), (key, output)
        assert re.match(r"^[0-9.]+$", ratio) and rebuilt, (key, output)
        counts = [tuple(map(int, c.split("/"))) for c in failed.split(", ")]
        assert len(counts) == 2 and all(total > 0 for _, total in counts), key
        if key[1] == changes[0] and key[2] == "stock":
            assert all(failures > 0 for failures, _ in counts), (key, output)
