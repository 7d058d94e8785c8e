"""
``sqlmigrate``: Django's, and it also shows a *pending* cleanup's SQL by its
name (``sqlmigrate shop cleanup_0002``), which is when a reviewer wants it:
in PR 1, before the cleanup is promoted. It shows the statements in the
online forms ``migrate`` runs them in (``online.py``).
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import CommandError
from django.core.management.commands import sqlmigrate
from django.db import connections
from django.db.migrations.loader import AmbiguityError, MigrationLoader

from ...files import pending
from ...runtime import online


class Command(sqlmigrate.Command):
    help = (
        sqlmigrate.Command.help
        + " A pending cleanup (migrations/pending/) is found by its name too."
    )

    def handle(self, *args, **options):
        # The statements migrate runs: their online forms (online.py).
        with online.online_statements(connections[options["database"]]):
            return self._handle(*args, **options)

    def _handle(self, *args, **options):
        app_label, name = options["app_label"], options["migration_name"]
        cleanup = self._pending_cleanup(app_label, name)
        if cleanup is None:
            return super().handle(*args, **options)
        connection = connections[options["database"]]
        loader = MigrationLoader(connection, replace_migrations=False)
        if self._on_disk(loader, app_label, name):
            return super().handle(*args, **options)
        # The cleanup joins the graph after its contract, as it will once
        # promoted: its SQL is collected from the state at its contract.
        migration = cleanup.migration
        key = (app_label, migration.name)
        loader.graph.add_node(key, migration)
        for parent in migration.dependencies:
            loader.graph.add_dependency(migration, key, tuple(parent))
        self.output_transaction = (
            migration.atomic and connection.features.can_rollback_ddl
        )
        statements = loader.collect_sql([(migration, options["backwards"])])
        if not statements and options["verbosity"] >= 1:
            self.stderr.write("No operations found.")
        return "\n".join(statements)

    @staticmethod
    def _pending_cleanup(app_label: str, name: str) -> pending.PendingCleanup | None:
        """The one pending cleanup whose name starts with ``name``, if any."""
        if app_label not in apps.app_configs:
            return None  # Django says so
        matches = [
            cleanup
            for cleanup in pending.list_pending(app_label)
            if cleanup.migration.name.startswith(name)
        ]
        if len(matches) > 1:
            raise CommandError(
                f"More than one pending cleanup matches '{name}' in app "
                f"'{app_label}'. Please be more specific."
            )
        return matches[0] if matches else None

    @staticmethod
    def _on_disk(loader: MigrationLoader, app_label: str, name: str) -> bool:
        try:
            loader.get_migration_by_prefix(app_label, name)
        except AmbiguityError:
            return True
        except KeyError:
            return False
        return True
