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


def statements(vendor: str, table: str, old: str, new: str) -> tuple[list, list]:
    """(create, drop) statements of the pair's synchronisation on ``vendor``."""
    module = import_module(f"{__package__}.{vendor}")
    return module.create(table, old, new), module.drop(table, old, new)


def copy_statement(vendor: str, table: str, old: str, new: str) -> str:
    """One UPDATE filling ``new`` from ``old`` where they differ (sqlmigrate)."""
    module = import_module(f"{__package__}.{vendor}")
    quote = module.quote
    return (
        f"UPDATE {quote(table)} SET {quote(new)} = {quote(old)} "
        f"WHERE {module.differ(quote(new), quote(old))}"
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
