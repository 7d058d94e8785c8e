"""
The releases that can be live at once, and the database they share.

- The **database's real shape** is Django's state plus what contracts left
  lingering until their cleanups run: a state-only removal
  (``SeparateDatabaseAndState``) leaves its column or table in the
  database; a cleanup's ``RunCleanupSQL`` drops it.
- The **old release** is the oldest one that may still run: the state
  before the oldest contract whose cleanup is still pending (every later
  migration may be unreleased too), else the state at the current leaf.
  Where a registry of live releases is read (``release/serving.py``), the
  oldest live release instead: the state at the migrations it recorded.
- The **new release** is the models.

Pure: derived from the migration graph and the pending cleanups (and
what a caller read from a registry), never from a live database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models
from django.db.migrations import Migration, operations
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.state import ProjectState

from ..fields import deconstruct
from ..keys import MigrationKey, ModelKey
from ..names import NEW_COLUMN_SUFFIX, OLD_COLUMN_SUFFIX
from ..operations import (
    CleanupSQL,
    RunCleanupSQL,
    RunKeptColumnSQL,
    RunSyncSQL,
    RunViewSQL,
)
from .shape import column_of, db_table, m2m_table
from .views import kept_column_forwards, views_forwards


class LiveReleases:
    """The releases that may run at once, and the database they run against."""

    def __init__(
        self,
        old: ProjectState,  # the oldest release that may still run
        old_name: str,  # how findings name it
        database: ProjectState,  # the database's real shape at the leaf
        unreleased: list[MigrationKey],  # migrations the old release lacks, in order
    ) -> None:
        self.old = old
        self.old_name = old_name
        self.database = database
        self.unreleased = unreleased


def synced(database: ProjectState) -> dict[str, dict[str, str]]:
    """table -> {column: the column triggers keep equal to it} (a rename's)."""
    if not hasattr(database, "bluegreen_synced"):
        database.bluegreen_synced = {}
    return database.bluegreen_synced


def lingering(database: ProjectState) -> dict[ModelKey, set[str]]:
    """The fields of ``database`` that Django's state no longer has, by model."""
    if not hasattr(database, "bluegreen_lingering"):
        database.bluegreen_lingering = {}
    return database.bluegreen_lingering


def live_releases(
    graph: MigrationGraph,
    contracts: Iterable[MigrationKey],
    leaf_state: ProjectState,
    recorded: (
        Callable[[set[MigrationKey]], tuple[str, set[MigrationKey]] | None] | None
    ) = None,
) -> LiveReleases:
    """
    The old release and the database at the leaf of ``graph``, given the
    ``contracts`` whose cleanups are still pending and Django's state at the
    leaf. With nothing pending the graph is not replayed at all: the old
    release is the leaf, and so is the database (``leaf_state`` itself:
    copy what you change, see ``copy_state``).

    ``recorded`` (``makemigrations --database``, ``release/serving.py``):
    given what the old release lacks by the rule above, the name and the
    lacked migrations of the oldest release a registry shows live, or None
    to keep the rule.
    """
    contracts = [node for node in contracts if node in graph.nodes]
    unreleased: set[MigrationKey] = set()
    for contract in contracts:
        unreleased.update(graph.backwards_plan(contract))
    plan = None
    if contracts:
        plan = _plan(graph)
        oldest = min(contracts, key=plan.index)
        old_name = f"the old release (before {oldest[0]}.{oldest[1]})"
    else:
        old_name = "the old release (the one serving)"
    found = recorded(unreleased) if recorded is not None else None
    if found is not None:
        old_name, unreleased = found
    if not contracts and not unreleased:
        return LiveReleases(leaf_state, old_name, leaf_state, [])
    return replay(graph, unreleased, leaf_state.real_apps, old_name, plan)[0]


def lacking(
    graph: MigrationGraph,
    known: dict[str, set[MigrationKey] | None],
    otherwise: set[MigrationKey],
) -> set[MigrationKey]:
    """
    The migrations of ``graph`` a release recorded in a registry lacks.
    ``known``: for each app it recorded, the migrations (of any app) at or
    before its record there, or None where this code lacks one of the
    recorded ones. An app it did not record, or whose record this code
    cannot place, lacks what ``otherwise`` (the rule without a registry)
    says; what the release knows it never lacks.
    """
    placed = {app for app, nodes in known.items() if nodes is not None}
    has: set[MigrationKey] = set()
    for nodes in known.values():
        has |= nodes or set()
    return {
        node
        for node in graph.nodes
        if node not in has and (node[0] in placed or node in otherwise)
    }


def replay(
    graph: MigrationGraph,
    unreleased: set[MigrationKey],
    real_apps,
    old_name: str,
    plan: list[MigrationKey] | None = None,
    with_leaf: bool = False,
) -> tuple[LiveReleases, ProjectState | None]:
    """
    Walk the whole graph once: the old release has every migration but the
    ``unreleased`` ones, the database has them all (as the database sees
    them). With ``with_leaf``, Django's state at the leaf comes too.
    """
    plan = plan or _plan(graph)
    old = ProjectState(real_apps=real_apps)
    database = ProjectState(real_apps=real_apps)
    leaf = ProjectState(real_apps=real_apps) if with_leaf else None
    for node in plan:
        migration = graph.nodes[node]
        for operation in migration.operations:
            if node not in unreleased:
                state_forwards(operation, migration.app_label, old)
            if leaf is not None:
                state_forwards(operation, migration.app_label, leaf)
        database_forwards(migration, database)
    releases = LiveReleases(
        old, old_name, database, [node for node in plan if node in unreleased]
    )
    return releases, leaf


def database_forwards(migration: Migration, database: ProjectState) -> None:
    """
    Advance ``database`` (the database's real shape) past ``migration``.
    What lingers stays through every later operation: on SQLite too, where
    Django rebuilds a table from its state, ``migrate`` keeps the columns
    the state no longer has and the triggers of a rename
    (``runtime/sqlite_rebuilds.py``).
    """
    for operation in migration.operations:
        _forwards(operation, migration.app_label, database)


def _forwards(operation, app_label: str, database: ProjectState) -> None:
    if isinstance(operation, operations.SeparateDatabaseAndState) and any(
        isinstance(inner, RunSyncSQL) for inner in operation.database_operations
    ):
        from . import retyped  # Imported here: most runs sync no column.

        if retyped.is_retype(operation):
            retyped.contract(operation, app_label, database, _forwards)
        else:
            _rename_column(operation, app_label, database)
    elif isinstance(operation, RunKeptColumnSQL):
        kept_column_forwards(operation, database)
    elif isinstance(operation, RunSyncSQL) and operation.drops:
        from . import retyped

        synced(database).pop(operation.table, None)
        retyped.swap(operation, app_label, database)
    elif isinstance(operation, RunViewSQL):
        views_forwards(operation, database)
    elif isinstance(operation, operations.SeparateDatabaseAndState):
        for inner in operation.database_operations:
            _forwards(inner, app_label, database)
        # A state-only removal leaves its column or table in the database. A
        # state-only addition or alteration says what the database already
        # holds (a table made by RunSQL, say): take the state's word for it.
        for inner in operation.state_operations:
            if isinstance(inner, operations.RemoveField):
                key = (app_label, inner.model_name_lower)
                lingering(database).setdefault(key, set()).add(inner.name)
            elif not isinstance(inner, operations.DeleteModel):
                inner.state_forwards(app_label, database)
    elif isinstance(operation, RunCleanupSQL):
        _drop(operation, app_label, database)
    else:
        state_forwards(operation, app_label, database)


def _rename_column(operation, app_label: str, database: ProjectState) -> None:
    """
    A rename's contract (``split/catalogue/renames.py``): the old column stays,
    lingering, the new one is added under the field's new name, and the
    triggers keep the two equal. Django's state operations (RenameField)
    are not applied to the database's shape: it holds both columns.
    """
    sync = next(
        inner
        for inner in operation.database_operations
        if isinstance(inner, RunSyncSQL)
    )
    for inner in operation.database_operations:
        if not isinstance(inner, CleanupSQL):
            _forwards(inner, app_label, database)
    key = (app_label, sync.hints["model_name"])
    fields = database.models[key].fields
    added = next(
        inner
        for inner in operation.database_operations
        if isinstance(inner, operations.AddField)
    )
    kept = next(
        inner
        for inner in operation.database_operations
        if isinstance(inner, operations.AlterField)
    )
    new_name = added.name.removesuffix(NEW_COLUMN_SUFFIX)
    old_name = kept.name
    if old_name == new_name:
        old_name += OLD_COLUMN_SUFFIX
        fields[old_name] = fields.pop(kept.name)
    # As the contract added it: nullable, named after the field.
    fields[new_name] = fields.pop(added.name)
    lingering(database).setdefault(key, set()).add(old_name)
    synced(database).setdefault(sync.table, {}).update(
        {sync.source: sync.column, sync.column: sync.source}
    )


def state_forwards(operation, app_label: str, state: ProjectState) -> None:
    """
    ``operation.state_forwards(app_label, state)``. On a state that nothing
    rendered, an AlterField only replaces the field: Django's also looks
    through every model of the project for references to the field, to
    decide what to re-render, so that a migration of many alterations would
    cost their number times the size of the project.
    """
    if not (
        isinstance(operation, operations.AlterField)
        and "apps" not in state.__dict__
        and state._relations is None
    ):
        operation.state_forwards(app_label, state)
        return
    field = operation.field
    if not operation.preserve_default:
        field = field.clone()
        field.default = models.NOT_PROVIDED
    state.models[app_label, operation.model_name_lower].fields[operation.name] = field


def same_in_database(
    a: models.Field, b: models.Field, ignoring: tuple[str, ...] = ()
) -> bool:
    """
    Whether Django's schema editor would leave the column as it is (its
    ``non_db_attrs`` aside, and the arguments named in ``ignoring``).
    """

    def attributes(field: models.Field) -> tuple:
        name, path, args, kwargs = deconstruct(field)
        for attribute in (*field.non_db_attrs, *ignoring):
            kwargs.pop(attribute, None)
        return path, args, kwargs

    return attributes(a) == attributes(b)


def _drop(operation: RunCleanupSQL, app_label: str, database: ProjectState) -> None:
    """What a cleanup drops leaves the database (if it is still there)."""
    key = (app_label, (operation.hints or {}).get("model_name", ""))
    model_state = database.models.get(key)
    if model_state is None:
        return
    table = db_table(app_label, model_state)
    if operation.column is None and table == operation.table:
        del database.models[key]
        lingering(database).pop(key, None)
        return
    for name, field in list(model_state.fields.items()):
        if operation.column is None:
            gone = field.many_to_many and (
                m2m_table(table, name, field) == operation.table
            )
        else:
            gone = column_of(name, field) == operation.column
        if gone:
            del model_state.fields[name]
            lingering(database).get(key, set()).discard(name)


def touched(migrations: Iterable[Migration]) -> set[ModelKey]:
    """The models the operations of ``migrations`` change, or clean up after."""
    keys: set[ModelKey] = set()
    for migration in migrations:
        for operation in migration.operations:
            keys |= _touched(operation, migration.app_label)
    return keys


def _touched(operation, app_label: str) -> set[ModelKey]:
    if isinstance(operation, operations.SeparateDatabaseAndState):
        return {
            key
            for inner in (*operation.database_operations, *operation.state_operations)
            for key in _touched(inner, app_label)
        }
    if getattr(operation, "owner", ""):  # RunKeptColumnSQL: maybe another app's
        app_label, name = operation.owner.split(".")
        return {(app_label, name)}
    if isinstance(operation, CleanupSQL):
        name = (operation.hints or {}).get("model_name")
        return {(app_label, name)} if name else set()
    name = getattr(operation, "model_name_lower", None) or getattr(
        operation, "name_lower", None
    )
    if isinstance(operation, operations.RenameModel):
        # Its name is the old one.
        return {
            (app_label, operation.old_name_lower),
            (app_label, operation.new_name_lower),
        }
    return {(app_label, name)} if isinstance(name, str) else set()


def _plan(graph: MigrationGraph) -> list[MigrationKey]:
    """Every migration of the graph, each after its dependencies."""
    plan, seen = [], set()
    for leaf in graph.leaf_nodes():
        for node in graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                plan.append(node)
    return plan
