"""
Capture's reuse of installed models: where the project's own model already
is what a skeleton would be to the schema editor (the host of a lingering
column, a target whose primary key is the database's), it is used instead
of rendering one.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import models
from django.db.migrations.utils import resolve_relation

from ..cleanup_steps import LingeringColumn
from ..fields import _clone, same_declaration
from ..keys import ModelKey
from .statements import _database_shape


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


class InstalledModels:
    """Capture's methods that find and reuse installed models (see ``Capture``)."""

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
