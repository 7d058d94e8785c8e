"""
The verifier's verdicts on project states, in-process (no database): what
each release's SELECT, INSERT, UPDATE and DELETE meet in the database's real
shape. tests/test_release_sequences.py checks the same verdicts against real
databases.
"""

from __future__ import annotations

import pytest
from django.db import models
from django.db.migrations import Migration, operations
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.state import ModelState, ProjectState

from bluegreen_autodetector.operations import RunCleanupSQL, RunKeptColumnSQL
from bluegreen_autodetector.verifier import judge as verifier
from bluegreen_autodetector.verifier import live, states

OLD, NEW = "the old release", "the new release"


def pk():
    return ("id", models.BigAutoField(primary_key=True))


def model(name, *fields, **options):
    return ModelState("shop", name, [pk(), *fields], options)


def state(*model_states):
    project = ProjectState()
    for model_state in model_states:
        project.add_model(model_state)
    return project


def author():
    return model("Author", ("name", models.CharField(max_length=100)))


def judge(old, database, new=None, keys=None):
    releases = {OLD: old, NEW: new or database}
    keys = keys or {key for s in (old, database, new or database) for key in s.models}
    return verifier.verify(releases, database, keys)


def errors(findings, release=OLD):
    return [
        f for f in findings if f.severity == verifier.ERROR and f.release == release
    ]


def test_identical_states_break_nothing_for_every_kind_of_field():
    both = state(
        author(),
        model(
            "Book",
            ("title", models.CharField(max_length=200, unique=True)),
            ("rating", models.IntegerField(db_default=3)),
            ("note", models.TextField(null=True)),
            ("author", models.ForeignKey("shop.author", models.CASCADE)),
            (
                "editor",
                models.ForeignKey(
                    "shop.author", models.SET_NULL, null=True, related_name="+"
                ),
            ),
            (
                "cover",
                models.OneToOneField("shop.author", models.CASCADE, related_name="+"),
            ),
            ("parent", models.ForeignKey("shop.book", models.CASCADE, null=True)),
            ("tags", models.ManyToManyField("shop.author", related_name="tagged")),
            ("similar", models.ManyToManyField("shop.book")),
            unique_together={("title", "rating")},
            constraints=[
                models.CheckConstraint(
                    condition=models.Q(rating__gte=0), name="rating_positive"
                )
            ],
        ),
    )
    assert judge(both, both) == []


def test_a_column_gone_breaks_the_old_release_select():
    old = state(model("Book", ("rating", models.IntegerField(null=True))))
    new = state(model("Book"))
    found = errors(judge(old, new))
    assert [(f.statement, f.table, f.column) for f in found] == [
        ("SELECT", "shop_book", "rating")
    ]
    assert "shop.Book.rating" in str(found[0])


def test_a_lingering_column_keeps_both_releases_working():
    old = state(model("Book", ("rating", models.IntegerField())))
    database = state(model("Book", ("rating", models.IntegerField(null=True))))
    assert errors(judge(old, database, new=state(model("Book")))) == []
    assert errors(judge(old, database, new=state(model("Book"))), NEW) == []


@pytest.mark.parametrize(
    "column, broken",
    [
        (models.IntegerField(), True),
        (models.IntegerField(null=True), False),
        (models.IntegerField(db_default=0), False),
        # A Python default is not in the database.
        (models.IntegerField(default=0), True),
    ],
)
def test_an_insert_needs_every_not_null_column_it_omits_filled(column, broken):
    old = state(model("Book"))
    database = state(model("Book", ("rating", column)))
    found = errors(judge(old, database))
    assert bool(found) is broken
    if broken:
        assert (found[0].statement, found[0].column) == ("INSERT", "rating")


def test_a_database_default_replaced_by_a_python_default_breaks_old_inserts():
    old = state(model("Book", ("rating", models.IntegerField(db_default=3))))
    database = state(model("Book", ("rating", models.IntegerField(default=3))))
    found = errors(judge(old, database))
    assert [(f.statement, f.column) for f in found] == [("INSERT", "rating")]


def test_a_column_made_not_null_breaks_a_release_writing_null():
    old = state(model("Book", ("rating", models.IntegerField(null=True))))
    database = state(model("Book", ("rating", models.IntegerField(default=0))))
    found = errors(judge(old, database))
    assert [(f.statement, f.column) for f in found] == [("INSERT", "rating")]
    assert "may write NULL" in found[0].reason


