"""
Catalogue rows for additions: the old release's INSERTs and DELETEs must
still succeed once the new column, relation or model is in the database.
"""

from __future__ import annotations

from django.db import models
from django.db.migrations import operations
from django.db.migrations.state import ModelState
from django.db.migrations.utils import resolve_relation
from django.db.models.functions import Now
from django.utils import timezone

from ...cleanup_steps import AddForeignKeys, AlterColumn
from ...fields import deconstructed, from_deconstructed
from ...keys import ModelKey
from ...operations import FillColumn
from ...verifier.shape import database_on_delete
from .shapes import (
    callable_name,
    callable_path,
    check_default,
    filled_db_default,
    has_auto_through,
    has_column,
    is_constant,
    unconstrained,
)
from .split import Split, Walk, taken_over_table


def add_field(operation: operations.AddField, walk: Walk) -> Split | None:
    """
    AddField that the old release cannot live with, in one or both ways:

    - NOT NULL without a database default (rows "AddField NOT NULL"): the
      old release's INSERTs omit the column. The contract adds it keeping its
      default in the database (a constant or the one-off default typed at the
      prompt; Now() for timezone.now and auto_now; "" where Django fills
      blank strings), or nullable when the default has no database
      equivalent (then each existing row gets its own value of a callable
      default, ``FillColumn``); the cleanup drops that default, or fills
      the NULLs the old release wrote and sets NOT NULL.
    - a relation to a table the old release deletes from (row "AddField or
      CreateModel of a relation"): its constraint would reject those
      deletes, which the old release's Python on_delete cannot honour. The
      contract adds it with ``db_constraint=False``; the cleanup adds the
      constraint(s).
    - a relation whose column the old release's INSERTs leave to a database
      default (kept from a one-off default, or ``db_default``): the default
      names a row that may not exist (a table created by this migration is
      empty), and the constraint would reject every such INSERT. The
      constraint waits for the cleanup too, which stops, naming the rows,
      while they name no row; the user is told to create it.

    Until the cleanup, Django's state says what the database holds, so that
    a later rebuild of the table on SQLite keeps it; the cleanup's state
    operation brings the state to the model.
    """
    field = operation.field
    key = walk.key(operation.model_name)
    model_state = walk.state.models.get(key)
    if model_state is not None and not model_state.options.get("managed", True):
        return None  # Django changes no table of an unmanaged model.
    kept = _kept_default(operation, walk)
    deferred = _defers_constraint(field, walk, key)
    defaulted = _default_names_a_row(operation, walk, kept)
    if kept is None and not deferred and defaulted is None:
        return None
    tolerant = deconstructed(field)
    split = Split()
    if defaulted is not None:
        deferred = True
        split.warnings.append(defaulted)
    call = None
    if kept is not None:
        changes, warning = kept
        call = changes.pop("call", None)
        tolerant.update(changes)
        split.warnings += [warning] if warning else []
    if call is not None:
        # Added without it: Django's AddField would give every existing row
        # one value of the default, evaluated once (one UUID for all).
        tolerant.pop("default", None)
    if deferred:
        tolerant["db_constraint"] = False
    tolerant_field = from_deconstructed(tolerant)
    split.contract_database.append(
        operations.AddField(
            model_name=operation.model_name,
            name=operation.name,
            field=tolerant_field,
            preserve_default=operation.preserve_default,
        )
    )
    if call is not None:
        # Each existing row its own value, in batches (backfill.py).
        split.contract_database.append(
            FillColumn(
                model_name=operation.model_name_lower,
                name=operation.name,
                call=call,
                hints={"model_name": operation.model_name_lower},
            )
        )
    finish = operations.AlterField(
        model_name=operation.model_name,
        name=operation.name,
        field=field,
        preserve_default=operation.preserve_default,
    )
    if kept is not None:
        # With a constraint to add as well, the last step finishes the state.
        split.cleanup.append(
            AlterColumn(
                key,
                operation.name,
                tolerant_field,
                field,
                state_operations=[] if deferred else [finish],
                model_states=walk.joined_states(key, field),
                backfill_call=call,
            )
        )
    if deferred:
        split.cleanup.append(
            AddForeignKeys(
                key,
                operation.name,
                tolerant_field,
                field,
                state_operations=[finish],
                model_states=walk.joined_states(key, field),
            )
        )
    return split


