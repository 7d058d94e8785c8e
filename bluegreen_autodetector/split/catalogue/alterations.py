"""Catalogue rows for alterations and renames of what both releases use."""

from __future__ import annotations

from django.db import models
from django.db.migrations import operations
from django.db.migrations.operations.base import Operation
from django.db.migrations.utils import resolve_relation

from ... import names
from ...cleanup_steps import AlterColumn
from ...fields import deconstructed, from_deconstructed, rebuild
from .shapes import (
    callable_path,
    check_default,
    column_named,
    filled_db_default,
    has_column,
    is_constant,
)
from .split import Refused, Split, Walk


def alter_field(operation: operations.AlterField, walk: Walk) -> Split | None:
    """
    AlterField null=True -> null=False: the NOT NULL waits for the cleanup
    (the old release may still write NULL), which fills the NULLs in
    batches (a constant default, or a callable one called for each row:
    ``FillColumn``), checks no NULL is left, and sets NOT NULL. Other changes of the
    field made with it pass through now, the column staying nullable.

    A changed db_column is a rename of the column (``renames.py``); other
    risky changes pass through with a warning.
    """
    old = walk.model_state(operation.model_name).fields[operation.name]
    new = operation.field
    model = f"{walk.app_label}.{operation.model_name}"
    # The columns, not the arguments: db_column naming the column the
    # field already has is the rename recipe itself.
    old_column = column_named(operation.name, old)
    new_column = column_named(operation.name, new)
    if old_column != new_column and old_column is not None and new_column is not None:
        # Imported here: most runs rename nothing.
        from .renames import change_column

        return change_column(operation, walk, old)
    if old_column != new_column:
        raise Refused(
            f"{model}.{operation.name}: its column changes from {old_column!r} "
            f"to {new_column!r}; one release would miss the column. Keep "
            f"db_column={old_column!r} (rename in Python only), or add the new "
            f"column, copy, switch, and remove the old one across releases."
        )
    if old.many_to_many and new.many_to_many:
        table = names.model_table(
            walk.app_label, walk.model_state(operation.model_name)
        )
        old_table = names.m2m_table(table, operation.name, old)
        new_table = names.m2m_table(table, operation.name, new)
        if old_table and new_table and old_table != new_table:
            return _rename_m2m_table(operation, walk, old, old_table, new_table)
    before, after = deconstructed(old), deconstructed(new)
    for kwargs in (before, after):
        kwargs.pop("null", None)
        kwargs.pop("default", None)
    if old.has_db_default() and not new.has_db_default() and not new.null:
        before.pop("db_default")
        if before == after and old.null == new.null:
            return _keep_database_default(operation, walk, old, new)
    # null means nothing to a field without a column (an M2M field).
    if old.null and not new.null and has_column(new):
        return _set_not_null_later(operation, walk, old, new, alone=before == after)
    # Imported here: most runs change no type.
    from .retypes import changes_type_only

    if changes_type_only(old, new) and has_column(new):
        from .retypes import retype

        return retype(operation, walk, old)
    risks = _risks(old, new)
    if not risks:
        return None
    return Split(
        contract_database=[operation],
        warnings=[f"{model}.{operation.name}: {risk}" for risk in risks],
    )


def _rename_m2m_table(operation, walk: Walk, old, old_table, new_table) -> Split:
    """
    A many-to-many field's own ``db_table`` changed: a table rename, its old
    name kept by a view until the cleanup (``tables.py``), as when the field
    is renamed. Alone: with another change of the field, refused.
    """
    from .renames import refuse_unless_alone
    from .tables import NoView, rename_table

    refuse_unless_alone(
        operation,
        walk,
        old,
        "db_table",
        f"its table changes from {old_table!r} to {new_table!r} together",
    )

    try:
        split = rename_table(operation, walk)
    except NoView as error:
        raise Refused(
            f"{walk.app_label}.{operation.model_name}.{operation.name}: its table "
            f"changes from {old_table!r} to {new_table!r}, and {error}. Keep "
            f"db_table={old_table!r}."
        ) from None
    assert split is not None  # The table's name changes.
    return split


def _keep_database_default(operation, walk: Walk, old, new) -> Split:
    """
    db_default dropped from a NOT NULL field (a Python ``default`` instead):
    the old release leaves the value to the database. Contract: the new
    field, keeping the database default. Cleanup: drop it.
    """
    kwargs = deconstructed(new)
    kwargs["db_default"] = old.db_default
    kept = rebuild(*kwargs.pop("__path_args__"), kwargs)
    split = Split(
        contract_database=[
            operations.AlterField(
                model_name=operation.model_name, name=operation.name, field=kept
            )
        ]
    )
    split.cleanup.append(
        AlterColumn(
            walk.key(operation.model_name),
            operation.name,
            kept,
            new,
            state_operations=[operation],
        )
    )
    split.warnings.append(
        f"{walk.app_label}.{operation.model_name}.{operation.name}: its database "
        f"default is kept until the cleanup drops it, for the old release's "
        f"INSERTs, which leave the value to the database."
    )
    return split


