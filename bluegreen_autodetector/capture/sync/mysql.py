"""MariaDB/MySQL: BEFORE INSERT and BEFORE UPDATE triggers that SET NEW.col."""

from __future__ import annotations


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def differ(a: str, b: str) -> str:
    return f"NOT ({a} <=> {b})"


def cast(expression: str, db_type: str) -> str:
    """
    ``expression`` as a value of the column type ``db_type`` (a retype's):
    unchanged. Assigning it to the column converts it, and strict mode (on
    by default, and in Django's own check) rejects what does not fit, where
    CAST would not: ``CAST('x' AS SIGNED)`` is 0 with a warning, and a CAST
    to CHAR takes the connection's collation, which ``<=>`` may refuse to
    compare with the column's.
    """
    return expression


def _names(table, old, new, named_as=None):
    """``named_as``: the table the triggers are named after (``table`` itself)."""
    from .common import trigger_name

    return (
        quote(trigger_name(named_as or table, old, new, "_insert")),
        quote(trigger_name(named_as or table, old, new, "_update")),
        quote(table),
    )


def create(
    table: str, old: str, new: str, to_new=None, to_old=None, named_as=None
) -> list[str]:
    """``to_new``/``to_old``: each direction's conversion (a retype's), or None."""
    insert, update, table_q = _names(table, old, new, named_as)
    o, n = quote(old), quote(new)
    as_new = to_new or (lambda expression: expression)
    as_old = to_old or (lambda expression: expression)
    return [
        f"DROP TRIGGER IF EXISTS {insert}",
        f"CREATE TRIGGER {insert} BEFORE INSERT ON {table_q} FOR EACH ROW\n"
        f"BEGIN\n"
        f"  IF NEW.{n} IS NULL THEN SET NEW.{n} = {as_new(f'NEW.{o}')};\n"
        f"  ELSEIF NEW.{o} IS NULL THEN SET NEW.{o} = {as_old(f'NEW.{n}')};\n"
        f"  END IF;\n"
        f"END",
        f"DROP TRIGGER IF EXISTS {update}",
        f"CREATE TRIGGER {update} BEFORE UPDATE ON {table_q} FOR EACH ROW\n"
        f"BEGIN\n"
        f"  IF NOT (NEW.{n} <=> OLD.{n}) THEN SET NEW.{o} = {as_old(f'NEW.{n}')};\n"
        f"  ELSEIF NOT (NEW.{o} <=> OLD.{o}) THEN SET NEW.{n} = {as_new(f'NEW.{o}')};\n"
        f"  END IF;\n"
        f"END",
    ]


def drop(table: str, old: str, new: str, named_as=None) -> list[str]:
    insert, update, _ = _names(table, old, new, named_as)
    return [f"DROP TRIGGER IF EXISTS {insert}", f"DROP TRIGGER IF EXISTS {update}"]


def swap(table: str, old: str, new: str, old_type: str, not_null: bool) -> tuple:
    """
    A retype's cleanup: the triggers dropped, then ``old`` dropped and
    ``new`` renamed ``old`` in one ALTER TABLE (instant in MariaDB 10.5+),
    under LOCK TABLES so that no write falls between the triggers' drop and
    the swap (writes wait for the catalog change; none fails). Backwards:
    the old column back, filled, synchronised.
    """
    t, o, n = quote(table), quote(old), quote(new)
    forwards = [
        f"LOCK TABLES {t} WRITE",
        *drop(table, old, new),
        f"ALTER TABLE {t} DROP COLUMN {o}, RENAME COLUMN {n} TO {o}",
        "UNLOCK TABLES",
    ]
    backwards = [
        f"ALTER TABLE {t} RENAME COLUMN {o} TO {n}, ADD COLUMN {o} {old_type} NULL"
    ]
    null = " NOT NULL" if not_null else " NULL"
    restored = [f"ALTER TABLE {t} MODIFY {o} {old_type}{null}"] if not_null else []
    return forwards, backwards, restored
