"""
Two columns kept equal while two releases run: a rename's synchronisation.

The old release reads and writes the old column, the new release the new
one, and each must see the other's writes at once. Triggers keep the pair
equal in both directions, deciding the direction from the values written,
never from the session (behind a connection pooler the session is not the
release's):

- on INSERT, whichever column was given a value fills the other (both
  columns are nullable and without a database default while both releases
  run, so "not given" is NULL);
- on UPDATE, whichever column changed (``NEW.x IS DISTINCT FROM OLD.x``)
  wins and sets the other; the new column first, should both change.

Each vendor's SQL is in its own module (``postgresql``, ``mysql``,
``sqlite``): ``create(table, old, new)`` and ``drop(table, old, new)``
return the statements. Pure text: nothing here connects to a database.
"""

from __future__ import annotations

import hashlib
from importlib import import_module

VENDORS = ("postgresql", "mysql", "sqlite")


def trigger_name(table: str, old: str, new: str, suffix: str = "") -> str:
    """
    A name for the pair's trigger (or function) that fits every vendor's
    limit (63 characters on PostgreSQL) and is the same each time.
    """
    digest = hashlib.md5(f"{table}.{old}.{new}".encode(), usedforsecurity=False)
    return f"bluegreen_sync_{digest.hexdigest()[:12]}{suffix}"


def statements(
    vendor: str,
    table: str,
    old: str,
    new: str,
    types: tuple | None = None,
    named_as: str | None = None,
) -> tuple[list, list]:
    """
    (create, drop) statements of the pair's synchronisation on ``vendor``.
    ``types``: a retype's (old column's type, new column's type) on
    ``vendor``, each direction converting to its column's type.
    ``named_as`` (PostgreSQL, MariaDB): the table the triggers are named
    after, where it is not ``table`` (a table renamed after them).
    """
    module = import_module(f"{__package__}.{vendor}")
    to_new = to_old = None
    if types is not None:
        old_type, new_type = types

        def to_new(expression):
            return module.cast(expression, new_type)

        def to_old(expression):
            return module.cast(expression, old_type)

    if named_as is None:
        return module.create(table, old, new, to_new, to_old), module.drop(
            table, old, new
        )
    return (
        module.create(table, old, new, to_new, to_old, named_as=named_as),
        module.drop(table, old, new, named_as=named_as),
    )


def copy_statement(
    vendor: str, table: str, old: str, new: str, cast: str | None = None
) -> str:
    """
    One UPDATE filling ``new`` from ``old`` where they differ (sqlmigrate);
    ``cast``: ``new``'s type, to convert ``old``'s values to (a retype's).
    """
    module = import_module(f"{__package__}.{vendor}")
    quote = module.quote
    source = quote(old) if cast is None else module.cast(quote(old), cast)
    return (
        f"UPDATE {quote(table)} SET {quote(new)} = {source} "
        f"WHERE {module.differ(quote(new), source)}"
    )


class DropSync:
    """
    A cleanup step: drop the synchronisation of ``old`` and ``new`` in
    ``table`` (before the old column goes). Its SQL is this package's, not
    the schema editor's, so it carries it (``captured``); backwards it
    installs the triggers again and fills the re-created old column.
    """

    def __init__(self, model, table: str, old: str, new: str, vendors) -> None:
        self.model = model  # (app_label, lower-case model name)
        self.table = table
        self.old = old
        self.new = new
        self.vendors = list(vendors)

    def captured(self):
        from ..statements import CapturedSQL

        captured = CapturedSQL(self.table, self.new)
        for vendor in self.vendors:
            create, drop = statements(vendor, self.table, self.old, self.new)
            captured.sql[vendor] = drop
            # Backwards the old column comes back empty first: fill it.
            captured.reverse_sql[vendor] = [
                *create,
                copy_statement(vendor, self.table, self.new, self.old),
            ]
        return captured


