"""
makemigrations' hand-off: what the split made of each migration Django
wrote, declared in one place. The autodetector sets it (``attach``), the
makemigrations command reads it (``split_of``); nothing else rides on
Django's Migration objects.
"""

from __future__ import annotations

from django.db.migrations import Migration

ATTRIBUTE = "bluegreen_split"


class SplitResult:
    """What the split made of one migration Django wrote (a contract, or not)."""

    def __init__(self) -> None:
        # The cleanup migration to park in pending/ (None: nothing to finish).
        self.cleanup: Migration | None = None
        # What makemigrations says with this migration (Warning: ...).
        self.warnings: list[str] = []
        # Pending cleanups this run re-plans, by path; on the run's last
        # migration only (its file is written with them, all or nothing).
        self.rewrites: dict[str, Migration] = {}


def attach(migration: Migration) -> SplitResult:
    """``migration``'s result, attached to it on first use (the autodetector's)."""
    result = getattr(migration, ATTRIBUTE, None)
    if result is None:
        result = SplitResult()
        setattr(migration, ATTRIBUTE, result)
    return result


def split_of(migration: Migration) -> SplitResult:
    """What the split made of ``migration`` (an empty result if it made nothing)."""
    return getattr(migration, ATTRIBUTE, None) or SplitResult()
