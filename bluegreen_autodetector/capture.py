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

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.apps.registry import Apps
from django.core.management.base import CommandError
from django.db import connections, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState
from django.db.migrations.utils import resolve_relation
from django.db.utils import load_backend

from . import conf

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
class AlterColumn:
    """
    A column the contract left tolerant of the old release (a database
    default, or NULL allowed) that the cleanup brings to the model's shape.
    """

    model: ModelKey
    name: str
    before: models.Field  # as the contract left it
    after: models.Field  # as the model declares it
    backfill: object = None  # a constant to fill NULLs with first (None: none)
    state_operations: list = dataclass_field(default_factory=list)

    @property
    def sets_not_null(self) -> bool:
        return self.before.null and not self.after.null


@dataclass
class CapturedSQL:
    """Forward and reverse statements of one cleanup step, keyed by vendor."""

    table: str
    column: str | None = None
    sql: dict[str, list[str]] = dataclass_field(default_factory=dict)
    reverse_sql: dict[str, list[str]] = dataclass_field(default_factory=dict)


_capture_connections: dict = {}


def capture_connection(vendor: str):
    """
    A connection of ``vendor`` to capture with: a ``DATABASES`` entry of that
    vendor, else ``BLUEGREEN_CAPTURE_DATABASES[vendor]``, else (SQLite only)
    an in-memory database. Nothing of its schema is ever read.
    """
    for alias in connections:
        if connections[alias].vendor == vendor:
            return _connected(connections[alias])
    if vendor not in _capture_connections:
        entry = conf.capture_databases().get(vendor)
        if entry is None and vendor == "sqlite":
            entry = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        if entry is None:
            raise CommandError(
                f"BLUEGREEN_VENDORS names {vendor!r}, but no database in DATABASES "
                f"uses it and BLUEGREEN_CAPTURE_DATABASES has no {vendor!r} entry. "
                f"Cleanup SQL is captured with {vendor}'s own schema editor: add "
                f"BLUEGREEN_CAPTURE_DATABASES = {{{vendor!r}: {{'ENGINE': ..., "
                f"'HOST': ..., ...}}}} (a reachable server; its schema is never "
                f"read), or remove {vendor!r} from BLUEGREEN_VENDORS."
            )
        alias = f"bluegreen_capture_{vendor}"
        # Django fills the defaults of a DATABASES entry for us; it insists
        # on a 'default' alias, so the entry is passed under that name.
        settings_dict = connections.configure_settings({"default": dict(entry)})[
            "default"
        ]
        wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
            settings_dict, alias
        )
        if wrapper.vendor != vendor:
            raise CommandError(
                f"BLUEGREEN_CAPTURE_DATABASES[{vendor!r}] uses "
                f"{settings_dict['ENGINE']}, a {wrapper.vendor!r} backend."
            )
        _capture_connections[vendor] = wrapper
    return _connected(_capture_connections[vendor])


def _connected(connection):
    if connection.vendor != "sqlite":
        # PostgreSQL and MySQL quote values through their driver, which
        # needs a connection; nothing of the schema is read.
        connection.ensure_connection()
    return connection


