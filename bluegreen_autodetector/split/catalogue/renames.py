"""
Catalogue rows for renames of a column: RenameField of a concrete field
(plain, unique, indexed, NOT NULL, ForeignKey, OneToOne) and a changed
``db_column``.

Contract, one ``SeparateDatabaseAndState``:

- database: the old column loses its NOT NULL, unique, index and
  foreign-key constraint (the new release never writes it; SQLite drops
  only a plain column in place); the new column is added nullable, with the
  index, unique and foreign-key constraint the new field declares; triggers
  keep the two equal in both directions (``RunSyncSQL``, ``sync/``); the
  existing rows are copied in batches (``CopyColumn``);
- state: Django's own operation (``RenameField``, or the ``AlterField`` of
  ``db_column``), the field NULL-tolerant until the cleanup where it is
  NOT NULL.

Cleanup: drop the triggers, drop the old column, set NOT NULL.
"""

from __future__ import annotations

from django.db import models
from django.db.migrations import operations
from django.db.models.options import normalize_together

from ... import conf
from ...capture.sync.common import DropSync, statements
from ...cleanup_steps import AlterColumn, LingeringColumn
from ...fields import deconstructed, from_deconstructed
from ...names import NEW_COLUMN_SUFFIX, OLD_COLUMN_SUFFIX
from ...operations import CopyColumn, RunSyncSQL
from ...verifier.shape import db_table
from .shapes import column_named
from .split import Refused, Split, Walk


def rename_field(operation: operations.RenameField, walk: Walk) -> Split | None:
    field = walk.model_state(operation.model_name).fields[operation.old_name]
    old_column = column_named(operation.old_name, field)
    new_column = column_named(operation.new_name, field)
    if old_column is not None and old_column == new_column:
        return None  # Renamed in Python only: db_column keeps the column.
    return expand(
        walk,
        operation.model_name,
        operation.old_name,
        field,
        operation.new_name,
        # A field of its own: the state's may be bound to the old name.
        from_deconstructed(deconstructed(field)),
        operation,
    )


def change_column(operation: operations.AlterField, walk: Walk, old) -> Split:
    """An AlterField whose column changes (``db_column``), nothing else."""
    refuse_unless_alone(
        operation, walk, old, "db_column", "its column changes together"
    )
    return expand(
        walk,
        operation.model_name,
        operation.name,
        old,
        operation.name,
        operation.field,
        operation,
    )


def refuse_unless_alone(operation, walk: Walk, old, argument: str, what: str) -> None:
    """An AlterField that changes ``argument`` and more: refused (``what``)."""
    before, after = deconstructed(old), deconstructed(operation.field)
    before.pop(argument, None)
    after.pop(argument, None)
    if before != after:
        raise Refused(
            f"{walk.app_label}.{operation.model_name}.{operation.name}: {what} "
            f"with other arguments; change {argument} in a release of its own "
            f"(it is split into a contract and a cleanup), and the rest in the next."
        )


def expand(
    walk: Walk,
    model_name: str,
    old_name: str,
    old: models.Field,
    new_name: str,
    new: models.Field,
    operation,
) -> Split:
    key = walk.key(model_name)
    model_state = walk.state.models[key]
    where = f"{walk.app_label}.{model_name}.{old_name}"
    _refuse_unsupported(walk, model_state, where, old_name, old, new)
    table = db_table(walk.app_label, model_state)
    old_column = column_named(old_name, old)
    new_column = column_named(new_name, new)
    primary_key = next(
        column_named(name, field)
        for name, field in model_state.fields.items()
        if field.primary_key
    )
    vendors = conf.vendors()
    created = {
        vendor: statements(vendor, table, old_column, new_column) for vendor in vendors
    }
    kept_old = _old_shape(old, old_column)
    added_new = _new_shape(new, new_column)
    hints = {"model_name": model_state.name_lower}
    tolerant = new
    state_operations = [operation]
    if not new.null:
        kwargs = deconstructed(new)
        kwargs["null"] = True
        tolerant = from_deconstructed(kwargs)
        altered = operations.AlterField(
            model_name=model_name, name=new_name, field=tolerant
        )
        if isinstance(operation, operations.AlterField):
            state_operations = [altered]  # The column's change, NULL allowed.
        else:
            state_operations.append(altered)
    contract = operations.SeparateDatabaseAndState(
        database_operations=[
            operations.AlterField(model_name=model_name, name=old_name, field=kept_old),
            operations.AddField(
                model_name=model_name,
                name=new_name + NEW_COLUMN_SUFFIX,
                field=added_new,
            ),
            RunSyncSQL(
                table=table,
                column=new_column,
                source=old_column,
                sql={vendor: create for vendor, (create, _) in created.items()},
                reverse_sql={vendor: drop for vendor, (_, drop) in created.items()},
                hints=hints,
            ),
            CopyColumn(
                table=table,
                source=old_column,
                column=new_column,
                primary_key=primary_key,
                hints=hints,
            ),
            *_unique_together(model_state, model_name, old_name, new_name),
        ],
        state_operations=state_operations,
    )
    split = Split(contract_database=[contract])
    split.cleanup.append(DropSync(key, table, old_column, new_column, vendors))
    lingering_name = old_name if old_name != new_name else old_name + OLD_COLUMN_SUFFIX
    split.cleanup.append(LingeringColumn(key, lingering_name, kept_old))
    if not new.null:
        split.cleanup.append(
            AlterColumn(
                key,
                new_name,
                tolerant,
                new,
                state_operations=[
                    operations.AlterField(
                        model_name=model_name, name=new_name, field=new
                    )
                ],
                model_states=walk.joined_states(key, new),
            )
        )
    split.warnings.append(
        f"{where}: column {old_column} becomes {new_column} of {table}: both are "
        f"kept equal by triggers until the cleanup drops {old_column}"
        + ("; NOT NULL is set by the cleanup." if not new.null else ".")
    )
    return split


