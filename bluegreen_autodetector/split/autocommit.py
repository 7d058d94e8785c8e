"""
Which migrations ``makemigrations`` writes ``atomic = False``: on PostgreSQL
the online forms ``migrate`` runs (``runtime/postgresql.py``) need
autocommit; in a transaction the first statement's lock would be held to
COMMIT. The statements that have one are declared in
``capture/postgresql.py``.
"""

from __future__ import annotations

from django.db.migrations import Migration, operations

from ..capture.postgresql import has_online_form
from ..operations import CleanupSQL, CopyColumn, database_operations


def needs_autocommit(migration: Migration, vendors: list[str]) -> bool:
    """
    Whether ``migration`` should be written ``atomic = False``: PostgreSQL is
    deployed on, and an operation builds an index of, validates a
    constraint on, or copies a column of (``CopyColumn``), a table that
    exists (one created by the same migration is empty and unused: its
    statements need no online form). A migration with
    ``RunPython`` or ``RunSQL`` of its author's stays atomic.
    """
    if "postgresql" not in vendors or not migration.atomic:
        return False
    created = {
        operation.name_lower
        for operation in migration.operations
        if isinstance(operation, operations.CreateModel)
    }
    online = False
    for operation in database_operations(migration.operations):
        if isinstance(operation, CleanupSQL):
            online = online or any(
                has_online_form(statement)
                for statement in operation.sql.get("postgresql", [])
            )
        elif isinstance(operation, (operations.RunPython, operations.RunSQL)):
            return False
        elif isinstance(operation, CopyColumn):
            # A rename's or retype's copy: in batches, each its own short
            # transaction, not one UPDATE holding the ADD COLUMN's lock.
            online = True
        elif isinstance(operation, operations.AddIndex):
            online = online or operation.model_name_lower not in created
        elif adds_constraint(operation):
            # A unique or check constraint on a table in use (its online form).
            online = online or _model_name(operation) not in created
        elif isinstance(operation, operations.AddField):
            field = operation.field
            indexed = field.db_index or field.unique or field.is_relation
            online = online or (indexed and operation.model_name_lower not in created)
    return online


def adds_constraint(operation) -> bool:
    """Whether a stock operation may add a unique or check constraint."""
    if isinstance(
        operation, (operations.AddConstraint, operations.AlterUniqueTogether)
    ):
        return True
    return (
        isinstance(operation, operations.AlterField)
        and operation.field.unique
        and not operation.field.primary_key
    )


def _model_name(operation) -> str:
    return getattr(operation, "model_name_lower", None) or operation.name_lower
