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


def _names(table, old, new):
    from .common import trigger_name

    return [
        quote(trigger_name(table, old, new, suffix))
        for suffix in ("_insert", "_new", "_old")
    ]


def create(table: str, old: str, new: str) -> list[str]:
    insert, from_new, from_old = _names(table, old, new)
    t, o, n = quote(table), quote(old), quote(new)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {t} FOR EACH ROW "
        f"WHEN NEW.{n} IS NOT NEW.{o} AND (NEW.{n} IS NULL OR NEW.{o} IS NULL) "
        f"BEGIN UPDATE {t} SET {n} = COALESCE(NEW.{n}, NEW.{o}), "
        f"{o} = COALESCE(NEW.{o}, NEW.{n}) WHERE rowid = NEW.rowid; END",
        f"CREATE TRIGGER IF NOT EXISTS {from_new} AFTER UPDATE OF {n} ON {t} "
        f"FOR EACH ROW WHEN NEW.{n} IS NOT OLD.{n} AND NEW.{o} IS NOT NEW.{n} "
        f"BEGIN UPDATE {t} SET {o} = NEW.{n} WHERE rowid = NEW.rowid; END",
        f"CREATE TRIGGER IF NOT EXISTS {from_old} AFTER UPDATE OF {o} ON {t} "
        f"FOR EACH ROW WHEN NEW.{o} IS NOT OLD.{o} AND NEW.{n} IS NOT NEW.{o} "
        f"AND NEW.{n} IS OLD.{n} "
        f"BEGIN UPDATE {t} SET {n} = NEW.{o} WHERE rowid = NEW.rowid; END",
    ]


def drop(table: str, old: str, new: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in _names(table, old, new)]