def test_a_repointed_foreign_key_breaks_old_writes_and_deletes():
    old = state(
        author(),
        model("Publisher"),
        model("Book", ("author", models.ForeignKey("shop.author", models.CASCADE))),
    )
    database = state(
        author(),
        model("Publisher"),
        model("Book", ("author", models.ForeignKey("shop.publisher", models.CASCADE))),
    )
    found = {(f.statement, f.table) for f in errors(judge(old, database))}
    assert found == {("INSERT", "shop_book"), ("DELETE", "shop_publisher")}


@pytest.mark.parametrize("constraint", [True, False])
def test_a_new_foreign_key_to_an_old_table_blocks_old_deletes(constraint):
    old = state(author())
    added = models.ForeignKey("shop.author", models.CASCADE, db_constraint=constraint)
    database = state(author(), model("Review", ("author", added)))
    found = errors(judge(old, database))
    if constraint:
        assert [(f.statement, f.table, f.column) for f in found] == [
            ("DELETE", "shop_author", "author_id")
        ]
        assert "shop_review" in found[0].reason
    else:
        assert found == []


def test_a_new_nullable_foreign_key_on_an_old_table_blocks_old_deletes():
    old = state(author(), model("Book"))
    database = state(
        author(),
        model(
            "Book",
            ("author", models.ForeignKey("shop.author", models.SET_NULL, null=True)),
        ),
    )
    found = errors(judge(old, database))
    assert [(f.statement, f.table) for f in found] == [("DELETE", "shop_author")]


@pytest.mark.parametrize("constraint", [True, False])
def test_a_new_many_to_many_blocks_old_deletes_of_both_sides(constraint):
    old = state(author(), model("Book"))
    tags = models.ManyToManyField("shop.author", db_constraint=constraint)
    database = state(author(), model("Book", ("tags", tags)))
    found = errors(judge(old, database))
    if constraint:
        assert {(f.statement, f.table, f.column) for f in found} == {
            ("DELETE", "shop_author", "author_id"),
            ("DELETE", "shop_book", "book_id"),
        }
    else:
        assert found == []


def test_a_removed_relation_whose_constraint_lingers_blocks_new_deletes():
    with_fk = model(
        "Book", ("author", models.ForeignKey("shop.author", models.CASCADE, null=True))
    )
    old = state(author(), with_fk)
    found = errors(judge(old, old, new=state(author(), model("Book"))), NEW)
    assert [(f.statement, f.table) for f in found] == [("DELETE", "shop_author")]


def test_values_the_column_may_reject_are_warnings():
    old = state(model("Book", ("title", models.CharField(max_length=200))))
    narrower = state(model("Book", ("title", models.CharField(max_length=50))))
    wider = state(model("Book", ("title", models.CharField(max_length=300))))
    found = judge(old, narrower)
    assert [f.severity for f in found if f.release == OLD] == [verifier.WARNING]
    assert "longer values are rejected" in found[0].reason
    assert [f for f in judge(old, wider) if f.release == OLD] == []
    checked = state(
        model(
            "Book",
            ("title", models.CharField(max_length=200)),
            constraints=[
                models.CheckConstraint(condition=models.Q(title__gt=""), name="titled")
            ],
        )
    )
    assert [f.severity for f in judge(old, checked) if f.release == OLD] == [
        verifier.WARNING
    ]


def test_a_unique_column_the_release_does_not_write_breaks_its_second_insert():
    old = state(model("Book"))
    database = state(
        model("Book", ("code", models.IntegerField(db_default=0, unique=True)))
    )
    found = errors(judge(old, database))
    assert [(f.statement, f.column) for f in found] == [("INSERT", "code")]


def test_a_table_gone_breaks_the_old_release():
    found = errors(judge(state(author()), state()))
    assert [(f.statement, f.table, f.column) for f in found] == [
        ("SELECT", "shop_author", None)
    ]


def test_only_the_tables_of_the_given_models_are_judged():
    old = state(author(), model("Book", ("rating", models.IntegerField())))
    new = state(author(), model("Book"))
    assert judge(old, new, keys={("shop", "author")}) == []


# The database's real shape -------------------------------------------------


