"""
Catalogue rows for renames of a table: RenameModel (answered "y" at
Django's "Did you rename ...?"), a changed ``Meta.db_table``
(AlterModelTable), and RenameField of a many-to-many field whose
auto-created table is named after it.

Contract: Django's own operation (the table renamed, with the many-to-many
tables named after the model or the field, and their columns named after
the model), then ``RunViewSQL``: a view under each old name, through which
the old release keeps reading and writing (``capture/views/``). Foreign keys
from other tables follow the renamed table (PostgreSQL and MariaDB keep
them by the table, not its name). On MariaDB, whose DDL is not
transactional, that left the old name missing for one statement: there the
contract renames the tables itself (``rename_with_views``, Django's
operation on the state only), swapping each with its view in one atomic
RENAME TABLE.

Another model's auto-created many-to-many table names a column after the
renamed model (``book_id`` of ``shop_shelf_books`` when Book becomes
Volume), and Django renames that column in a table that keeps its name:
the contract adds the old column back beside the renamed one, keeps the two
equal in both directions and fills it (``RunKeptColumnSQL``,
``CopyColumn``), as a field rename keeps its pair (``renames.py``). That is
SQLite's contract, one transaction. On PostgreSQL and MariaDB the order is
reversed (``kept_ahead.py``): the new column first, synchronised, filled and
keyed, then the table renamed with its view, RenameModel on the state only.

Cleanup: drop the views, the synchronisations and the old columns.
"""

from __future__ import annotations

from django.db.migrations import operations
from django.db.migrations.utils import resolve_relation

from ... import conf, names
from ...capture.connections import capture_connection
from ...capture.sync.common import DropKeptColumn, kept_statements
from ...capture.views.common import NO_VIEW, VENDORS, DropViews, arguments, sql
from ...operations import CopyColumn, RunKeptColumnSQL, RunViewSQL
from .shapes import column_named
from .split import Refused, Split, Walk


class NoView(Exception):
    """A vendor captured for cannot keep the old name writable (SQLite)."""


def rename_table(operation, walk: Walk) -> Split | None:
    """
    RenameModel, AlterModelTable, RenameField of a many-to-many field, or
    AlterField of a many-to-many field's ``db_table``: the tables whose names
    change get a view under the old name. None: no table's name changes (a
    model with its own db_table and no many-to-many table named after it).
    """
    if isinstance(operation, operations.RenameModel):
        model_state = walk.model_state(operation.old_name)
        renamed = model_state.clone()
        renamed.name = operation.new_name
        fields = {name: name for name in model_state.fields}
        what = f"{walk.app_label}.{operation.old_name} (renamed {operation.new_name})"
        kept = _named_after(walk, operation.old_name_lower, what)
    elif isinstance(operation, operations.AlterModelTable):
        model_state = walk.model_state(operation.name)
        renamed = model_state.clone()
        renamed.options = {**renamed.options, "db_table": operation.table}
        fields = {name: name for name in model_state.fields}
        what = f"{walk.app_label}.{operation.name}"
        kept = []
    elif isinstance(operation, operations.AlterField):
        model_state = walk.model_state(operation.model_name)
        renamed = model_state.clone()
        renamed.fields = {**renamed.fields, operation.name: operation.field}
        fields = {operation.name: operation.name}
        what = f"{walk.app_label}.{operation.model_name}.{operation.name}"
        kept = []
    else:
        model_state = walk.model_state(operation.model_name)
        renamed = model_state
        fields = {operation.old_name: operation.new_name}
        what = f"{walk.app_label}.{operation.model_name}.{operation.old_name}"
        kept = []
    views = _views(walk.app_label, model_state, renamed, fields, what, kept)
    if not views and not kept:
        return None
    vendors = conf.vendors()
    if any(vendor not in VENDORS for vendor in vendors):
        raise NoView(NO_VIEW)
    old_table = names.model_table(walk.app_label, model_state)
    new_table = names.model_table(walk.app_label, renamed)
    kept_name = old_table if old_table == new_table else None  # for the warning
    key = (walk.app_label, renamed.name_lower)
    swaps = "mysql" in vendors and "sqlite" not in vendors
    moved = {}
    if swaps and isinstance(operation, operations.RenameModel):
        views, moved = _kept_in_renamed(views, kept, model_state, renamed, key)
    if kept and list(vendors) != ["sqlite"]:
        from .kept_ahead import rename_ahead

        return rename_ahead(
            walk, operation, kept, views, model_state, renamed, what, vendors, moved
        )
    if swaps:
        # MariaDB's DDL is not transactional: the contract renames the
        # tables itself, each swapped with its view in one RENAME TABLE.
        split = Split()
        rename_with_views(
            walk, operation, views, renamed, what, vendors, split, kept_name
        )
        return split
    split = Split(contract_database=[operation])
    if views:
        made = {vendor: sql(vendor, views) for vendor in vendors}
        split.contract_database.append(
            RunViewSQL(
                table=new_table,
                **arguments(views),
                sql={vendor: create for vendor, (create, _) in made.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in made.items()},
                hints={"model_name": renamed.name_lower},
            )
        )
        split.cleanup.append(DropViews(key, new_table, views, vendors))
        split.warnings.append(_views_warning(what, views, kept_name))
    if kept:
        _keep_columns(split, kept, model_state, renamed, what, vendors)
    return split


