"""
Models Django supports that made the split crash or write wrong migrations
(issue 11; Django's own tests/migrations found most of them). Each test
runs the split in-process on project states, as Django's tests run the
autodetector, and captures the cleanup with each vendor's schema editor.
"""

from __future__ import annotations

import datetime
import decimal
import sqlite3
import uuid

import pytest
from django.core.management.base import CommandError
from django.db import models
from django.db.migrations import operations
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ModelState

from bluegreen_autodetector.operations import RunAlterSQL, RunCleanupSQL
from bluegreen_autodetector.split.catalogue import Walk, remove_field
from bluegreen_autodetector.split.result import split_of

from .split_in_process import capture_servers, model, only, split, state

pytestmark = pytest.mark.usefixtures("capture_servers")
__all__ = ["capture_servers"]  # the fixture, used by pytestmark


def test_not_null_foreign_key_to_a_model_created_in_the_same_run(vendor):
    # Capture renders the target's primary key: the model exists only in
    # the state this run builds, not in the migration graph's.
    before = state(model("Book"))
    after = state(
        model("Author"),
        model(
            "Book",
            ("author", models.ForeignKey("shop.author", models.CASCADE, default=1)),
        ),
    )
    # The default names a row of a table this migration creates empty: the
    # foreign-key constraint waits for the cleanup too (issue 24, item 8).
    migration = only(split(before, after, vendor))
    default, constraint = split_of(migration).cleanup.operations
    for step in (default, constraint):
        assert isinstance(step, RunAlterSQL)
        assert (step.table, step.column) == ("shop_book", "author_id")
        assert step.reverse_sql[vendor]
    assert "DEFAULT" in " ".join(default.sql[vendor]).upper()
    assert (default.foreign_keys, constraint.foreign_keys) == (False, True)


def test_model_states_without_a_primary_key_field(vendor):
    # Django's own tests build states like these; rendering adds the id.
    before = state(
        ModelState(
            "shop",
            "Author",
            [("name", models.CharField(max_length=5)), ("age", models.IntegerField())],
        ),
        ModelState(
            "shop",
            "Book",
            [("author", models.ForeignKey("shop.author", models.CASCADE))],
        ),
    )
    after = state(
        ModelState("shop", "Author", [("name", models.CharField(max_length=5))]),
        ModelState("shop", "Book", []),
    )
    migration = only(split(before, after, vendor))
    steps = split_of(migration).cleanup.operations
    assert [(s.table, s.column) for s in steps] == [
        ("shop_author", "age"),
        ("shop_book", "author_id"),
    ]
    assert all(isinstance(s, RunCleanupSQL) for s in steps)


def test_removing_a_composite_primary_key_changes_no_column(vendor):
    # A CompositePrimaryKey has no column of its own: nothing lingers.
    fields = [("a", models.IntegerField()), ("b", models.IntegerField())]
    before = state(
        ModelState(
            "shop", "Book", [("pk", models.CompositePrimaryKey("a", "b")), *fields]
        )
    )
    after = state(
        ModelState(
            "shop", "Book", [("id", models.AutoField(primary_key=True)), *fields]
        )
    )
    migration = only(split(before, after, vendor))
    assert split_of(migration).cleanup is None
    assert [type(o) for o in migration.operations] == [
        operations.RemoveField,
        operations.AddField,
    ]


@pytest.mark.parametrize(
    "change",
    ["add", "remove", "null"],
)
def test_a_constant_default_of_the_wrong_type_is_a_command_error(vendor, change):
    # The prompt's "1" for a DateTimeField: Django fails only at migrate.
    wrong = models.DateTimeField(default=1)
    nullable = models.DateTimeField(null=True)
    before, after = {
        "add": ([], [("when", wrong)]),
        "remove": ([("when", wrong)], []),
        "null": ([("when", nullable)], [("when", wrong)]),
    }[change]
    with pytest.raises(CommandError) as raised:
        split(state(model("Book", *before)), state(model("Book", *after)), vendor)
    message = str(raised.value)
    assert "\n" not in message
    assert "shop.Book.when" in message or "shop.book.when" in message
    assert "default 1" in message and "DateTimeField" in message


class Colour(models.TextChoices):
    RED = "r"


CONSTANTS = [
    models.DecimalField(max_digits=5, decimal_places=2, default=decimal.Decimal("1.5")),
    models.DateField(default=datetime.date(2026, 1, 2)),
    models.DateTimeField(
        default=datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)
    ),
    models.TimeField(default=datetime.time(3, 4)),
    models.DurationField(default=datetime.timedelta(days=1)),
    models.UUIDField(default=uuid.UUID(int=7)),
    models.BinaryField(default=b"\x00ab"),
    models.CharField(max_length=1, default=Colour.RED),
]


@pytest.mark.parametrize("field", CONSTANTS, ids=lambda field: type(field).__name__)
def test_constant_defaults_of_every_type_are_kept_in_the_database(vendor, field):
    migration = only(
        split(state(model("Book")), state(model("Book", ("x", field))), vendor)
    )
    (added,) = migration.operations
    # Not nullable (the new release would read None), no false warning.
    assert added.field.db_default == field.default and not added.field.null
    assert split_of(migration).warnings == []
    (step,) = split_of(migration).cleanup.operations
    assert not step.not_null and "DEFAULT" in " ".join(step.sql[vendor]).upper()


