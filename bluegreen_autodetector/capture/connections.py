"""
The connection cleanup SQL is captured with, for each vendor: a database of
the project's own, else ``BLUEGREEN_CAPTURE_DATABASES``, else (SQLite) an
in-memory one. Nothing of its schema is ever read.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DatabaseError, connections
from django.db.utils import load_backend

from .. import conf

_capture_connections: dict = {}


def capture_connection(vendor: str):
    """
    A connection of ``vendor`` to capture with: a ``DATABASES`` entry of that
    vendor, else ``BLUEGREEN_CAPTURE_DATABASES[vendor]``, else (SQLite only)
    an in-memory database. Nothing of its schema is ever read.
    """
    for alias in connections:
        if connections[alias].vendor == vendor:
            return _connected(connections[alias], f"DATABASES[{alias!r}]")
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
    return _connected(
        _capture_connections[vendor], f"BLUEGREEN_CAPTURE_DATABASES[{vendor!r}]"
    )


def _connected(connection, entry: str):
    """
    ``connection``, connected. PostgreSQL and MySQL quote values through
    their driver, which needs a connection; nothing of the schema is read.
    A server that does not answer stops the command on one line, before any
    file is written (capture runs while Django detects the changes).
    """
    if connection.vendor != "sqlite":
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            where = connection.settings_dict.get("HOST") or "its socket"
            port = connection.settings_dict.get("PORT")
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise CommandError(
                f"Cannot connect to the {connection.vendor} server of {entry} "
                f"({where}{':' + str(port) if port else ''}) to capture cleanup "
                f"SQL with: {reason or type(error).__name__}. Start the server, "
                f"or fix {entry} in {conf.settings_file()}, then run makemigrations "
                f"again; nothing was written."
            ) from error
    return connection
