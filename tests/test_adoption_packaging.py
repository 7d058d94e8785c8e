"""
What a careful maintainer ships: the sdist and the wheel built from the
tree hold the license, ``py.typed`` and the metadata a user or a tool reads
(Python and Django classifiers, project URLs), and the sdist ships either
the whole test suite or none of it.
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import bluegreen_autodetector

REPO = Path(__file__).resolve().parent.parent
NOXFILE = REPO / "noxfile.py"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel, built without build isolation from a copy."""
    tree = tmp_path_factory.mktemp("tree") / "src"
    shutil.copytree(
        REPO,
        tree,
        ignore=shutil.ignore_patterns(
            ".venv*", ".nox", ".git", "build", "*.egg-info", "__pycache__"
        ),
    )
    out = tree.parent / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), "."],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def test_wheel_holds_license_and_py_typed(dist):
    _, wheel = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert "bluegreen_autodetector/py.typed" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_sdist_holds_license_changelog_and_no_partial_test_suite(dist):
    sdist, _ = dist
    names = [
        name.split("/", 1)[1] for name in tarfile.open(sdist).getnames() if "/" in name
    ]
    assert {
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "bluegreen_autodetector/py.typed",
    } <= set(names)
    tests = [name for name in names if name.startswith("tests/")]
    # All of tests/ (its settings and helpers too) or none of it.
    assert not tests or {
        "tests/conftest.py",
        "tests/settings.py",
        "tests/project.py",
    } <= set(tests)


def test_metadata_names_every_supported_python_and_django(dist):
    _, wheel = dist
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(name))
    classifiers = metadata.get_all("Classifier")
    legs = dict(re.findall(r'"(\d\.\d)": "(3\.\d+)"', NOXFILE.read_text()))
    assert legs, "noxfile.py's LEGS moved"
    for django, python in legs.items():
        assert f"Framework :: Django :: {django}" in classifiers
        assert f"Programming Language :: Python :: {python}" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert metadata["License-Expression"] == "MIT"
    # requires-python admits no Python that no test leg runs.
    lowest = min(legs.values(), key=lambda v: tuple(map(int, v.split("."))))
    assert metadata["Requires-Python"] == f">={lowest}"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Homepage", "Changelog", "Issues"} <= set(urls)


def test_version_comes_from_the_metadata():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert bluegreen_autodetector.__version__ == project["version"]


def test_changelog_has_an_entry_for_this_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert f"## {project['version']}" in (REPO / "CHANGELOG.md").read_text()
