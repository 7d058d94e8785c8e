"""
PostgreSQL's online forms of the statements that add a constraint, declared
as data and read in one place (``steps``), the way
django-pg-zero-downtime-migrations declares its statement forms.

Each ``Form`` is the statement Django writes (a pattern), whether the
constraint is there already (a probe: a migration stopped part-way runs
again), and the steps that replace it, each with the lock it takes:

- a unique constraint (``unique=True``, ``unique_together``, a
  ``UniqueConstraint`` of fields): ``CREATE UNIQUE INDEX CONCURRENTLY``
  (``SHARE UPDATE EXCLUSIVE``: writes go on while it is built), then ``ALTER
  TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX`` (``ACCESS EXCLUSIVE``,
  but only for the catalog change: no scan). A conditional
  ``UniqueConstraint`` is a unique index only, which ``online.py`` already
  builds concurrently;
- a check constraint: ``ADD CONSTRAINT ... NOT VALID`` (catalog only; new
  writes are checked from then on), then ``VALIDATE CONSTRAINT`` (``SHARE
  UPDATE EXCLUSIVE``: it scans the table while writes go on).

These run only where the migration runs outside a transaction (``atomic =
False``, see ``online.needs_autocommit``); in a transaction the first lock
would be held to COMMIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .online import create_concurrently

# Patterns, not compiled ones: most runs of makemigrations never use them.
_NAME = r'(?:"[^"]+"|\w+)'
_TABLE = rf"{_NAME}(?:\.{_NAME})?"

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
            rf"(?s)^ALTER TABLE (?P<table>{_TABLE}) ADD CONSTRAINT (?P<name>{_NAME}) "
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
            rf"(?s)^ALTER TABLE (?P<table>{_TABLE}) ADD CONSTRAINT (?P<name>{_NAME}) "
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


def _unquote(name: str) -> str:
    return name[1:-1] if name[:1] == '"' else name


def matches(statement: str) -> bool:
    """Whether ``statement`` has an online form here."""
    return any(re.match(form.pattern, statement) for form in FORMS)


def steps(editor, statement: str) -> list | None:
    """
    What runs for ``statement``, in ``online.py``'s terms: (sql, params) to
    execute, or a callable given the function that executes those; None
    when no form here matches.
    """
    for form in FORMS:
        match = re.match(form.pattern, statement)
        if match is None:
            continue
        groups = {key: value or "" for key, value in match.groupdict().items()}
        if not editor.collect_sql and _there(editor.connection, form, groups):
            return []
        return [_step(editor, step, groups) for step in form.steps]
    return None


def _there(connection, form: Form, groups: dict) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(form.there, [_unquote(groups["name"]), groups["table"]])
        return cursor.fetchone() is not None


def _step(editor, step: Step, groups: dict):
    sql = step.sql.format(**groups)
    if step.kind != "index" or editor.collect_sql:
        return (sql, ())
    return create_concurrently(editor, groups["name"], sql)
