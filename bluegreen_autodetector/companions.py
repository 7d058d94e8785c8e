"""
Two packages that read or write the same migrations folders as we do, and
what keeps them content:

- django-migration-linter (``lintmigrations``) rightly calls a cleanup's
  ``DROP COLUMN`` backward incompatible: on its own, it is. It is safe only
  because its contract shipped a release earlier, so each cleanup is marked
  reviewed the way the linter documents, with its ``IgnoreMigration()``
  operation (``BLUEGREEN_MIGRATION_LINTER``). Contract migrations are never
  marked: they are what the linter should check.
- django-linear-migrations keeps each first-party app's latest migration
  name in ``max_migration.txt``. Its ``makemigrations`` maintains it, but
  only one ``makemigrations`` runs (the first app in ``INSTALLED_APPS``
  that ships one), so ours and ``promotemigrations`` keep it right too.
"""

from __future__ import annotations

import os

from django.apps import apps
from django.core.management.base import CommandError
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader

from . import conf, pending

LINEAR_APP = "django_linear_migrations"
MAX_MIGRATION_FILENAME = "max_migration.txt"


def mark_reviewed(cleanup: Migration) -> None:
    """
    With ``conf.marks_cleanups_for_linter()``, make ``IgnoreMigration()`` the
    cleanup's first operation (once). It has no effect on state or database.
    """
    if not conf.marks_cleanups_for_linter():
        return
    try:
        from django_migration_linter import IgnoreMigration
    except ImportError as error:
        raise CommandError(
            "BLUEGREEN_MIGRATION_LINTER is True but django-migration-linter "
            "cannot be imported. Install it (pip install django-migration-linter) "
            "or set BLUEGREEN_MIGRATION_LINTER = False. Nothing was written."
        ) from error

    if not any(isinstance(op, IgnoreMigration) for op in cleanup.operations):
        cleanup.operations = [IgnoreMigration(), *cleanup.operations]


def keeps_max_migration(app_label: str) -> bool:
    """Whether django-linear-migrations tracks ``app_label``'s latest migration."""
    if not apps.is_installed(LINEAR_APP):
        return False
    from django_linear_migrations.apps import is_first_party_app_config

    return is_first_party_app_config(apps.get_app_config(app_label))


def update_max_migrations(app_labels) -> list[str]:
    """
    Write each tracked app's ``max_migration.txt`` with the app's leaf
    migration as it is on disk now; return the files written. An app with
    several leaves is left alone (django-linear-migrations' own check then
    says to merge).
    """
    labels = sorted(label for label in set(app_labels) if keeps_max_migration(label))
    if not labels:
        return []
    loader = MigrationLoader(None, ignore_no_migrations=True)
    files = {}
    for label in labels:
        leaves = loader.graph.leaf_nodes(label)
        directory = pending.migrations_directory(label)
        if len(leaves) == 1 and directory:
            path = os.path.join(directory, MAX_MIGRATION_FILENAME)
            files[path] = f"{leaves[0][1]}\n"
    pending.write_files(files)
    return list(files)
