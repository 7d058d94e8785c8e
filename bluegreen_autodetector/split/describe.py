"""
What ``makemigrations`` says of a split: each operation of a contract
migration, in Django's own style (``- Remove field rating from product``),
followed by what it means for each release (``(state only; PR 2 drops the
column)``). Only the lines printed change, and an empty contract's file
gains a comment saying why it is empty; the rest is Django's writer's.
"""

from __future__ import annotations

import re

from django.db.migrations import Migration, operations

from ..operations import RunAlterSQL, RunCleanupSQL, RunSyncSQL


def describe_contract(contract: Migration, cleanup: Migration | None) -> None:
    """
    Give each operation of ``contract`` whose meaning the split changed a
    ``formatted_description`` (what Django's makemigrations prints) saying
    what it does now and what its ``cleanup`` does in the next release.
    The operation's deconstruction, hence the file, is untouched. Without
    a cleanup, only its state-only steps are described.
    """
    finished = _finished_by(cleanup) if cleanup else {}
    dropped_tables = _dropped_tables(cleanup) if cleanup else {}
    # A removed many-to-many field's contract alters it first (its table's
    # constraints go): its own db_table, or None for Django's name of it.
    m2m_tables = {
        (operation.model_name_lower, operation.name_lower): operation.field.db_table
        for operation in contract.operations
        if isinstance(operation, operations.AlterField) and operation.field.many_to_many
    }
    removed, deleted = set(), set()
    for operation in contract.operations:
        if _state_only(operation):
            for step in operation.state_operations:
                if isinstance(step, operations.RemoveField):
                    removed.add((step.model_name_lower, step.name_lower))
                elif isinstance(step, operations.DeleteModel):
                    deleted.add(step.name_lower)
    for operation in contract.operations:
        if "formatted_description" in vars(operation):
            continue  # described already (--update relinks several cleanups)
        if _state_only(operation):
            text = "\n    ".join(
                _state_step(step, dropped_tables, m2m_tables)
                for step in operation.state_operations
            )
        elif (text := _synchronised(operation)) is not None:
            pass
        elif isinstance(operation, operations.AlterField | operations.AddField):
            key = (operation.model_name_lower, operation.name_lower)
            if key in finished:
                text = f"{operation.formatted_description()} ({finished[key]})"
            elif key in removed:
                text = (
                    f"{operation.formatted_description()} (so both releases "
                    f"work with the column; PR 2 drops it)"
                )
            elif operation.model_name_lower in deleted:
                text = (
                    f"{operation.formatted_description()} (so both releases "
                    f"work with the table; PR 2 drops it)"
                )
            else:
                continue
        else:
            continue
        operation.formatted_description = _constant(text)


def empty_contract_line(contract: Migration) -> str | None:
    """What a contract with no operation does now, or None if it has some."""
    if contract.operations:
        return None
    return (
        "nothing changes now: the release still serving may write what the "
        "model no longer allows; PR 2 makes the change"
    )


EMPTY_CONTRACT_COMMENT = """\
    # Empty on purpose: the database stays as it is while the release still
    # serving may write what the new model no longer allows (NULL, say). The
    # cleanup {cleanup} makes the change in the next release.
"""


def explain_empty_contract(text: str, migration: Migration, marker: str) -> str:
    """
    ``text``, a migration file: a contract (``marker``, its cleanup's name,
    set on ``migration``) with no operation says why in a comment above its
    ``operations = []`` (once); any other migration's text is unchanged.
    """
    cleanup = getattr(migration, marker, None)
    if not cleanup or migration.operations or "# Empty on purpose" in text:
        return text
    return re.sub(
        r"^    operations = \[\s*\]$",
        lambda match: EMPTY_CONTRACT_COMMENT.format(cleanup=cleanup) + match.group(0),
        text,
        count=1,
        flags=re.MULTILINE,
    )


def _state_only(operation) -> bool:
    return (
        isinstance(operation, operations.SeparateDatabaseAndState)
        and not operation.database_operations
    )


def _synchronised(operation) -> str | None:
    """
    What a rename's or a retype's contract step does (Django would print
    "Custom state/database change combination"): a second column kept equal
    to the old one by triggers during the overlap. None for other operations.
    """
    if not isinstance(operation, operations.SeparateDatabaseAndState):
        return None
    sync = next(
        (
            step
            for step in operation.database_operations
            if isinstance(step, RunSyncSQL)
        ),
        None,
    )
    if sync is None:
        return None
    for step in operation.state_operations:
        if isinstance(step, operations.RenameField):
            return (
                f"{step.formatted_description()} (column {sync.source} becomes "
                f"{sync.column}, both kept equal while both releases run; PR 2 "
                f"drops {sync.source})"
            )
    from .catalogue.retypes import RETYPED_SUFFIX

    retyped = any(
        isinstance(step, operations.AddField) and step.name.endswith(RETYPED_SUFFIX)
        for step in operation.database_operations
    )
    for step in operation.state_operations:
        if isinstance(step, operations.AlterField) and not retyped:
            return (
                f"{step.formatted_description()} (column {sync.source} becomes "
                f"{sync.column}, both kept equal while both releases run; PR 2 "
                f"drops {sync.source})"
            )
        if isinstance(step, operations.AlterField):
            return (
                f"{step.formatted_description()} (a second column {sync.column} "
                f"of the new type, kept equal to {sync.source} while both releases "
                f"run; PR 2 drops {sync.source} and renames {sync.column} to it)"
            )
    return None


def _state_step(step, dropped_tables: dict[str, list[str]], m2m_tables: dict) -> str:
    if isinstance(step, operations.RemoveField):
        key = (step.model_name_lower, step.name_lower)
        dropped = dropped_tables.get(step.model_name_lower, ())
        table = m2m_tables.get(key)
        if table not in dropped:
            table = next(
                (table for table in dropped if table.endswith(f"_{step.name_lower}")),
                None,
            )
        if table:
            what = f"its table {table}"
        elif key in m2m_tables:
            what = "its table"  # A name Django truncated.
        else:
            what = "the column"
        return (
            f"- Remove field {step.name} from {step.model_name} "
            f"(state only; PR 2 drops {what})"
        )
    if isinstance(step, operations.DeleteModel):
        return f"- Delete model {step.name} (state only; PR 2 drops the table)"
    return f"{step.formatted_description()} (state only)"


def _dropped_tables(cleanup: Migration) -> dict[str, list[str]]:
    """The tables the cleanup drops, by the model (lower-case) they belong to."""
    tables: dict[str, list[str]] = {}
    for operation in cleanup.operations:
        if isinstance(operation, RunCleanupSQL) and operation.column is None:
            model = operation.hints.get("model_name")
            tables.setdefault(model, []).append(operation.table)
    return tables


def _finished_by(cleanup: Migration) -> dict[tuple[str, str], str]:
    """(model, field) -> what the cleanup's step finishing that field does."""
    finished = {}
    for operation in cleanup.operations:
        if not isinstance(operation, RunAlterSQL):
            continue
        if operation.foreign_keys:
            meaning = "no foreign-key constraint yet; PR 2 adds it"
        elif operation.not_null:
            meaning = "nullable for the old release; PR 2 sets NOT NULL"
        else:
            meaning = "with a database default for the old release; PR 2 drops it"
        for step in operation.state_operations or ():
            if hasattr(step, "model_name_lower") and hasattr(step, "name_lower"):
                finished[step.model_name_lower, step.name_lower] = meaning
    return finished


def _constant(text: str):
    return lambda: text
