"""PostgreSQL: one BEFORE INSERT OR UPDATE trigger sets the other column in NEW."""

from __future__ import annotations


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def differ(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}"


def _names(table, old, new):
    from .common import trigger_name

    return quote(trigger_name(table, old, new)), quote(table)


def create(table: str, old: str, new: str) -> list[str]:
    name, table_q = _names(table, old, new)
    o, n = quote(old), quote(new)
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n"
        f"  IF TG_OP = 'INSERT' THEN\n"
        f"    IF NEW.{n} IS NULL THEN NEW.{n} := NEW.{o};\n"
        f"    ELSIF NEW.{o} IS NULL THEN NEW.{o} := NEW.{n};\n"
        f"    END IF;\n"
        f"  ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN NEW.{o} := NEW.{n};\n"
        f"  ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN NEW.{n} := NEW.{o};\n"
        f"  END IF;\n"
        f"  RETURN NEW;\n"
        f"END\n"
        f"$$",
        f"DROP TRIGGER IF EXISTS {name} ON {table_q}",
        f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table_q} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def drop(table: str, old: str, new: str) -> list[str]:
    name, table_q = _names(table, old, new)
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table_q}",
        f"DROP FUNCTION IF EXISTS {name}()",
    ]
