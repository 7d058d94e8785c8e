"""
System checks (``python manage.py check``):

- ``bluegreen.E001``: a pending cleanup that cannot be loaded, or whose
  contract migration is missing from the migrations folder;
- ``bluegreen.E002``: a contract migration whose cleanup is neither pending
  nor promoted (its pending file was lost, e.g. in a merge);
- ``bluegreen.W001`` (with ``BLUEGREEN_MIGRATIONS``): a migration of the
  project's own apps (not installed packages) holding a backward-incompatible
  operation that was not split. Silence it for one migration by giving its
  class ``bluegreen_reviewed = "why it is safe"``;
- ``bluegreen.W002``: ``makemigrations``, ``migrate`` or ``promotemigrations``
  is another app's command (django-linear-migrations, django-migration-linter
  and others ship a ``makemigrations`` too; the first app listed wins).
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.core import checks
from django.core.management import get_commands
from django.core.management.base import CommandError
from django.db.migrations import operations
from django.db.migrations.loader import MigrationLoader

from . import conf, pending


@checks.register("migrations")
def check_migrations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    configs = app_configs or apps.get_app_configs()
    loader = None
    messages = []
    for config in configs:
        if not pending.has_pending(config.label):
            continue
        loader = loader or MigrationLoader(None, ignore_no_migrations=True)
        try:
            cleanups = pending.list_pending(config.label)
        except CommandError as error:
            messages.append(checks.Error(str(error), id="bluegreen.E001"))
            continue
        for cleanup in cleanups:
            if cleanup.contract not in loader.graph.nodes:
                messages.append(
                    checks.Error(
                        f"Pending cleanup {cleanup.path} belongs to contract "
                        f"migration {cleanup.contract[0]}.{cleanup.contract[1]}, "
                        f"which is not in the migrations folder.",
                        hint="If the contract was renamed or squashed, put its new "
                        "name in the cleanup's dependencies; if its change was "
                        "abandoned, delete the cleanup.",
                        id="bluegreen.E001",
                    )
                )
    if conf.enabled():
        loader = loader or MigrationLoader(None, ignore_no_migrations=True)
        # The project's own apps: installed packages' history is theirs.
        labels = {
            config.label
            for config in configs
            if not any(
                part in config.path for part in ("site-packages", "dist-packages")
            )
        }
        for (app_label, name), migration in sorted(loader.disk_migrations.items()):
            if app_label not in labels or getattr(
                migration, "bluegreen_reviewed", None
            ):
                continue
            # Replayed from the graph at most once per migration, and only
            # for a DeleteModel.
            state_before = functools.cache(
                functools.partial(loader.project_state, (app_label, name), at_end=False)
            )
            for operation in migration.operations:
                if _unsplit(operation) and _drops_data(
                    operation, app_label, state_before
                ):
                    messages.append(
                        checks.Warning(
                            f"Migration {app_label}.{name}: '{operation.describe()}' "
                            f"breaks the release still serving during a blue-green "
                            f"deploy, and was not split.",
                            hint="Recreate it with makemigrations (BLUEGREEN_MIGRATIONS "
                            "on), or, if it is safe (e.g. already deployed), set "
                            "bluegreen_reviewed = '<why>' on its Migration class.",
                            id="bluegreen.W001",
                        )
                    )
    return messages


@checks.register("migrations")
def check_cleanups_present(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every contract migration's cleanup is pending or promoted."""
    from django.core.management.commands.makemigrations import Command

    relative = Command.get_relative_path
    configs = app_configs or apps.get_app_configs()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    messages = []
    for config in configs:
        for contract, path in pending.missing_cleanups(config.label, loader):
            contract_path = relative(pending.migration_path(contract))
            messages.append(
                checks.Error(
                    f"Contract migration {contract_path} has lost its cleanup: "
                    f"{relative(path)} is not pending, and no migration of "
                    f"{config.label!r} has {pending.CONTRACT_MARKER} = "
                    f"{contract.name!r}. What the contract left for the release "
                    f"before stays in the database, and makemigrations may "
                    f"write the change again, dropping it in this release.",
                    hint=f"Restore {relative(path)} from version control (a "
                    f"merge may have lost it). If the change was abandoned "
                    f"before the contract shipped, delete {contract_path} too "
                    f"and revert the models; if the database is to keep what "
                    f"the contract left, delete the line "
                    f"{pending.CLEANUP_MARKER} = ... from {contract_path}.",
                    id="bluegreen.E002",
                )
            )
    return messages


# What is lost when another app's command runs instead of ours.
OUR_COMMANDS = {
    "makemigrations": "backward-incompatible changes are not split",
    "migrate": "no lock timeouts, no rollback check of NULL rows",
    "promotemigrations": "pending cleanups are not promoted as documented",
}


@checks.register()
def check_commands(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Our commands must be the ones ``manage.py`` runs."""
    ours = __package__
    messages = []
    for name, lost in OUR_COMMANDS.items():
        owner = get_commands().get(name)
        if owner != ours:
            messages.append(
                checks.Warning(
                    f"'manage.py {name}' runs the command of {owner!r}, not "
                    f"{ours!r}'s: {lost}.",
                    hint=f"List {ours!r} above {owner!r} in INSTALLED_APPS (the "
                    f"first app listed provides a command). {ours}'s "
                    f"makemigrations keeps django-linear-migrations' "
                    f"max_migration.txt itself.",
                    id="bluegreen.W002",
                )
            )
    return messages


def _drops_data(operation, app_label, state_before) -> bool:
    """
    Deleting a proxy or unmanaged model drops no table: nothing breaks.
    ``state_before()`` is the project state before the operation's migration.
    """
    if not isinstance(operation, operations.DeleteModel):
        return True
    model = state_before().models.get((app_label, operation.name_lower))
    return model is None or (
        not model.options.get("proxy") and model.options.get("managed", True)
    )


def _unsplit(operation) -> bool:
    """A top-level removal, rename, or NOT NULL addition relying on Python."""
    if isinstance(
        operation,
        (
            operations.RemoveField,
            operations.DeleteModel,
            operations.RenameField,
            operations.RenameModel,
        ),
    ):
        return True
    if isinstance(operation, operations.AddField):
        field = operation.field
        return not (field.null or field.has_db_default() or field.many_to_many)
    return False
