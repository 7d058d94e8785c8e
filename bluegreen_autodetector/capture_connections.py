"""
The connection cleanup SQL is captured with, for each vendor: a database of
the project's own, else ``BLUEGREEN_CAPTURE_DATABASES``, else (SQLite) an
in-memory one. Nothing of its schema is ever read.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import connections
from django.db.utils import load_backend

from . import conf

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
