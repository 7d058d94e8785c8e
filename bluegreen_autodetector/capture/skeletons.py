"""
Capture's throwaway models ("skeletons"): each model a run needs, once, with
the fields its steps need and the primary keys they point at, in a registry
of their own. The project state is never rendered whole.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.core.management.base import CommandError
from django.db import connection as models_connection
from django.db import models
from django.db.backends.utils import strip_quotes, truncate_name
from django.db.migrations.state import ModelState
from django.db.migrations.utils import resolve_relation
from django.db.models.constants import LOOKUP_SEP

from ..fields import _clone
from ..keys import ModelKey
from .statements import _database_shape


class Skeletons:
    """Capture's methods that render skeletons (see ``Capture``)."""

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
    if limit == models_connection.ops.max_name_length():
        return {}  # The limit the models were named with: Django names them alike.
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


def _twin(key: ModelKey) -> ModelKey:
    return key[0], key[1] + TWIN


def _copy_options(options: dict) -> dict:
    copied = {}
    for key, value in options.items():
        if key in ("indexes", "constraints"):
            value = [item.clone() for item in value]
        if value:
            copied[key] = value
    return copied