def create_model(operation: operations.CreateModel, walk: Walk) -> Split | None:
    """
    CreateModel with a relation (ForeignKey, OneToOneField, parent link,
    M2M table) to a model the old release uses: the old release deletes
    rows that the new model's rows point at, and its Python on_delete does
    not know the relation, so the constraint would reject the delete.

    Contract: the model, with those relations' constraints left out
    (``db_constraint=False``). Cleanup: add the constraints, bringing the
    state to the model.
    """
    if operation.options.get("proxy") or not operation.options.get("managed", True):
        return None
    key = walk.key(operation.name)
    fields = dict(operation.fields)
    if taken_over_table(walk, operation.name, operation.options, fields, refuse=False):
        # The table is there: the new model takes it over in Python only.
        return Split(
            contract_database=[
                operations.SeparateDatabaseAndState(state_operations=[operation])
            ]
        )
    deferred = [
        name for name, field in fields.items() if _defers_constraint(field, walk, key)
    ]
    if not deferred:
        return None
    tolerant = {
        name: unconstrained(field) if name in deferred else field
        for name, field in fields.items()
    }
    contract = operations.CreateModel(
        operation.name,
        list(tolerant.items()),
        options=operation.options,
        bases=operation.bases,
        managers=operation.managers,
    )
    split = Split(contract_database=[contract])
    created = ModelState(
        walk.app_label, operation.name, list(tolerant.items()), dict(operation.options)
    )
    for name in deferred:
        finish = operations.AlterField(
            model_name=operation.name_lower, name=name, field=fields[name]
        )
        split.cleanup.append(
            AddForeignKeys(
                key,
                name,
                tolerant[name],
                fields[name],
                state_operations=[finish],
                model_states={**walk.joined_states(key, fields[name]), key: created},
            )
        )
    return split


def _kept_default(
    operation: operations.AddField, walk: Walk
) -> tuple[dict, str | None] | None:
    """
    For a NOT NULL column of an existing table, which the old release's
    INSERTs omit: how the contract adds it instead (``db_default`` or
    ``null``; with ``call``, the import path of the callable default that
    fills each row) and what to tell the user. None: the old release's
    INSERTs need nothing.
    """
    field = operation.field
    how = None if operation.model_name_lower in walk.created_models else _fill(field)
    if how in (None, "asked"):
        return None
    model_name = walk.model_state(operation.model_name).name
    where = f"{walk.app_label}.{model_name}.{operation.name}"
    if how == "filled":
        filled = filled_db_default(field)
        # No explicit default, yet Django fills existing rows ("" for blank
        # strings, the time for auto_now): the old release's rows get it too.
        warning = None
        if not isinstance(filled, (str, bytes)):
            warning = (
                f"{where}: the current time that Django fills in (auto_now) is "
                f"kept in the database as {filled} until the cleanup, for the "
                f"old release's INSERTs."
            )
        return {"db_default": filled}, warning
    check_default(field, where)
    if how == "one-to-one":
        # A one-to-one: the old release's second INSERT would repeat a
        # database default. NULLs repeat in a unique column on every vendor.
        return {"null": True}, (
            f"{where}: a one-to-one cannot keep its default {field.default!r} in "
            f"the database for the old release's INSERTs (their second row would "
            f"repeat it), so the column is added nullable now and set NOT NULL by "
            f"the cleanup. Rows the old release inserts meanwhile hold NULL: "
            f"backfill them before the cleanup runs (it stops on NULLs)."
        )
    if how == "constant":
        return {"db_default": field.default}, None
    if how == "now":
        return {"db_default": Now()}, (
            f"{where}: default timezone.now is kept in the database as Now() "
            f"until the cleanup, for the old release's INSERTs."
        )
    call = callable_path(field.default, where)
    return {"null": True, "call": call}, (
        f"{where}: default {callable_name(field.default)} has no database "
        f"equivalent, so the column is added nullable now, each existing row "
        f"filled with its own call of {call}() (in batches). Rows the old "
        f"release inserts meanwhile hold NULL until the cleanup fills them the "
        f"same way and sets NOT NULL."
    )


