"""
A RenameModel whose model another model's auto-created many-to-many table
names a column after (``book_id`` of ``shop_tag_books`` when Book becomes
Novel), on PostgreSQL and MariaDB: the contract adds the new column before
the rename, so that the old release never meets a missing or empty old
column (``tables.py`` hands the row here; SQLite's contract, one
transaction, is ``tables._keep_columns``).
"""

from __future__ import annotations

from ... import names
from ...capture.connections import capture_connection
from ...capture.sync.common import DropKeptColumn
from ...capture.sync.keys import ahead_statements, key_statements
from ...operations import CopyColumn, RunKeptColumnSQL, RunKeptKeysSQL
from .shapes import column_named
from .split import Refused, Split
from .tables import rename_with_views


def rename_ahead(
    walk, operation, kept, views, model_state, renamed, what, vendors, moved=None
) -> Split:
    """
    PostgreSQL and MariaDB: the new column of each table of ``kept``
    (``novel_id`` beside ``book_id``) comes first, nullable, kept equal to
    the old one by BEFORE triggers both ways, filled in batches, then given
    its keys online (``RunKeptKeysSQL``), while the old release still runs
    on the old names and the old column keeps its own keys. Then the table
    and its own many-to-many tables (``views``: ``shop_book_authors``,
    their columns named after the model renamed too, as Django's
    RenameModel does) are renamed and their views made (``RunViewSQL`` with
    ``renames``: one transaction on PostgreSQL), Django's RenameModel on
    the state only: its database part would rename the kept column instead.
    The cleanup drops the triggers and the old column.

    ``moved`` (old name -> new name): the tables of ``kept`` that are
    renamed too, each a model's own many-to-many table on MariaDB
    (``tables._kept_in_renamed``): their new column's keys and triggers are
    named after the new name, as Django would name them, and the cleanup
    finds them there.
    """
    moved = moved or {}
    where = f"{walk.app_label}/models.py: {what}"
    if "sqlite" in vendors:
        raise Refused(
            f"{where}: a many-to-many table that keeps its name names a column "
            f"after it, and BLUEGREEN_VENDORS mixes SQLite with {', '.join(v for v in vendors if v != 'sqlite')} "
            f"(each keeps that column its own way); not split yet: keep the "
            f"model's name, or deploy on one kind of database (docs/limitations.md)."
        )
    old_table = names.model_table(walk.app_label, model_state)
    new_table = names.model_table(walk.app_label, renamed)
    pk_name, primary_key = next(
        (name, f) for name, f in model_state.fields.items() if f.primary_key
    )
    to = (old_table, column_named(pk_name, primary_key))
    db_types = {
        vendor: primary_key.rel_db_type(capture_connection(vendor))
        for vendor in vendors
    }
    old = f"{model_state.name_lower}_id"
    new = f"{renamed.name_lower}_id"
    split = Split()
    keys = {}
    for key, table, other in kept:
        # The model's own table (under a db_table) names its column first.
        column_first = key == (walk.app_label, renamed.name_lower)
        hints = {"model_name": key[1]}
        owner = f"{key[0]}.{key[1]}"
        now = moved.get(table, table)
        named = None if now == table else now
        added = {
            vendor: ahead_statements(vendor, table, old, new, db_type, named)
            for vendor, db_type in db_types.items()
        }
        keyed = {
            vendor: key_statements(
                vendor, table, new, other, to, new_table, db_type, column_first, named
            )
            for vendor, db_type in db_types.items()
        }
        split.contract_database += [
            RunKeptColumnSQL(
                table=table,
                column=new,
                source=old,
                sql={vendor: create for vendor, (create, _) in added.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in added.items()},
                owner=owner,
                hints=hints,
            ),
            CopyColumn(
                table=table, source=old, column=new, primary_key="id", hints=hints
            ),
            RunKeptKeysSQL(
                table=table,
                column=new,
                source=old,
                sql={vendor: create for vendor, (create, _) in keyed.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in keyed.items()},
                owner=owner,
                hints=hints,
            ),
        ]
        keys[key, now] = {
            vendor: (
                other,
                (new_table, to[1]),
                old_table,
                column_first,
                *([table] if named else []),
            )
            for vendor in vendors
        }
        split.warnings.append(
            f"{what}: column {old} of {table} gets {new} beside it before the "
            f"rename, filled in batches and keyed online; both kept equal by "
            f"triggers until the cleanup drops {old}."
        )
    rename_with_views(walk, operation, views, renamed, what, vendors, split)
    for (key, table), by_vendor in keys.items():
        split.cleanup.append(
            DropKeptColumn(key, table, old, new, db_types, keys=by_vendor)
        )
    return split