class SwapColumns:
    """
    A retype's cleanup step (``split/catalogue/retypes.py``): drop the
    synchronisation of ``old`` (the column both releases wrote) and ``new``
    (the second column, of the new type), drop ``old``, rename ``new`` to
    ``old`` (each vendor's ``swap``). Backwards: the old column comes back
    with its type, ``types[vendor][0]``, filled from the other and
    synchronised again, NOT NULL (``not_null``) where the vendor can.
    """

    swaps = True  # autodetector.py writes it as operations.RunSwapSQL

    def __init__(
        self, model, table: str, old: str, new: str, types: dict, not_null: bool
    ) -> None:
        self.model = model  # (app_label, lower-case model name)
        self.table = table
        self.old = old
        self.new = new
        self.types = types  # by vendor: (old column's type, new column's type)
        self.vendors = list(types)
        self.not_null = not_null

    def captured(self):
        from ..statements import CapturedSQL

        captured = CapturedSQL(self.table, self.new)
        for vendor in self.vendors:
            module = import_module(f"{__package__}.{vendor}")
            old_type, new_type = self.types[vendor]
            create, _ = statements(
                vendor, self.table, self.old, self.new, (old_type, new_type)
            )
            forwards, backwards, restored = module.swap(
                self.table, self.old, self.new, old_type, self.not_null
            )
            captured.sql[vendor] = forwards
            captured.reverse_sql[vendor] = [
                *backwards,
                *create,
                copy_statement(vendor, self.table, self.new, self.old, old_type),
                *restored,
            ]
        return captured


def kept_statements(
    vendor: str, table: str, old: str, new: str, db_type: str
) -> tuple[list, list]:
    """
    (create, drop) statements of a many-to-many table's column named after
    a renamed model, kept under its old name ``old`` beside ``new`` (the
    name Django's RenameModel gave it) while both releases run: the old
    column added, nullable, with no constraint or index, and the pair's
    synchronisation; dropped in the reverse order. ``db_type``: the
    column's type on ``vendor``. PostgreSQL and MariaDB keep ``new`` NOT
    NULL (their BEFORE triggers fill it first); SQLite's ``kept_column``
    lets it hold NULL until the old column goes.
    """
    module = import_module(f"{__package__}.{vendor}")
    if hasattr(module, "kept_column"):
        add, remove = module.kept_column(table, old, new, db_type)
    else:
        t, o = module.quote(table), module.quote(old)
        add = [f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {o} {db_type} NULL"]
        remove = [f"ALTER TABLE {t} DROP COLUMN IF EXISTS {o}"]
    create, drop = statements(vendor, table, old, new)
    return [*add, *create], [*drop, *remove]


class DropKeptColumn:
    """
    A cleanup step: drop the synchronisation of a many-to-many table's
    column kept under its old name (``kept_statements``), then the column.
    The table has no model state of its own: the step carries its SQL
    (``captured``); backwards it adds the old column again, synchronised
    and filled. ``keys``: where the contract added the new column before
    the rename (PostgreSQL, MariaDB: ``keys.ahead_cleanup``), by vendor,
    the arguments of the old column's keys, which go with it and come back
    with it.
    """

    kept = True  # split/migration.py writes it as operations.RunKeptColumnSQL

    def __init__(
        self,
        model,
        table: str,
        old: str,
        new: str,
        db_types: dict[str, str],
        keys: dict | None = None,
    ) -> None:
        self.model = model  # (app_label, lower-case name) of the field's model
        self.table = table
        self.old = old
        self.new = new
        self.db_types = db_types  # by vendor: the column's type
        self.vendors = list(db_types)
        self.keys = keys or {}

    def captured(self):
        from ..statements import CapturedSQL
        from .keys import ahead_cleanup

        captured = CapturedSQL(self.table, self.new)
        for vendor, db_type in self.db_types.items():
            if vendor in self.keys:
                other, to, old_fk_table, column_first, *named = self.keys[vendor]
                captured.sql[vendor], captured.reverse_sql[vendor] = ahead_cleanup(
                    vendor,
                    self.table,
                    self.old,
                    self.new,
                    other,
                    to,
                    old_fk_table,
                    db_type,
                    column_first,
                    *named,
                )
                continue
            create, drop = kept_statements(
                vendor, self.table, self.old, self.new, db_type
            )
            captured.sql[vendor] = drop
            captured.reverse_sql[vendor] = [
                *create,
                copy_statement(vendor, self.table, self.new, self.old),
            ]
        return captured
