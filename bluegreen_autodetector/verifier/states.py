"""
Copies of Django's project state for the verifier to change: the models
only, never rendered; with the bookkeeping of what the database holds that
the state does not (lingering columns, a rename's synchronised pairs, a
renamed table's views), copied with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.utils import resolve_relation

from ..keys import ModelKey


def copy_state(state: ProjectState, keys: Iterable[ModelKey] | None = None):
    """
    A copy of the models only, never rendering anything. With ``keys``, only
    those models are copied (the others are shared, to be read, not changed):
    what the operations of a few migrations change costs what they touch.
    """
    model_states = dict(state.models)
    for key in model_states if keys is None else set(keys) & set(model_states):
        model_states[key] = clone(model_states[key])
    return _with_bookkeeping(state, model_states)


def part_of(
    state: ProjectState, keys: Iterable[ModelKey], changed: Iterable[ModelKey]
) -> ProjectState:
    """
    The models ``keys`` only, the others left out: Django's state operations
    look through every model of a state (which fields refer to the one they
    change), so replaying a few migrations on the few models they touch
    costs what they touch, not the size of the project. Of those, the
    models ``changed`` are copies; the others are shared, to be read only.
    """
    changed = set(changed)
    model_states = {
        key: clone(state.models[key]) if key in changed else state.models[key]
        for key in keys
        if key in state.models
    }
    return _with_bookkeeping(state, model_states)


def clone(model_state: ModelState) -> ModelState:
    """
    ``model_state.clone()``, without re-running the sanity checks of
    ``ModelState.__init__`` on fields the original already passed them with
    (each costs an unbound field a failed attribute lookup). A model state
    holding more than Django's attributes is cloned by its own method.
    """
    if type(model_state).clone is not ModelState.clone or not (
        model_state.__dict__.keys() <= _MODEL_STATE_ATTRIBUTES
    ):
        return model_state.clone()
    # What clone() passes __init__, and what __init__ makes of it.
    options = dict(model_state.options)
    options.setdefault("indexes", [])
    options.setdefault("constraints", [])
    copy = object.__new__(type(model_state))
    copy.__dict__ = {
        "app_label": model_state.app_label,
        "name": model_state.name,
        "fields": dict(model_state.fields),
        "options": options,
        "bases": model_state.bases or (models.Model,),
        "managers": list(model_state.managers),
    }
    return copy


# What ModelState.__init__ sets, and the name_lower it caches.
_MODEL_STATE_ATTRIBUTES = frozenset(
    ["app_label", "name", "fields", "options", "bases", "managers", "name_lower"]
)


def _with_bookkeeping(state: ProjectState, model_states: dict) -> ProjectState:
    copy = ProjectState(models=model_states, real_apps=state.real_apps)
    copy.bluegreen_lingering = {
        key: set(names)
        for key, names in getattr(state, "bluegreen_lingering", {}).items()
    }
    copy.bluegreen_views = dict(getattr(state, "bluegreen_views", {}))
    copy.bluegreen_synced = {
        table: dict(pairs)
        for table, pairs in getattr(state, "bluegreen_synced", {}).items()
    }
    return copy


def unrenamed(state: ProjectState, renamed_models: dict) -> ProjectState:
    """
    ``state`` (the autodetector's ``to_state``) with its relations to a
    renamed model pointing at it again. Django's autodetector points them at
    the old name while it compares fields (``generate_altered_fields``), and
    leaves them so: a many-to-many table of a renamed model to itself would
    name its column after the old model (``book_id``). ``renamed_models``:
    (app_label, new name) -> old name, as the autodetector keeps it.
    """
    new_keys = {}  # old key -> the renamed model's label
    for (app_label, new), old_name in renamed_models.items():
        if (app_label, new) in state.models:
            label = f"{app_label}.{state.models[app_label, new].name}"
            new_keys[app_label, old_name.lower()] = label
    if not new_keys:
        return state
    model_states = dict(state.models)
    for key, model_state in state.models.items():
        for name, field in model_state.fields.items():
            if not field.is_relation or not isinstance(field.remote_field.model, str):
                continue
            target = resolve_relation(field.remote_field.model, *key)
            if target not in new_keys or target in state.models:
                continue
            if model_states[key] is model_state:
                model_states[key] = model_state = clone(model_state)
            field = model_state.fields[name] = field.clone()
            field.remote_field.model = new_keys[target]
    return _with_bookkeeping(state, model_states)
