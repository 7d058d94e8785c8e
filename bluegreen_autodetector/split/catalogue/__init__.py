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

from ... import lazy
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

# The rows of these modules are imported when an operation first needs one:
# most runs remove fields or models only, and an import costs.
_ROWS_OF = {
    "add_field": "additions",
    "create_model": "additions",
    "alter_field": "alterations",
    "refuse_rename": "alterations",
}


__getattr__ = lazy.attributes(__name__, __name__, _ROWS_OF)


def _row(name: str) -> Callable[[Operation, Walk], Split | None]:
    def row(operation: Operation, walk: Walk) -> Split | None:
        return __getattr__(name)(operation, walk)

    return row


CATALOGUE: dict[type[Operation], Callable[[Operation, Walk], Split | None]] = {
    operations.CreateModel: _row("create_model"),
    operations.RemoveField: remove_field,
    operations.DeleteModel: delete_model,
    operations.AddField: _row("add_field"),
    operations.AlterField: _row("alter_field"),
    operations.RenameField: _row("refuse_rename"),
    operations.RenameModel: _row("refuse_rename"),
    operations.AlterModelTable: _row("refuse_rename"),
}
