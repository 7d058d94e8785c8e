"""
What the registry of live releases (``registry.py``) holds back: a cleanup
whose contract a live release does not have.

- ``migrate`` refuses, before any DDL, a plan that applies such a cleanup
  (``refuse_live``), or waits for those releases to leave (``--wait``);
- ``promotemigrations`` counts a cleanup ready only when its contract is
  applied and no such release is live (``lacking_contract``, composed with
  ``releases.shipped_on_database``);
- ``deploystatus`` shows the live releases and what each holds back.

A release knows contract X when X is at or before one of the migrations it
recorded, in the graph of the code that runs the command (a squashed
migration stands for those it replaces). A release that recorded a
migration this code does not have is taken not to know it. Contracts and
ordinary migrations are never held back. Migrate time only: never imported
by makemigrations or the checks, but where the verifier reads the registry
(``serving.py``: ``check``, ``makemigrations --database``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db.migrations import Migration

from .. import conf
from ..files.pending import contract_node
from ..keys import MigrationKey
from . import heartbeat, registry, releases


class Knowledge:
    """Which migrations each live release has, judged in one migration graph."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self._known: dict[tuple[str, tuple[str, ...]], set[MigrationKey] | None] = {}

    def knows(self, release: registry.Release, contract: MigrationKey) -> bool:
        """Whether ``release`` has ``contract`` (a release without its app never reads it)."""
        app = contract[0]
        names = release.migrations.get(app)
        if not names:
            return True
        known = self.known(app, names)
        if known is None:
            return False
        return contract in known or contract_node(self.graph, contract) in known

    def known(self, app: str, names) -> set[MigrationKey] | None:
        """
        The migrations (of any app) at or before ``app``'s recorded ``names``;
        None if this code lacks one of them.
        """
        key = (app, tuple(names))
        if key not in self._known:
            self._known[key] = self._migrations(app, names)
        return self._known[key]

    def _migrations(self, app: str, names) -> set[MigrationKey] | None:
        graph = self.graph
        known: set[MigrationKey] = set()
        for name in names:
            key = (app, name)
            node = contract_node(graph, key)
            if node is None:
                return None  # a migration this code does not have
            if node == key:
                known.update(graph.forwards_plan(key))
            else:
                # Part of a squash: what it replaces up to this name.
                replaced = [tuple(each) for each in graph.nodes[node].replaces]
                known.update(n for n in graph.forwards_plan(node) if n != node)
                known.update(replaced[: replaced.index(key) + 1])
        for node in list(known):
            migration = graph.nodes.get(node)
            known.update(tuple(each) for each in getattr(migration, "replaces", ()))
        return known


def live(alias: str) -> list[registry.Release] | None:
    """The live releases on ``alias`` (None: nothing ever recorded there)."""
    try:
        return registry.live_releases(alias, conf.release_ttl())
    except DatabaseError as error:
        raise CommandError(
            f"Cannot read the registry of live releases ({registry.TABLE}) on "
            f"database {alias!r} ({error}). Grant this user SELECT on it, or "
            f"set BLUEGREEN_RELEASE_TTL = 0 to turn the guard off. Nothing was "
            f"done."
        ) from error


def describe(release: registry.Release, app: str | None = None) -> str:
    """'release 1a2b3c4d5e6f (shop at 0001_initial) on web-1 (pids 10, 11), last seen 2 s ago'."""
    where = ""
    if app and release.migrations.get(app):
        where = f" ({app} at {', '.join(release.migrations[app])})"
    hosts = ", ".join(
        f"{host} (pid{'s' if len(pids) > 1 else ''} {', '.join(map(str, pids))})"
        for host, pids in release.hosts().items()
    )
    return (
        f"release {release.name}{where} on {hosts}, last seen {release.age:.0f} s ago"
    )


def lacking_contract(
    waits: Callable[[MigrationKey], str | None], alias: str, loader
) -> Callable[[MigrationKey], str | None]:
    """
    A ``waits(contract)`` for ``promotion.plan_promotions``: ``waits``, and then
    the live releases on ``alias`` that do not have the contract.
    """
    if not conf.release_ttl():
        return waits
    found = live(alias)
    if not found:
        return waits
    knowledge = Knowledge(loader.graph)

    def composed(contract: MigrationKey) -> str | None:
        reason = waits(contract)
        if reason:
            return reason
        held = [r for r in found if not knowledge.knows(r, contract)]
        if not held:
            return None
        return (
            "; ".join(describe(release, contract[0]) for release in held)
            + f": live, without contract {contract[1]}"
        )

    return composed


