"""
The split run in-process on project states, as Django's own
tests/migrations run the autodetector: no temporary project, no subprocess.
Cleanup SQL is captured with each vendor's real schema editor (the servers
of tests/project.py; nothing of their schema is read).
"""

from __future__ import annotations

import pytest
from django.db import models
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ModelState, ProjectState
from django.test.utils import override_settings

from bluegreen_autodetector import conf
from bluegreen_autodetector.autodetector import BlueGreenAutodetector
from bluegreen_autodetector.split.result import split_of

from .project import SERVERS

CAPTURE_DATABASES = {
    vendor: {**server, "NAME": "postgres" if vendor == "postgresql" else ""}
    for vendor, server in SERVERS.items()
}


@pytest.fixture
def capture_servers(django_db_blocker):
    """Capture connects to the vendor's server (it never reads its schema)."""
    with django_db_blocker.unblock():
        yield


def pk():
    return ("id", models.BigAutoField(primary_key=True))


def model(name, *fields, app_label="shop", **options):
    return ModelState(app_label, name, [pk(), *fields], options)


def state(*model_states):
    project = ProjectState()
    for model_state in model_states:
        project.add_model(model_state)
    return project


def split(before, after, vendor, *, unsafe=False, questioner=None):
    """Django's changes from ``before`` to ``after`` (ProjectStates), split."""
    with (
        override_settings(
            BLUEGREEN_VENDORS=[vendor], BLUEGREEN_CAPTURE_DATABASES=CAPTURE_DATABASES
        ),
        conf.forced(True, unsafe=unsafe),
    ):
        detector = BlueGreenAutodetector(
            before,
            after,
            questioner
            or NonInteractiveMigrationQuestioner(specified_apps={"shop", "other"}),
        )
        return detector.changes(MigrationGraph())


def only(changes, app_label="shop"):
    """The one migration of ``app_label`` in ``changes``."""
    (migration,) = changes[app_label]
    return migration


def cleanup_sql(migration, vendor) -> list[str]:
    """Every forward statement of the migration's cleanup for ``vendor``."""
    return [
        statement
        for operation in split_of(migration).cleanup.operations
        for statement in operation.sql[vendor]
    ]
