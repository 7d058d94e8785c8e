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
  name in ``max_migration.txt``. Its ``makemigrations`` maintains it, and
  ours is built on it (below); ``promotemigrations`` keeps it right too.

Any app may ship a ``makemigrations`` or ``migrate`` of its own (a project's
that ignores ``verbose_name`` changes, a companion package's). Django runs
only the first app's in ``INSTALLED_APPS``, where ours is listed, so ours
would silently replace the next one. Instead, each of our commands is built
on the command it shadows (``composed``): our class first, theirs after it,
Django's last, every ``super()`` reaching the next. A shadowed command that
is not a subclass of Django's cannot be combined: ours then runs alone, and
the check ``bluegreen.W003`` says so.
"""

from __future__ import annotations

import os

from django.apps import apps
from django.core.management import load_command_class
from django.core.management.base import CommandError
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader

from .. import conf
from . import pending

APP = __package__.rpartition(".")[0]  # this package, the app listed in INSTALLED_APPS
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


def shadowed_command(name: str) -> tuple[str, type] | None:
    """
    The app and class of the ``name`` command that would run without ours:
    the first app listed after ours in ``INSTALLED_APPS`` that ships one (an
    app listed before ours runs its own, and check ``bluegreen.W002`` says
    so). None when no app after ours has one.
    """
    configs = list(apps.get_app_configs())
    ours = next(
        (i for i, config in enumerate(configs) if config.name == APP), None
    )
    if ours is None:
        return None
    for config in configs[ours + 1 :]:
        commands = os.path.join(config.path, "management", "commands")
        if os.path.isfile(os.path.join(commands, f"{name}.py")) or os.path.isfile(
            os.path.join(commands, name, "__init__.py")
        ):
            return config.name, load_command_class(config.name, name).__class__
    return None


def composed(name: str, ours: type, django: type) -> type:
    """
    Our ``name`` command built on the one it shadows: a class whose method
    order is ours, then the shadowed command's, then ``django`` (Django's
    command of that name). Ours alone where nothing is shadowed, or where the
    shadowed command is not a ``django`` subclass (``bluegreen.W003``).
    """
    try:
        found = shadowed_command(name)
    except ImportError:
        # A shadowed command importing ours while ours is being built.
        return ours
    if found is None or not issubclass(found[1], django) or issubclass(found[1], ours):
        return ours
    return type(
        "Command",
        (ours, found[1]),
        {"__module__": ours.__module__, "__doc__": ours.__doc__, "shadows": found[0]},
    )
