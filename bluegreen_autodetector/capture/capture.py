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
Where the installed model already is what a skeleton would be to the schema
editor, it is used instead: the host of a lingering column (dropping and
adding a column reads only its table's name), and a model a skeleton points
at whose primary key is the database's.
"""

from __future__ import annotations

import copy

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.core.management.base import CommandError
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.utils import strip_quotes, truncate_name
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.utils import resolve_relation
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.reverse_related import ForeignObjectRel, ManyToOneRel

from ..fields import cached_attributes, same_declaration
from .connections import capture_connection

ModelKey = tuple[str, str]  # (app_label, lower-case model name), as in ProjectState


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
    ``backfill`` a constant to fill NULLs with first (None: none).
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
    ) -> None:
        self.model = model
        self.name = name
        self.before = before
        self.after = after
        self.backfill = backfill
        self.state_operations = state_operations if state_operations is not None else []
        self.model_states = model_states if model_states is not None else {}

    @property
    def sets_not_null(self) -> bool:
        return self.before.null and not self.after.null


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


class _Host:
    """A lingering column captured on its installed model (``_project_host``)."""

    def __init__(
        self,
        model: type[models.Model],
        field: models.Field,  # bound to ``model``, not added to it
        target: ModelKey | None,  # the skeleton its relation points at, if any
    ) -> None:
        self.model = model
        self.field = field
        self.target = target


class CapturedSQL:
    """Forward and reverse statements of one cleanup step, keyed by vendor."""

    def __init__(self, table: str, column: str | None = None) -> None:
        self.table = table
        self.column = column
        self.sql: dict[str, list[str]] = {}
        self.reverse_sql: dict[str, list[str]] = {}
        # The table's name on a vendor whose Django names it otherwise.
        self.tables: dict[str, str] = {}


class Capture:
    """
    Capture cleanup SQL for ``vendors`` from models of ``state`` (v1).

    ``capture(items)`` renders one throwaway registry for all the items of a
    run: each model once, with the union of the fields the items need.
    """

    def __init__(
        self,
        state: ProjectState,
        vendors: list[str],
        later: ProjectState | None = None,
    ) -> None:
        self.state = state
        self.vendors = vendors
        # Where a model the items point at may be found when ``state`` and
        # the items lack it: the models (``later``), then the apps without
        # migrations, which Django's state never holds.
        self.later = later
        self.created: dict = {}  # states of models the items create
        self._targets: dict = {}  # see _installed_target
        self._twins: dict = {}  # a twin skeleton: the skeleton of its table
        # Per vendor: the tables of this run's models that Django names
        # otherwise on that vendor (see _vendor_tables).
        self._renamed: dict[str, dict] = {}

    def capture(self, items: list) -> list[CapturedSQL]:
        wanted: dict[ModelKey, dict[str, models.Field]] = {}
        options: dict[ModelKey, dict] = {}
        self.created = {
            key: model_state
            for item in items
            for key, model_state in getattr(item, "model_states", {}).items()
            if key not in self.state.models
        }
        hosts = {}
        for item in items:
            if hasattr(item, "captured"):
                continue  # It carries its own SQL (sync.DropSync).
            if isinstance(item, LingeringColumn):
                host = self._project_host(item)
                if host is not None:
                    hosts[id(item)] = host
                    if host.target is not None:
                        wanted.setdefault(host.target, {})  # Its primary key.
                    continue
            fields = wanted.setdefault(item.model, {})
            if isinstance(item, AddForeignKeys):
                # An M2M field builds its table from the model's name, which
                # the twin does not share; a foreign key goes on the twin, as
                # the model's skeleton may hold it in an AlterColumn's shape.
                on_model = item.after.many_to_many
                owner = fields if on_model else wanted.setdefault(_twin(item.model), {})
                owner[item.name] = item.after
            elif isinstance(item, LingeringColumn):
                fields[item.name] = item.lingering
            elif isinstance(item, AlterColumn):
                fields[item.name] = item.before
                twin = wanted.setdefault(_twin(item.model), {})
                twin[item.name] = item.after
            elif item.m2m is not None:
                fields[item.m2m] = item.lingering_fields[item.m2m]
            else:
                for name, field in self._model_state(item.model).fields.items():
                    if (
                        item.fields is None
                        or name in item.fields
                        or name in item.lingering_fields
                    ):
                        fields[name] = item.lingering_fields.get(name, field)
                options[item.model] = item.options
        registry = self._skeletons(wanted, options)
        rendered = [*registry.values(), *(host.model for host in hosts.values())]
        self._renamed = {
            vendor: _vendor_tables(rendered, capture_connection(vendor), self._twins)
            for vendor in self.vendors
        }
        captured = []
        for item in items:
            if hasattr(item, "captured"):
                captured.append(item.captured())
                continue
            if id(item) in hosts:
                host = hosts[id(item)]
                if host.target is not None:
                    host.field.remote_field.model = registry[host.target]
                captured.append(self._drop_column(host.model, host.field))
                continue
            model = registry[item.model]
            if isinstance(item, AddForeignKeys):
                if not item.after.many_to_many:
                    model = registry[_twin(item.model)]
                captured.append(self._add_foreign_keys(model, item.name))
            elif isinstance(item, LingeringColumn):
                captured.append(
                    self._drop_column(model, model._meta.get_field(item.name))
                )
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
                    table = editor.quote_name(model._meta.db_table)
                    column = editor.quote_name(captured.column)
                    # In the column's database form (a UUID's hex on SQLite,
                    # a timedelta's microseconds where there is no interval).
                    value = editor.quote_value(
                        after.get_db_prep_save(backfill, editor.connection)
                    )
                    editor.execute(
                        f"UPDATE {table} SET {column} = {value} WHERE {column} IS NULL",
                        None,
                    )
                _alter(editor, model, before, twin, after)

            captured.sql[vendor] = self._collect(captured, model, connection, forwards)
            captured.reverse_sql[vendor] = self._collect(
                captured,
                model,
                connection,
                lambda editor: _alter(editor, twin, after, model, before),
            )
        return captured

    def _add_foreign_keys(self, model: type[models.Model], name: str) -> CapturedSQL:
        """The constraint(s) of relation ``name`` (as ``model`` declares it)."""
        # Imported here: most runs add no foreign key, and an import costs.
        from . import foreign_keys

        table, fields = foreign_keys.constrained(model, name)
        column = None if model._meta.get_field(name).many_to_many else fields[0].column
        captured = CapturedSQL(table._meta.db_table, column)
        for vendor in self.vendors:
            connection = capture_connection(vendor)
            captured.sql[vendor] = self._collect(
                captured,
                table,
                connection,
                lambda editor: foreign_keys.add(editor, table, fields),
            )
            captured.reverse_sql[vendor] = self._collect(
                captured,
                table,
                connection,
                lambda editor: foreign_keys.drop(editor, table, fields),
            )
        return captured

    def _drop_column(self, model: type[models.Model], field) -> CapturedSQL:
        """Drop column ``field`` (bound to ``model``, its table's model)."""
        captured = CapturedSQL(model._meta.db_table, field.column)
        # A column that kept its foreign-key constraint (Django 6.1's
        # DB_CASCADE...: the old release relied on it) loses it first: SQLite
        # and MySQL refuse to drop a column a constraint uses.
        constrained = field.is_relation and field.db_constraint
        for vendor in self.vendors:
            connection = capture_connection(vendor)

            def forwards(editor):
                if constrained and editor.connection.vendor != "postgresql":
                    from . import foreign_keys

                    foreign_keys.drop(editor, model, [field])
                editor.execute(
                    editor.sql_delete_column
                    % {
                        "table": editor.quote_name(model._meta.db_table),
                        "column": editor.quote_name(captured.column),
                    }
                )

            captured.sql[vendor] = self._collect(captured, model, connection, forwards)
            # SQLite's add_field rebuilds the table for any NOT NULL, unique or
            # defaulted column. A lingering column is never unique and carries
            # no Python default, and SQLite adds a NOT NULL column with a
            # constant default in place, so the base class's ALTER TABLE ADD
            # COLUMN is right there; a rebuild from today's definition would
            # drop the columns added since.
            captured.reverse_sql[vendor] = self._collect(
                captured,
                model,
                connection,
                lambda editor: (
                    BaseDatabaseSchemaEditor.add_field(
                        editor, model, _addable_on_sqlite(field)
                    )
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
            captured.sql[vendor] = self._collect(
                captured, model, connection, lambda editor: editor.delete_model(model)
            )
            captured.reverse_sql[vendor] = self._collect(
                captured, model, connection, lambda editor: editor.create_model(model)
            )
        return captured

    def _collect(self, captured: CapturedSQL, model, connection, action) -> list[str]:
        """
        ``_collect`` with the tables named as Django names them on the
        connection's vendor (``model``: the table's), which may not be the
        vendor makemigrations runs on: Django truncates and hashes a long
        default name (a model's, an M2M table's) to the limit of the
        database its models were set up with (PostgreSQL 63, MySQL 64).
        """
        renamed = self._renamed.get(connection.vendor, {})
        named = {meta: meta.db_table for meta in renamed}
        for meta, name in renamed.items():
            meta.db_table = name
        try:
            if model._meta.db_table != captured.table:
                captured.tables[connection.vendor] = model._meta.db_table
            return _collect(connection, action)
        finally:
            for meta, name in named.items():
                meta.db_table = name

    def _project_host(self, item: LingeringColumn) -> _Host | None:
        """
        The project's own model of the column's table, with a copy of the
        lingering field bound to it (not added to it), where the schema
        editor writes the same SQL there as on a skeleton: the model has the
        table's name. A relation points at the installed model of its target
        if that has the database's primary key, else at the target's
        skeleton (``target``). None: the column's table gets a skeleton.
        Dropping and adding a column reads nothing of its model but the
        table's name, so most removals render nothing.
        """
        field = item.lingering
        if field.many_to_many or getattr(field, "generated", False):
            return None  # An M2M table, or an expression over other fields.
        if field.is_relation and field.db_constraint:
            return None  # Its constraint (DB_CASCADE...) names its target's key.
        model = self._project_model(item.model)
        if model is None:
            return None
        bound = _database_shape(field)  # A copy where it has a default.
        if bound is field:
            bound = _clone(field)
        skeleton = None
        if field.is_relation:
            if list(getattr(field, "to_fields", ())) != [None]:
                return None  # A to_field, or a ForeignObject: a skeleton has it.
            key = resolve_relation(field.remote_field.model, *item.model)
            bound.remote_field.model = self._installed_target(key)
            if bound.remote_field.model is None:
                skeleton = key
        bound.set_attributes_from_name(item.name)
        bound.model = model
        return _Host(model, bound, skeleton)

    def _project_model(self, key: ModelKey) -> type[models.Model] | None:
        """The installed model ``key`` if it has its table's name in ``self.state``."""
        model_state = self.state.models.get(key)
        if model_state is None:
            return None
        try:
            model = global_apps.get_model(*key)
        except LookupError:
            return None
        # Both declare db_table, or neither does: Django names (and
        # truncates) the table the same way for both.
        if model._meta.proxy or model._meta.swapped:
            return None
        if model._meta.original_attrs.get("db_table") != model_state.options.get(
            "db_table"
        ):
            return None
        return model

    def _installed_target(self, key: ModelKey) -> type[models.Model] | None:
        """
        The installed model ``key``, to point at, if its primary key is the
        one the database has (``self.state``'s); else None.
        """
        if key not in self._targets:
            model = self._project_model(key)
            if model is not None:
                fields = self.state.models[key].fields
                pk = model._meta.pk
                if not (
                    pk.name in fields
                    and fields[pk.name].primary_key
                    and same_declaration(fields[pk.name], pk)
                ):
                    model = None
            self._targets[key] = model
        return self._targets[key]

    def _project_target(
        self, key: ModelKey, fields: dict[str, models.Field]
    ) -> type[models.Model] | None:
        """
        The installed model ``key`` for a skeleton that only points at its
        primary key (``_installed_target``). The registry holds it as it is:
        every relation a skeleton has is hidden (see ``_clone``), so
        resolving one sets nothing on the installed model.
        """
        if len(fields) != 1 or not next(iter(fields.values())).primary_key:
            return None
        return self._installed_target(key)

    def _model_state(self, key: ModelKey):
        for model_states in (
            self.state.models,
            self.created,
            self.later.models if self.later is not None else {},
        ):
            if key in model_states:
                return model_states[key]
        try:
            return ModelState.from_model(global_apps.get_model(*key))
        except LookupError:
            raise CommandError(
                f"{key[0]}.{key[1]}: a relation of this change points at this "
                f"model, which neither the migrations nor the installed apps "
                f"define. Install its app (or add the model), then run "
                f"makemigrations again."
            ) from None

    def _concrete(self, key: ModelKey) -> ModelKey:
        """The model whose table ``key`` uses: ``key``, or a proxy's concrete model."""
        model_state = self._model_state(key)
        while model_state.options.get("proxy"):
            for base in model_state.bases:
                if isinstance(base, str):
                    key = resolve_relation(base, *key)
                    break
                if (
                    isinstance(base, type)
                    and issubclass(base, models.Model)
                    and base is not models.Model
                    and not base._meta.abstract
                ):
                    key = base._meta.app_label, base._meta.model_name
                    break
            else:
                return key
            model_state = self._model_state(key)
        return key

    def _skeletons(
        self, wanted: dict[ModelKey, dict[str, models.Field]], options: dict
    ) -> dict[ModelKey, type[models.Model]]:
        """
        Render each model of ``wanted`` with just those fields (in their
        database shape) and its primary key, and every model they point at
        with just its primary key (or the ``to_field``), in one registry.
        """
        apps = _Registry()
        chosen = {
            key: {
                name: _database_shape(field)
                for name, field in fields.items()
                if not _through_model_of_its_own(field)
            }
            for key, fields in wanted.items()
        }

        proxies: dict[ModelKey, ModelKey] = {}  # a proxy pointed at: its table's

        def need(key: ModelKey, name: str | None = None) -> None:
            """Make sure model ``key`` has field ``name`` (default: its pk)."""
            model_state = self._model_state(key)
            fields = chosen.setdefault(key, {})
            if name is None:
                name = next(
                    (n for n, f in model_state.fields.items() if f.primary_key), None
                )
                if name is None:
                    return  # Rendering adds the implicit primary key, as Django's.
            if name not in fields:
                fields[name] = model_state.fields[name]
                follow(key, fields[name])

        def follow(key: ModelKey, field: models.Field) -> None:
            if getattr(field, "generated", False):
                # Its expression resolves against the skeleton's fields.
                for name in referenced_fields(field.expression):
                    if name == "pk":
                        need(key)
                    elif name in self._model_state(key).fields:
                        need(key, name)
            if field.is_relation:
                target = resolve_relation(field.remote_field.model, *key)
                table = self._concrete(target)
                if table != target:
                    # A proxy: the relation's column and constraint are its
                    # concrete model's primary key's (or to_field's).
                    proxies[target] = table
                    target = table
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
            if model_key not in wanted and model_key not in proxies.values():
                target = self._project_target(model_key, model_fields)
                if target is not None:
                    apps.register_model(model_key[0], target)
                    built[model_key] = target
                    continue
            model_state = self._model_state(model_key)
            # Fields in the model's own order, as CREATE TABLE lists them.
            order = list(model_state.fields)
            meta = {"app_label": model_key[0], "apps": apps}
            if "db_table" in model_state.options:
                meta["db_table"] = model_state.options["db_table"]
            meta.update(_copy_options(options.get(model_key, {})))
            attrs = {"__module__": __name__, "Meta": type("Meta", (), meta)}
            attrs.update(
                (name, _clone(model_fields[name]))
                for name in sorted(
                    model_fields,
                    key=lambda name: order.index(name) if name in order else len(order),
                )
            )
            built[model_key] = type(model_state.name, (models.Model,), attrs)
        for proxy, table in proxies.items():
            meta = {"app_label": proxy[0], "apps": apps, "proxy": True}
            attrs = {"__module__": __name__, "Meta": type("Meta", (), meta)}
            built[proxy] = type(self._model_state(proxy).name, (built[table],), attrs)
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
                attrs[original._meta.pk.name] = _clone(original._meta.pk)
                attrs.update((n, _clone(f)) for n, f in model_fields.items())
                built[model_key] = type(
                    original.__name__ + "Twin", (models.Model,), attrs
                )
                self._twins[built[model_key]] = original
        return built


class _Registry(Apps):
    """
    A throwaway registry that leaves Django's cache of swappable settings
    alone: that cache is shared by every registry (``functools.cache`` on the
    method), and Django's ``clear_cache`` empties it at every model
    registered, after which each relation field deconstructed (cloned,
    written) looks through every model of the project again.
    """

    def clear_cache(self) -> None:
        # The rest of Django's: this registry has no app configs to expire.
        self.get_models.cache_clear()


TWIN = "__bluegreen_twin"


def referenced_fields(expression) -> set[str]:
    """The names of the model's own fields that ``expression`` refers to."""
    if isinstance(expression, models.F):
        return {expression.name.split(LOOKUP_SEP, 1)[0]}
    if isinstance(expression, models.Q):
        return set(expression.referenced_base_fields)
    names = set()
    for source in getattr(expression, "get_source_expressions", list)():
        if source is not None:
            names |= referenced_fields(source)
    return names


def _vendor_tables(rendered: list, connection, twins: dict) -> dict:
    """
    The ``_meta`` of each model of ``rendered`` (their auto-created M2M
    tables too) whose table Django names otherwise on ``connection``'s
    vendor, with that name: Django computes a default table name, and an
    M2M table's from its model's, truncated to the limit of the database
    the models were set up with (``Options.contribute_to_class``,
    ``ManyToManyField._get_m2m_db_table``); a ``db_table`` given is kept.
    """
    limit = connection.ops.max_name_length()
    names: dict = {}

    def name(model) -> str:
        meta = model._meta
        if meta not in names:
            if model in twins:
                names[meta] = name(twins[model])
            elif meta.proxy:
                names[meta] = name(meta.concrete_model)
            elif meta.auto_created:
                owner = meta.auto_created
                field = next(
                    f
                    for f in owner._meta.local_many_to_many
                    if f.remote_field.through is model
                )
                names[meta] = field.db_table or truncate_name(
                    f"{strip_quotes(name(owner))}_{field.name}", limit
                )
            elif "db_table" in meta.original_attrs:
                names[meta] = meta.original_attrs["db_table"]
            else:
                names[meta] = truncate_name(f"{meta.app_label}_{meta.model_name}", limit)
        return names[meta]

    for model in rendered:
        name(model)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if isinstance(through, type) and through._meta.auto_created:
                name(through)
    return {meta: table for meta, table in names.items() if table != meta.db_table}


def _through_model_of_its_own(field: models.Field) -> bool:
    """
    A many-to-many field whose table is another model's (``through=``): the
    schema editor creates and drops only auto-created tables, so the field
    is no SQL of its model's. A skeleton leaves it out, and with it the
    through model, which may be in another app, deleted in the same run,
    or in neither registry (a string never resolved: ``'str' object has no
    attribute '_meta'``).
    """
    return field.many_to_many and field.remote_field.through is not None


def _addable_on_sqlite(field: models.Field) -> models.Field:
    """
    SQLite cannot ADD COLUMN a STORED generated column to a table holding
    rows ("cannot add a STORED column"); a VIRTUAL one reads the same.
    """
    if not (field.generated and field.db_persist):
        return field
    virtual = copy.copy(field)
    virtual.db_persist = False
    return virtual


def _twin(key: ModelKey) -> ModelKey:
    return key[0], key[1] + TWIN


def _alter(editor, model, before, twin, after) -> None:
    """Emit the SQL that alters ``before`` (on ``model``) to ``after`` (on ``twin``)."""
    if editor.connection.vendor != "sqlite":
        # Without the relation, alter_field has no constraint to look up in
        # the live database; a NULL or default change never touches it.
        emitted = len(editor.collected_sql)
        editor.alter_field(
            model, _unconstrained(before, model), _unconstrained(after, twin)
        )
        if editor.connection.vendor == "mysql":
            _redeclare_check(editor, after, emitted)
        return
    # Imported here: most runs alter no column, and an import costs.
    from .sqlite import column_definition, edit_column_definitions

    edit_column_definitions(
        editor,
        model._meta.db_table,
        [
            (
                column_definition(editor, model, before),
                column_definition(editor, twin, after),
            )
        ],
    )


def _clone(field: models.Field) -> models.Field:
    """
    An unbound copy of ``field`` for a skeleton, made as Django's
    ``Field.__deepcopy__`` makes one (its own relation object, the rest
    shared) rather than through ``deconstruct``, which costs a skeleton a
    field's whole constructor, and for a relation a search of the project
    for the setting that may swap its target. What binding leaves on the
    copy (its model, values cached from it) is not carried over, and it
    gets a creation counter of its own, so that its model lists it where
    the skeleton declares it, as a new field would be.
    """
    clone = _unbound_copy(field)
    # The model it was bound to (a relation object's "model" is its target,
    # and stays).
    clone.__dict__.pop("model", None)
    clone.creation_counter = models.Field.creation_counter
    models.Field.creation_counter += 1
    if field.remote_field is not None:
        clone.remote_field = _unbound_copy(field.remote_field)
        clone.remote_field.field = clone
        # Hidden: no reverse accessor on its target, which may be an
        # installed model (what a relation is called backwards is no SQL).
        related_name = clone.remote_field.related_name
        if not (related_name and related_name.endswith("+")):
            clone.remote_field.related_name = "+"
    return clone


def _unbound_copy(item):
    """A shallow copy of a field or relation without what binding set."""
    bound, own_copy = _BOUND.get(type(item)) or _bound_attributes(type(item))
    if own_copy:
        clone = copy.copy(item)
        for name in bound:
            clone.__dict__.pop(name, None)
        return clone
    # What Django's __copy__ (a field's) or __getstate__ (a relation's)
    # copies, without the detour through the copy module: the instance's
    # dictionary (less what binding cached, which they drop some of too).
    clone = object.__new__(type(item))
    clone.__dict__ = {
        name: value for name, value in item.__dict__.items() if name not in bound
    }
    return clone


def _bound_attributes(kind: type) -> tuple[frozenset[str], bool]:
    """
    The values a ``kind`` caches, which binding it to a model may have set;
    and whether it copies itself otherwise than Django's fields and
    relations do (a ``__copy__`` of its own).
    """
    names = cached_attributes(kind)
    own_copy = not (
        getattr(kind, "__copy__", None) in _DJANGO_COPIES
        or (
            not hasattr(kind, "__copy__")
            and kind.__reduce_ex__ is object.__reduce_ex__
            and kind.__getstate__ in _DJANGO_STATES
        )
    )
    _BOUND[kind] = names, own_copy
    return _BOUND[kind]


_DJANGO_COPIES = (models.Field.__copy__, models.ForeignObject.__copy__)
_DJANGO_STATES = (ForeignObjectRel.__getstate__, ManyToOneRel.__getstate__)
_BOUND: dict[type, tuple[frozenset[str], bool]] = {}


def _redeclare_check(editor, field: models.Field, emitted: int) -> None:
    """
    MySQL's MODIFY re-declares the whole column: a column-level CHECK that
    it does not repeat is gone (a PositiveIntegerField's ``>= 0``; MariaDB
    adds a JSONField's json_valid back for its ``json`` alias only). Repeat
    the field's CHECK in each MODIFY of its column that ``editor`` emitted
    since statement number ``emitted``.
    """
    check = field.db_parameters(editor.connection)["check"]
    if not check:
        return
    modify = f"MODIFY {editor.quote_name(field.column)} "
    statements = editor.collected_sql
    for index in range(emitted, len(statements)):
        statement = statements[index]
        if modify in statement and "CHECK" not in statement:
            statements[index] = statement.rstrip(";") + f" CHECK ({check});"


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
    makes SQLite's add_field rebuild the table.) A copy, as a skeleton's
    fields are (see ``_clone``).
    """
    if not field.has_default():
        return field
    shaped = _clone(field)
    shaped.default = models.NOT_PROVIDED
    return shaped


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
    if connection.vendor == "mysql":
        editor.quote_value = _mysql_quote_value(editor.quote_value)
    action(editor)
    for statement in editor.deferred_sql:
        editor.execute(statement, None)
    return list(editor.collected_sql)


def _mysql_quote_value(quote_value):
    """
    MySQL's ``quote_value`` writes bytes as Python's repr (``b"..."``, not
    SQL: Django's migrate passes them to the driver instead); a hex literal
    is the value the driver would send. A value the driver escapes to bytes
    (a UUID, on MariaDB's native uuid column) is the text of those bytes.
    """

    def quote(value):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"X'{bytes(value).hex()}'"
        quoted = quote_value(value)
        return quoted.decode() if isinstance(quoted, bytes) else quoted

    return quote
