"""
SQLite: a trigger cannot assign NEW, so AFTER INSERT and AFTER UPDATE OF
triggers UPDATE the row (by rowid) that was just written. Each one's WHEN
clause stops once the two columns are equal, so the UPDATE a trigger makes
never sets off another that changes anything (``recursive_triggers`` is
off by default anyway).
"""

from __future__ import annotations


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def differ(a: str, b: str) -> str:
    return f"{a} IS NOT {b}"


def cast(expression: str, db_type: str) -> str:
    """``expression`` as a value of the column type ``db_type`` (its affinity)."""
    return f"CAST({expression} AS {db_type})"


def _names(table, old, new):
    from .common import trigger_name

    return [
        quote(trigger_name(table, old, new, suffix))
        for suffix in ("_insert", "_new", "_old")
    ]


def create(table: str, old: str, new: str, to_new=None, to_old=None) -> list[str]:
    """``to_new``/``to_old``: each direction's conversion (a retype's), or None."""
    insert, from_new, from_old = _names(table, old, new)
    t, o, n = quote(table), quote(old), quote(new)
    as_new = to_new or (lambda expression: expression)
    as_old = to_old or (lambda expression: expression)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {t} FOR EACH ROW "
        f"WHEN NEW.{n} IS NOT NEW.{o} AND (NEW.{n} IS NULL OR NEW.{o} IS NULL) "
        f"BEGIN UPDATE {t} SET {n} = COALESCE(NEW.{n}, {as_new(f'NEW.{o}')}), "
        f"{o} = COALESCE(NEW.{o}, {as_old(f'NEW.{n}')}) WHERE rowid = NEW.rowid; END",
        f"CREATE TRIGGER IF NOT EXISTS {from_new} AFTER UPDATE OF {n} ON {t} "
        f"FOR EACH ROW WHEN NEW.{n} IS NOT OLD.{n} AND NEW.{o} IS NOT NEW.{n} "
        f"BEGIN UPDATE {t} SET {o} = {as_old(f'NEW.{n}')} WHERE rowid = NEW.rowid; END",
        f"CREATE TRIGGER IF NOT EXISTS {from_old} AFTER UPDATE OF {o} ON {t} "
        f"FOR EACH ROW WHEN NEW.{o} IS NOT OLD.{o} AND NEW.{n} IS NOT NEW.{o} "
        f"AND NEW.{n} IS OLD.{n} "
        f"BEGIN UPDATE {t} SET {n} = {as_new(f'NEW.{o}')} WHERE rowid = NEW.rowid; END",
    ]


def drop(table: str, old: str, new: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in _names(table, old, new)]


def swap(table: str, old: str, new: str, old_type: str, not_null: bool) -> tuple:
    """
    A retype's cleanup, in the migration's transaction: the triggers
    dropped, ``old`` dropped (DROP COLUMN, SQLite 3.35+), ``new`` renamed
    ``old``; no table rebuild. Backwards: the old column back (nullable:
    SQLite adds no NOT NULL column without a default), filled, synchronised.
    """
    t, o, n = quote(table), quote(old), quote(new)
    forwards = [
        *drop(table, old, new),
        f"ALTER TABLE {t} DROP COLUMN {o}",
        f"ALTER TABLE {t} RENAME COLUMN {n} TO {o}",
    ]
    backwards = [
        f"ALTER TABLE {t} RENAME COLUMN {o} TO {n}",
        f"ALTER TABLE {t} ADD COLUMN {o} {old_type} NULL",
    ]
    if not_null:
        # Its NOT NULL back as SQLite's documented way edits it (the
        # table's SQL in sqlite_master, no rebuild): the fill that follows
        # writes every row's value, and CleanupSQL bumps the schema version.
        before, after = (
            f"{o} {old_type} NULL".replace("'", "''"),
            f"{o} {old_type} NOT NULL".replace("'", "''"),
        )
        backwards += [
            "PRAGMA writable_schema = ON",
            f"UPDATE sqlite_master SET sql = replace(sql, '{before}', '{after}') "
            f"WHERE type = 'table' AND name = '{table.replace(chr(39), chr(39) * 2)}'",
            "PRAGMA writable_schema = OFF",
        ]
    return forwards, backwards, []


def kept_column(table: str, old: str, new: str, db_type: str) -> tuple[list, list]:
    """
    A many-to-many table's column named after a renamed model, kept under
    its old name ``old`` beside ``new`` (the one Django renamed it to):
    (add, drop) statements of the old column, nullable, with no constraint
    or index. The AFTER trigger fills ``new`` once the row is written, so
    ``new`` allows NULL while both are kept (its definition edited in
    sqlite_master, SQLite's documented way; CleanupSQL bumps the schema
    version); dropping the old column gives ``new`` its NOT NULL back.
    """
    t, o = quote(table), quote(old)
    quoted_table = table.replace("'", "''")

    def edit(before: str, after: str) -> list[str]:
        before, after = before.replace("'", "''"), after.replace("'", "''")
        return [
            "PRAGMA writable_schema = ON",
            f"UPDATE sqlite_master SET sql = replace(sql, '{before}', '{after}') "
            f"WHERE type = 'table' AND name = '{quoted_table}'",
            "PRAGMA writable_schema = OFF",
        ]

    not_null = f"{quote(new)} {db_type} NOT NULL"
    null = f"{quote(new)} {db_type} NULL"
    return (
        [f"ALTER TABLE {t} ADD COLUMN {o} {db_type} NULL", *edit(not_null, null)],
        [f"ALTER TABLE {t} DROP COLUMN {o}", *edit(null, not_null)],
    )
