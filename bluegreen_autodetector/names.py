"""
The names of tables and columns: as Django's state computes them (a model's
``db_table``, a field's ``get_attname_column()``, an auto-created
many-to-many table, each truncated as Django truncates it), and as each
vendor compares them. Read from model states; nothing is rendered.
"""

from __future__ import annotations

from django.db import connection, models
from django.db.backends.utils import strip_quotes, truncate_name
from django.db.migrations.state import ModelState


def model_table(app_label: str, model_state: ModelState) -> str:
    """The table of the model, as ``Options.contribute_to_class`` names it."""
    declared = model_state.options.get("db_table")
    if declared:
        return declared
    return _truncated(f"{app_label}_{model_state.name_lower}")


def m2m_table(table: str, name: str, field: models.Field) -> str | None:
    """
    The auto-created table of the many-to-many field ``name`` of the model
    whose table is ``table``, as ``ManyToManyField._get_m2m_db_table`` names
    it; None for an explicit ``through`` (its model's table).
    """
    if field.remote_field.through is not None:
        return None
    if field.db_table:
        return field.db_table
    return _truncated(f"{strip_quotes(table)}_{name}")


def _truncated(name: str) -> str:
    """``name`` cut to the default database's limit, as Django's state cuts it."""
    if len(name) <= _SHORTEST_LIMIT:
        return name  # The common case, read without asking the backend.
    return truncate_name(name, connection.ops.max_name_length())


# No supported vendor limits a name to fewer characters (PostgreSQL 63,
# MySQL 64, SQLite none).
_SHORTEST_LIMIT = 63


# PostgreSQL cuts a longer identifier to this many bytes (NAMEDATALEN - 1).
_POSTGRESQL_LENGTH = 63


def spelled(name: str, vendor: str) -> str:
    """
    ``name`` as ``vendor``'s database compares it to another name: SQLite
    and MySQL/MariaDB ignore case (MariaDB's tables too where
    ``lower_case_table_names`` is set: taken as set, so a clash is never
    missed), PostgreSQL cuts at 63 bytes; SQLite and PostgreSQL read a name
    Django was given quoted (``'"Legacy"'``) without its quotes.
    """
    if vendor == "mysql":
        return name.lower()
    name = strip_quotes(name)
    if vendor == "postgresql":
        return name.encode()[:_POSTGRESQL_LENGTH].decode(errors="ignore")
    return "".join(c.lower() if c.isascii() else c for c in name)
