"""
The keys of a many-to-many table's column named after a model (its index,
its unique pair with the other column, its foreign key, its NOT NULL), as
Django's schema editor writes them for that column, under the names it
would give them: PostgreSQL and MariaDB/MySQL, where a model rename adds
the new column beside the old one before the table is renamed
(``split/catalogue/tables.py``).

The statements are Django's own forms, so that ``migrate`` runs each in its
online form (``runtime/online.py``: a concurrent index, a unique index then
the constraint using it, a foreign key ``NOT VALID`` then validated, NOT
NULL through a validated check; MariaDB's in-place forms). Pure text from
the vendor's schema editor: nothing here reads a database.
"""

from __future__ import annotations

from .common import statements


def _editor(vendor: str):
    from ..connections import capture_connection

    return capture_connection(vendor).schema_editor(collect_sql=True, atomic=False)


def key_names(
    vendor: str,
    table: str,
    column: str,
    other: str,
    fk_table: str,
    to_column: str,
    column_first: bool = False,
    named_as: str | None = None,
) -> dict[str, str]:
    """
    The names Django gives ``column``'s index, its unique pair (``other``,
    ``column``; with ``column_first``, the model's own many-to-many table,
    ``column`` first) and its foreign key to ``fk_table``.``to_column``, in
    ``table``, or in ``named_as`` (the name Django knows the table by).
    """
    editor = _editor(vendor)
    name = editor._create_index_name
    table = named_as or table
    return {
        "index": name(table, [column], suffix=""),
        "unique": name(table, _pair(column, other, column_first), suffix="_uniq"),
        "foreign_key": name(table, [column], suffix=f"_fk_{fk_table}_{to_column}"),
    }


def _pair(column: str, other: str, column_first: bool) -> list[str]:
    """The columns of the unique pair, in Django's order."""
    return [column, other] if column_first else [other, column]


def key_statements(
    vendor: str,
    table: str,
    column: str,
    other: str,
    to: tuple[str, str],
    fk_table: str,
    db_type: str,
    column_first: bool = False,
    named_as: str | None = None,
) -> tuple[list[str], list[str]]:
    """
    (create, drop) statements of ``column``'s keys: the index (PostgreSQL;
    InnoDB makes the foreign key's), the unique (``other``, ``column``, or
    with ``column_first`` the other way round), the foreign key to ``to``
    (table, column), named after ``fk_table`` (the name the target has when
    Django would add it), and NOT NULL. ``named_as``: the table the keys
    are named after, where it is not ``table`` (a table renamed after them).
    """
    editor = _editor(vendor)
    quote = editor.quote_name
    names = key_names(
        vendor, table, column, other, fk_table, to[1], column_first, named_as
    )
    t, c = quote(table), quote(column)
    pair = ", ".join(quote(each) for each in _pair(column, other, column_first))
    unique, foreign_key = quote(names["unique"]), quote(names["foreign_key"])
    add_unique = f"ALTER TABLE {t} ADD CONSTRAINT {unique} UNIQUE ({pair})"
    add_foreign_key = (
        f"ALTER TABLE {t} ADD CONSTRAINT {foreign_key} FOREIGN KEY ({c}) "
        f"REFERENCES {quote(to[0])} ({quote(to[1])})"
    )
    if vendor == "postgresql":
        index = quote(names["index"])
        create = [
            f"CREATE INDEX {index} ON {t} ({c})",
            add_unique,
            f"{add_foreign_key} DEFERRABLE INITIALLY DEFERRED",
            f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
        ]
        drop = [
            f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL",
            f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {foreign_key}",
            f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {unique}",
            f"DROP INDEX IF EXISTS {index}",
        ]
        return create, drop
    create = [
        add_unique,
        add_foreign_key,
        f"ALTER TABLE {t} MODIFY {c} {db_type} NOT NULL",
    ]
    drop = [
        f"ALTER TABLE {t} MODIFY {c} {db_type} NULL",
        f"ALTER TABLE {t} DROP FOREIGN KEY IF EXISTS {foreign_key}",
        f"ALTER TABLE {t} DROP INDEX IF EXISTS {unique}",
        # The index InnoDB made for the foreign key, under its name.
        f"ALTER TABLE {t} DROP INDEX IF EXISTS {foreign_key}",
    ]
    return create, drop


def ahead_statements(
    vendor: str,
    table: str,
    old: str,
    new: str,
    db_type: str,
    named_as: str | None = None,
) -> tuple[list[str], list[str]]:
    """
    (create, drop) of the new column ``new`` added beside ``old`` before
    the rename: nullable, no key yet, kept equal to ``old`` by the pair's
    triggers (``common.statements``: BEFORE triggers, so that the new
    release's INSERTs, which give ``new`` only, fill ``old`` before its NOT
    NULL is checked); dropped in the reverse order. ``named_as``: the table
    the triggers are named after (the table's name once renamed).
    """
    quote = _editor(vendor).quote_name
    t, n = quote(table), quote(new)
    create, drop = statements(vendor, table, old, new, named_as=named_as)
    return (
        [f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n} {db_type} NULL", *create],
        [*drop, f"ALTER TABLE {t} DROP COLUMN IF EXISTS {n}"],
    )


def ahead_cleanup(
    vendor: str,
    table: str,
    old: str,
    new: str,
    other: str,
    to: tuple[str, str],
    old_fk_table: str,
    db_type: str,
    column_first: bool = False,
    old_keys_named_as: str | None = None,
) -> tuple[list[str], list[str]]:
    """
    (forwards, backwards) of the cleanup: the triggers and ``old`` dropped
    (MariaDB first drops its foreign key and unique, which block the
    column's drop; PostgreSQL drops them with it). Backwards: ``old`` back,
    synchronised, filled and keyed as before the contract (its foreign key
    under the name Django gave it then, ``old_fk_table``; its keys named
    after ``old_keys_named_as``, the table's name then, if it has changed).
    """
    from .common import copy_statement

    quote = _editor(vendor).quote_name
    t, o = quote(table), quote(old)
    create, drop = statements(vendor, table, old, new)
    keys, unkeys = key_statements(
        vendor,
        table,
        old,
        other,
        to,
        old_fk_table,
        db_type,
        column_first,
        old_keys_named_as,
    )
    forwards = [*drop]
    if vendor != "postgresql":
        # MariaDB's DDL is not transactional: once the triggers are gone the
        # new release's INSERTs leave ``old`` out, so before they go it loses
        # its keys and gets a default (metadata only), and no INSERT fails
        # on its NOT NULL before the column is dropped.
        forwards = [
            *unkeys[1:3],
            f"ALTER TABLE {t} ALTER COLUMN {o} SET DEFAULT '0'",
            *drop,
        ]
    forwards.append(f"ALTER TABLE {t} DROP COLUMN IF EXISTS {o}")
    backwards = [
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {o} {db_type} NULL",
        *create,
        copy_statement(vendor, table, new, old),
        *keys,
    ]
    return forwards, backwards
