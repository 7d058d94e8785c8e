"""
Catalogue row: a field's type changes (its class, ``max_length``,
``max_digits``, ``decimal_places``), nothing else of it.

Per vendor of the project (``BLUEGREEN_VENDORS``), from the column types
Django's schema editor declares there:

- the same type on every vendor (a decimal's digits on SQLite, whose type
  is ``decimal`` whatever they are): the state changes, the database has
  nothing to do (no AlterField, which SQLite answers with a rebuild);
- in place on every vendor (``in_place/``: a longer varchar, varchar to
  text, a wider numeric on PostgreSQL; a varchar within its length prefix
  on MariaDB): Django's AlterField passes through, and ``migrate`` runs it
  online (its lock timeout; ``ALGORITHM=INSTANT`` on MariaDB);
- otherwise, a second column (``expand``).

Second column, the contract (one ``SeparateDatabaseAndState``):

- database: a second column of the new type, nullable, named after the
  column (``shadow_column``); triggers keep it equal to the column in both
  directions, converting each way with the vendor's casts (``RunSyncSQL``,
  ``capture/sync/``); the existing rows converted in batches
  (``CopyColumn``);
- state: Django's AlterField. Both releases read and write the column under
  its name, which keeps the old type until the cleanup; the verifier names
  the values of the new release that it cannot hold (``verifier/judge.py``).
  The models of a release, not the migration state, name the column a
  running process writes, and both releases name the same one: a second
  column under another name could not be the new release's without a third
  release.

Cleanup: the triggers and the old column dropped, the second column renamed
to the column's name (catalog changes on every vendor), then NOT NULL set
online where the field has it.

Not split yet (passed through with the warning Django's AlterField had): a
primary key, a relation, a unique or indexed column, one that Meta's
indexes or constraints name, a ``db_default``, a GeneratedField.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.migrations import operations

from ... import conf
from ...capture.connections import capture_connection
from ...capture.sync.common import SwapColumns, statements
from ...cleanup_steps import AlterColumn
from ...fields import deconstructed, from_deconstructed
from ...names import NEW_COLUMN_SUFFIX
from ...operations import CopyColumn, RunSyncSQL
from ...verifier.shape import db_table
from .in_place import in_place
from .shapes import column_named
from .split import Split, Walk

# The second column's field name, in the contract's database operations and
# the verifier's shape of the database only.
RETYPED_SUFFIX = "__bluegreen_retyped"
TYPE_ARGUMENTS = ("max_length", "max_digits", "decimal_places")
# Shorter than every vendor's limit on a name (PostgreSQL: 63).
MAX_NAME = 60


def changes_type_only(old: models.Field, new: models.Field) -> bool:
    """Whether ``old`` and ``new`` differ in their type and nothing else the database sees."""
    before, after = _database_arguments(old), _database_arguments(new)
    before_path, _ = before.pop("__path_args__")
    after_path, _ = after.pop("__path_args__")
    # A class may bring its own index (SlugField): not a type change only.
    return (
        before == after
        and _indexed(old) == _indexed(new)
        and (
            before_path != after_path
            or any(
                getattr(old, name, None) != getattr(new, name, None)
                for name in TYPE_ARGUMENTS
            )
        )
    )


def _database_arguments(field: models.Field) -> dict:
    kwargs = deconstructed(field)
    for name in (*TYPE_ARGUMENTS, *getattr(field, "non_db_attrs", ())):
        kwargs.pop(name, None)
    return kwargs


def retype(
    operation: operations.AlterField, walk: Walk, old: models.Field
) -> Split | None:
    """The split of ``operation``, a type change (``changes_type_only``)."""
    new = operation.field
    types = {}
    for vendor in conf.vendors():
        connection = capture_connection(vendor)
        types[vendor] = (
            old.db_parameters(connection),
            new.db_parameters(connection),
        )
    if all(before == after for before, after in types.values()):
        return Split(contract_state=[operation])
    if all(
        before == after
        or (
            before["check"] == after["check"]
            and in_place(vendor, before["type"], after["type"])
        )
        for vendor, (before, after) in types.items()
    ) and not _indexed(old):
        return None  # Django's AlterField, run online by migrate.
    model_state = walk.model_state(operation.model_name)
    unsupported = _unsupported(model_state, operation.name, old, new)
    if unsupported is None and not holds_every_value(old, new):
        unsupported = (
            "the new type may not hold every value of the old one (the copy "
            "would stop on the first that does not fit)"
        )
    if unsupported:
        return Split(
            contract_database=[operation],
            warnings=[
                f"{walk.app_label}.{operation.model_name}.{operation.name}: its "
                f"type changes, which the database may make by rewriting the "
                f"table under lock; not split through a second column: "
                f"{unsupported}."
            ],
        )
    return expand(
        operation,
        walk,
        old,
        {vendor: (b["type"], a["type"]) for vendor, (b, a) in types.items()},
    )


def shadow_column(column: str) -> str:
    """The second column's name: the column's, marked, within every limit."""
    name = column + NEW_COLUMN_SUFFIX
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.md5(column.encode(), usedforsecurity=False).hexdigest()[:8]
    return (
        f"{column[: MAX_NAME - len(NEW_COLUMN_SUFFIX) - 9]}_{digest}{NEW_COLUMN_SUFFIX}"
    )


def expand(
    operation: operations.AlterField,
    walk: Walk,
    old: models.Field,
    types: dict[str, tuple[str, str]],
) -> Split:
    new = operation.field
    key = walk.key(operation.model_name)
    model_state = walk.state.models[key]
    table = db_table(walk.app_label, model_state)
    column = column_named(operation.name, old)
    shadow = shadow_column(column)
    primary_key = next(
        column_named(name, field)
        for name, field in model_state.fields.items()
        if field.primary_key
    )
    created = {
        vendor: statements(vendor, table, column, shadow, pair)
        for vendor, pair in types.items()
    }
    hints = {"model_name": model_state.name_lower}
    kwargs = deconstructed(new)
    kwargs.update(null=True, db_column=shadow)
    kwargs.pop("default", None)
    second = from_deconstructed(kwargs)
    contract = operations.SeparateDatabaseAndState(
        database_operations=[
            operations.AddField(
                model_name=operation.model_name,
                name=operation.name + RETYPED_SUFFIX,
                field=second,
            ),
            RunSyncSQL(
                table=table,
                column=shadow,
                source=column,
                sql={vendor: create for vendor, (create, _) in created.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in created.items()},
                hints=hints,
            ),
            CopyColumn(
                table=table,
                source=column,
                column=shadow,
                primary_key=primary_key,
                hints=hints,
                casts={vendor: after for vendor, (_, after) in types.items()},
            ),
        ],
        state_operations=[operation],
    )
    split = Split(contract_database=[contract])
    split.cleanup.append(
        SwapColumns(key, table, column, shadow, types, not_null=not old.null)
    )
    if not new.null:
        tolerant = deconstructed(new)
        tolerant["null"] = True
        split.cleanup.append(
            AlterColumn(
                key,
                operation.name,
                from_deconstructed(tolerant),
                new,
                model_states=walk.joined_states(key, new),
            )
        )
    where = f"{walk.app_label}.{operation.model_name}.{operation.name}"
    vendors = ", ".join(
        vendor
        for vendor, (before, after) in types.items()
        if before != after and not in_place(vendor, before, after)
    )
    split.warnings.append(
        f"{where}: its type changes ({_described(old, types)} -> "
        f"{_described(new, types, 1)}), which {vendors} cannot make in place: a "
        f"second column {shadow} of the new type is kept equal to {column} of "
        f"{table} by triggers and filled in batches; the cleanup drops "
        f"{column} and renames {shadow} to {column}"
        + ("; NOT NULL is set by the cleanup." if not new.null else ".")
    )
    return split


def holds_every_value(old: models.Field, new: models.Field) -> bool:
    """
    Whether a column of ``new``'s type holds every value of ``old``'s: an
    integer of a range as wide, a text as long (an integer as text), a
    decimal with as many digits on each side of the point. Others (text to
    a number, a date...) are not followed: the copy might stop half-way.
    """
    from ...verifier.judge import INTEGER_RANGES

    before, after = old.get_internal_type(), new.get_internal_type()
    texts = ("CharField", "TextField")
    if before in INTEGER_RANGES and after in INTEGER_RANGES:
        low, high = INTEGER_RANGES[before]
        wanted_low, wanted_high = INTEGER_RANGES[after]
        return wanted_low <= low and high <= wanted_high
    if before in INTEGER_RANGES and after in texts:
        low, _ = INTEGER_RANGES[before]
        return new.max_length is None or new.max_length >= len(str(low))
    if before in texts and after in texts:
        return new.max_length is None or (
            old.max_length is not None and new.max_length >= old.max_length
        )
    if before == after == "DecimalField":
        return (
            new.decimal_places >= old.decimal_places
            and new.max_digits - new.decimal_places
            >= old.max_digits - old.decimal_places
        )
    return False


def _described(field, types, index: int = 0) -> str:
    return "/".join(sorted({pair[index] for pair in types.values()}))


def _indexed(field: models.Field) -> bool:
    return bool(field.primary_key or field.unique or field.db_index)


def _unsupported(model_state, name: str, old, new) -> str | None:
    if old.primary_key or new.primary_key:
        return "it is the primary key"
    if any(
        isinstance(f, models.CompositePrimaryKey) for f in model_state.fields.values()
    ):
        return "the model has a composite primary key"
    if old.is_relation or new.is_relation:
        return "it is a relation"
    if _indexed(old) or _indexed(new):
        return "it is unique or indexed"
    if old.has_db_default() or new.has_db_default():
        return "it has a db_default"
    if getattr(old, "generated", False) or getattr(new, "generated", False):
        return "it is a GeneratedField"
    options = model_state.options
    named = set()
    for together in ("unique_together", "index_together"):
        for fields in options.get(together) or ():
            named.update(fields if isinstance(fields, (list, tuple)) else [fields])
    for item in (*(options.get("indexes") or ()), *(options.get("constraints") or ())):
        named.update(getattr(item, "fields", None) or ())
        if getattr(item, "expressions", None) or getattr(item, "condition", None):
            named.add(name)  # May read it: not followed here.
    if name in named:
        return "Meta's indexes, constraints or unique_together name it"
    return None
