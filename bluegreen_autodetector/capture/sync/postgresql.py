"""PostgreSQL: one BEFORE INSERT OR UPDATE trigger sets the other column in NEW."""

from __future__ import annotations


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def differ(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}"


def cast(expression: str, db_type: str) -> str:
    """``expression`` as a value of the column type ``db_type`` (a retype's)."""
    return f"CAST({expression} AS {db_type})"


def _names(table, old, new, named_as=None):
    """``named_as``: the table the trigger is named after (``table`` itself)."""
    from .common import trigger_name

    return quote(trigger_name(named_as or table, old, new)), quote(table)


def create(
    table: str, old: str, new: str, to_new=None, to_old=None, named_as=None
) -> list[str]:
    """``to_new``/``to_old``: each direction's conversion (a retype's), or None."""
    name, table_q = _names(table, old, new, named_as)
    o, n = quote(old), quote(new)
    as_new = to_new or (lambda expression: expression)
    as_old = to_old or (lambda expression: expression)
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n"
        f"  IF TG_OP = 'INSERT' THEN\n"
        f"    IF NEW.{n} IS NULL THEN NEW.{n} := {as_new(f'NEW.{o}')};\n"
        f"    ELSIF NEW.{o} IS NULL THEN NEW.{o} := {as_old(f'NEW.{n}')};\n"
        f"    END IF;\n"
        f"  ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN NEW.{o} := {as_old(f'NEW.{n}')};\n"
        f"  ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN NEW.{n} := {as_new(f'NEW.{o}')};\n"
        f"  END IF;\n"
        f"  RETURN NEW;\n"
        f"END\n"
        f"$$",
        f"DROP TRIGGER IF EXISTS {name} ON {table_q}",
        f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table_q} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def drop(table: str, old: str, new: str, named_as=None) -> list[str]:
    name, table_q = _names(table, old, new, named_as)
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table_q}",
        f"DROP FUNCTION IF EXISTS {name}()",
    ]


def swap(table: str, old: str, new: str, old_type: str, not_null: bool) -> tuple:
    """
    A retype's cleanup: the synchronisation and column ``old`` dropped, and
    ``new`` renamed ``old``, in one statement (a DO block: no moment without
    the column, even where the migration runs outside a transaction), only
    if ``new`` is still there (a cleanup stopped later runs again). Catalog
    changes only. Backwards: the old column back, filled, synchronised.
    """
    t, o, n = quote(table), quote(old), quote(new)
    dropped = ";\n  ".join(drop(table, old, new))
    forwards = (
        f"DO $$ BEGIN\n"
        f"IF EXISTS (SELECT 1 FROM information_schema.columns WHERE "
        f"table_schema = current_schema() AND table_name = '{table}' "
        f"AND column_name = '{new}') THEN\n"
        f"  {dropped};\n"
        f"  ALTER TABLE {t} DROP COLUMN {o};\n"
        f"  ALTER TABLE {t} RENAME COLUMN {n} TO {o};\n"
        f"END IF;\n"
        f"END $$"
    )
    backwards = [
        f"ALTER TABLE {t} RENAME COLUMN {o} TO {n}",
        f"ALTER TABLE {t} ALTER COLUMN {n} DROP NOT NULL",
        f"ALTER TABLE {t} ADD COLUMN {o} {old_type} NULL",
    ]
    restored = [f"ALTER TABLE {t} ALTER COLUMN {o} SET NOT NULL"] if not_null else []
    return [forwards], backwards, restored