def _set_not_null_later(operation, walk: Walk, old, new, alone: bool) -> Split:
    """
    The NOT NULL part of ``operation`` goes to the cleanup; with other
    changes (not ``alone``), the contract makes them, keeping NULL allowed.
    """
    model = f"{walk.app_label}.{operation.model_name}"
    check_default(new, f"{model}.{operation.name}")
    split = Split()
    tolerant = old
    if not alone:
        kwargs = deconstructed(new)
        kwargs["null"] = True
        if not operation.preserve_default:
            kwargs.pop("default", None)  # A one-off default: the backfill's.
        tolerant = from_deconstructed(kwargs)
        split.contract_database.append(
            operations.AlterField(
                model_name=operation.model_name, name=operation.name, field=tolerant
            )
        )
        split.warnings += [
            f"{model}.{operation.name}: {risk}" for risk in _risks(old, tolerant)
        ]
    key = walk.key(operation.model_name)
    constant, call = _fill_value(new, f"{model}.{operation.name}")
    split.cleanup.append(
        AlterColumn(
            key,
            operation.name,
            tolerant,
            new,
            backfill=constant,
            backfill_call=call,
            state_operations=[operation],
            model_states=walk.joined_states(key, new),
        )
    )
    if call is not None:
        fills = f"each row with its own call of {call}()"
    elif constant is not None:
        fills = f"with the default {constant!r}"
    split.warnings.append(
        f"{model}.{operation.name}: NOT NULL is set by the cleanup; the old "
        f"release may write NULL until then. "
        + (
            f"The cleanup first fills NULLs {fills}, in batches."
            if call is not None or constant is not None
            else "It has no default to fill NULLs with. Backfill NULLs before the "
            "cleanup runs (it stops on NULLs), or give the field a default."
        )
    )
    return split


def _fill_value(field: models.Field, where: str) -> tuple[object, str | None]:
    """
    What the cleanup fills the NULLs of ``field`` with before setting NOT
    NULL: (a constant, None), or (None, the import path of a callable called
    for each row), or (None, None) when there is nothing to fill with. No
    explicit default: what Django's schema editor fills (``""`` for a blank
    string, the time for ``auto_now``).
    """
    if is_constant(field):
        return field.default, None
    if field.has_default() and callable(field.default):
        return None, callable_path(field.default, where)
    filled = filled_db_default(field)
    if isinstance(filled, (str, bytes)):
        return filled, None
    if filled is not None:  # Now(), for auto_now: the time of each fill.
        return None, "django.utils.timezone.now"
    return None, None


def _risks(old: models.Field, new: models.Field) -> list[str]:
    """
    What the contract's lock may cost. What the old release's writes may
    meet (a narrower type, a new unique) is the verifier's to say: it judges
    the database the migration leaves, however Django declares the change.
    """
    old_path, new_path = old.deconstruct()[1], new.deconstruct()[1]
    if old_path == new_path:
        return []
    return [
        f"type changes ({old_path.rsplit('.', 1)[-1]} -> "
        f"{new_path.rsplit('.', 1)[-1]}): the table may be rewritten under lock."
    ]