def test_removing_a_generated_field_captures_the_fields_its_expression_uses(vendor):
    fields = [("a", models.IntegerField()), ("b", models.IntegerField())]
    total = models.GeneratedField(
        expression=models.F("a") + models.F("b"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    migration = only(
        split(
            state(model("Book", *fields, ("total", total))),
            state(model("Book", *fields)),
            vendor,
        )
    )
    # The database computes it: the contract leaves the column as it is.
    (state_only,) = migration.operations
    assert isinstance(state_only, operations.SeparateDatabaseAndState)
    (step,) = split_of(migration).cleanup.operations
    assert (step.table, step.column) == ("shop_book", "total")
    if vendor == "sqlite":
        # The way back adds it to a table holding rows, which SQLite allows
        # for a virtual column only.
        database = sqlite3.connect(":memory:")
        database.execute('CREATE TABLE "shop_book" (id integer, a integer, b integer)')
        database.execute('INSERT INTO "shop_book" VALUES (1, 2, 3)')
        for statement in step.reverse_sql[vendor]:
            database.execute(statement)
        assert database.execute('SELECT total FROM "shop_book"').fetchall() == [(5,)]


@pytest.mark.parametrize("null", [(True, False), (False, True)])
def test_null_on_a_many_to_many_field_passes_through_as_stock(vendor, null):
    # It means nothing in the database: no cleanup, no backfill warning.
    def book(null):
        tags = models.ManyToManyField("shop.tag", null=null)
        return state(model("Tag"), model("Book", ("tags", tags)))

    migration = only(split(book(null[0]), book(null[1]), vendor))
    assert split_of(migration).cleanup is None
    assert split_of(migration).warnings == []
    assert [type(o) for o in migration.operations] == [operations.AlterField]


@pytest.mark.parametrize("field", ["title", "author"])
def test_db_column_naming_the_current_column_is_not_refused(vendor, field):
    # The package's own rename recipe: compare columns, not arguments.
    def book(**kwargs):
        fields = {
            "title": models.CharField(max_length=5, **kwargs),
            "author": models.ForeignKey("shop.author", models.CASCADE, **kwargs),
        }
        return state(model("Author"), model("Book", (field, fields[field])))

    column = {"title": "title", "author": "author_id"}[field]
    migration = only(split(book(), book(db_column=column), vendor))
    assert [type(o) for o in migration.operations] == [operations.AlterField]
    assert split_of(migration).cleanup is None


def test_a_rename_confirmed_at_the_prompt_that_keeps_the_column_passes(vendor):
    # Answered "yes, renamed" with db_column keeping the column: Django
    # writes AlterField(db_column) and RenameField; neither touches a column.
    renamed = MigrationQuestioner(
        defaults={"ask_rename": True}, specified_apps={"shop"}
    )

    def before():
        return state(model("Book", ("title", models.CharField(max_length=5))))

    after = state(
        model("Book", ("heading", models.CharField(max_length=5, db_column="title")))
    )
    migration = only(split(before(), after, vendor, questioner=renamed))
    assert [type(o) for o in migration.operations] == [
        operations.AlterField,
        operations.RenameField,
    ]
    # A rename that moves the column is split: both columns, kept equal.
    after = state(model("Book", ("heading", models.CharField(max_length=5))))
    migration = only(split(before(), after, vendor, questioner=renamed))
    assert [type(o) for o in migration.operations] == [
        operations.SeparateDatabaseAndState
    ]
    assert split_of(migration).cleanup is not None


def _renamed(name, **fields):
    fields = {"title": models.CharField(max_length=5), **fields}
    return model(name, *fields.items(), db_table="shop_old")


def test_a_model_renamed_keeping_its_table_keeps_it(vendor):
    # Under --noinput Django writes CreateModel + DeleteModel of one table:
    # the table stays, no cleanup drops it.
    migration = only(split(state(_renamed("Old")), state(_renamed("New")), vendor))
    assert split_of(migration).cleanup is None
    assert all(
        isinstance(o, operations.SeparateDatabaseAndState) and not o.database_operations
        for o in migration.operations
    )


def test_a_model_renamed_keeping_its_table_with_other_fields_is_refused(vendor):
    with pytest.raises(CommandError, match="share the table 'shop_old'"):
        split(
            state(_renamed("Old")),
            state(_renamed("New", rating=models.IntegerField(null=True))),
            vendor,
        )


def test_relations_to_model_states_without_a_primary_key_field(vendor):
    # Capture renders the target with the implicit id, though no field of
    # the target is captured.
    def author():
        return ModelState("shop", "Author", [("name", models.CharField(max_length=5))])

    def book(*fields):
        return ModelState("shop", "Book", list(fields))

    fk = models.ForeignKey("shop.author", models.CASCADE, null=True)
    deleted = only(
        split(state(author(), book(("author", fk))), state(author()), vendor)
    )
    (drop,) = split_of(deleted).cleanup.operations
    assert (drop.table, drop.column) == ("shop_book", None)
    assert "shop_author" not in " ".join(drop.sql[vendor])
    added = only(
        split(state(author(), book()), state(author(), book(("author", fk))), vendor)
    )
    (constraint,) = split_of(added).cleanup.operations
    assert "shop_author" in " ".join(constraint.sql[vendor])


def test_a_field_removed_before_its_model_hands_the_table_over_keeps_its_column():
    # Django may remove a deleted model's relations first: the model created
    # beside it on the same table still needs the column and its constraint.
    def book(name):
        author = models.ForeignKey("shop.author", models.CASCADE)
        return model(name, ("author", author), db_table="shop_old")

    walk = Walk(
        "shop",
        state(model("Author"), book("Old"), book("New")),
        deleted_models={"old"},
        created_models={"new"},
    )
    split_ = remove_field(operations.RemoveField("Old", "author"), walk)
    assert (split_.contract_database, split_.cleanup) == ([], [])
