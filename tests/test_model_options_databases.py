"""
Issue 11's regressions that only a real database shows: each drives the
real commands in a temporary project on every vendor it concerns.
"""

from __future__ import annotations

import ast
import datetime
import uuid

from .oracles import (
    Release,
    assert_coexistence,
    assert_equivalent_and_reversible,
    assert_idempotent,
    assert_same_schema,
    assert_stock_breaks_old_release,
    failures,
    stock_schema,
)

BOOK = """
class Book(models.Model):
    title = models.CharField(max_length=20)
"""

CONSTANTS = (
    BOOK,
    """
import datetime
import decimal
import uuid


class Book(models.Model):
    title = models.CharField(max_length=20)
    price = models.DecimalField(max_digits=5, decimal_places=2, default=decimal.Decimal("1.5"))
    day = models.DateField(default=datetime.date(2026, 1, 2))
    token = models.UUIDField(default=uuid.UUID(int=7))
    blob = models.BinaryField(default=b"ab")
""",
)


def test_constant_defaults_of_every_type_coexist_and_reach_stock(make_project, vendor):
    # Before: added nullable, the new release read None from a NOT NULL
    # field and the cleanup stopped on the old release's NULLs.
    assert_coexistence(Release(make_project(vendor), *CONSTANTS))
    assert_equivalent_and_reversible(
        Release(make_project(vendor), *CONSTANTS), make_project
    )


def test_check_tolerates_a_dependency_on_an_unknown_app(make_project, vendor):
    # Django's loader rejects this graph; its commands say so, and
    # 'manage.py check' must not crash in bluegreen.W001 first.
    project = make_project(vendor)
    project.set_models(BOOK)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    (project.migrations / "0002_ghost.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial'), ('ghost', '__first__')]\n"
        "    operations = []\n"
    )
    result = project.manage("check", check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


GENERATED = (
    """
class Book(models.Model):
    a = models.IntegerField()
    b = models.IntegerField()
    total = models.GeneratedField(
        expression=models.F("a") + models.F("b"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
""",
    """
class Book(models.Model):
    a = models.IntegerField()
    b = models.IntegerField()
""",
)


def test_removing_a_generated_field_coexists_reaches_stock_and_rolls_back(
    make_project, vendor
):
    # Before: FieldError, the capture model lacked the fields 'total' uses.
    assert_coexistence(Release(make_project(vendor), *GENERATED))
    assert_equivalent_and_reversible(
        Release(make_project(vendor), *GENERATED), make_project
    )


QUALIFIED = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    rating = models.IntegerField(null=True)

    class Meta:
        db_table = '"other"."book"'
""",
    """
class Book(models.Model):
    title = models.CharField(max_length=20)

    class Meta:
        db_table = '"other"."book"'
""",
)


def test_a_schema_qualified_table_is_cleaned_up_and_rolled_back(make_project):
    # Before: the cleanup's guard compared '"other"."book"' with the bare
    # names introspection lists, so it dropped nothing and said OK; the way
    # back then added a column that was still there.
    import psycopg

    project = make_project("postgresql")
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname=project.database["NAME"]
    ) as connection:
        connection.execute("CREATE SCHEMA other")
    release = Release(project, *QUALIFIED)
    release.make_v2()
    project.manage("migrate", "-v0")
    release.promote_and_migrate()
    assert _columns_of_other_book(project) == ["id", "title"]
    project.manage("migrate", project.app_label, release.v1, "-v0")
    assert _columns_of_other_book(project) == ["id", "rating", "title"]


def _columns_of_other_book(project) -> list[str]:
    output = project.manage(
        "shell",
        "-c",
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        'cursor.execute("SELECT column_name FROM information_schema.columns '
        "WHERE table_schema = 'other' AND table_name = 'book'\")\n"
        "print(sorted(name for (name,) in cursor.fetchall()))",
    ).stdout
    return ast.literal_eval(output.strip().splitlines()[-1])


CHECKED = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    copies = models.PositiveIntegerField()
    meta = models.JSONField()
    stock = models.PositiveIntegerField(null=True)
    data = models.JSONField(null=True)
""",
    """
import uuid


def one():
    return 1


class Book(models.Model):
    title = models.CharField(max_length=20)
    stock = models.PositiveIntegerField(default=2)
    data = models.JSONField(default=dict)
    shelf = models.PositiveIntegerField(default=one)
    extra = models.JSONField(default=dict)
""",
)


