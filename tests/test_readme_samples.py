"""
Every sample of README.md is what the commands print: the console samples
of ``python manage.py ...`` are run, in README's order, in a copy of the
example project (release N's models swapped in first), and their output is
compared with README's; the cleanup file README shows is compared with the
one ``makemigrations`` wrote.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
FENCE = re.compile(r"^( *)```(\w+)\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [
        textwrap.dedent(body)
        for _, lang, body in FENCE.findall(README)
        if lang == language
    ]


def console_samples() -> list[tuple[str, str]]:
    """(command, output) of each ``$ python manage.py`` line shown with output."""
    samples = []
    for block in blocks("console"):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            command = command.split("  #")[0].strip()
            if command.startswith("python manage.py ") and output.strip():
                samples.append((command, output.rstrip("\n")))
    return samples


def cleanup_sample() -> str:
    section = README[README.index("## What a cleanup migration looks like") :]
    return blocks_in(section, "python")[0]


def blocks_in(text: str, language: str) -> list[str]:
    return [body for _, lang, body in FENCE.findall(text) if lang == language]


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Run README's samples in order; yield (samples, outputs, pending file)."""
    project = tmp_path_factory.mktemp("readme") / "example_project"
    shutil.copytree(
        REPO / "example_project",
        project,
        ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__", "pending"),
    )
    settings = project / "example" / "settings.py"
    settings.write_text(settings.read_text().replace('    "django_extensions",\n', ""))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        # black formats the written files, as it does for users who have it.
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout
        return result.stdout.rstrip("\n")

    manage("migrate", "-v0")  # release N-1
    shutil.copyfile(
        project / "bookstore" / "models_v2.py.txt", project / "bookstore" / "models.py"
    )
    samples = console_samples()
    outputs, pending = [], None
    for command, _ in samples:
        outputs.append(manage(*shlex.split(command)[2:]))
        if pending is None and (project / "bookstore/migrations/pending").is_dir():
            (pending,) = (project / "bookstore/migrations/pending").glob("*.py")
            pending = pending.read_text()
    return samples, outputs, pending


def test_readme_shows_the_workflow_commands():
    commands = [command for command, _ in console_samples()]
    for expected in (
        "python manage.py makemigrations",
        "python manage.py sqlmigrate bookstore cleanup_0002",
        "python manage.py promotemigrations",
        "python manage.py ejectbluegreen",
    ):
        assert expected in commands


def test_every_console_sample_is_what_the_command_prints(story):
    samples, outputs, _ = story
    for (command, shown), printed in zip(samples, outputs, strict=True):
        assert shown == printed, f"README's sample of `{command}` differs"


def test_the_cleanup_file_sample_is_the_file_makemigrations_wrote(story):
    _, _, pending = story
    assert pending is not None
    position = 0
    for part in re.split(r"^ *\.\.\.\n", cleanup_sample(), flags=re.MULTILINE):
        found = pending.find(part, position)
        assert found >= 0, f"README's cleanup sample differs at:\n{part}"
        position = found + len(part)


def test_every_setting_is_a_row_of_a_table():
    """
    Every setting is a row of the settings reference's table (docs/): a
    blank line ends a Markdown table, and a row after one renders as text.
    """
    conf = (REPO / "bluegreen_autodetector" / "conf.py").read_text()
    settings = set(re.findall(r'getattr\(settings, "(BLUEGREEN_\w+)"', conf))
    assert settings
    lines = (REPO / "docs" / "settings.md").read_text().splitlines()
    rows = {
        match.group(1): number
        for number, line in enumerate(lines)
        if (match := re.match(r"\| `(BLUEGREEN_\w+)` \|", line))
    }
    assert settings <= set(rows), settings - set(rows)
    for setting, number in rows.items():
        assert lines[number - 1].startswith("|"), f"{setting}'s row is cut off"