def refuse_rename(operation: Operation, walk: Walk) -> Split | None:
    """
    RenameField, RenameModel, AlterModelTable: refused, with the safe recipe,
    naming the column or table as Django's state has it (a foreign key's
    ``author_id``, a many-to-many field's table, a model's own db_table).
    A concrete column's rename is split (``renames.py``), and so is a
    table's (``tables.py``) where every vendor can keep its old name.
    """
    no_view = _rename_table(operation, walk)
    if isinstance(no_view, Split) or no_view is None:
        return no_view
    if isinstance(operation, operations.RenameField):
        model_state = walk.model_state(operation.model_name)
        field = model_state.fields[operation.old_name]
        recipe = python_only_rename(
            walk.app_label, model_state, operation.old_name, operation.new_name, field
        )
        if recipe is None:
            return None  # The database keeps every name.
        if column_named(operation.old_name, field) is not None:
            # A concrete column: two columns kept equal (renames.py).
            from .renames import rename_field

            return rename_field(operation, walk)
        what = (
            f"{walk.app_label}.{operation.model_name}: field {operation.old_name!r} "
            f"is renamed to {operation.new_name!r}"
        )
    elif isinstance(operation, operations.RenameModel):
        model_state = walk.model_state(operation.old_name)
        table = names.model_table(walk.app_label, model_state)
        what = (
            f"{walk.app_label}: model {operation.old_name!r} is renamed to "
            f"{operation.new_name!r}"
        )
        named_after = _named_after_model(walk, operation.old_name_lower)
        if named_after:
            recipe = (
                f"none in Python only: {', '.join(named_after)} name a column "
                f"after the model, which a rename changes whatever its db_table"
            )
        else:
            recipe = (
                f"rename it in Python only, keeping the table: class Meta: "
                f"db_table = {table!r}; then run makemigrations --noinput, or "
                f"answer no when it asks whether the model was renamed (the new "
                f"model takes the table over)"
            )
    else:
        model_state = walk.model_state(operation.name)
        table = names.model_table(walk.app_label, model_state)
        what = (
            f"{walk.app_label}.{operation.name}: db_table changes from {table!r} "
            f"to {operation.table!r}"
        )
        recipe = f"keep class Meta: db_table = {table!r}"
    raise Refused(
        f"{what}; one release would miss it{no_view}. Safe recipe: {recipe}; or "
        f"add the new one, copy, switch, and remove the old one across releases."
    )


def _rename_table(operation: Operation, walk: Walk) -> Split | str | None:
    """
    A table's rename split (``tables.py``), None when no table's name
    changes, or why it is refused (", as SQLite cannot ..."); "" for an
    operation that is no table's rename.
    """
    if isinstance(operation, operations.RenameField):
        field = walk.model_state(operation.model_name).fields[operation.old_name]
        if not field.many_to_many:
            return ""
    # Imported here: most runs rename nothing.
    from .tables import NoView, rename_table

    try:
        return rename_table(operation, walk)
    except NoView as error:
        return f", and {error}"


def _named_after_model(walk: Walk, model_name: str) -> list[str]:
    """
    What names a column after model ``model_name`` (lower case): the
    auto-created many-to-many tables it has or is the target of
    (``book_id``), and its multi-table children's links (``book_ptr_id``).
    Read on the refusal's path only: every model of the state is looked at.
    """
    named = []
    key = walk.key(model_name)
    for (app_label, name), model_state in sorted(walk.state.models.items()):
        table = names.model_table(app_label, model_state)
        for field_name, field in model_state.fields.items():
            if not field.is_relation or field.remote_field.model is None:
                continue
            target = resolve_relation(field.remote_field.model, app_label, name)
            if field.many_to_many and key in (target, (app_label, name)):
                m2m = names.m2m_table(table, field_name, field)
                if m2m is not None:
                    named.append(f"the table {m2m}")
            elif target == key and getattr(field.remote_field, "parent_link", False):
                named.append(f"the link {model_state.name}.{field_name}")
    return named


def python_only_rename(
    app_label: str, model_state, old_name: str, new_name: str, field: models.Field
) -> str | None:
    """
    How to rename field ``old_name`` of ``model_state`` to ``new_name`` in
    Python only, keeping what the database holds: its column (``db_column``
    naming the column it has, ``author_id`` for a foreign key ``author``),
    or its many-to-many table (``db_table``, in two runs, since Django sees no
    rename in a field whose arguments changed). None: the rename keeps every
    name already (an explicit ``through``, a ``db_column``, a ``db_table``).
    """
    declared = _declared(field)
    if field.many_to_many:
        table = names.model_table(app_label, model_state)
        old_table = names.m2m_table(table, old_name, field)
        if old_table is None or old_table == names.m2m_table(table, new_name, field):
            return None
        return (
            f"rename it in Python only, keeping its table {old_table!r}, in two "
            f"runs of makemigrations: first give the field its table, "
            f"{old_name} = {declared}(..., db_table={old_table!r}), and run "
            f"makemigrations (the database does not change); then rename it, "
            f"{new_name} = {declared}(..., db_table={old_table!r}), and answer "
            f"yes when makemigrations asks whether it was renamed"
        )
    old_column = column_named(old_name, field)
    if old_column is None or old_column == column_named(new_name, field):
        return None
    return (
        f"rename it in Python only, keeping its column {old_column!r}: "
        f"{new_name} = {declared}(..., db_column={old_column!r}), and answer yes "
        f"when makemigrations asks whether it was renamed"
    )


def _declared(field: models.Field) -> str:
    """How models.py names the class of ``field``: ``models.ForeignKey``."""
    path = field.deconstruct()[1]
    return path.replace("django.db.models.", "models.", 1)
