"""
``deconstruct(field)``: ``field.deconstruct()`` at the cost of the field.

For a relation, Django's ``deconstruct`` asks which setting may swap the
target (``apps.get_swappable_settings_name``): a search through every model
of the project, cached by the exact spelling of the target. Removed fields
spell their targets as the migration files do (``"shop.book"``), not as the
models do (``"shop.Book"``), so each one the package reshapes searched the
project again: the number of removals times the number of models. Here the
labels that some setting swaps are found once per registry, and a field
whose target is none of them is deconstructed as not swappable, which is
what Django would answer.

``same_declaration(a, b)``: whether two fields deconstruct alike, mostly
without deconstructing them.

Every copy of a field the package makes is made here: ``rebuild`` and
``from_deconstructed`` (a new field from its deconstruction, perhaps
edited), ``bound_copy`` (a shallow copy under another name, for its
column), and ``_clone`` (an unbound copy for capture's skeletons).
"""

from __future__ import annotations

import copy
import sys

from django.apps import apps
from django.core.management.base import CommandError
from django.db import models
from django.db.models.fields.reverse_related import ForeignObjectRel, ManyToOneRel
from django.utils.functional import cached_property

_labels: list = []  # [the registry's model list it was read from, the labels]


def deconstruct(field: models.Field) -> tuple:
    """``field.deconstruct()``, the same tuple."""
    if not getattr(field, "swappable", False) or _maybe_swapped(field):
        return field.deconstruct()
    field.swappable = False
    try:
        return field.deconstruct()
    finally:
        field.swappable = True


def _maybe_swapped(field: models.Field) -> bool:
    target = field.remote_field.model
    label = target if isinstance(target, str) else target._meta.label
    return label.lower() in _swappable_labels()


def _swappable_labels() -> frozenset[str]:
    """The lower-case labels Django names a swappable setting for."""
    every = apps.get_models(include_swapped=True)  # cached until the registry changes
    if not _labels or _labels[0] is not every:
        labels = set()
        for model in every:
            if model._meta.swapped:
                labels.add(model._meta.swapped.lower())
            if model._meta.swappable:
                labels.add(model._meta.label_lower)
        _labels[:] = [every, frozenset(labels)]
    return _labels[1]


def same_declaration(a: models.Field, b: models.Field) -> bool:
    """
    Whether ``a`` and ``b`` deconstruct alike, but for their names. Two
    fields of one class whose ``deconstruct`` is Django's, holding the same
    arguments (what their constructor stored: the instance dictionary, less
    what binding to a model set and what the field cached), are alike
    without deconstructing either; otherwise their deconstructions are
    compared.
    """
    kind = type(a)
    if kind is type(b):
        ignored = _ignored.get(kind)
        if ignored is None:
            ignored = _ignored[kind] = _ignored_attributes(kind)
        if ignored is not _DECONSTRUCT and {
            name: value for name, value in a.__dict__.items() if name not in ignored
        } == {name: value for name, value in b.__dict__.items() if name not in ignored}:
            return True
    return deconstruct(a)[1:] == deconstruct(b)[1:]


def _ignored_attributes(kind: type) -> frozenset[str]:
    """What ``same_declaration`` leaves out for ``kind``, or ``_DECONSTRUCT``."""
    if not kind.deconstruct.__module__.startswith("django.db.models."):
        return _DECONSTRUCT  # Its deconstruct may read anything.
    return _BINDING | cached_attributes(kind)


def cached_attributes(kind: type) -> frozenset[str]:
    """The names of the values a ``kind`` caches (its cached properties)."""
    return frozenset(
        name
        for klass in kind.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, cached_property)
    )


# What binding a field to a model sets (set_attributes_from_name,
# contribute_to_class); no deconstruct of Django's reads them (it reads
# ``_verbose_name``, the argument, not ``verbose_name``).
_BINDING = frozenset(
    [
        "name",
        "attname",
        "column",
        "concrete",
        "verbose_name",
        "model",
        "creation_counter",
    ]
)
_DECONSTRUCT = frozenset()
_ignored: dict[type, frozenset[str]] = {}


# Copies of fields, as Django's __copy__ and __getstate__ make them (capture's
# skeletons).


def _clone(field: models.Field) -> models.Field:
    """
    An unbound copy of ``field`` for a skeleton (``_new_copy``), its relation
    hidden: no reverse accessor on its target, which may be an installed
    model (what a relation is called backwards is no SQL).
    """
    clone = _new_copy(field)
    if clone.remote_field is not None:
        related_name = clone.remote_field.related_name
        if not (related_name and related_name.endswith("+")):
            clone.remote_field.related_name = "+"
    return clone


