"""
The benchmarks' short smoke runs (small sizes): they complete, and the
deploy rehearsal counts no failed request for bluegreen. The measurements
themselves are `make bench` and `make rehearsal`, never timed tests.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize(
    "script",
    ["rollout.py", "lock_footprint.py", "lock_timeout.py", "makemigrations_overhead.py"],
)
def test_benchmark_smoke_run_passes(script):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
