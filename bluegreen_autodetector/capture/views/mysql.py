"""MariaDB/MySQL: a MERGE view of one table is updatable; LAST_INSERT_ID() sees its INSERTs."""

from __future__ import annotations

from .common import select_list


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
