"""
SQLite: the old name is a table of its own (a shadow), kept equal to the
renamed one by triggers in both directions, until the cleanup drops both.

No view serves here: one made writable by INSTEAD OF triggers reports no
row changed (``sqlite3_changes()`` leaves out what INSTEAD OF triggers
write), so Django's ``save()`` of an existing row, finding nothing updated,
INSERTs it again; and ``INSERT ... RETURNING`` through it answers NULL for
the new row's key. A shadow table answers both as a table does.

- The shadow is made at migrate time from the renamed table's own
  ``CREATE TABLE`` in ``sqlite_master`` (``shadow``), under the old name and
  with the old names of the columns named after a renamed model; the rows
  are copied with their rowids (the primary key, or beside it).
- AFTER INSERT, UPDATE and DELETE triggers on each table write the row to
  the other, by rowid. Each one's WHERE clause finds nothing left to do once
  the two agree, so a write the other table's trigger makes never comes
  back (and ``recursive_triggers`` is off by default anyway). AUTOINCREMENT
  keys stay in step: an explicit rowid moves the table's sequence on.
"""

from __future__ import annotations

import hashlib
import re


def quote(name: str) -> str:
    if name.startswith('"') and name.endswith('"'):
        return name  # Quoted in db_table already: as Django's quote_name.
    return '"' + name.replace('"', '""') + '"'


def _trigger(view: str, suffix: str) -> str:
    digest = hashlib.md5(view.encode(), usedforsecurity=False).hexdigest()[:12]
    return quote(f"bluegreen_view_{digest}_{suffix}")


def create(view: str, table: str, columns: list[tuple[str, str]]) -> list[str]:
    """The triggers; the shadow table itself is made first (``shadow``)."""
    statements = []
    pairs = {
        "new": (quote(table), quote(view), [(new, old) for old, new in columns]),
        "old": (quote(view), quote(table), columns),
    }
    for side, (source, target, mapping) in pairs.items():
        into = ", ".join(quote(to) for _, to in mapping)
        values = ", ".join(f"NEW.{quote(of)}" for of, _ in mapping)
        differs = " OR ".join(
            f"{quote(to)} IS NOT NEW.{quote(of)}" for of, to in mapping
        )
        sets = ", ".join(f"{quote(to)} = NEW.{quote(of)}" for of, to in mapping)
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {_trigger(view, side + '_insert')} "
            f"AFTER INSERT ON {source} FOR EACH ROW BEGIN "
            f"INSERT INTO {target} (rowid, {into}) SELECT NEW.rowid, {values} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} WHERE rowid = NEW.rowid); END",
            f"CREATE TRIGGER IF NOT EXISTS {_trigger(view, side + '_update')} "
            f"AFTER UPDATE ON {source} FOR EACH ROW BEGIN "
            f"UPDATE {target} SET {sets} WHERE rowid = OLD.rowid AND ({differs}); END",
            f"CREATE TRIGGER IF NOT EXISTS {_trigger(view, side + '_delete')} "
            f"AFTER DELETE ON {source} FOR EACH ROW BEGIN "
            f"DELETE FROM {target} WHERE rowid = OLD.rowid; END",
        ]
    return statements


def drop(view: str) -> list[str]:
    return [
        *(
            f"DROP TRIGGER IF EXISTS {_trigger(view, side + '_' + event)}"
            for side in ("new", "old")
            for event in ("insert", "update", "delete")
        ),
        f"DROP TABLE IF EXISTS {quote(view)}",
    ]


_CREATE = re.compile(
    r'^\s*CREATE\s+TABLE\s+("(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|\S+)', re.I
)


def shadow(
    definition: str, view: str, table: str, columns: list[tuple[str, str]]
) -> list[str]:
    """
    The shadow table ``view`` of ``table``, whose ``CREATE TABLE`` is
    ``definition`` (from ``sqlite_master``), and its rows: its own name,
    and the old names of renamed columns (Django quotes every column).
    """
    made = _CREATE.sub(f"CREATE TABLE IF NOT EXISTS {quote(view)}", definition, 1)
    for old, new in columns:
        if old != new:
            made = made.replace(quote(new), quote(old))
    into = ", ".join(quote(old) for old, _ in columns)
    values = ", ".join(quote(new) for _, new in columns)
    return [
        made,
        f"INSERT INTO {quote(view)} (rowid, {into}) SELECT rowid, {values} "
        f"FROM {quote(table)} WHERE rowid NOT IN (SELECT rowid FROM {quote(view)})",
    ]
