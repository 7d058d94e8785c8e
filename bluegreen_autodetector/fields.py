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
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

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