def _default_names_a_row(
    operation: operations.AddField, walk: Walk, kept: tuple[dict, str | None] | None
) -> str | None:
    """
    For a relation added to a table the old release uses, whose column the
    contract fills with a value (its existing rows get the constant or
    one-off default; the old release's INSERTs get a database default, kept
    or its own ``db_default``): what to tell the user, its constraint
    waiting for the cleanup. That value must name a row of the target; a
    table created by this migration has none, and an existing one may lack
    it. None: the contract fills nothing (nullable, a callable default).
    """
    field = operation.field
    if (
        operation.model_name_lower in walk.created_models
        or not has_column(field)
        or not field.is_relation
        or not field.db_constraint
    ):
        return None
    if kept is not None and "db_default" in kept[0]:
        default, inserts = kept[0]["db_default"], True
    elif field.has_db_default():
        default, inserts = field.db_default, True
    elif is_constant(field):
        default, inserts = field.default, False  # Existing rows only.
    else:
        return None
    model_name = walk.model_state(operation.model_name).name
    target = resolve_relation(field.remote_field.model, walk.app_label, model_name)
    target_state = walk.state.models.get(target)
    target_name = (
        f"{target[0]}.{target_state.name}" if target_state else ".".join(target)
    )
    value = getattr(default, "value", default)  # Value(1) as db_default=1
    if value is None:
        return None  # NULL names no row.
    new = target[0] == walk.app_label and target[1] in walk.created_models
    return (
        f"{walk.app_label}.{model_name}.{operation.name}: "
        + (
            f"the old release's INSERTs leave it to its database default {value!r}"
            if inserts
            else f"its existing rows get the default {value!r}"
        )
        + f", which must name a row of {target_name}"
        + (", a model this migration creates (its table is empty)" if new else "")
        + ": its foreign-key constraint waits for the cleanup"
        + (
            f" (meanwhile the database does not apply its on_delete="
            f"DB_{action.replace(' ', '_')}: rows naming a row the old release "
            f"deletes are left as they are)"
            if (action := database_on_delete(field))
            else ""
        )
        + ". Create that row (a data migration) before the cleanup runs: it "
        "stops, naming the rows, while any names a row that does not exist."
    )


def _defers_constraint(field: models.Field, walk: Walk, source: ModelKey) -> bool:
    """
    Whether ``field``, added to model ``source``, brings a foreign-key
    constraint onto the table of a model the old release uses, i.e. one that
    exists before this makemigrations run (the old release knows no model
    created by it, in any app). An auto-created M2M table points at both
    models.
    """
    if not field.is_relation or not (has_column(field) or has_auto_through(field)):
        return False  # No constraint of Django's (a GenericRelation, say).
    # An M2M field keeps db_constraint on its relation, for both its FKs.
    if not (
        field.remote_field.db_constraint if field.many_to_many else field.db_constraint
    ):
        return False
    if not field.many_to_many and database_on_delete(field):
        # Django 6.1's DB_CASCADE, DB_SET_NULL...: the constraint is what the
        # relation does on delete, the old release's deletes included (they
        # know nothing of the rows, and the database acts on them).
        return False
    ends = [resolve_relation(field.remote_field.model, *source)]
    if field.many_to_many:
        ends.append(source)
    return not all(walk.is_new(end) for end in ends)


def fills_each_row(field: models.Field) -> bool:
    """
    Whether ``AddField`` of ``field`` to an existing table gives each row its
    own call of the field's callable default (``FillColumn``): the last
    branch of ``_kept_default``. Django's warning that such a unique field
    "will not generate unique values upon migrating" does not hold then.
    """
    return _fill(field) == "each row"


def _fill(field: models.Field) -> str | None:
    """
    How ``AddField`` of NOT NULL ``field`` to an existing table fills the
    column for the old release's INSERTs, which omit it (``_kept_default``
    acts on it): None, they need nothing (nullable, a ``db_default``, no
    column); "filled", a value Django fills in itself ("" for blank strings,
    the time for auto_now); "asked", Django asked for a one-off default (or
    its dry run's questioner gave None); "one-to-one", a unique relation,
    whose default a second INSERT would repeat; "constant"; "now"
    (``timezone.now``); "each row", a callable called once per row.
    """
    if (
        field.null
        or field.has_db_default()
        or not has_column(field)
        or field.generated
    ):
        return None
    if filled_db_default(field) is not None:
        return "filled"
    if not field.has_default() or field.default is None:
        return "asked"
    if field.unique and field.is_relation:
        return "one-to-one"
    if is_constant(field):
        return "constant"
    if field.default is timezone.now and isinstance(field, models.DateTimeField):
        return "now"
    return "each row"
