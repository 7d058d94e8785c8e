"""
A renamed table's old name, kept while two releases run: a table rename's
view.

The new release reads and writes the table under its new name; the old one
keeps its name for it, which a view answers to: a view of the one table,
each column listed (a many-to-many table's column named after a renamed
model under its old name: ``novel_id AS book_id``). PostgreSQL and MariaDB
update through such a view themselves (a simple single-table view is
auto-updatable on both): INSERT with RETURNING (PostgreSQL) or
LAST_INSERT_ID() (MariaDB) gives the old release its row's key, and
UPDATE and DELETE count the rows they change, as Django's ``save()`` needs.

SQLite has no such view: one made writable by INSTEAD OF triggers counts
no row changed (``sqlite3_changes()`` leaves out INSTEAD OF triggers'
writes), so Django's ``save()`` of an existing row finds nothing updated and
INSERTs it again, and ``INSERT ... RETURNING`` answers NULL for the key.
There the old name is a shadow table kept equal by triggers (``sqlite.py``).

Each vendor's SQL is in its own module (``postgresql``, ``mysql``,
``sqlite``):
``create(view, table, columns)`` and ``drop(view)`` return the statements,
``columns`` pairing each column of the view with the table's column it
shows. Pure text: nothing here connects to a database.
"""

from __future__ import annotations

from importlib import import_module

VENDORS = ("postgresql", "mysql", "sqlite")

NO_VIEW = "a vendor captured for has no way here to keep the old name writable"


def statements(
    vendor: str, view: str, table: str, columns: list[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """(create, drop) statements of the view ``view`` of ``table`` on ``vendor``."""
    module = import_module(f"{__package__}.{vendor}")
    return module.create(view, table, columns), module.drop(view)


def select_list(quote, columns: list[tuple[str, str]]) -> str:
    """``"novel_id" AS "book_id"``, ... for (view column, table column) pairs."""
    return ", ".join(
        quote(source) if source == name else f"{quote(source)} AS {quote(name)}"
        for name, source in columns
    )


class DropViews:
    """
    A cleanup step: drop the views that keep a renamed table's old names
    (the model's, its many-to-many tables'). Its SQL is this package's, not
    the schema editor's, so it carries it (``captured``); backwards it
    creates them again.
    """

    def __init__(self, model, table: str, views: list, vendors) -> None:
        self.model = model  # (app_label, lower-case model name), the new one
        self.table = table  # the model's table, under its new name
        # (view, table, [(view column, table column)]), the model's first.
        self.views = list(views)
        self.vendors = list(vendors)

    def arguments(self) -> dict:
        """RunViewSQL's ``views`` and ``columns``."""
        return arguments(self.views)

    def captured(self):
        from ..statements import CapturedSQL

        captured = CapturedSQL(self.table)
        for vendor in self.vendors:
            create, drop = sql(vendor, self.views)
            captured.sql[vendor] = drop
            captured.reverse_sql[vendor] = create
        return captured


def sql(vendor: str, views: list) -> tuple[list[str], list[str]]:
    """(create, drop) statements of every view of ``views`` on ``vendor``."""
    create: list[str] = []
    drop: list[str] = []
    for view, table, columns in views:
        made, dropped = statements(vendor, view, table, columns)
        create += made
        drop += dropped
    return create, drop


def arguments(views: list) -> dict:
    """RunViewSQL's ``views`` (old name -> table) and ``columns`` (renamed ones)."""
    columns = {
        view: {name: source for name, source in pairs if name != source}
        for view, _, pairs in views
    }
    return {
        "views": {view: table for view, table, _ in views},
        "columns": {view: pairs for view, pairs in columns.items() if pairs},
    }
