"""
The way out: after ``ejectbluegreen`` a project's migrations import only
Django. With the package unimportable and gone from INSTALLED_APPS, a fresh
database migrates to the schema the deployed one has, migrates back, and
``makemigrations --check`` (stock) finds no changes.
"""

from __future__ import annotations

import pytest

from .oracles import Release, assert_same_schema

V1 = """
class Author(models.Model):
    name = models.CharField(max_length=100)

class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    pages = models.IntegerField(null=True, blank=True)
"""

V2 = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    pages = models.IntegerField(null=True, blank=True)
    stock = models.IntegerField(default=0)
"""

# Importing the package fails: as if it were uninstalled.
UNINSTALLED = """
import sys
sys.modules["bluegreen_autodetector"] = None
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "bluegreen_autodetector"]
"""


def _uninstall(project, settings_text: str) -> None:
    (project.root / "settings.py").write_text(settings_text + UNINSTALLED)


def test_ejected_history_migrates_a_fresh_database_without_the_package(
    make_project, vendor
):
    release = Release(make_project(vendor), V1, V2)
    release.make_v2()
    project = release.project
    project.manage("migrate", "-v0")
    project.manage("promotemigrations", "-v0")
    project.manage("migrate", "-v0")
    deployed = project.probe("schema")
    deployed_database = project.database
    settings = (project.root / "settings.py").read_text()

    # Control: without the rewrite, the history needs the package.
    _uninstall(project, settings)
    project.new_database()
    result = project.manage("migrate", "-v0", check=False)
    assert result.returncode != 0 and "bluegreen_autodetector" in result.stderr

    (project.root / "settings.py").write_text(settings)
    project.database = deployed_database  # where the cleanups are applied
    output = project.manage("ejectbluegreen").stdout
    assert "The migrations import only Django now." in output
    for path in project.migrations.glob("*.py"):
        assert "bluegreen_autodetector" not in path.read_text(), path.name

    _uninstall(project, settings)
    project.new_database()
    project.manage("migrate", "-v0")
    assert "No changes detected" in project.manage("makemigrations", "--check").stdout
    (project.root / "settings.py").write_text(settings)
    assert_same_schema(project.probe("schema"), deployed, "fresh after eject")

    _uninstall(project, settings)
    project.manage("migrate", "shop", release.v1, "-v0")
    (project.root / "settings.py").write_text(settings)
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "rolled back after eject"
    )


@pytest.mark.parametrize("step", ["pending", "unapplied"])
def test_eject_refuses_while_a_cleanup_still_needs_the_package(make_project, step):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    project = release.project
    project.manage("migrate", "-v0")
    if step == "unapplied":
        project.manage("promotemigrations", "-v0")
    before = project.snapshot()
    result = project.manage("ejectbluegreen", check=False)
    assert result.returncode == 1
    assert "Nothing was rewritten." in result.stderr
    assert ("still pending" if step == "pending" else "is not applied") in (
        result.stderr
    )
    assert project.snapshot() == before