def rename_with_views(
    walk, operation, views, renamed, what, vendors, split, kept_name=None
) -> None:
    """
    The contract renames the tables of ``views`` itself (``RunViewSQL`` with
    ``renames``), Django's ``operation`` on the state only: each table with
    its columns named after the model, then its view under the old name;
    on PostgreSQL one transaction, on MariaDB one RENAME TABLE swapping a
    table whose columns keep their names with its view
    (``capture/views/mysql.swap``). The cleanup drops the views.
    """
    database = []
    new_table = names.model_table(walk.app_label, renamed)
    if views:
        made = {}
        for vendor in vendors:
            editor = capture_connection(vendor).schema_editor(collect_sql=True)
            made[vendor] = _renamed_and_viewed(vendor, editor, views)
        database.append(
            RunViewSQL(
                table=new_table,
                **arguments(views),
                sql={vendor: create for vendor, (create, _) in made.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in made.items()},
                renames={view: table for view, table, _ in views},
                hints={"model_name": renamed.name_lower},
            )
        )
        split.cleanup.append(
            DropViews((walk.app_label, renamed.name_lower), new_table, views, vendors)
        )
        split.warnings.append(_views_warning(what, views, kept_name))
    split.contract_database.append(
        operations.SeparateDatabaseAndState(
            database_operations=database, state_operations=[operation]
        )
    )


def _views_warning(what: str, views: list, kept_name: str | None) -> str:
    """
    What ``makemigrations`` says of ``views``; ``kept_name``: the model's
    table, where it keeps its name.
    """
    one = len(views) == 1
    renamed_tables = ", ".join(f"{view} becomes {table}" for view, table, _ in views)
    return (
        f"{what}: {renamed_tables}; the old release reads and writes through "
        f"{'a view' if one else 'views'} under the old "
        f"{'name' if one else 'names'} until the cleanup drops "
        f"{'it' if one else 'them'}"
        + (f" (table {kept_name} keeps its name)." if kept_name else ".")
    )


def _renamed_and_viewed(vendor: str, editor, views: list) -> tuple[list, list]:
    """
    (forwards, backwards) statements of ``rename_with_views`` on ``vendor``:
    per table, the schema editor's rename of it and of its columns named
    after the model (``book_id`` of ``shop_book_authors``), then its view;
    backwards the view dropped, then the renames undone, the tables in the
    reverse order. On MariaDB a table whose columns keep their names is
    swapped with its view instead.
    """
    from ...capture.views import mysql
    from ...capture.views.common import statements
    from ...overlap.tables import rename_column_statement, rename_statement

    forwards: list[str] = []
    backwards: list[str] = []
    for view, table, columns in views:
        if vendor == "mysql" and all(a == b for a, b in columns):
            ahead, back = mysql.swap(view, table, columns)
            forwards += ahead
            backwards = back + backwards
            continue
        create, drop = statements(vendor, view, table, columns)
        forwards.append(rename_statement(editor, view, table))
        back = [rename_statement(editor, table, view)]
        for view_column, column in columns:
            if view_column != column:
                forwards.append(
                    rename_column_statement(editor, table, view_column, column)
                )
                back.insert(
                    0, rename_column_statement(editor, table, column, view_column)
                )
        forwards += create
        backwards = [*drop, *back, *backwards]
    return forwards, backwards