def held_cleanups(
    cleanups: list[tuple[Migration, MigrationKey]], found, knowledge: Knowledge
) -> list[tuple[Migration, MigrationKey, list[registry.Release]]]:
    """Each cleanup with the live releases that do not have its contract."""
    held = []
    for cleanup, contract in cleanups:
        lacking = [r for r in found if not knowledge.knows(r, contract)]
        if lacking:
            held.append((cleanup, contract, lacking))
    return held


def refuse_live(
    plan: list[tuple[Migration, bool]],
    alias: str,
    wait: float | None,
    write: Callable[[str], None] | None,
) -> None:
    """
    Before ``migrate`` runs ``plan`` on ``alias``: while a live release does
    not have the contract of a cleanup the plan applies, wait for it to leave
    (``wait`` seconds at most, saying so with ``write``), or raise
    CommandError naming it.
    """
    write = write or (lambda line: None)
    ttl = conf.release_ttl()
    if not ttl:
        return
    cleanups = [
        (migration, contract)
        for migration, backwards in plan
        if not backwards and (contract := releases.contract_of(migration))
    ]
    if not cleanups:
        return
    found = live(alias)
    if found is None:
        serving = {label for label, _ in releases.applied_on(alias)}
        if not serving & {cleanup.app_label for cleanup, _ in cleanups}:
            return  # a fresh database (the test runner's): no release before
        write(
            f"No release has recorded itself on database {alias!r}: nothing "
            f"shows whether the release before the contract still runs."
        )
        return
    if not found:
        return
    from django.db.migrations.loader import MigrationLoader

    knowledge = Knowledge(MigrationLoader(None, ignore_no_migrations=True).graph)
    held = held_cleanups(cleanups, found, knowledge)
    deadline = time.monotonic() + (wait or 0)
    said, said_at = None, 0.0  # progress: when who is waited for changes, or every 10 s
    while held:
        now = time.monotonic()
        left = deadline - now
        if wait is None or left <= 0:
            raise CommandError(_refusal(held, alias, ttl, wait))
        holders = [release.name for release, _ in _lacking(held)]
        if holders != said or now - said_at >= 10:
            write(_waiting(held, left))
            said, said_at = holders, now
        time.sleep(min(heartbeat.beat_interval(ttl), left, 1.0))
        held = held_cleanups(cleanups, live(alias) or [], knowledge)
    if said:
        write("The releases it waited for have left; applying the cleanups.")


def _names(held) -> str:
    return ", ".join(f"{c.app_label}.{c.name}" for c, _, _ in held)


def _lacking(held) -> list[tuple[registry.Release, str]]:
    seen: dict[str, tuple[registry.Release, str]] = {}
    for _, contract, lacking in held:
        for release in lacking:
            seen.setdefault(release.name, (release, contract[0]))
    return list(seen.values())


def _waiting(held, left: float) -> str:
    return (
        f"Waiting up to {left:.0f} s for "
        + "; ".join(describe(release, app) for release, app in _lacking(held))
        + f" to leave: it does not have the contract of {_names(held)}."
    )


def _refusal(held, alias: str, ttl: float, wait: float | None) -> str:
    contracts = ", ".join(
        sorted({f"{contract[0]}.{contract[1]}" for _, contract, _ in held})
    )
    waited = f" after waiting {wait:g} s" if wait else ""
    database = "" if alias == "default" else f" --database {alias}"
    return (
        f"Cannot apply cleanup {_names(held)} on database {alias!r}{waited}: "
        + "; ".join(describe(release, app) for release, app in _lacking(held))
        + f", is live (BLUEGREEN_RELEASE_TTL = {ttl:g} s) without contract "
        f"{contracts}: it reads what the cleanup drops. "
        f"Stop that release, or wait for it to leave: 'python manage.py "
        f"migrate{database} --wait'. Nothing was migrated."
    )
