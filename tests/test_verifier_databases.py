"""
The verifier's verdicts on unique constraints, narrowings and the columns
Django creates, against real databases: what it lets through, the old
release really lives with (two INSERTs in a separate process); what it now
flags, stock Django really breaks. tests/test_verifier.py generates the
neighbours in-process.
"""

import pytest

from .oracles import Release, assert_stock_breaks_old_release, failures
from .project import assert_stopped

V1 = """
class Product(models.Model):
    tenant = models.IntegerField()
    name = models.CharField(max_length=40)
    price = models.DecimalField(max_digits=10, decimal_places=2)
"""


def v2(meta="", fields=""):
    source = V1 + "".join(f"    {line}\n" for line in fields.splitlines() if line)
    return source + (f"\n    class Meta:\n        {meta}\n" if meta else "")


# Refused before: "its second row repeats the database default".
ACCEPTED = {
    "unique_together with the auto key": v2('unique_together = [("tenant", "id")]'),
    "UniqueConstraint with the auto key": v2(
        'constraints = [models.UniqueConstraint(fields=["tenant", "id"], '
        'name="tenant_id")]'
    ),
    "unique stored GeneratedField": v2(
        fields="twice = models.GeneratedField(expression=models.F('tenant') * 2, "
        "output_field=models.IntegerField(), db_persist=True, unique=True)"
    ),
    "one active row": v2(
        'constraints = [models.UniqueConstraint(fields=["active"], '
        'condition=models.Q(active=True), name="one_active")]',
        "active = models.BooleanField(default=False)",
    ),
    "a new default column beside a written one": v2(
        'constraints = [models.UniqueConstraint(fields=["name", "active"], '
        'name="name_active")]',
        "active = models.BooleanField(default=False)",
    ),
}


def inserts(project, release, start=1):
    return failures(
        project.probe("inserts", app=project.app_label, release=release, start=start)
    )


@pytest.mark.parametrize("change", sorted(ACCEPTED))
def test_what_the_verifier_accepts_takes_two_inserts_of_each_release(
    make_project, vendor, change
):
    release = Release(make_project(vendor), V1, ACCEPTED[change])
    release.make_v2()
    project = release.project
    project.manage("migrate", "-v0")
    assert inserts(project, release.v1) == []
    assert inserts(project, release.v2, start=1000) == []


def test_a_first_migration_with_every_such_constraint_is_written(make_project, vendor):
    project = make_project(vendor)
    # Two models: on MariaDB, stock Django's CREATE TABLE with parameters (the
    # generated column's) runs the conditional constraint it skips as "None".
    project.set_models(
        V1 + "    twice = models.GeneratedField(expression=models.F('tenant') * 2, "
        "output_field=models.IntegerField(), db_persist=True, unique=True)\n"
        + "\n    class Meta:\n"
        + '        unique_together = [("tenant", "id")]\n'
        + "\n\nclass Flag(models.Model):\n"
        + "    active = models.BooleanField(default=False)\n"
        + "\n    class Meta:\n"
        + '        constraints = [models.UniqueConstraint(fields=["active"], '
        'condition=models.Q(active=True), name="one_active")]\n'
    )
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    assert inserts(project, project.migration_names()[-1]) == []


# What the old release may write that the new constraint or type rejects:
# the change, the warning, and the old release's SQL that then fails.
FLAGGED = {
    "unique=True": (
        V1.replace("max_length=40)", "max_length=40, unique=True)"),
        "unique constraint on (name)",
        ["INSERT INTO shop_product (tenant, name, price) VALUES (1, 'a', 1)"] * 2,
    ),
    "unique_together": (
        v2('unique_together = [("tenant", "name")]'),
        "unique constraint on (name, tenant)",
        ["INSERT INTO shop_product (tenant, name, price) VALUES (1, 'a', 1)"] * 2,
    ),
    "UniqueConstraint": (
        v2(
            'constraints = [models.UniqueConstraint(fields=["tenant", "name"], '
            'name="tenant_name")]'
        ),
        "unique constraint on (name, tenant)",
        ["INSERT INTO shop_product (tenant, name, price) VALUES (1, 'a', 1)"] * 2,
    ),
    "decimal integer part": (
        V1.replace("decimal_places=2", "decimal_places=4"),
        "more than 6 digits before the decimal point are rejected",
        ["INSERT INTO shop_product (tenant, name, price) VALUES (1, 'a', 12345678.5)"],
    ),
    "decimal max_digits": (
        V1.replace("max_digits=10", "max_digits=8"),
        "more than 6 digits before the decimal point are rejected",
        ["INSERT INTO shop_product (tenant, name, price) VALUES (1, 'a', 12345678.5)"],
    ),
}


