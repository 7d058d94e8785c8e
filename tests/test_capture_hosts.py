"""
A lingering column of an installed model is captured on that model (its
table's name is all the schema editor reads to drop and add a column);
every other item renders a skeleton. Both ways must write the same SQL, on
every vendor: each case here is captured both ways and compared.
"""

from __future__ import annotations

import decimal

import pytest
from django.apps import apps
from django.db import models
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.functions import Now
from django.test.utils import override_settings
from django.utils import timezone

from bluegreen_autodetector.capture.capture import (
    Capture,
    LingeringColumn,
    LingeringTable,
)

from .split_in_process import CAPTURE_DATABASES, capture_servers

pytestmark = pytest.mark.usefixtures("capture_servers")
__all__ = ["capture_servers"]  # the fixture, used by pytestmark

USER = ("auth", "user")

# Lingering shapes the catalogue leaves: nullable, with a database default,
# relations without their constraint.
LINGERING = [
    models.IntegerField(null=True),
    models.IntegerField(db_default=3),
    models.PositiveIntegerField(null=True),
    models.CharField(max_length=20, null=True),
    models.CharField(max_length=20, db_default="x"),
    models.DecimalField(max_digits=7, decimal_places=2, db_default=decimal.Decimal(1)),
    models.UUIDField(null=True),
    models.JSONField(null=True),
    models.BooleanField(db_default=False),
    models.DateTimeField(db_default=Now()),
    models.TextField(null=True, db_comment="gone soon"),
    models.ForeignKey(
        "auth.group", models.CASCADE, null=True, db_constraint=False, db_index=False
    ),
    models.ForeignKey(
        "auth.user", models.CASCADE, null=True, db_constraint=False, db_index=False
    ),
]


@pytest.fixture
def installed():
    """Installed models to host the columns: django.contrib.auth's."""
    with override_settings(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        BLUEGREEN_CAPTURE_DATABASES=CAPTURE_DATABASES,
    ):
        yield ProjectState.from_apps(apps)


def _sql(captured) -> list:
    return [(c.table, c.column, c.sql, c.reverse_sql) for c in captured]


def _both_ways(database: ProjectState, vendor: str, items, monkeypatch):
    """
    Whether each item is captured on its installed model; the SQL captured
    so, and on skeletons only (no installed model as host or target).
    """
    capture = Capture(database, [vendor])
    hosted = [
        isinstance(item, LingeringColumn) and capture._project_host(item) is not None
        for item in items
    ]
    on_models = _sql(capture.capture(items))
    with monkeypatch.context() as patch:
        patch.setattr(Capture, "_project_host", lambda *args: None)
        patch.setattr(Capture, "_project_target", lambda *args: None)
        on_skeletons = _sql(Capture(database, [vendor]).capture(items))
    return hosted, on_models, on_skeletons


def _on_user(fields) -> list[LingeringColumn]:
    return [
        LingeringColumn(USER, f"gone_{index}", field)
        for index, field in enumerate(fields)
    ]


def test_lingering_columns_of_installed_models_capture_as_on_skeletons(
    installed, vendor, monkeypatch
):
    hosted, on_models, on_skeletons = _both_ways(
        installed, vendor, _on_user(LINGERING), monkeypatch
    )
    assert all(hosted)
    assert on_models == on_skeletons


def test_python_defaults_of_lingering_fields_stay_out_of_the_sql(
    installed, vendor, monkeypatch
):
    # A lingering field keeps the Python default it had; the database never
    # had it (a rebuild would add one on SQLite and fail to drop it).
    with_defaults = [
        models.IntegerField(null=True, default=3),
        models.DateTimeField(null=True, default=timezone.now),
        models.IntegerField(default=3, db_default=3),
    ]
    hosted, on_models, on_skeletons = _both_ways(
        installed, vendor, _on_user(with_defaults), monkeypatch
    )
    assert all(hosted)
    assert on_models == on_skeletons
    reverse = " ".join(statement for *_, sql in on_models for statement in sql[vendor])
    assert "DROP DEFAULT" not in reverse.upper()


def test_a_model_unlike_its_table_in_the_database_renders_a_skeleton(
    installed, vendor, monkeypatch
):
    database = installed.clone()
    # The database has the group's key as a bigint (the installed model
    # declares an integer: a change of this run alters it), and the user's
    # table under another name (a change of this run renames it).
    group = database.models["auth", "group"]
    group.fields["id"] = models.BigAutoField(primary_key=True)
    user = database.models[USER]
    user.options = {**user.options, "db_table": "old_user"}
    relation = models.ForeignKey(
        "auth.group", models.CASCADE, null=True, db_constraint=False, db_index=False
    )
    items = [
        LingeringColumn(("auth", "permission"), "gone", relation),
        LingeringColumn(USER, "gone", models.IntegerField(null=True)),
    ]
    hosted, on_models, on_skeletons = _both_ways(database, vendor, items, monkeypatch)
    # The permission is its table; the group's key is a skeleton's.
    assert hosted == [True, False]
    assert on_models == on_skeletons
    assert on_models[1][0] == "old_user"
    # The column refers to the bigint key the database has.
    (reverse,) = on_models[0][3][vendor]
    assert "bigint" in reverse.lower()
    _, installed_sql, _ = _both_ways(installed, vendor, items[:1], monkeypatch)
    assert "bigint" not in installed_sql[0][3][vendor][0].lower()


def test_a_dropped_table_points_at_installed_models_as_at_skeletons(
    installed, vendor, monkeypatch
):
    # A model of the database only (its DeleteModel is in this run) whose
    # relations point at installed models: the skeleton registry holds
    # those models as they are, and leaves them as they were.
    database = installed.clone()
    database.add_model(
        ModelState(
            "auth",
            "Badge",
            [
                ("id", models.AutoField(primary_key=True)),
                ("group", models.ForeignKey("auth.group", models.CASCADE)),
                ("holders", models.ManyToManyField("auth.user", related_name="badges")),
            ],
        )
    )
    group, user = apps.get_model("auth.group"), apps.get_model("auth.user")
    before = (set(vars(group)), set(vars(user)), len(user._meta.related_objects))
    item = LingeringTable(("auth", "badge"))
    _, on_models, on_skeletons = _both_ways(database, vendor, [item], monkeypatch)
    assert on_models == on_skeletons
    assert "auth_badge_holders" in " ".join(on_models[0][2][vendor])
    assert (set(vars(group)), set(vars(user)), len(user._meta.related_objects)) == (
        before
    )
