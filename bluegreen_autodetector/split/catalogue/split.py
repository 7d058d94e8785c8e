"""What a catalogue row receives (``Walk``) and returns (``Split``), or raises."""

from __future__ import annotations

from django.db import models
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.migrations.utils import resolve_relation

from .shapes import same_columns


class Split:
    """How one operation becomes a contract (now) and a cleanup (next release)."""

    def __init__(
        self,
        contract_database: list[Operation] | None = None,
        contract_state: list[Operation] | None = None,
        cleanup: list | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        # Run on the database and the state, before any state-only removal.
        self.contract_database = (
            contract_database if contract_database is not None else []
        )
        # Run on the state only (inside SeparateDatabaseAndState), at the end.
        self.contract_state = contract_state if contract_state is not None else []
        # What the cleanup migration drops or finishes, in this order.
        self.cleanup = cleanup if cleanup is not None else []
        # Said to the user by makemigrations.
        self.warnings = warnings if warnings is not None else []


class Refused(Exception):
    """An operation no split makes safe: the message gives the safe recipe."""


class Walk:
    """Django's state as the operations of one migration are walked through."""

    def __init__(
        self,
        app_label: str,
        state: ProjectState,
        deleted_models: set[str],
        created_models: set[str] | None = None,
        created_in_run: set[tuple[str, str]] | None = None,
        renamed_models: set[str] | None = None,
    ) -> None:
        self.app_label = app_label
        # Lower-case names, old and new, of the models renamed here.
        self.renamed_models = renamed_models if renamed_models is not None else set()
        self.state = state
        self.deleted_models = deleted_models  # lower-case names deleted ...
        self.created_models = (
            created_models if created_models is not None else set()
        )  # ... and created here
        # The models, by key, created by this makemigrations run in any app
        # (none of them a model taking over a table): the old release knows
        # none of them.
        self.created_in_run = (
            created_in_run
            if created_in_run is not None
            else {(app_label, name) for name in self.created_models}
        )
        # Fields already removed from the state of a model this migration
        # deletes: their columns linger with the table until the cleanup.
        self.absorbed: dict[str, dict[str, models.Field]] = {}

    def is_new(self, key: tuple[str, str]) -> bool:
        """Whether model ``key`` is created by this run: no old release has it."""
        return key in self.created_in_run

    def model_state(self, model_name: str):
        return self.state.models[self.key(model_name)]

    def key(self, model_name: str) -> tuple[str, str]:
        return self.app_label, model_name.lower()

    def table_taken_over(self, model_name: str, options: dict):
        """
        The state of the model that this migration creates or deletes beside
        model ``model_name`` (with ``options``) on the same table, or None: a
        RenameModel keeping its db_table, as ``--noinput`` writes it
        (CreateModel + DeleteModel).
        """
        this = model_name.lower()
        table = options.get("db_table") or f"{self.app_label}_{this}"
        # Only the models this migration creates or deletes can: never a
        # search of the whole project per deleted model.
        for name in sorted((self.created_models | self.deleted_models) - {this}):
            other = self.state.models.get((self.app_label, name))
            if (
                other is not None
                and (other.options.get("db_table") or f"{self.app_label}_{name}")
                == table
            ):
                return other
        return None

    def joined_states(self, source: tuple[str, str], field: models.Field) -> dict:
        """
        The states capture renders ``field`` of model ``source`` with: the
        model and (a relation) the one it points at, as this migration finds
        them (either may be created earlier in the same run, which the
        capture state lacks).
        """
        keys = [source]
        if field.is_relation and field.remote_field.model is not None:
            keys.append(resolve_relation(field.remote_field.model, *source))
        return {key: self.state.models[key] for key in keys if key in self.state.models}


def taken_over_table(
    walk: Walk, model_name: str, options: dict, fields: dict, refuse: bool = True
) -> bool:
    """
    Whether model ``model_name`` (``options``, ``fields``) hands its table
    to, or takes it from, a model deleted or created beside it (a rename
    keeping db_table, under ``--noinput``), both declaring the same columns.
    With different columns the database would get neither model's: refused
    (``refuse``; the DeleteModel's row says it, once) or False.
    """
    other = walk.table_taken_over(model_name, options)
    if other is None:
        return False
    if not same_columns(fields, dict(other.fields)):
        if not refuse:
            return False
        raise Refused(
            f"{walk.app_label}: models {model_name!r} and {other.name!r} share the "
            f"table {options.get('db_table') or other.options.get('db_table')!r} "
            f"(a rename keeping db_table) with different fields. Rename the model "
            f"in one release, keeping its fields, and change the fields in the "
            f"next."
        )
    return True