@pytest.mark.parametrize("change", sorted(FLAGGED))
def test_what_the_verifier_flags_breaks_the_old_release(make_project, vendor, change):
    models_v2, warning, statements = FLAGGED[change]
    release = Release(make_project(vendor), V1, models_v2)
    project = release.project
    output = release.make_v2()
    assert "INSERT on shop_product may fail" in output
    assert warning in output
    assert project.pending_files() == []
    project.manage("migrate", "-v0")
    result = project.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        f"for sql in {statements!r}:\n"
        "    connection.cursor().execute(sql)",
        check=False,
    )
    if vendor == "sqlite" and change.startswith("decimal"):
        # SQLite keeps any number in a decimal column: "may fail" elsewhere.
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert "Error" in result.stderr


ORDERED = """
class Author(models.Model):
    name = models.CharField(max_length=40)


class Book(models.Model):
    author = models.ForeignKey(Author, models.CASCADE)
    title = models.CharField(max_length=40)
"""

ORDERED_V2 = ORDERED + "\n    class Meta:\n        order_with_respect_to = 'author'\n"


def test_a_new_order_column_is_refused_where_stock_breaks_old_inserts(
    make_project, vendor
):
    release = Release(make_project(vendor), ORDERED, ORDERED_V2)
    project = release.project
    before = project.snapshot()
    project.set_models(ORDERED_V2)
    result = project.manage("makemigrations", check=False)
    assert_stopped(result, "INSERT on shop_book fails: column _order is NOT NULL")
    assert project.snapshot() == before
    problems = assert_stock_breaks_old_release(release)
    assert any("v1 Book create" in problem for problem in problems)


NULLABLE = """
class Product(models.Model):
    note = models.TextField(null=True)
"""


def test_the_release_shipping_a_not_null_cleanup_is_not_warned(make_project, vendor):
    release = Release(
        make_project(vendor), NULLABLE, NULLABLE.replace("null=True", "default=''")
    )
    project = release.project
    release.make_v2()
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    result = project.manage("check")
    assert "bluegreen.W001" not in result.stdout + result.stderr
    # The same NOT NULL made by hand in that release is still warned of.
    project.manage("migrate", "-v0")
    project.set_models("""
class Product(models.Model):
    note = models.TextField(default='')
    code = models.TextField(null=True)
""")
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    project.set_models("""
class Product(models.Model):
    note = models.TextField(default='')
    code = models.TextField(default='')
""")
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    result = project.manage("check")
    assert "bluegreen.W001" in result.stdout + result.stderr
    assert "INSERT on shop_product fails: column code" in result.stdout + result.stderr


def test_a_warning_is_given_once_not_again_while_its_contract_is_unreleased(
    make_project,
):
    v1 = V1 + "    note = models.TextField(null=True)\n"
    v2 = v1.replace("max_length=40", "max_length=20").replace(
        "    note = models.TextField(null=True)\n", ""
    )
    release = Release(make_project("sqlite"), v1, v2)
    assert "its longer values are rejected" in release.make_v2()
    project = release.project
    assert project.pending_files()  # The old release is v1 until promoted.
    project.manage("migrate", "-v0")
    project.set_models(v2 + "    extra = models.IntegerField(null=True)\n")
    output = project.manage("makemigrations").stdout
    assert "extra" in output
    assert "longer values are rejected" not in output