def _new_copy(field: models.Field) -> models.Field:
    """
    An unbound copy of ``field``, made as Django's ``Field.__deepcopy__``
    makes one (its own relation object, the rest shared) rather than
    through ``deconstruct``, which costs a field's whole constructor, and
    for a relation a search of the project for the setting that may swap
    its target. What binding leaves on the copy (its model, values cached
    from it) is not carried over, and it gets a creation counter of its
    own, so that a model lists it where it is declared, as a new field.
    """
    copied = _unbound_copy(field)
    # The model it was bound to (a relation object's "model" is its target,
    # and stays).
    copied.__dict__.pop("model", None)
    copied.creation_counter = models.Field.creation_counter
    models.Field.creation_counter += 1
    if field.remote_field is not None:
        copied.remote_field = _unbound_copy(field.remote_field)
        copied.remote_field.field = copied
    return copied


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


# Fields rebuilt from their deconstruction (the catalogue's rows), and
# named copies (the verifier's columns).


def rebuild(path: str, args, kwargs) -> models.Field:
    """The field of class ``path`` (as ``deconstruct`` names it) with these."""
    module, _, class_name = path.rpartition(".")
    try:
        # The field's module is loaded, its class being in use: no import.
        loaded = sys.modules.get(module) or __import__(module, fromlist=[class_name])
        field_class = getattr(loaded, class_name)
    except (ImportError, AttributeError):
        # A class its path does not import (defined in a function, as
        # tests do): the one loaded under that name.
        field_class = _loaded_field_class(path)
    field = field_class(*args, **kwargs)
    if getattr(field, "swappable", False) and not _maybe_swapped(field):
        # No setting swaps its target: said once here, rather than by
        # Django's search of every model (``get_swappable_settings_name``)
        # for each new spelling of a target, which its writer makes for
        # every relation rebuilt here. ``deconstruct`` is the same.
        field.swappable = False
    return field


def reshaped(field: models.Field, declared: tuple, shaped: tuple) -> models.Field:
    """
    The field ``shaped`` (path, args, kwargs) describes, where ``declared``
    is ``field``'s own deconstruction (path, args, kwargs): ``rebuild``'s, or,
    where ``field`` is of one of Django's own classes and the arguments set
    differently are all ones its constructor stores as they are
    (``_STORED_AS``), a copy of ``field`` with those attributes set, as
    ``_database_shape`` sets a default: what the constructor would make of
    them, and what its ``deconstruct`` reads back, without its cost.
    """
    path, args, kwargs = shaped
    old = declared[2]
    changed = {
        name
        for name in old.keys() | kwargs.keys()
        if old.get(name, _MISSING) != kwargs.get(name, _MISSING)
    }
    if (
        path != declared[0]
        or args != declared[1]
        or type(field).__module__ not in _DJANGO_FIELD_MODULES
        or not changed <= _STORED_AS
        or not changed <= kwargs.keys()  # one back to its default: rebuilt
        # A many-to-many field keeps db_constraint on its relation object.
        or ("db_constraint" in changed and not isinstance(field, models.ForeignKey))
    ):
        return rebuild(path, args, kwargs)
    copied = _new_copy(field)
    for name in changed:
        setattr(copied, name, kwargs[name])
    if getattr(copied, "swappable", False) and not _maybe_swapped(copied):
        copied.swappable = False  # as rebuild says it
    return copied


_MISSING = object()

# Arguments the constructors of Django's own field classes store unchanged
# under their own name (Field.__init__; ForeignKey.__init__'s db_constraint),
# which their deconstruct reads back.
_STORED_AS = frozenset({"null", "db_index", "db_default", "db_constraint"})

# Where Django's own field classes are defined (their __module__).
_DJANGO_FIELD_MODULES = frozenset(
    {
        "django.db.models.fields",
        "django.db.models.fields.related",
        "django.db.models.fields.json",
        "django.db.models.fields.files",
    }
)


def _loaded_field_class(path: str) -> type[models.Field]:
    classes, seen = [models.Field], set()
    while classes:
        field_class = classes.pop()
        if field_class in seen:
            continue
        seen.add(field_class)
        if f"{field_class.__module__}.{field_class.__qualname__}" == path:
            return field_class
        classes += field_class.__subclasses__()
    raise CommandError(
        f"Field class {path} cannot be imported by that path, which migrations "
        f"name it by: define it at the top level of a module, then run "
        f"makemigrations again."
    )


def deconstructed(field: models.Field) -> dict:
    """The field's keyword arguments, its path and args under ``__path_args__``."""
    name, path, args, kwargs = deconstruct(field)
    return {**kwargs, "__path_args__": (path, args)}


def from_deconstructed(kwargs: dict) -> models.Field:
    """The field ``deconstructed`` (perhaps edited since) describes."""
    kwargs = dict(kwargs)
    return rebuild(*kwargs.pop("__path_args__"), kwargs)


def bound_copy(field: models.Field, name: str) -> models.Field:
    """
    A shallow copy of ``field`` named ``name`` (its column and attname set),
    leaving ``field``, which a model state shares, as it was.
    """
    bound = object.__new__(type(field))
    bound.__dict__ = field.__dict__.copy()
    bound.set_attributes_from_name(name)
    return bound
