"""
What a cleanup must do: the steps the catalogue emits (split/catalogue/)
and capture turns into SQL per vendor (capture/). Plain values: no SQL, no
schema editor.
"""

from __future__ import annotations

from django.db import models

from .keys import ModelKey


class LingeringColumn:
    """A column the contract removed from Django's state but not from its table."""

    def __init__(
        self,
        model: ModelKey,
        name: str,  # the field's name
        lingering: models.Field,  # the field as the contract left it in the database
    ) -> None:
        self.model = model
        self.name = name
        self.lingering = lingering


class LingeringTable:
    """
    A table the contract removed from Django's state but not from the
    database: a model's table, or (``m2m`` given) the auto-created table of
    that many-to-many field. ``fields``: the names of the model's fields
    where the contract deletes it (None: all the capture state has), as an
    earlier migration of the same run may have removed some (Django removes
    the relations of models that point at each other first), whose own
    cleanup drops their columns.
    """

    def __init__(
        self,
        model: ModelKey,
        lingering_fields: dict[str, models.Field] | None = None,
        options: dict | None = None,
        m2m: str | None = None,
        fields: list[str] | None = None,
    ) -> None:
        self.model = model
        self.lingering_fields = lingering_fields if lingering_fields is not None else {}
        self.options = options if options is not None else {}
        self.m2m = m2m
        self.fields = fields


class AlterColumn:
    """
    A column the contract left tolerant of the old release (a database
    default, or NULL allowed) that the cleanup brings to the model's shape:
    ``before`` as the contract left it, ``after`` as the model declares it,
    ``backfill`` a constant to fill NULLs with first, or ``backfill_call``
    the import path of a callable default called for each row (None: none).
    ``model_states`` are the states of the models the field joins, for a
    model that the capture state lacks (created in the same run).
    """

    adds_foreign_keys = False  # see AddForeignKeys

    def __init__(
        self,
        model: ModelKey,
        name: str,
        before: models.Field,
        after: models.Field,
        backfill: object = None,
        state_operations: list | None = None,
        model_states: dict | None = None,
        backfill_call: str | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.before = before
        self.after = after
        self.backfill = backfill
        self.backfill_call = backfill_call
        self.state_operations = state_operations if state_operations is not None else []
        self.model_states = model_states if model_states is not None else {}

    @property
    def sets_not_null(self) -> bool:
        return self.before.null and not self.after.null

    @property
    def fills(self) -> bool:
        """Whether a backfill (``FillColumn``) runs before the NOT NULL is set."""
        return self.backfill is not None or self.backfill_call is not None


class AddForeignKeys(AlterColumn):
    """
    A relation the contract added without its foreign-key constraint (the
    column's, or both of an auto-created M2M table's), which the cleanup
    adds: ``before`` is the field with ``db_constraint=False``, ``after`` as
    the model declares it. Nothing else of the column changes here.
    """

    adds_foreign_keys = True

    @property
    def sets_not_null(self) -> bool:
        return False
