"""
Capture cleanup SQL from Django's schema editors, per vendor.

Capture never reads the developer's database schema. Django's own
``remove_field`` looks up foreign-key constraint names in the live database,
and those names may already be gone when the cleanup runs (the contract
dropped them), so the forward SQL is the schema editor's own drop statement
for the column or table, and the reverse SQL is what the schema editor emits
to create the column or table in the shape the contract left it.

Capture renders only what it needs: a skeleton of the model holding the
captured fields and its primary key, plus the primary keys those fields point
at, in a throwaway app registry. It never renders the whole project state.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

from django.apps.registry import Apps
from django.db import connections, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState
from django.db.migrations.utils import resolve_relation

ModelKey = tuple[str, str]  # (app_label, lower-case model name), as in ProjectState


@dataclass
class LingeringColumn:
    """A column the contract removed from Django's state but not from its table."""

    model: ModelKey
    name: str  # the field's name
    lingering: models.Field  # the field as the contract left it in the database


@dataclass
class LingeringTable:
    """
    A table the contract removed from Django's state but not from the
    database: a model's table, or (``m2m`` given) the auto-created table of
    that many-to-many field.
    """

    model: ModelKey
    lingering_fields: dict[str, models.Field] = dataclass_field(default_factory=dict)
    options: dict = dataclass_field(default_factory=dict)
    m2m: str | None = None


@dataclass
class CapturedSQL:
    """Forward and reverse statements of one cleanup step, keyed by vendor."""

    table: str
    column: str | None = None
    sql: dict[str, list[str]] = dataclass_field(default_factory=dict)
    reverse_sql: dict[str, list[str]] = dataclass_field(default_factory=dict)


def capture_connection(vendor: str):
    """A connection of ``vendor`` from ``DATABASES``, or a clear error."""
    for alias in connections:
        connection = connections[alias]
        if connection.vendor == vendor:
            if vendor != "sqlite":
                # PostgreSQL and MySQL quote values through their driver,
                # which needs a connection; nothing of the schema is read.
                connection.ensure_connection()
            return connection
    raise LookupError(
        f"BLUEGREEN_VENDORS names {vendor!r} but no database in DATABASES uses "
        f"it: cleanup SQL is captured with that vendor's own schema editor."
    )


class Capture:
    """Capture cleanup SQL for ``vendors`` from models of ``state`` (v1)."""

    def __init__(self, state: ProjectState, vendors: list[str]) -> None:
        self.state = state
        self.vendors = vendors

    def drop_column(self, column: LingeringColumn) -> CapturedSQL:
        fields = {column.name: _database_shape(column.lingering)}
        model = self._skeleton(column.model, fields)
        field = model._meta.get_field(column.name)
        captured = CapturedSQL(model._meta.db_table, field.column)
        for vendor in self.vendors:
            connection = capture_connection(vendor)
            captured.sql[vendor] = _collect(
                connection,
                lambda editor: editor.execute(
                    editor.sql_delete_column
                    % {
                        "table": editor.quote_name(captured.table),
                        "column": editor.quote_name(captured.column),
                    }
                ),
            )
            # SQLite's add_field rebuilds the table for any NOT NULL, unique or
            # defaulted column; a lingering column is none of those, so the
            # plain ALTER TABLE ADD COLUMN of the base class is exactly what
            # SQLite's editor would run. Calling it keeps that true by design:
            # a rebuild from today's definition would drop later columns.
            captured.reverse_sql[vendor] = _collect(
                connection,
                lambda editor: BaseDatabaseSchemaEditor.add_field(editor, model, field)
                if editor.connection.vendor == "sqlite"
                else editor.add_field(model, field),
            )
        return captured

    def drop_table(self, table: LingeringTable) -> CapturedSQL:
        if table.m2m is not None:
            fields = {table.m2m: _database_shape(table.lingering_fields[table.m2m])}
            owner = self._skeleton(table.model, fields)
            model = owner._meta.get_field(table.m2m).remote_field.through
        else:
            model_state = self.state.models[table.model]
            fields = {
                name: _database_shape(table.lingering_fields.get(name, field))
                for name, field in model_state.fields.items()
                if not field.many_to_many
            }
            model = self._skeleton(table.model, fields, table.options)
        captured = CapturedSQL(model._meta.db_table)
        for vendor in self.vendors:
            connection = capture_connection(vendor)
            captured.sql[vendor] = _collect(
                connection, lambda editor: editor.delete_model(model)
            )
            captured.reverse_sql[vendor] = _collect(
                connection, lambda editor: editor.create_model(model)
            )
        return captured

    def _skeleton(
        self, key: ModelKey, fields: dict[str, models.Field], options=None
    ) -> type[models.Model]:
        """
        Render the model ``key`` with just ``fields`` (and its primary key),
        and every model they point at with just its primary key.
        """
        apps = Apps()
        wanted: dict[ModelKey, dict[str, models.Field]] = {}
        pending = [(key, fields)]
        while pending:
            model_key, model_fields = pending.pop()
            model_state = self.state.models[model_key]
            chosen = wanted.setdefault(model_key, {})
            primary_key = {
                name: field
                for name, field in model_state.fields.items()
                if field.primary_key
            }
            for name, field in {**model_fields, **primary_key}.items():
                if name in chosen:
                    continue
                chosen[name] = field
                if field.is_relation:
                    target = resolve_relation(field.remote_field.model, *model_key)
                    to_field = (getattr(field, "to_fields", None) or [None])[0]
                    target_fields = self.state.models[target].fields
                    pending.append(
                        (target, {to_field: target_fields[to_field]} if to_field else {})
                    )
        built = {}
        for model_key, model_fields in wanted.items():
            model_state = self.state.models[model_key]
            meta = {"app_label": model_key[0], "apps": apps}
            if "db_table" in model_state.options:
                meta["db_table"] = model_state.options["db_table"]
            if model_key == key and options:
                meta.update(_copy_options(options))
            attrs = {"__module__": __name__, "Meta": type("Meta", (), meta)}
            attrs.update(
                (name, field.clone()) for name, field in model_fields.items()
            )
            built[model_key] = type(model_state.name, (models.Model,), attrs)
        return built[key]


def _database_shape(field: models.Field) -> models.Field:
    """
    ``field`` without its Python default: only what the database holds.
    (A Python default makes the schema editor set and drop a default, and
    makes SQLite's add_field rebuild the table.)
    """
    if not field.has_default():
        return field
    name, path, args, kwargs = field.deconstruct()
    kwargs.pop("default")
    return type(field)(*args, **kwargs)


def _copy_options(options: dict) -> dict:
    copied = {}
    for key, value in options.items():
        if key in ("indexes", "constraints"):
            value = [item.clone() for item in value]
        if value:
            copied[key] = value
    return copied


def _collect(connection, action) -> list[str]:
    """Run ``action`` on a collecting schema editor; never touch the database."""
    editor = connection.schema_editor(collect_sql=True, atomic=False)
    # Entering the editor would open a transaction (and, on SQLite, switch
    # constraint checking off); collecting SQL needs neither.
    editor.deferred_sql = []
    action(editor)
    for statement in editor.deferred_sql:
        editor.execute(statement, None)
    return list(editor.collected_sql)
