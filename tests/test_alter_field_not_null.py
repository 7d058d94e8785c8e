"""Catalogue row: AlterField null=True -> null=False."""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_stock_breaks_old_release,
)
from .project import assert_stopped

V1 = """
class Product(models.Model):
    name = models.CharField(max_length=255)
    note = models.TextField(null=True)
    code = models.CharField(max_length=10, null=True)
"""

V2 = """
class Product(models.Model):
    name = models.CharField(max_length=255)
    note = models.TextField(default="")
    code = models.CharField(max_length=10, null=True)
"""

V2_NO_DEFAULT = """
class Product(models.Model):
    name = models.CharField(max_length=255)
    note = models.TextField(null=True)
    code = models.CharField(max_length=10)
"""


def test_old_release_keeps_writing_null_until_the_cleanup(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_coexistence(release)
    assert_idempotent(release.project)


def test_stock_not_null_breaks_the_old_release(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    problems = assert_stock_breaks_old_release(release)
    assert any("v1 Product create" in problem for problem in problems)


def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)


def test_cleanup_backfills_a_constant_default_first(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    project = release.project
    output = release.make_v2()
    assert "first fills NULLs with the default ''" in output
    project.manage("migrate", "-v0")
    project.manage(
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute(\"INSERT INTO shop_product (name) VALUES ('old')\")",
    )
    release.promote_and_migrate()
    (row,) = project.probe("rows")["shop_product"]
    assert row["note"] == ""


def test_cleanup_without_default_stops_on_nulls_and_names_them(make_project, vendor):
    release = Release(make_project(vendor), V1, V2_NO_DEFAULT)
    project = release.project
    output = release.make_v2("--noinput")
    assert "Backfill NULLs before the cleanup runs" in output
    project.manage("migrate", "-v0")
    project.manage(
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute(\"INSERT INTO shop_product (name) VALUES ('old')\")",
    )
    project.manage("promotemigrations")
    result = project.manage("migrate", check=False)
    assert_stopped(result, "1 row(s) of shop_product hold NULL in code")
    schema = project.probe("schema")
    assert schema["shop_product"]["columns"]["code"]["null"] is True
