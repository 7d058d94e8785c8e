"""
The catalogue: which operations break the release still serving, and how
each is split. One function per row of README's catalogue table, in one
module per kind of change: ``removals``, ``additions``, ``alterations``.

A row receives the operation and the ``Walk`` (Django's state just before
the operation) and returns a ``Split``, or ``None`` to let the operation
through unchanged. Rows decide what the state and the database become; they
never run SQL. The SQL of the cleanup is captured later (``capture.py``)
from what the rows describe.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.migrations import operations
from django.db.migrations.operations.base import Operation

from .additions import add_field, create_model
from .alterations import alter_field, refuse_rename
from .removals import delete_model, remove_field
from .shapes import lingering_field
from .split import Refused, Split, Walk

__all__ = [
    "CATALOGUE",
    "Refused",
    "Split",
    "Walk",
    "add_field",
    "alter_field",
    "create_model",
    "delete_model",
    "lingering_field",
    "refuse_rename",
    "remove_field",
]

CATALOGUE: dict[type[Operation], Callable[[Operation, Walk], Split | None]] = {
    operations.CreateModel: create_model,
    operations.RemoveField: remove_field,
    operations.DeleteModel: delete_model,
    operations.AddField: add_field,
    operations.AlterField: alter_field,
    operations.RenameField: refuse_rename,
    operations.RenameModel: refuse_rename,
    operations.AlterModelTable: refuse_rename,
}
