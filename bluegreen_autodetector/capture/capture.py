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

from django.db import models
from django.db.migrations.state import ProjectState

from ..cleanup_steps import (
    AddForeignKeys,
    AlterColumn,
    LingeringColumn,
    LingeringTable,
    ModelKey,
)
from .installed import InstalledModels
from .skeletons import Skeletons, _twin, _vendor_tables
from .statements import CapturedSQL, Statements

__all__ = [
    "AddForeignKeys",
    "AlterColumn",
    "Capture",
    "CapturedSQL",
    "LingeringColumn",
    "LingeringTable",
    "ModelKey",
]


class Capture(InstalledModels, Skeletons, Statements):
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
        self._connections: dict = {}  # see _connection

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
            vendor: _vendor_tables(rendered, self._connection(vendor), self._twins)
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
                    self._alter_column(model, registry[_twin(item.model)], item.name)
                )
            else:
                captured.append(self._drop_table(model, item.m2m))
        return captured