def _kept_in_renamed(views, kept, model_state, renamed, key) -> tuple[list, dict]:
    """
    MariaDB: a table cannot be renamed with a column of it and a view under
    its old name at once, and a column's rename breaks a view that shows it
    until the view is made again. So the model's own many-to-many table
    (``shop_book_authors``, its ``book_id`` becoming ``novel_id``) keeps its
    column, as another model's does (added to ``kept``: ``novel_id`` beside
    it first, synchronised), and is swapped with its view under its old
    name, which shows the columns as they were. Answers ``views`` so
    changed, and {old name: new name} of those tables. A table whose two
    columns are named after the model (to itself) is left as it was.
    """
    old_column = f"{model_state.name_lower}_id"
    new_column = f"{renamed.name_lower}_id"
    changed, moved = [], {}
    for view, table, columns in views:
        differ = [(a, b) for a, b in columns if a != b]
        if view == table or differ != [(old_column, new_column)]:
            changed.append((view, table, columns))
            continue
        (other,) = [a for a, _ in columns if a not in ("id", old_column)]
        kept.append((key, view, other))
        moved[view] = table
        changed.append((view, table, [(a, a) for a, _ in columns]))
    return changed, moved


def _keep_columns(split, kept, model_state, renamed, what, vendors) -> None:
    """
    The contract keeps each column of ``kept`` (``_named_after``) under its
    old name beside the one Django renamed it to; the cleanup drops it.
    """
    primary_key = next(f for f in model_state.fields.values() if f.primary_key)
    db_types = {
        vendor: primary_key.rel_db_type(capture_connection(vendor))
        for vendor in vendors
    }
    old = f"{model_state.name_lower}_id"
    new = f"{renamed.name_lower}_id"
    for key, table, _ in kept:
        made = {
            vendor: kept_statements(vendor, table, old, new, db_type)
            for vendor, db_type in db_types.items()
        }
        hints = {"model_name": key[1]}
        split.contract_database += [
            RunKeptColumnSQL(
                table=table,
                column=new,
                source=old,
                sql={vendor: create for vendor, (create, _) in made.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in made.items()},
                owner=f"{key[0]}.{key[1]}",
                hints=hints,
            ),
            CopyColumn(
                table=table, source=new, column=old, primary_key="id", hints=hints
            ),
        ]
        split.cleanup.append(DropKeptColumn(key, table, old, new, db_types))
        split.warnings.append(
            f"{what}: column {old} of {table} becomes {new}; {old} is kept "
            f"beside it, both kept equal by triggers until the cleanup drops {old}."
        )


def _views(app_label, model_state, renamed, fields: dict, what: str, kept) -> list:
    """
    (old name, new name, [(old column, new column)]) of each table renamed.
    The model's own many-to-many table under a ``db_table`` keeps its name
    while its column named after the model changes: added to ``kept``, as
    another model's is (``_named_after``).
    """
    old_table = names.model_table(app_label, model_state)
    new_table = names.model_table(app_label, renamed)
    views = []
    if old_table != new_table:
        columns = [
            (column, column)
            for name, field in model_state.fields.items()
            if (column := column_named(name, field)) is not None
        ]
        views.append((old_table, new_table, columns))
    for name, field in model_state.fields.items():
        if name not in fields or not field.many_to_many:
            continue
        old_m2m = names.m2m_table(old_table, name, field)
        new_field = renamed.fields.get(fields[name], field)  # AlterField's
        new_m2m = names.m2m_table(new_table, fields[name], new_field)
        if old_m2m is None or new_m2m is None:
            continue  # An explicit through model: its own table.
        target = resolve_relation(
            field.remote_field.model, app_label, model_state.name_lower
        )
        itself = target == (app_label, model_state.name_lower)
        old_columns = _through_columns(
            model_state.name_lower, model_state.name_lower if itself else target[1]
        )
        new_columns = _through_columns(
            renamed.name_lower, renamed.name_lower if itself else target[1]
        )
        columns = [("id", "id"), *zip(old_columns, new_columns, strict=True)]
        if old_m2m == new_m2m:
            if old_columns == new_columns:
                continue
            if itself or old_columns[1] != new_columns[1]:
                raise Refused(
                    f"{app_label}/models.py: {what}: both columns of {old_m2m} "
                    f"({', '.join(old_columns)}) are named after the model, and "
                    f"its table keeps its name (db_table={old_m2m!r}); not split "
                    f"yet: keep the model's name (docs/limitations.md)."
                )
            kept.append(((app_label, renamed.name_lower), old_m2m, old_columns[1]))
            continue
        views.append((old_m2m, new_m2m, columns))
    return views


