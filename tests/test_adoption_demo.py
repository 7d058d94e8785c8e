"""
``make demo`` shows the story on SQLite with Django and this package only,
and no step of it fails (not even one that is then explained away).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_demo_target_installs_the_package_alone():
    makefile = (REPO / "Makefile").read_text()
    target = re.search(r"^demo:(.*)$", makefile, re.MULTILINE).group(1)
    assert "venv" not in target.split() and "$(STAMP)" not in target
    recipe = re.search(
        r"^\$\(DEMO_VENV\)/\.installed:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE
    ).group(1)
    assert "pip install -q -e .\n" in recipe
    assert "system-deps" not in recipe and "[test]" not in recipe


def test_every_demo_step_passes_and_none_prints_a_failure():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Demo complete: every step passed." in result.stdout
    statuses = re.findall(r"\[exit status (\d+)\]", result.stdout)
    assert statuses and set(statuses) == {"0"}, statuses
    assert "django_extensions" not in result.stdout
