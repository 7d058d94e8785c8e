"""
What makemigrations costs on a large project, in-process: nothing renders
the whole project state, and the split's bookkeeping stays per operation.
The timings themselves are benchmarks/makemigrations_overhead.py, never
tests.
"""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import models
from django.db.migrations import Migration
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ModelState, ProjectState

from bluegreen_autodetector import conf
from bluegreen_autodetector.autodetector import BlueGreenAutodetector
from bluegreen_autodetector.split.result import split_of


def chain(count: int, removed: set[int] = frozenset(), gone: set[int] = frozenset()):
    """``count`` models, each pointing at the one before; some fields removed."""
    state = ProjectState()
    for i in range(count):
        if i in gone:
            continue
        fields = [
            ("id", models.BigAutoField(primary_key=True)),
            ("name", models.CharField(max_length=100)),
        ]
        if i not in removed:
            fields.append(("score", models.IntegerField(default=0)))
        if i and i - 1 not in gone:
            fields.append(
                ("parent", models.ForeignKey(f"shop.model{i - 1}", models.CASCADE))
            )
        state.add_model(ModelState("shop", f"Model{i}", fields))
    return state


def detect(before: ProjectState, after: ProjectState):
    """The migrations that follow shop.0001_initial (``before``)."""
    graph = MigrationGraph()
    graph.add_node(("shop", "0001_initial"), Migration("0001_initial", "shop"))
    with conf.forced(True):
        return BlueGreenAutodetector(
            before, after, NonInteractiveMigrationQuestioner()
        ).changes(graph)


def test_a_split_renders_neither_project_state():
    before, after = chain(60), chain(60, removed={10, 20, 30}, gone={50})
    (migration,) = detect(before, after)["shop"]
    assert split_of(migration).cleanup is not None
    assert "apps" not in before.__dict__
    assert "apps" not in after.__dict__


def test_a_field_named_like_a_deleted_model_is_not_taken_for_it():
    before = chain(3)
    before.add_model(
        ModelState("shop", "Tag", [("id", models.BigAutoField(primary_key=True))])
    )
    after = chain(3)
    after.models["shop", "model2"].fields["tag"] = models.CharField(
        max_length=10, null=True
    )
    (migration,) = detect(before, after)["shop"]
    assert split_of(migration).cleanup is not None  # The table of Tag waits for it.


@pytest.mark.parametrize("again", ["field", "model"])
def test_what_a_contract_removes_cannot_come_back_in_the_same_migration(again):
    # Django removes and re-adds a field turned into a many-to-many, and
    # deletes and re-creates a model turned into a proxy; a blue-green split
    # would move the removal to the end, after it came back.
    before, after = chain(3), chain(3)
    if again == "field":
        after.models["shop", "model1"].fields["score"] = models.ManyToManyField(
            "shop.model0", related_name="+"
        )
    else:
        after.remove_model("shop", "model2")
        before.remove_model("shop", "model2")
        after.remove_model("shop", "model1")
        after.add_model(
            ModelState("shop", "Model1", [], {"proxy": True}, bases=("shop.model0",))
        )
    with pytest.raises(CommandError, match="which this migration removes"):
        detect(before, after)


@pytest.mark.parametrize(
    "field",
    [
        lambda: models.ForeignKey("auth.user", models.CASCADE),  # swappable
        lambda: models.ForeignKey("auth.User", models.CASCADE),
        lambda: models.OneToOneField("auth.user", models.CASCADE, db_constraint=False),
        lambda: models.ManyToManyField("auth.user"),
        lambda: models.ForeignKey("auth.group", models.CASCADE),  # not swappable
        lambda: models.ForeignKey("shop.book", models.SET_NULL, null=True),
        lambda: models.ForeignKey("shop.book", models.CASCADE, swappable=False),
        lambda: models.IntegerField(default=3),
    ],
)
def test_deconstruct_is_djangos_without_its_search_of_every_model(with_auth, field):
    from bluegreen_autodetector.fields import deconstruct

    ours, django = deconstruct(field()), field().deconstruct()
    assert ours == django
    assert type(ours[3].get("to")) is type(django[3].get("to"))  # SettingsReference


