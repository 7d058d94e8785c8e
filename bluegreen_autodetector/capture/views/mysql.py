"""
MariaDB/MySQL: a MERGE view of one table is updatable; LAST_INSERT_ID() sees
its INSERTs.

MariaDB's DDL is not transactional: a RENAME TABLE followed by the view
under the old name leaves the old name missing for the time of one
statement, and the old release's queries then fail. ``swap`` renames the
table and gives its old name to a view in one RENAME TABLE, which is atomic.
"""

from __future__ import annotations

from django.db.backends.utils import truncate_name

from .common import select_list

# MariaDB's limit on a table's or a view's name.
MAX_NAME = 64


def quote(name: str) -> str:
    if name.startswith("`") and name.endswith("`"):
        return name  # Quoted in db_table already: as Django's quote_name.
    return "`" + name.replace("`", "``") + "`"


def create(view: str, table: str, columns: list[tuple[str, str]]) -> list[str]:
    return [
        f"CREATE OR REPLACE ALGORITHM = MERGE VIEW {quote(view)} AS SELECT "
        f"{select_list(quote, columns)} FROM {quote(table)}"
    ]


def drop(view: str) -> list[str]:
    return [f"DROP VIEW IF EXISTS {quote(view)}"]


def swap(
    view: str, table: str, columns: list[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """
    (forwards, backwards): the table ``view`` (its old name) becomes
    ``table``, a view under the old name showing it, with no moment where
    either name is missing. First a view ``table`` of the table under its old
    name, and a view of that one under a name of its own (``held``); then
    one RENAME TABLE moves the first view aside, the table to its new name
    and the second view to the old name, which then reads the table itself;
    then the first view goes. Backwards, one RENAME TABLE moves the view
    aside and the table back. ``columns``: as ``create``'s, each column
    under its own name (a table whose columns are renamed is not swapped).
    """
    held, aside = swap_names(view, table)
    same = [(column, column) for _, column in columns]
    forwards = [
        *create(table, view, same),
        *create(held, table, same),
        swap_statement(view, table),
        *drop(aside),
    ]
    backwards = [swap_statement(view, table, forwards=False), *drop(held)]
    return forwards, backwards


def swap_statement(view: str, table: str, forwards: bool = True) -> str:
    """``swap``'s RENAME TABLE (``forwards``), or the one that undoes it."""
    held, aside = swap_names(view, table)
    if not forwards:
        return (
            f"RENAME TABLE {quote(view)} TO {quote(held)}, "
            f"{quote(table)} TO {quote(view)}"
        )
    return (
        f"RENAME TABLE {quote(table)} TO {quote(aside)}, {quote(view)} TO "
        f"{quote(table)}, {quote(held)} TO {quote(view)}"
    )


def swap_names(view: str, table: str) -> tuple[str, str]:
    """(the old name's view before the swap, where the new name's view goes)."""
    return (
        truncate_name(f"{view.strip('`')}__bg_old", MAX_NAME),
        truncate_name(f"{table.strip('`')}__bg_new", MAX_NAME),
    )


def swapped(view: str, table: str, statement: str, forwards: bool) -> bool:
    """
    Whether ``statement`` is one of ``swap``'s statements that are done once
    the table has the name it is renamed to: ``table`` forwards, ``view``
    backwards (a migration stopped part-way, run again).
    """
    if not forwards:
        return statement == swap_statement(view, table, forwards=False)
    held, _ = swap_names(view, table)
    return statement == swap_statement(view, table) or statement.startswith(
        tuple(
            f"CREATE OR REPLACE ALGORITHM = MERGE VIEW {quote(name)} AS "
            for name in (table, held)
        )
    )
