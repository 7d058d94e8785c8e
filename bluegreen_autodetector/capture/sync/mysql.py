"""MariaDB/MySQL: BEFORE INSERT and BEFORE UPDATE triggers that SET NEW.col."""

from __future__ import annotations


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def differ(a: str, b: str) -> str:
    return f"NOT ({a} <=> {b})"


def _names(table, old, new):
    from .common import trigger_name

    return (
        quote(trigger_name(table, old, new, "_insert")),
        quote(trigger_name(table, old, new, "_update")),
        quote(table),
    )


def create(table: str, old: str, new: str) -> list[str]:
    insert, update, table_q = _names(table, old, new)
    o, n = quote(old), quote(new)
    return [
        f"DROP TRIGGER IF EXISTS {insert}",
        f"CREATE TRIGGER {insert} BEFORE INSERT ON {table_q} FOR EACH ROW\n"
        f"BEGIN\n"
        f"  IF NEW.{n} IS NULL THEN SET NEW.{n} = NEW.{o};\n"
        f"  ELSEIF NEW.{o} IS NULL THEN SET NEW.{o} = NEW.{n};\n"
        f"  END IF;\n"
        f"END",
        f"DROP TRIGGER IF EXISTS {update}",
        f"CREATE TRIGGER {update} BEFORE UPDATE ON {table_q} FOR EACH ROW\n"
        f"BEGIN\n"
        f"  IF NOT (NEW.{n} <=> OLD.{n}) THEN SET NEW.{o} = NEW.{n};\n"
        f"  ELSEIF NOT (NEW.{o} <=> OLD.{o}) THEN SET NEW.{n} = NEW.{o};\n"
        f"  END IF;\n"
        f"END",
    ]


def drop(table: str, old: str, new: str) -> list[str]:
    insert, update, _ = _names(table, old, new)
    return [f"DROP TRIGGER IF EXISTS {insert}", f"DROP TRIGGER IF EXISTS {update}"]
