"""Names a module re-exports from its submodules, imported on first use (PEP 562)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def attributes(
    owner: str, package: str, modules: dict[str, str]
) -> Callable[[str], object]:
    """
    The ``__getattr__`` of module ``owner``: each name of ``modules`` is
    read from the module ``package.<its module>``, imported when first
    asked for; any other name is missing from ``owner``.
    """

    def __getattr__(name: str):
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    return __getattr__