def migration(name, *operations_, dependencies=()):
    result = Migration(name, "shop")
    result.operations = list(operations_)
    result.dependencies = list(dependencies)
    return result


def test_state_only_removals_linger_until_their_cleanup_drops_them():
    database = state(
        author(),
        model(
            "Book",
            ("rating", models.IntegerField(null=True)),
            ("tags", models.ManyToManyField("shop.author")),
        ),
    )
    contract = migration(
        "0002_contract",
        operations.SeparateDatabaseAndState(
            state_operations=[
                operations.RemoveField("book", "rating"),
                operations.RemoveField("book", "tags"),
                operations.DeleteModel("author"),
            ]
        ),
    )
    live.database_forwards(contract, database)
    assert set(database.models[("shop", "book")].fields) == {"id", "rating", "tags"}
    assert ("shop", "author") in database.models
    cleanup = migration(
        "0003_cleanup",
        RunCleanupSQL(
            "shop_book", {}, {}, column="rating", hints={"model_name": "book"}
        ),
        RunCleanupSQL("shop_book_tags", {}, {}, hints={"model_name": "book"}),
        RunCleanupSQL("shop_author", {}, {}, hints={"model_name": "author"}),
    )
    live.database_forwards(cleanup, database)
    assert set(database.models[("shop", "book")].fields) == {"id"}
    assert ("shop", "author") not in database.models


def test_a_state_only_addition_is_taken_as_what_the_database_holds():
    database = state(model("Book"))
    adopted = migration(
        "0002_adopt",
        operations.SeparateDatabaseAndState(
            state_operations=[
                operations.AddField("book", "isbn", models.CharField(max_length=13))
            ]
        ),
    )
    live.database_forwards(adopted, database)
    assert "isbn" in database.models[("shop", "book")].fields


def test_the_old_release_is_the_state_before_the_oldest_pending_contract():
    initial = migration(
        "0001_initial",
        operations.CreateModel("Book", [pk(), ("rating", models.IntegerField())]),
    )
    contract = migration(
        "0002_contract",
        operations.AlterField("book", "rating", models.IntegerField(null=True)),
        operations.SeparateDatabaseAndState(
            state_operations=[operations.RemoveField("book", "rating")]
        ),
        dependencies=[("shop", "0001_initial")],
    )
    later = migration(
        "0003_later",
        operations.AddField("book", "isbn", models.CharField(max_length=13, null=True)),
        dependencies=[("shop", "0002_contract")],
    )
    graph = MigrationGraph()
    for node in (initial, contract, later):
        graph.add_node(("shop", node.name), node)
        for parent in node.dependencies:
            graph.add_dependency(node, ("shop", node.name), parent)
    leaf = graph.make_state()
    releases = live.live_releases(graph, [("shop", "0002_contract")], leaf)
    assert set(releases.old.models[("shop", "book")].fields) == {"id", "rating"}
    assert set(releases.database.models[("shop", "book")].fields) == {
        "id",
        "rating",
        "isbn",
    }
    assert releases.database.models[("shop", "book")].fields["rating"].null
    assert releases.unreleased == [("shop", "0002_contract"), ("shop", "0003_later")]
    assert "0002_contract" in releases.old_name
    assert errors(judge(releases.old, releases.database, new=leaf)) == []
    # Nothing pending: the leaf is both the old release and the database.
    settled = live.live_releases(graph, [], leaf)
    assert settled.old is leaf and settled.database is leaf


def test_what_lingers_stays_through_later_changes_of_its_table():
    # On SQLite too: migrate keeps the lingering column through a table
    # rebuild (sqlite_rebuilds; tests/test_sqlite_rebuilds.py).
    old = state(
        model(
            "Book",
            ("title", models.CharField(max_length=200)),
            ("rating", models.IntegerField(null=True)),
        )
    )
    database = states.copy_state(old)
    contract = migration(
        "0002_contract",
        operations.SeparateDatabaseAndState(
            state_operations=[operations.RemoveField("book", "rating")]
        ),
    )
    live.database_forwards(contract, database)
    for later in (
        migration(
            "0003_index",
            operations.AddIndex(
                "book", models.Index(fields=["title"], name="title_idx")
            ),
        ),
        migration(
            "0004_longer_title",
            operations.AlterField("book", "title", models.CharField(max_length=300)),
        ),
    ):
        live.database_forwards(later, database)
        assert "rating" in database.models[("shop", "book")].fields
    assert errors(judge(old, database)) == []


