"""
A table that lives under two names while two releases run: a table
rename's contract leaves a view under the old name (``RunViewSQL``), which
the old release reads and writes as if it were the table.

The database's real shape keeps them in ``views(database)``: old name ->
(the table, {the view's column: the table's} where they differ). A release
that uses the old name is judged against the table itself, its columns
under the table's names (``seen_through_views``).

A many-to-many table whose column Django renamed after a renamed model
keeps its name, and the old column beside the new one, synchronised
(``RunKeptColumnSQL``): it is kept there as a "view" of itself, {old
column: new column}, so that a release writing the old column is judged
as writing the new one (the triggers fill it), and the pair is synced.
"""

from __future__ import annotations

import copy as copying

from django.db.migrations.state import ProjectState

from .shape import Shape, Table, Unique


def views(database: ProjectState) -> dict[str, tuple[str, dict[str, str]]]:
    """old name -> (the table it shows, {view column: table column})."""
    if not hasattr(database, "bluegreen_views"):
        database.bluegreen_views = {}
    return database.bluegreen_views


def views_forwards(operation, database: ProjectState) -> None:
    """
    Advance the views of ``database`` past a ``RunViewSQL``. A table renamed
    with a column kept in it (a renamed model's own many-to-many table on
    MariaDB: ``book_id`` beside ``novel_id``) takes its kept column along:
    the view shows the old column, which the triggers keep equal to the new.
    """
    kept = views(database)
    pairs = getattr(database, "bluegreen_synced", {})
    for view, table in operation.views.items():
        if operation.drops:
            kept.pop(view, None)
            continue
        carried = kept.get(view, (None, {}))
        carried = carried[1] if carried[0] == view else {}
        kept[view] = (table, {**carried, **operation.columns.get(view, {})})
        if view in pairs and view != table:
            pairs[table] = pairs.pop(view)


def kept_column_forwards(operation, database: ProjectState) -> None:
    """Advance ``database`` past a ``RunKeptColumnSQL`` (its contract or cleanup)."""
    kept = views(database)
    pairs = getattr(database, "bluegreen_synced", None)
    if pairs is None:
        pairs = database.bluegreen_synced = {}
    table, old, new = operation.table, operation.source, operation.column
    # Copies: the states the verifier copies share these dicts.
    renamed = dict(kept.get(table, (table, {}))[1])
    synced = dict(pairs.get(table, {}))
    if operation.drops:
        renamed.pop(old, None)
        synced.pop(old, None)
        synced.pop(new, None)
    else:
        renamed[old] = new
        synced.update({old: new, new: old})
    if renamed:
        kept[table] = (table, renamed)
    else:
        kept.pop(table, None)
    if synced:
        pairs[table] = synced
    else:
        pairs.pop(table, None)


def seen_through_views(believed: Shape, database: ProjectState) -> Shape:
    """
    ``believed`` (a release's shape) with each table it names by a view's
    name renamed to the table the view shows, and that table's columns; its
    relations to a view's name are to the table (its foreign keys follow the
    renamed table).
    """
    kept = getattr(database, "bluegreen_views", None)
    if not kept or not any(view in believed for view in kept):
        return believed
    seen: Shape = {}
    for name, table in believed.items():
        if name not in kept or (kept[name][0] != name and kept[name][0] in believed):
            seen.setdefault(name, table)
            continue
        real_name, renamed = kept[name]
        seen[real_name] = _renamed(table, renamed)
    for name, table in list(seen.items()):
        if not any(column.relation in kept for column in table.columns.values()):
            continue
        table = seen[name] = _renamed(table, {})  # Its own dicts, to change.
        for column_name, column in table.columns.items():
            if column.relation in kept:
                column = table.columns[column_name] = copying.copy(column)
                column.relation = kept[column.relation][0]
    return seen


def _renamed(table: Table, renamed: dict[str, str]) -> Table:
    copy = Table(table.model)
    copy.columns = {renamed.get(n, n): column for n, column in table.columns.items()}
    copy.names = {field: renamed.get(c, c) for field, c in table.names.items()}
    copy.unique = [
        Unique(
            frozenset(renamed.get(c, c) for c in unique.columns),
            unique.condition,
            unique.nulls_distinct,
            unique.expressions,
        )
        for unique in table.unique
    ]
    copy.checks = set(table.checks)
    return copy