class Capture:
    """
    Capture cleanup SQL for ``vendors`` from models of ``state`` (v1).

    ``capture(items)`` renders one throwaway registry for all the items of a
    run: each model once, with the union of the fields the items need.
    """

    def __init__(self, state: ProjectState, vendors: list[str]) -> None:
        self.state = state
        self.vendors = vendors

    def capture(self, items: list) -> list[CapturedSQL]:
        wanted: dict[ModelKey, dict[str, models.Field]] = {}
        options: dict[ModelKey, dict] = {}
        for item in items:
            fields = wanted.setdefault(item.model, {})
            if isinstance(item, LingeringColumn):
                fields[item.name] = item.lingering
            elif isinstance(item, AlterColumn):
                fields[item.name] = item.before
                twin = wanted.setdefault(_twin(item.model), {})
                twin[item.name] = item.after
            elif item.m2m is not None:
                fields[item.m2m] = item.lingering_fields[item.m2m]
            else:
                for name, field in self.state.models[item.model].fields.items():
                    fields[name] = item.lingering_fields.get(name, field)
                options[item.model] = item.options
        registry = self._skeletons(wanted, options)
        captured = []
        for item in items:
            model = registry[item.model]
            if isinstance(item, LingeringColumn):
                captured.append(self._drop_column(model, item.name))
            elif isinstance(item, AlterColumn):
                captured.append(
                    self._alter_column(
                        model, registry[_twin(item.model)], item.name, item.backfill
                    )
                )
            else:
                captured.append(self._drop_table(model, item.m2m))
        return captured

    def _alter_column(self, model, twin, name: str, backfill) -> CapturedSQL:
        """
        Alter the column from ``model``'s shape of ``name`` to ``twin``'s
        (same table). On SQLite without rebuilding the table: its documented
        procedure for changing a default or a NOT NULL edits the column's
        definition in sqlite_master.
        """
        before = model._meta.get_field(name)
        after = twin._meta.get_field(name)
        captured = CapturedSQL(model._meta.db_table, before.column)
        for vendor in self.vendors:
            connection = capture_connection(vendor)

            def forwards(editor):
                if backfill is not None:
                    table = editor.quote_name(captured.table)
                    column = editor.quote_name(captured.column)
                    value = editor.quote_value(backfill)
                    editor.execute(
                        f"UPDATE {table} SET {column} = {value} WHERE {column} IS NULL",
                        None,
                    )
                _alter(editor, model, before, twin, after)

            captured.sql[vendor] = _collect(connection, forwards)
            captured.reverse_sql[vendor] = _collect(
                connection, lambda editor: _alter(editor, twin, after, model, before)
            )
        return captured

    def _drop_column(self, model: type[models.Model], name: str) -> CapturedSQL:
        field = model._meta.get_field(name)
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
            # defaulted column. A lingering column is never unique and carries
            # no Python default, and SQLite adds a NOT NULL column with a
            # constant default in place, so the base class's ALTER TABLE ADD
            # COLUMN is right there; a rebuild from today's definition would
            # drop the columns added since.
            captured.reverse_sql[vendor] = _collect(
                connection,
                lambda editor: (
                    BaseDatabaseSchemaEditor.add_field(editor, model, field)
                    if editor.connection.vendor == "sqlite"
                    else editor.add_field(model, field)
                ),
            )
        return captured

    def _drop_table(self, model: type[models.Model], m2m: str | None) -> CapturedSQL:
        """The model's table (with its M2M tables), or only the table of ``m2m``."""
        if m2m is not None:
            model = model._meta.get_field(m2m).remote_field.through
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

    def _skeletons(
        self, wanted: dict[ModelKey, dict[str, models.Field]], options: dict
    ) -> dict[ModelKey, type[models.Model]]:
        """
        Render each model of ``wanted`` with just those fields (in their
        database shape) and its primary key, and every model they point at
        with just its primary key (or the ``to_field``), in one registry.
        """
        apps = Apps()
        chosen = {
            key: {name: _database_shape(field) for name, field in fields.items()}
            for key, fields in wanted.items()
        }

        def need(key: ModelKey, name: str | None = None) -> None:
            """Make sure model ``key`` has field ``name`` (default: its pk)."""
            model_state = self.state.models[key]
            if name is None:
                name = next(n for n, f in model_state.fields.items() if f.primary_key)
            fields = chosen.setdefault(key, {})
            if name not in fields:
                fields[name] = model_state.fields[name]
                follow(key, fields[name])

        def follow(key: ModelKey, field: models.Field) -> None:
            if field.is_relation:
                target = resolve_relation(field.remote_field.model, *key)
                need(target)
                for to_field in getattr(field, "to_fields", None) or []:
                    if to_field:
                        need(target, to_field)

        for key in list(wanted):
            if key[1].endswith(TWIN):
                for field in list(chosen[key].values()):
                    follow((key[0], key[1].removesuffix(TWIN)), field)
                continue
            need(key)
            for field in list(chosen[key].values()):
                follow(key, field)
        built = {}
        for model_key, model_fields in chosen.items():
            if model_key[1].endswith(TWIN):
                continue
            model_state = self.state.models[model_key]
            # Fields in the model's own order, as CREATE TABLE lists them.
            order = list(model_state.fields)
            meta = {"app_label": model_key[0], "apps": apps}
            if "db_table" in model_state.options:
                meta["db_table"] = model_state.options["db_table"]
            meta.update(_copy_options(options.get(model_key, {})))
            attrs = {"__module__": __name__, "Meta": type("Meta", (), meta)}
            attrs.update(
                (name, model_fields[name].clone())
                for name in sorted(
                    model_fields,
                    key=lambda name: order.index(name) if name in order else len(order),
                )
            )
            built[model_key] = type(model_state.name, (models.Model,), attrs)
        for model_key, model_fields in chosen.items():
            if model_key[1].endswith(TWIN):
                # The same table with the altered field in its other shape.
                original = built[(model_key[0], model_key[1].removesuffix(TWIN))]
                meta = {
                    "app_label": model_key[0],
                    "apps": apps,
                    "db_table": original._meta.db_table,
                }
                attrs = {"__module__": __name__, "Meta": type("Meta", (), meta)}
                attrs[original._meta.pk.name] = original._meta.pk.clone()
                attrs.update((n, f.clone()) for n, f in model_fields.items())
                built[model_key] = type(
                    original.__name__ + "Twin", (models.Model,), attrs
                )
        return built


TWIN = "__bluegreen_twin"


def _twin(key: ModelKey) -> ModelKey:
    return key[0], key[1] + TWIN


def _alter(editor, model, before, twin, after) -> None:
    """Emit the SQL that alters ``before`` (on ``model``) to ``after`` (on ``twin``)."""
    if editor.connection.vendor != "sqlite":
        # Without the relation, alter_field has no constraint to look up in
        # the live database; a NULL or default change never touches it.
        editor.alter_field(
            model, _unconstrained(before, model), _unconstrained(after, twin)
        )
        return
    definitions = []
    for owner, field in ((model, before), (twin, after)):
        definition, params = editor.column_sql(owner, field)
        if params:
            definition %= tuple(editor.quote_value(p) for p in params)
        definitions.append(f"{editor.quote_name(field.column)} {definition}")
    editor.execute("PRAGMA writable_schema = ON", None)
    before, after, table = (
        editor.quote_value(value) for value in (*definitions, model._meta.db_table)
    )
    editor.execute(
        f"UPDATE sqlite_master SET sql = replace(sql, {before}, {after}) "
        f"WHERE type = 'table' AND name = {table}",
        None,
    )
    editor.execute("PRAGMA writable_schema = OFF", None)


def _unconstrained(field: models.Field, model) -> models.Field:
    if not (field.is_relation and field.db_constraint):
        return field
    name, path, args, kwargs = field.deconstruct()
    kwargs["db_constraint"] = False
    kwargs["to"] = field.remote_field.model
    clone = type(field)(*args, **kwargs)
    clone.set_attributes_from_name(name)
    clone.model = model
    return clone


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