def test_a_renamed_model_is_touched_under_both_names():
    rename = operations.RenameModel("Author", "Writer")
    assert live.touched([migration("0002_rename", rename)]) == {
        ("shop", "author"),
        ("shop", "writer"),
    }


def test_a_kept_many_to_many_column_satisfies_the_old_release_until_its_cleanup():
    """
    Book renamed Volume in a table kept by its db_table: Shelf.books' table
    keeps its name, Django renames its book_id to volume_id, and the
    contract keeps book_id beside it, synchronised (RunKeptColumnSQL). The
    old release writes book_id: judged as writing volume_id. Without the
    kept column (stock), its SELECT, INSERT and DELETE fail; after the
    cleanup, only the new release is left to judge.
    """

    def shelf(target):
        return model("Shelf", ("books", models.ManyToManyField(f"shop.{target}")))

    def models_of(name, target):
        return state(model(name, db_table="library_books"), shelf(target))

    old = models_of("Book", "book")
    rename = operations.RenameModel("Book", "Volume")
    kept = RunKeptColumnSQL(
        "shop_shelf_books", {}, {}, column="volume_id", source="book_id"
    )
    keys = {("shop", "book"), ("shop", "volume"), ("shop", "shelf")}
    stock = models_of("Book", "book")
    live.database_forwards(migration("0002_rename", rename), stock)
    assert {f.statement for f in errors(judge(old, stock, keys=keys))} == {
        "SELECT",
        "INSERT",
        "DELETE",
    }
    database = models_of("Book", "book")
    live.database_forwards(migration("0002_rename", rename, kept), database)
    assert live.synced(database)["shop_shelf_books"] == {
        "book_id": "volume_id",
        "volume_id": "book_id",
    }
    assert not errors(judge(old, database, keys=keys))
    assert not errors(judge(old, database, keys=keys), NEW)
    cleanup = RunKeptColumnSQL(
        "shop_shelf_books", {}, {}, column="volume_id", source="book_id", drops=True
    )
    live.database_forwards(migration("0003_cleanup", cleanup), database)
    assert "shop_shelf_books" not in live.synced(database)
    assert errors(judge(old, database, keys=keys))
    assert not errors(judge(database, database, keys=keys), NEW)


# Unique constraints: every way Django declares one --------------------------


def findings_of(found, release=OLD):
    return [(f.severity, f.statement) for f in found if f.release == release]


def book(*fields, **options):
    return model("Book", ("name", models.CharField(max_length=50)), *fields, **options)


def generated(**kwargs):
    return models.GeneratedField(
        expression=models.F("id") * 2,
        output_field=models.BigIntegerField(),
        db_persist=True,
        **kwargs,
    )


# Each: (fields, options) of a model whose own release does not write some
# column of a unique constraint, which still never rejects its second row.
KNOWN_AND_HARMLESS = {
    "unique_together with the auto key": ((), {"unique_together": {("name", "id")}}),
    "UniqueConstraint with the auto key": (
        (),
        {"constraints": [models.UniqueConstraint(fields=["name", "id"], name="u")]},
    ),
    "UniqueConstraint on the auto key alone": (
        (),
        {"constraints": [models.UniqueConstraint(fields=["id"], name="u")]},
    ),
    "unique stored GeneratedField": ((("twice", generated(unique=True)),), {}),
    "UniqueConstraint on a GeneratedField": (
        (("twice", generated()),),
        {"constraints": [models.UniqueConstraint(fields=["twice"], name="u")]},
    ),
    "unique_together with a GeneratedField": (
        (("twice", generated()),),
        {"unique_together": {("name", "twice")}},
    ),
    "UniqueConstraint of an expression of the auto key": (
        (),
        {"constraints": [models.UniqueConstraint(models.F("id") + 1, name="u")]},
    ),
}


@pytest.mark.parametrize("declared", sorted(KNOWN_AND_HARMLESS))
def test_a_release_that_writes_no_repeating_column_is_never_refused(declared):
    fields, options = KNOWN_AND_HARMLESS[declared]
    # A new project's first migration: the old release has no table.
    database = state(book(*fields, **options))
    assert judge(state(), database) == []
    # The old release lacking the constraint: the auto key and the
    # generated column differ between its rows; what else it writes may not.
    old = state(book())
    assert errors(judge(old, database)) == []


