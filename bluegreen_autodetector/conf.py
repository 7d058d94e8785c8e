"""Every BLUEGREEN_* setting and its default, in one place."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections

# Set for one command run by --bluegreen / --no-bluegreen, --allow-unsafe.
_forced: ContextVar[bool | None] = ContextVar("bluegreen_forced", default=None)
_unsafe: ContextVar[bool] = ContextVar("bluegreen_unsafe", default=False)


def enabled() -> bool:
    """``BLUEGREEN_MIGRATIONS``: split backward-incompatible changes (default off)."""
    forced = _forced.get()
    if forced is not None:
        return forced
    return bool(getattr(settings, "BLUEGREEN_MIGRATIONS", False))


def allow_unsafe() -> bool:
    """``--allow-unsafe``: let refused operations through for one run."""
    return _unsafe.get()


@contextmanager
def forced(value: bool | None, unsafe: bool = False):
    """
    Within the block, ``enabled()`` is ``value`` (``None``: the setting) and
    ``allow_unsafe()`` is ``unsafe``.
    """
    tokens = _forced.set(value), _unsafe.set(unsafe)
    try:
        yield
    finally:
        _forced.reset(tokens[0])
        _unsafe.reset(tokens[1])


# The vendors whose schema editors cleanup SQL is captured from, and tested on.
SUPPORTED_VENDORS = ("sqlite", "postgresql", "mysql")


def vendors() -> list[str]:
    """
    ``BLUEGREEN_VENDORS``: the database vendors cleanup SQL is captured for.

    Defaults to the vendors of ``DATABASES``, in alias order, without repeats.
    """
    configured = getattr(settings, "BLUEGREEN_VENDORS", None)
    if configured is not None:
        if not isinstance(configured, (list, tuple)) or not all(
            isinstance(vendor, str) for vendor in configured
        ):
            raise _bad_setting(
                "BLUEGREEN_VENDORS",
                configured,
                "a list of vendors, e.g. ['postgresql']",
            )
        if not configured:
            # No vendor would leave every cleanup without SQL to run: only
            # the next release's migrate would stop on it.
            raise _bad_setting(
                "BLUEGREEN_VENDORS",
                configured,
                "a non-empty list of the vendors you deploy on, e.g. ['postgresql'] "
                "(or leave it out: the vendors of DATABASES)",
            )
        chosen = list(dict.fromkeys(configured))
        where = "BLUEGREEN_VENDORS names"
    else:
        chosen = list(
            dict.fromkeys(
                connections[alias].vendor
                for alias in connections
                if connections[alias].settings_dict["ENGINE"]
                != "django.db.backends.dummy"
            )
        )
        where = "DATABASES uses"
    unsupported = [vendor for vendor in chosen if vendor not in SUPPORTED_VENDORS]
    if unsupported:
        raise CommandError(
            f"{where} {', '.join(map(repr, unsupported))}, a database vendor "
            f"bluegreen_autodetector does not support (it captures cleanup SQL for "
            f"{', '.join(map(repr, SUPPORTED_VENDORS))}). Set BLUEGREEN_VENDORS to "
            f"the supported vendors you deploy on."
        )
    return chosen


def capture_databases() -> dict[str, dict]:
    """
    ``BLUEGREEN_CAPTURE_DATABASES``: for a vendor of ``BLUEGREEN_VENDORS``
    that no database in ``DATABASES`` uses, a ``DATABASES``-style entry of a
    server to capture its SQL with (connected to, never read or migrated).
    """
    return dict(getattr(settings, "BLUEGREEN_CAPTURE_DATABASES", {}))


def lock_timeout() -> float | None:
    """
    ``BLUEGREEN_LOCK_TIMEOUT``: seconds a statement run by ``migrate`` waits
    for a lock on PostgreSQL or MySQL/MariaDB before the migration is retried
    (default 2; ``None`` or 0 turns it off).
    """
    return _seconds("BLUEGREEN_LOCK_TIMEOUT", 2.0) or None


def lock_retries() -> int:
    """``BLUEGREEN_LOCK_RETRIES``: how many times a timed-out migration is retried (5)."""
    retries = getattr(settings, "BLUEGREEN_LOCK_RETRIES", 5)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise _bad_setting(
            "BLUEGREEN_LOCK_RETRIES", retries, "a whole number, 0 or more"
        )
    return retries


def online_ddl() -> bool:
    """
    ``BLUEGREEN_ONLINE_DDL``: ``migrate`` runs statements that would lock a big
    table while they scan or copy it in the vendor's online form (default on;
    ``online.py``).
    """
    return bool(getattr(settings, "BLUEGREEN_ONLINE_DDL", True))


DEFAULT_RELEASE_TTL = 60.0


def release_ttl() -> float:
    """
    ``BLUEGREEN_RELEASE_TTL``: a release whose processes were seen within this
    many seconds is live (default 60; ``None`` or 0 turns the registry off:
    nothing is recorded, nothing waits). See ``registry.py``.
    """
    return _seconds("BLUEGREEN_RELEASE_TTL", DEFAULT_RELEASE_TTL) or 0.0


# Set for one makemigrations run by --database ALIAS: the database whose
# registry of live releases names the old release, and how to say that it
# cannot be read.
_judged_on: ContextVar[tuple[str, Callable[[str], None]] | None] = ContextVar(
    "bluegreen_judged_on", default=None
)


def judged_on_database() -> tuple[str, Callable[[str], None]] | None:
    """``makemigrations --database ALIAS``: (ALIAS, how to warn), or None."""
    return _judged_on.get()


@contextmanager
def judged_on(alias: str | None, warn: Callable[[str], None]):
    """
    Within the block, the verifier of ``makemigrations`` takes the oldest
    live release of ``alias``'s registry as the old release
    (``release/serving.py``); ``None``: as without the option.
    """
    if alias is not None and alias not in settings.DATABASES:
        raise CommandError(
            f"--database {alias}: no such database in settings.DATABASES "
            f"({', '.join(map(repr, settings.DATABASES))}). Name the alias of "
            f"the database the releases serve from."
        )
    token = _judged_on.set(None if alias is None else (alias, warn))
    try:
        yield
    finally:
        _judged_on.reset(token)


def _seconds(name: str, default: float) -> float | None:
    value = getattr(settings, name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _bad_setting(name, value, "a number of seconds, or None")
    return value


def settings_file() -> str:
    """The path of the settings module, for messages that say where to look."""
    module = sys.modules.get(settings.SETTINGS_MODULE or "")
    return getattr(module, "__file__", None) or "your settings"


def _bad_setting(name: str, value, expected: str) -> CommandError:
    where = settings_file()
    return CommandError(
        f"settings.{name} is {value!r}: it must be {expected}. Fix it in "
        f"{where}, then run the command again."
    )


def marks_cleanups_for_linter() -> bool:
    """
    ``BLUEGREEN_MIGRATION_LINTER``: give each cleanup django-migration-linter's
    ``IgnoreMigration()`` (default: when ``django_migration_linter`` is in
    ``INSTALLED_APPS``). The cleanup then imports that package.
    """
    configured = getattr(settings, "BLUEGREEN_MIGRATION_LINTER", None)
    if configured is None:
        return apps.is_installed("django_migration_linter")
    return bool(configured)


PENDING_DIRNAME = "pending"
