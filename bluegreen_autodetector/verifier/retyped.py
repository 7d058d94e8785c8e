"""
The database's shape through a retype (``split/catalogue/retypes.py``), for
``live.py``: after the contract the column keeps its old type (Django's
state says the new one) and a second column of the new type lingers,
synchronised with it; after the cleanup's swap the column has the new type
(nullable until the cleanup's NOT NULL, which the shape does not follow:
a nullable column rejects no release's writes).
"""

from __future__ import annotations

from django.db.migrations import operations
from django.db.migrations.state import ProjectState

from ..operations import CleanupSQL, RunSyncSQL
from .shape import column_of


def is_retype(operation: operations.SeparateDatabaseAndState) -> bool:
    from ..split.catalogue.retypes import RETYPED_SUFFIX

    return any(
        isinstance(inner, operations.AddField) and inner.name.endswith(RETYPED_SUFFIX)
        for inner in operation.database_operations
    )


def contract(operation, app_label: str, database: ProjectState, forwards) -> None:
    """The contract: the second column added, lingering; the state's AlterField left out."""
    from .live import lingering, synced

    sync = next(
        inner
        for inner in operation.database_operations
        if isinstance(inner, RunSyncSQL)
    )
    added = None
    for inner in operation.database_operations:
        if not isinstance(inner, CleanupSQL):
            forwards(inner, app_label, database)
        if isinstance(inner, operations.AddField):
            added = inner
    key = (app_label, sync.hints["model_name"])
    lingering(database).setdefault(key, set()).add(added.name)
    synced(database).setdefault(sync.table, {}).update(
        {sync.source: sync.column, sync.column: sync.source}
    )


def swap(operation: RunSyncSQL, app_label: str, database: ProjectState) -> None:
    """A cleanup's swap, if ``operation`` is one: the second column takes the name."""
    from ..split.catalogue.retypes import RETYPED_SUFFIX
    from .live import lingering

    key = (app_label, (operation.hints or {}).get("model_name", ""))
    model_state = database.models.get(key)
    if model_state is None:
        return
    for name, field in list(model_state.fields.items()):
        if name.endswith(RETYPED_SUFFIX) and column_of(name, field) == operation.column:
            original = name.removesuffix(RETYPED_SUFFIX)
            swapped = field.clone()
            swapped.db_column = None
            del model_state.fields[name]
            model_state.fields[original] = swapped
            lingering(database).get(key, set()).discard(name)