def _refuse_unsupported(walk, model_state, where, old_name, old, new) -> None:
    def refuse(why: str) -> None:
        raise Refused(
            f"{where}: its column is renamed, and {why}; not split yet. "
            + _keep_the_column(old_name, old)
        )

    if old.primary_key or new.primary_key:
        refuse("it is the primary key")
    if any(
        isinstance(f, models.CompositePrimaryKey) for f in model_state.fields.values()
    ):
        refuse("the model has a composite primary key")
    if old.has_db_default() or new.has_db_default():
        refuse(
            "it has a db_default (each release would get the default, not the other's value)"
        )
    if getattr(old, "generated", False):
        refuse("it is a GeneratedField")
    options = model_state.options
    named = {
        name
        for fields in options.get("index_together") or ()
        for name in (fields if isinstance(fields, (list, tuple)) else [fields])
    }
    # Meta's indexes and constraints need nothing here: one that names the
    # field in the new models differs from the old one, so Django removes it
    # before the rename and adds it after (and its checks reject one naming
    # a field the model no longer has); those still in the state are the
    # unchanged ones, which do not read it (an expression or a condition
    # included).
    if options.get("order_with_respect_to"):
        named.add(options["order_with_respect_to"])
    if old_name in named:
        refuse("Meta.index_together or order_with_respect_to name it")
    for state in walk.state.models.values():
        for field in state.fields.values():
            to_fields = getattr(field, "to_fields", None) or ()
            if old_name in to_fields and field.is_relation:
                refuse("a relation refers to it with to_field")


def _unique_together(model_state, model_name, old_name, new_name) -> list:
    """
    The contract's steps for each ``unique_together`` that names the renamed
    field: once the rows are copied, the same set on the new column (built
    online by ``migrate``), then the old set dropped. Both columns are kept
    equal, so either enforces what the other would, and the cleanup drops
    a column no index names. Django's RenameField renames the field in the
    state's ``unique_together``; the indexes and constraints of ``Meta``
    come as operations of their own (RemoveIndex, AddIndex, ...).
    """
    together = normalize_together(model_state.options.get("unique_together") or ())
    if not any(old_name in fields for fields in together):
        return []
    added = new_name + NEW_COLUMN_SUFFIX
    renamed = {
        tuple(added if name == old_name else name for name in fields)
        for fields in together
    }
    return [
        operations.AlterUniqueTogether(
            name=model_name, unique_together=together | renamed
        ),
        operations.AlterUniqueTogether(name=model_name, unique_together=renamed),
    ]


def _keep_the_column(old_name, old) -> str:
    """
    The recipe: rename in Python only, keeping the column. A multi-table
    child's implicit link cannot be given one (Django sees no rename of a
    declared field to an implicit one): its parent keeps its name.
    """
    if getattr(old, "auto_created", False):
        return "The link is named after its parent model: keep the parent's name."
    column = column_named(old_name, old)
    return f"Keep the column (db_column={column!r}) and rename in Python only."


def _old_shape(field: models.Field, column: str) -> models.Field:
    """
    The old column while both releases run: nullable without a default (the
    new release's INSERTs leave it to the triggers), no index, unique or
    foreign-key constraint (the new column has them), its name kept.
    """
    kwargs = deconstructed(field)
    path, args = kwargs.pop("__path_args__")
    if path == "django.db.models.OneToOneField":
        path = "django.db.models.ForeignKey"
    kwargs.update(null=True, db_column=column)
    for argument in ("unique", "db_index", "default"):
        kwargs.pop(argument, None)
    if field.is_relation:
        kwargs["db_index"] = False
        kwargs["db_constraint"] = False
        kwargs["related_name"] = "+"
    return from_deconstructed({**kwargs, "__path_args__": (path, args)})


def _new_shape(field: models.Field, column: str) -> models.Field:
    """
    The new column as the contract adds it: the field's index, unique and
    foreign-key constraint, nullable and without a default (the old
    release's INSERTs leave it to the triggers; existing rows are copied).
    """
    kwargs = deconstructed(field)
    kwargs.update(null=True, db_column=column)
    kwargs.pop("default", None)
    if field.is_relation:
        kwargs["related_name"] = "+"
    return from_deconstructed(kwargs)
