"""
The autodetector: Django's, plus the blue-green split of its result.

Django detects the changes and names the migrations as usual; then every
migration holding a backward-incompatible operation is rewritten as a
contract migration (stock operations only) and gets a cleanup migration,
reachable as ``migration.cleanup``, that the ``makemigrations`` command
writes to the pending folder.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.migrations import Migration, operations
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.state import ProjectState

from . import conf
from .capture import Capture, LingeringColumn
from .catalogue import CATALOGUE, Walk
from .operations import RunCleanupSQL


class BlueGreenAutodetector(MigrationAutodetector):
    """
    Split backward-incompatible changes into a contract and a cleanup, when
    ``conf.enabled()``; otherwise exactly Django's autodetector.
    """

    def changes(self, graph, trim_to_apps=None, convert_apps=None, migration_name=None):
        changes = super().changes(graph, trim_to_apps, convert_apps, migration_name)
        if not conf.enabled():
            return changes
        capture = Capture(self.from_state, conf.vendors())
        state = _copy(self.from_state)
        for migration in _in_dependency_order(changes):
            split_migration(migration, state, capture)
        return changes


def split_migration(migration: Migration, state: ProjectState, capture: Capture):
    """
    Rewrite ``migration`` as a contract and attach its cleanup (or ``None``).

    ``state`` is the project state before ``migration``; it is advanced past
    it. Operations the catalogue lets through keep their place; the alterations
    that make the database tolerant of the new release take the place of the
    operations they split; every state-only removal comes last, so that no
    operation of the contract rebuilds a table (SQLite) from a state that has
    already forgotten a lingering column.
    """
    app_label = migration.app_label
    walk = Walk(
        app_label,
        state,
        deleted_models={
            operation.name_lower
            for operation in migration.operations
            if isinstance(operation, operations.DeleteModel)
        },
    )
    database_operations, state_operations, lingering = [], [], []
    for operation in migration.operations:
        row = CATALOGUE.get(type(operation))
        split = row(operation, walk) if row else None
        if split is None:
            _refuse_reference_to_removed(migration, operation, state_operations)
            database_operations.append(operation)
        else:
            database_operations += split.contract_database
            state_operations += split.contract_state
            lingering += split.cleanup
        operation.state_forwards(app_label, state)
    migration.cleanup = None
    if not state_operations:
        return
    migration.operations = database_operations + [
        operations.SeparateDatabaseAndState(state_operations=state_operations)
    ]
    cleanup = Migration(f"cleanup_{migration.name}", app_label)
    cleanup.dependencies = [(app_label, migration.name)]
    lingering.sort(key=_drop_order)
    cleanup.operations = [
        RunCleanupSQL(
            table=captured.table,
            column=captured.column,
            sql=captured.sql,
            reverse_sql=captured.reverse_sql,
            hints={"model_name": item.model[1]},
        )
        for item, captured in zip(lingering, capture.capture(lingering))
    ]
    migration.cleanup = cleanup


def _drop_order(item) -> int:
    """Columns first, then M2M tables, then the tables they pointed from."""
    if isinstance(item, LingeringColumn):
        return 0
    return 1 if item.m2m else 2


def _refuse_reference_to_removed(migration, operation, state_operations):
    """
    A state-only removal moves to the end of the contract; an operation that
    refers to what it removes (a model recreated under the same name, a field
    re-added) would then see it still there. Refuse rather than reorder
    wrongly.
    """
    for removal in state_operations:
        if isinstance(removal, operations.RemoveField):
            clash = operation.references_field(
                removal.model_name, removal.name, migration.app_label
            )
            what = f"{removal.model_name}.{removal.name}"
        else:
            clash = operation.references_model(removal.name, migration.app_label)
            what = removal.name
        if clash:
            raise CommandError(
                f"Migration {migration.app_label}.{migration.name}: "
                f"'{operation.describe()}' refers to {what}, which this "
                f"migration removes. A blue-green split moves that removal to "
                f"the end of the contract migration, so make the two changes in "
                f"two makemigrations runs (remove first, then add), or run "
                f"makemigrations --no-bluegreen for this change."
            )


def _copy(state: ProjectState) -> ProjectState:
    """A copy of the models only: cheap, and never renders anything."""
    return ProjectState(
        models={key: model.clone() for key, model in state.models.items()},
        real_apps=state.real_apps,
    )


def _in_dependency_order(changes: dict[str, list[Migration]]) -> list[Migration]:
    by_key = {
        (migration.app_label, migration.name): migration
        for app_migrations in changes.values()
        for migration in app_migrations
    }
    ordered, seen = [], set()

    def visit(migration):
        key = (migration.app_label, migration.name)
        if key in seen:
            return
        seen.add(key)
        for dependency in migration.dependencies:
            if tuple(dependency[:2]) in by_key:
                visit(by_key[tuple(dependency[:2])])
        ordered.append(migration)

    for migration in by_key.values():
        visit(migration)
    return ordered