def flag(default, **kwargs):
    # As the contract of AddField(BooleanField(default=...)) leaves it.
    return (
        "active",
        models.BooleanField(default=default, db_default=default, **kwargs),
    )


# A condition on the new column "active" (db_default False or True) of a
# conditional unique constraint over it, and what the old release, which
# writes "name" but not "active", meets: per database default, None (never
# rejected), WARNING (it depends on the names it writes) or ERROR (its second
# row always is).
CONDITIONS = [
    (models.Q(active=True), None, verifier.ERROR),
    (models.Q(active__exact=True), None, verifier.ERROR),
    (~models.Q(active=False), None, verifier.ERROR),
    (models.Q(active__in=[True]), None, verifier.ERROR),
    (models.Q(active__gt=False), None, verifier.ERROR),
    (models.Q(active__isnull=True), None, None),
    (models.Q(active__isnull=False), verifier.ERROR, verifier.ERROR),
    (models.Q(active=True) & models.Q(name="x"), None, verifier.WARNING),
    (models.Q(active=True) | models.Q(name="x"), verifier.WARNING, verifier.ERROR),
    (models.Q(name__startswith="x"), verifier.WARNING, verifier.WARNING),
    (models.Q(active=None), None, None),
]


@pytest.mark.parametrize("condition, if_false, if_true", CONDITIONS)
@pytest.mark.parametrize("default", [False, True])
def test_a_conditional_unique_rejects_only_the_rows_it_covers(
    condition, if_false, if_true, default
):
    unique = models.UniqueConstraint(fields=["active"], condition=condition, name="u")
    database = state(book(flag(default), constraints=[unique]))
    expected = if_true if default else if_false
    found = judge(state(book()), database)
    assert findings_of(found) == ([(expected, "INSERT")] if expected else [])
    assert findings_of(found, NEW) == []  # The new release writes "active".


# How a new column with a database default (or NULL) sits in a unique
# constraint, and what the old release's INSERTs meet.
NEW_COLUMN_IN_UNIQUE = {
    "unique=True": (flag(False, unique=True), {}, verifier.ERROR),
    "UniqueConstraint alone": (
        flag(False),
        {"constraints": [models.UniqueConstraint(fields=["active"], name="u")]},
        verifier.ERROR,
    ),
    "unique_together with a written column": (
        flag(False),
        {"unique_together": {("name", "active")}},
        verifier.WARNING,
    ),
    "UniqueConstraint with a written column": (
        flag(False),
        {"constraints": [models.UniqueConstraint(fields=["name", "active"], name="u")]},
        verifier.WARNING,
    ),
    "unique_together with the auto key": (
        flag(False),
        {"unique_together": {("active", "id")}},
        None,
    ),
    "expression of the new column": (
        ("code", models.CharField(max_length=5, default="a", db_default="a")),
        {
            "constraints": [
                models.UniqueConstraint(models.functions.Lower("code"), name="u")
            ]
        },
        verifier.ERROR,
    ),
    "expression of a written column": (
        ("code", models.CharField(max_length=5, default="a", db_default="a")),
        {
            "constraints": [
                models.UniqueConstraint(
                    models.functions.Lower("name"), "code", name="u"
                )
            ]
        },
        verifier.WARNING,
    ),
    "nullable, NULLs distinct": (
        ("code", models.IntegerField(null=True, unique=True)),
        {},
        None,
    ),
    "nullable, NULLs not distinct": (
        ("code", models.IntegerField(null=True)),
        {
            "constraints": [
                models.UniqueConstraint(fields=["code"], nulls_distinct=False, name="u")
            ]
        },
        verifier.ERROR,
    ),
    "database default of a function": (
        ("at", models.DateTimeField(db_default=models.functions.Now(), unique=True)),
        {},
        verifier.WARNING,
    ),
}


@pytest.mark.parametrize("case", sorted(NEW_COLUMN_IN_UNIQUE))
def test_a_new_column_in_a_unique_constraint(case):
    column, options, expected = NEW_COLUMN_IN_UNIQUE[case]
    database = state(book(column, **options))
    found = judge(state(book()), database)
    assert findings_of(found) == ([(expected, "INSERT")] if expected else [])
    if expected == verifier.ERROR:
        assert "rejects its second row" in found[0].reason
    assert findings_of(found, NEW) == []