def _through_columns(model_name: str, target_name: str) -> tuple[str, str]:
    """The columns of an auto-created many-to-many table, as Django names them."""
    if model_name == target_name:
        return f"from_{model_name}_id", f"to_{model_name}_id"
    return f"{model_name}_id", f"{target_name}_id"


def _named_after(walk: Walk, model_name: str, what: str) -> list:
    """
    (model key, table, its other column) of each other model's auto-created
    many-to-many table that names a column after the renamed model
    (``book_id``; the other, ``tag_id``, is named after that model): Django
    renames that column in a table that keeps its name, and the contract
    keeps the old one beside it; refused where that model is renamed in the
    same migration too (the table's view would not show the old column). A
    multi-table child's implicit link (``book_ptr_id``, its primary key) is
    refused: declaring the link under its old name does not help (Django's
    AlterField then points it at the old name).
    """
    key = walk.key(model_name)
    kept = []
    for (app_label, name), model_state in sorted(walk.state.models.items()):
        if (app_label, name) == key:
            continue
        for field_name, field in model_state.fields.items():
            if not field.is_relation or field.remote_field.model is None:
                continue
            target = resolve_relation(field.remote_field.model, app_label, name)
            if target != key:
                continue
            table = names.model_table(app_label, model_state)
            m2m = field.many_to_many and names.m2m_table(table, field_name, field)
            if m2m and app_label == walk.app_label and name in walk.renamed_models:
                raise Refused(
                    f"{app_label}/models.py: {model_state.name}.{field_name}'s table "
                    f"{m2m} names its column {model_name}_id after {what}, and "
                    f"{model_state.name} is renamed in the same migration; not split "
                    f"yet: rename one model in this release, the other in the next "
                    f"(docs/limitations.md)."
                )
            if m2m:
                kept.append(((app_label, name), m2m, f"{name}_id"))
            elif getattr(field.remote_field, "parent_link", False):
                raise Refused(
                    f"{app_label}/models.py: {model_state.name}'s parent link "
                    f"{field_name}, its primary key, points at {what}, and Django "
                    f"renames or re-points it in a table that keeps its name; not "
                    f"split yet: keep the model's name (docs/limitations.md)."
                )
    return kept


def possible_model_renames(app_label: str, deleted: dict, created: dict) -> list[str]:
    """
    With --noinput Django never asks "Was the model ... renamed?": say when a
    deleted model (``deleted``: name -> its state) and a created one
    (``created``: name -> CreateModel) have the same fields, of the same
    types, with what to do.
    """

    def fields(items) -> list:
        return sorted((name, type(field).__name__) for name, field in items)

    warnings = []
    for model_state in deleted.values():
        for operation in created.values():
            if fields(model_state.fields.items()) != fields(operation.fields):
                continue
            table = names.model_table(app_label, model_state)
            warnings.append(
                f"{app_label}.{model_state.name}: it is deleted and "
                f"{operation.name} with the same fields created. If this is a "
                f"rename, the cleanup would drop {table} with its rows: run "
                f"makemigrations without --noinput and answer 'y' when it asks "
                f"whether the model was renamed (the rename is split) instead."
            )
    return warnings
