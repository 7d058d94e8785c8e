"""
PostgreSQL's statements as Django's schema editor writes them, and which of
them ``migrate`` runs in an online form, declared as data (the way
django-pg-zero-downtime-migrations declares its statement forms): read by
``makemigrations`` (``split/autocommit.py``: which migrations run outside a
transaction) and by ``migrate`` (``runtime/postgresql.py`` runs the forms).

- ``CREATE INDEX``: built ``CONCURRENTLY IF NOT EXISTS``;
- ``ADD CONSTRAINT ... FOREIGN KEY``: added ``NOT VALID``, then validated;
- ``SET NOT NULL``: a ``CHECK (column IS NOT NULL) NOT VALID``, validated,
  which ``SET NOT NULL`` uses instead of scanning the table;
- each ``Form`` below: the statement Django writes (a pattern), whether the
  constraint is there already (a probe: a migration stopped part-way runs
  again), and the steps that replace it, each with the lock it takes. A
  unique constraint (``unique=True``, ``unique_together``, a
  ``UniqueConstraint`` of fields): ``CREATE UNIQUE INDEX CONCURRENTLY``
  (``SHARE UPDATE EXCLUSIVE``: writes go on while it is built), then ``ALTER
  TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX`` (``ACCESS EXCLUSIVE``,
  but only for the catalog change: no scan); a conditional
  ``UniqueConstraint`` is a unique index only, built concurrently as any
  index. A check constraint: ``ADD CONSTRAINT ... NOT VALID`` (catalog only;
  new writes are checked from then on), then ``VALIDATE CONSTRAINT``
  (``SHARE UPDATE EXCLUSIVE``: it scans the table while writes go on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Patterns, not compiled ones: re compiles (and caches) each on first use,
# which most runs of makemigrations never come to.
NAME = r'(?:"[^"]+"|\w+)'
TABLE = rf"{NAME}(?:\.{NAME})?"
CREATE_INDEX = (
    rf"(?s)^CREATE (?P<unique>UNIQUE )?INDEX (?P<name>{NAME}) ON (?P<rest>.*)$"
)
ADD_FOREIGN_KEY = (
    rf"(?s)^ALTER TABLE (?P<table>{TABLE}) ADD CONSTRAINT "
    rf"(?P<name>{NAME}) FOREIGN KEY .*$"
)
SET_NOT_NULL = (
    rf"^ALTER TABLE (?P<table>{TABLE}) ALTER COLUMN "
    rf"(?P<column>{NAME}) SET NOT NULL$"
)

SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"  # writes go on
ACCESS_EXCLUSIVE_CATALOG = "ACCESS EXCLUSIVE, catalog only"  # no scan under it


@dataclass(frozen=True)
class Step:
    sql: str  # a template of the statement's named groups
    lock: str  # what it holds, for the reader (and the docs)
    # "index": build the index of the name concurrently, after dropping an
    # invalid one a failed try left; None: run as it is.
    kind: str | None = None


@dataclass(frozen=True)
class Form:
    what: str
    pattern: str  # Django's statement, stripped of its final ';'
    # The query that finds the constraint already there: (sql, groups for
    # its parameters). If it answers a row, no step runs.
    there: str
    steps: tuple[Step, ...]


_CONSTRAINT_THERE = (
    "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)"
)

FORMS = (
    Form(
        what="unique constraint",
        pattern=(
            rf"(?s)^ALTER TABLE (?P<table>{TABLE}) ADD CONSTRAINT (?P<name>{NAME}) "
            r"UNIQUE(?P<nulls> NULLS (?:NOT )?DISTINCT)? \((?P<columns>[^()]*)\)"
            r"(?P<deferrable> DEFERRABLE INITIALLY (?:DEFERRED|IMMEDIATE))?$"
        ),
        there=_CONSTRAINT_THERE,
        steps=(
            Step(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
                "({columns}){nulls}",
                SHARE_UPDATE_EXCLUSIVE,
                kind="index",
            ),
            Step(
                "ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX "
                "{name}{deferrable}",
                ACCESS_EXCLUSIVE_CATALOG,
            ),
        ),
    ),
    Form(
        what="check constraint",
        pattern=(
            rf"(?s)^ALTER TABLE (?P<table>{TABLE}) ADD CONSTRAINT (?P<name>{NAME}) "
            r"CHECK \((?P<check>.*)\)$"
        ),
        there=_CONSTRAINT_THERE,
        steps=(
            Step(
                "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check}) NOT VALID",
                ACCESS_EXCLUSIVE_CATALOG,
            ),
            Step(
                "ALTER TABLE {table} VALIDATE CONSTRAINT {name}",
                SHARE_UPDATE_EXCLUSIVE,
            ),
        ),
    ),
)


def unquote(name: str) -> str:
    return name[1:-1] if name[:1] == '"' else name


def has_online_form(statement: str) -> bool:
    """Whether ``migrate`` runs ``statement`` (as captured) in an online form."""
    statement = statement.strip().rstrip(";")
    return any(
        re.match(pattern, statement)
        for pattern in (
            CREATE_INDEX,
            ADD_FOREIGN_KEY,
            SET_NOT_NULL,
            *(form.pattern for form in FORMS),
        )
    )