class _OwnDeconstruct(models.IntegerField):
    """Its deconstruct reads what it likes: same_declaration deconstructs it."""

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["db_comment"] = getattr(getattr(self, "model", None), "__name__", "")
        return name, path, args, kwargs


@pytest.mark.parametrize(
    "a, b, alike",
    [
        (
            lambda: models.BigAutoField(primary_key=True),
            # As a migration declares it: binding made the model's unserialized.
            lambda: models.BigAutoField(primary_key=True, serialize=False),
            True,
        ),
        (lambda: models.BigAutoField(primary_key=True), None, False),
        (
            lambda: models.BigAutoField(primary_key=True),
            lambda: models.AutoField(primary_key=True),
            False,
        ),
        (
            lambda: models.BigAutoField(primary_key=True),
            lambda: models.BigAutoField(primary_key=True, db_column="key"),
            False,
        ),
        (
            lambda: models.CharField(max_length=10, primary_key=True),
            lambda: models.CharField(max_length=20, primary_key=True),
            False,
        ),
        (
            lambda: models.CharField(max_length=10, primary_key=True),
            lambda: models.CharField(max_length=10, primary_key=True, db_comment="x"),
            False,
        ),
        (lambda: _OwnDeconstruct(primary_key=True, serialize=False), None, False),
    ],
)
def test_same_declaration_is_equal_deconstruction(with_auth, a, b, alike):
    """
    An installed model's field (bound, its caches filled) against a state's
    (unbound): alike exactly when Django's deconstructions but for the name
    are, with or without the shortcut.
    """
    from django.db.migrations.state import StateApps

    from bluegreen_autodetector.fields import same_declaration

    b = b or a
    state = ModelState("shop", "Thing", [("id", a())])
    rendered = StateApps([], {("shop", "thing"): state})
    bound = rendered.get_model("shop", "Thing")._meta.pk
    bound.cached_col  # noqa: B018  (a cached value, as an installed model has)
    unbound = b()
    expected = bound.deconstruct()[1:] == unbound.deconstruct()[1:]
    assert expected is alike
    assert same_declaration(unbound, bound) is alike
    assert same_declaration(bound, unbound) is alike


def _model_state(**options):
    return ModelState(
        "shop",
        "Book",
        [
            ("id", models.BigAutoField(primary_key=True)),
            ("title", models.CharField(max_length=100)),
        ],
        options,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: _model_state(),
        lambda: _model_state(
            indexes=[models.Index(fields=["title"], name="book_title")],
            db_table="books",
        ),
        # Options without the lists (seen on Django 6.1): a clone gets them
        # back.
        lambda: _set(_model_state(), options={"db_table": "books"}),
        lambda: _set(_model_state(), managers=[]),
        # More than Django's attributes: cloned by ModelState.clone itself.
        lambda: _set(_model_state(), bluegreen_note="kept"),
    ],
)
def test_model_state_copies_are_djangos_clones(make):
    from bluegreen_autodetector.verifier import states

    model_state = make()
    model_state.name_lower  # noqa: B018  (cached, as once read)
    ours, django = states.clone(model_state), model_state.clone()
    ours_attributes = {k: v for k, v in vars(ours).items() if k != "name_lower"}
    django_attributes = {k: v for k, v in vars(django).items() if k != "name_lower"}
    assert ours_attributes == django_attributes
    assert ours.name_lower == "book"
    for name in ("fields", "options", "managers"):
        assert getattr(ours, name) is not getattr(model_state, name)
    # The lists of options are shared with the original as Django's are.
    for name in ("indexes", "constraints"):
        original = model_state.options.get(name)
        assert (ours.options[name] is original) == (django.options[name] is original)


def _set(model_state, **attributes):
    for name, value in attributes.items():
        setattr(model_state, name, value)
    return model_state