def test_mariadb_keeps_the_checks_of_positive_integer_and_json_columns(make_project):
    # MariaDB's MODIFY re-declares the column: without re-declaring its
    # CHECK (a PositiveIntegerField's `>= 0`, a JSONField's json_valid) the
    # constraint is gone, now and after the way back.
    release = Release(make_project("mysql"), *CHECKED)
    release.make_v2()
    project = release.project
    project.manage("migrate", "-v0")
    release.promote_and_migrate()
    # What CREATE TABLE gives v2's columns (stock's MODIFY loses them too).
    fresh = stock_schema(make_project, "mysql", CHECKED[1], CHECKED[1])
    assert_same_schema(project.probe("schema"), fresh, "after cleanup vs v2")
    assert _checked_columns(fresh) == {"stock", "data", "shelf", "extra"}
    # The cleanup's way back re-declares them too ('copies' and 'meta'
    # linger again, as the contract left them).
    project.manage("migrate", project.app_label, release.v2, "-v0")
    assert _checked_columns(project.probe("schema")) == {
        "copies",
        "meta",
        "stock",
        "data",
        "shelf",
        "extra",
    }


def _checked_columns(schema: dict) -> set[str]:
    constraints = schema["shop_book"]["constraints"].values()
    return {column for c in constraints if c["check"] for column in c["columns"]}


RENAMED_KEEPING_TABLE = (
    """
class Old(models.Model):
    title = models.CharField(max_length=20)

    class Meta:
        db_table = "shop_old"


class Book(models.Model):
    old = models.ForeignKey(Old, on_delete=models.CASCADE, null=True)
""",
    """
class New(models.Model):
    title = models.CharField(max_length=20)

    class Meta:
        db_table = "shop_old"


class Book(models.Model):
    old = models.ForeignKey(New, on_delete=models.CASCADE, null=True)
""",
)


def test_a_model_renamed_keeping_its_table_under_noinput_keeps_the_table(
    make_project, vendor
):
    # --noinput never asks "renamed?": Django writes CreateModel + DeleteModel
    # of one table. Before, the cleanup dropped it, the new model's table.
    release = Release(make_project(vendor), *RENAMED_KEEPING_TABLE)
    release.make_v2("--noinput")
    project = release.project
    assert project.pending_files() == []
    project.manage("migrate", "-v0")
    assert failures(release.crud()) == []
    assert_idempotent(project)
    assert_same_schema(project.probe("schema"), release.v1_schema, "v1 and v2")


NOT_NULL_WITH_OTHER_CHANGES = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    note = models.CharField(max_length=5, null=True)
    rating = models.IntegerField(null=True)
""",
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    note = models.CharField(max_length=50, default="none", db_index=True)
    rating = models.BigIntegerField(default=0)
""",
)


def test_not_null_with_other_changes_of_the_field_is_split(make_project, vendor):
    # Real histories make the NOT NULL change together with others: those
    # pass through now, the NOT NULL waits for the cleanup.
    v1, v2 = NOT_NULL_WITH_OTHER_CHANGES
    assert_coexistence(Release(make_project(vendor), v1, v2))
    # Negative control: stock's NOT NULL rejects the old release's NULLs.
    assert_stock_breaks_old_release(Release(make_project(vendor), v1, v2))
    assert_equivalent_and_reversible(
        Release(make_project(vendor), v1, v2), make_project
    )


BACKFILLED = (
    """
class Book(models.Model):
    title = models.CharField(max_length=20)
    due = models.TimeField(null=True)
    loan = models.DurationField(null=True)
    token = models.UUIDField(null=True)
    when = models.DateTimeField(null=True)
""",
    """
import datetime
import uuid


class Book(models.Model):
    title = models.CharField(max_length=20)
    due = models.TimeField(default=datetime.time(3, 4))
    loan = models.DurationField(default=datetime.timedelta(days=1))
    token = models.UUIDField(default=uuid.UUID(int=7))
    when = models.DateTimeField(
        default=datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)
    )
""",
)


def test_null_to_not_null_backfills_constants_of_every_type(make_project, vendor):
    # The old release writes NULL until the cleanup, which fills them with
    # the default in the column's database form (SQLite could not quote a
    # time, a timedelta or a UUID; MySQL got a timedelta's text).
    release = Release(make_project(vendor), *BACKFILLED)
    assert_coexistence(release)
    project = release.project
    # A row of the old release's, NULL in every one of them.
    project.manage(
        "shell",
        "-c",
        _BOOKS.format(node=repr(("shop", release.v1)))
        + "Book.objects.create(title='old')",
    )
    release.promote_and_migrate()
    output = project.manage(
        "shell",
        "-c",
        _BOOKS.format(node="None")
        + "print(sorted(set(Book.objects.values_list('due', 'loan', 'token', 'when'))))",
    ).stdout
    assert output.strip().splitlines()[-1] == repr(
        [
            (
                datetime.time(3, 4),
                datetime.timedelta(days=1),
                uuid.UUID(int=7),
                datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
            )
        ]
    )


_BOOKS = (
    "from django.db.migrations.loader import MigrationLoader\n"
    "from django.db import connection\n"
    "apps = MigrationLoader(connection).project_state({node}).apps\n"
    "Book = apps.get_model('shop', 'Book')\n"
)