def sku(**kwargs):
    return ("sku", models.CharField(max_length=40, **kwargs))


# Every way Django declares uniqueness over columns the old release writes:
# a constraint it does not know may reject its writes.
NEW_UNIQUE_OVER_WRITTEN = {
    "unique=True": ((sku(unique=True),), {}),
    "unique_together": ((sku(),), {"unique_together": {("name", "sku")}}),
    "UniqueConstraint": (
        (sku(),),
        {"constraints": [models.UniqueConstraint(fields=["sku"], name="u")]},
    ),
    "UniqueConstraint of an expression": (
        (sku(),),
        {
            "constraints": [
                models.UniqueConstraint(models.functions.Lower("sku"), name="u")
            ]
        },
    ),
    "conditional UniqueConstraint": (
        (sku(),),
        {
            "constraints": [
                models.UniqueConstraint(
                    fields=["sku"], condition=models.Q(name="x"), name="u"
                )
            ]
        },
    ),
    "OneToOneField": (
        (("author", models.OneToOneField("shop.author", models.CASCADE)),),
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(NEW_UNIQUE_OVER_WRITTEN))
def test_every_new_unique_over_written_columns_is_a_warning(case):
    fields, options = NEW_UNIQUE_OVER_WRITTEN[case]
    before = [
        (
            (name, models.ForeignKey("shop.author", models.CASCADE))
            if isinstance(field, models.OneToOneField)
            else (name, models.CharField(max_length=40))
        )
        for name, field in fields
    ]
    old = state(author(), book(*before))
    found = judge(old, state(author(), book(*fields, **options)))
    assert findings_of(found) == [(verifier.WARNING, "INSERT")]
    assert "unique constraint" in found[0].reason


def test_a_unique_implied_by_one_the_release_knows_is_not_a_warning():
    old = state(book(sku(unique=True)))
    database = state(book(sku(unique=True), unique_together={("name", "sku")}))
    assert judge(old, database) == []


# Narrowings: (the old release's field, the database's, what is said).
NARROWINGS = [
    (models.CharField(max_length=40), models.CharField(max_length=20), "longer"),
    (models.CharField(max_length=20), models.CharField(max_length=40), None),
    (models.CharField(), models.CharField(max_length=20), "longer"),
    (
        models.DecimalField(max_digits=10, decimal_places=2),
        models.DecimalField(max_digits=10, decimal_places=4),
        "more than 6 digits before the decimal point",
    ),
    (
        models.DecimalField(max_digits=10, decimal_places=2),
        models.DecimalField(max_digits=8, decimal_places=2),
        "more than 6 digits before the decimal point",
    ),
    (
        models.DecimalField(max_digits=10, decimal_places=4),
        models.DecimalField(max_digits=10, decimal_places=2),
        "rounded to 2 decimal places",
    ),
    (
        models.DecimalField(max_digits=10, decimal_places=2),
        models.DecimalField(max_digits=12, decimal_places=4),
        None,
    ),
    (models.BigIntegerField(), models.IntegerField(), "IntegerField in the database"),
]


@pytest.mark.parametrize("before, after, said", NARROWINGS)
def test_every_narrowing_of_a_type_is_a_warning(before, after, said):
    found = judge(state(book(("x", before))), state(book(("x", after))))
    if said is None:
        assert findings_of(found) == []
        return
    assert findings_of(found) == [(verifier.WARNING, "INSERT")]
    assert said in str(found[0])


# Columns Django creates that are no field of the state ------------------------


def test_the_order_column_of_order_with_respect_to_is_seen():
    parent = ("author", models.ForeignKey("shop.author", models.CASCADE))
    plain = state(author(), model("Book", parent))
    ordered = state(author(), model("Book", parent, order_with_respect_to="author"))
    # Added: the old release's INSERTs leave the NOT NULL column out.
    found = errors(judge(plain, ordered))
    assert [(f.statement, f.column) for f in found] == [("INSERT", "_order")]
    assert errors(judge(plain, ordered), NEW) == []  # It writes _order.
    # Removed: the old release lists it.
    found = errors(judge(ordered, plain))
    assert [(f.statement, f.column) for f in found] == [("SELECT", "_order")]
