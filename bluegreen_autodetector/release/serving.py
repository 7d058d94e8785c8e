"""
The oldest live release, as the verifier's old release where a database is
at hand: ``check`` (bluegreen.W001, on the default database) and
``makemigrations --database ALIAS`` judge against the release the registry
of that database (``registry.py``) shows live, instead of the one the
migration graph supposes may run.

- The old release is the live release that lacks the most migrations of
  the graph (registry order, oldest first, breaks ties): the state at the
  migrations it recorded, per app; an app it did not record (or whose
  record this code cannot place) keeps the rule without the registry.
  A promoted cleanup whose contract it has is judged as part of it, as
  ``check`` judges one whose contract is applied.
- Registry off (``BLUEGREEN_RELEASE_TTL = 0``), no table, nothing live:
  the rule without the registry.
- A registry that cannot be read never breaks the command: the rule
  without the registry, said once through ``warn``.

Imported only where a registry is read (never by a plain makemigrations).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import DatabaseError

from .. import conf
from ..files import pending
from ..keys import MigrationKey
from ..verifier import live
from . import registry
from .guard import Knowledge


def recorded(
    alias: str, graph, warn: Callable[[str], None], instead: str
) -> Callable[[set[MigrationKey]], tuple[str, set[MigrationKey]] | None]:
    """
    A ``recorded`` for ``live.live_releases``: given what the old release
    lacks without the registry, the name of the oldest release live on
    ``alias`` and the migrations it lacks; or None. ``instead`` names the
    old release without the registry, for the warning.
    """

    def oldest(otherwise: set[MigrationKey]) -> tuple[str, set[MigrationKey]] | None:
        found = read(alias, warn, instead)
        if not found:
            return None
        knowledge = Knowledge(graph)
        candidates = [
            (release, _lacks(graph, knowledge, release, otherwise)) for release in found
        ]
        release, lacks = max(candidates, key=lambda candidate: len(candidate[1]))
        return name(release, alias), lacks

    return oldest


def read(
    alias: str, warn: Callable[[str], None], instead: str
) -> list[registry.Release] | None:
    """The live releases on ``alias``; None if off, absent or unreadable (said)."""
    try:
        ttl = conf.release_ttl()
    except CommandError as error:
        warn(f"{error} Until then the verifier judges against {instead}.")
        return None
    if not ttl:
        return None
    try:
        return registry.live_releases(alias, ttl)
    except (DatabaseError, ValueError, KeyError) as error:
        warn(
            f"Cannot read the registry of live releases ({registry.TABLE}) on "
            f"database {alias!r} ({type(error).__name__}: "
            f"{str(error).strip()}); the verifier judges against {instead}, "
            f"as without the registry. Grant this user SELECT on "
            f"{registry.TABLE}, or set BLUEGREEN_RELEASE_TTL = 0."
        )
        return None


def name(release: registry.Release, alias: str) -> str:
    """'release 1a2b3c4d5e6f (the oldest live on database 'default': web-1 (pid 10))'."""
    hosts = ", ".join(
        f"{host} (pid{'s' if len(pids) > 1 else ''} {', '.join(map(str, pids))})"
        for host, pids in release.hosts().items()
    )
    return f"release {release.name} (the oldest live on database {alias!r}: {hosts})"


def _lacks(
    graph, knowledge: Knowledge, release, otherwise: set[MigrationKey]
) -> set[MigrationKey]:
    known = {
        app: knowledge.known(app, names)
        for app, names in release.migrations.items()
        if names
    }
    lacks = live.lacking(graph, known, otherwise)
    # A promoted cleanup whose contract the release has: its models are the
    # contract's with the cleanup's state (a NOT NULL it sets, say).
    for node in list(lacks):
        contract = getattr(graph.nodes[node], pending.CONTRACT_MARKER, None)
        if not contract:
            continue
        key = (node[0], contract)
        if (pending.contract_node(graph, key) or key) not in lacks:
            lacks.discard(node)
    return lacks
