"""Catalogue row: AddField NOT NULL whose default lives only in Python."""

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_stock_breaks_old_release,
)

V1 = """
class Product(models.Model):
    name = models.CharField(max_length=255)
"""

V2 = """
import uuid

from django.utils import timezone


class Product(models.Model):
    name = models.CharField(max_length=255)
    stock = models.IntegerField(default=0)
    label = models.CharField(max_length=20, default="new")
    added = models.DateTimeField(default=timezone.now)
    ref = models.UUIDField(default=uuid.uuid4)
"""

# Only the constant default: no backfill is ever needed.
V2_CONSTANT = """
class Product(models.Model):
    name = models.CharField(max_length=255)
    stock = models.IntegerField(default=0)
"""


def test_old_release_keeps_inserting_without_the_new_columns(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_coexistence(release)
    assert_idempotent(release.project)


def test_stock_addition_breaks_the_old_release(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    problems = assert_stock_breaks_old_release(release)
    assert any("v1 Product create" in problem for problem in problems)


def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    assert_equivalent_and_reversible(release, make_project)


def test_one_off_default_typed_at_the_prompt_is_kept_in_the_database(
    make_project, vendor
):
    project = make_project(vendor)
    release = Release(project, V1, V2_CONSTANT.replace("(default=0)", "()"))
    project.set_models(release.v2_models)
    # Django asks for a one-off default: option 1, then the value.
    result = project.run("manage.py", "makemigrations", input="1\n7\n")
    assert "PR 2 (next release" in result.stdout, result.stdout + result.stderr
    release.v2 = project.migration_names()[-1]
    assert "preserve_default=False" in project.snapshot()[release.v2 + ".py"]
    project.manage("migrate", "-v0")
    assert not [r for r in release.crud() if not r["ok"]]
    release.promote_and_migrate()
    assert_idempotent(project)


def test_cleanup_fills_the_nulls_the_old_release_wrote(make_project, vendor):
    # Until issue 27 the cleanup stopped here, asking for a hand-written
    # backfill ("Backfill them (UPDATE ... or a data migration ...)").
    release = Release(make_project(vendor), V1, V2)
    project = release.project
    output = release.make_v2()
    assert "has no database equivalent" in output
    assert "the cleanup fills them the same way" in output, output
    project.manage("migrate", "-v0")
    for _ in range(2):
        project.manage(
            "shell",
            "-c",
            "from django.db import connection; connection.cursor().execute(\"INSERT INTO shop_product (name) VALUES ('old')\")",
        )
    release.promote_and_migrate()
    refs = [row["ref"] for row in project.probe("rows")["shop_product"]]
    assert "None" not in refs and len(set(refs)) == 2, refs
    assert project.probe("schema")["shop_product"]["columns"]["ref"]["null"] is False
    assert_idempotent(project)


def test_a_dry_run_without_a_default_says_what_the_old_release_meets(make_project):
    # In a dry run Django's questioner asks for no one-off default and gives
    # the field None: the package judged None a callable that cannot be
    # imported ("a lambda or a nested function").
    project = make_project("sqlite")
    release = Release(project, V1, V2_CONSTANT.replace("(default=0)", "()"))
    project.set_models(release.v2_models)
    result = project.run("manage.py", "makemigrations", "--dry-run", check=False)
    said = result.stdout + result.stderr
    assert "cannot be imported" not in said, said
    assert "stock is NOT NULL without a database default" in said, said
    assert not project.pending_files()
