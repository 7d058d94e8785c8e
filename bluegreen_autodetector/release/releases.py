"""
The release model: a cleanup ships one release after its contract.

- ``promotemigrations`` promotes a cleanup only once its contract has
  shipped: applied on a database that serves (``shipped_on_database``), or
  at or before a migration the user names (``shipped_through``).
- ``migrate`` never applies a cleanup and its contract in one run on a
  database that was already serving their app (``refuse_same_deploy``); a
  fresh database, like the test runner's, replays everything at once.

A cleanup is known by its ``bluegreen_contract`` marker; files written
before the markers fall back to their dependencies (``contract_of``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import DatabaseError, connections
from django.db.migrations import Migration
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.connection import ConnectionDoesNotExist

from ..files.pending import CLEANUP_PREFIX, CONTRACT_MARKER, contract_node
from ..keys import MigrationKey

# How promotemigrations names a cleanup: '0004_cleanup_remove_book_rating'.
_PROMOTED_NAME = rf"^\d+_{CLEANUP_PREFIX.rstrip('_')}(_|$)"  # re caches it


def applied_on(alias: str) -> set[MigrationKey]:
    """The migrations recorded as applied on database ``alias``."""
    try:
        return set(MigrationRecorder(connections[alias]).applied_migrations())
    except (DatabaseError, ConnectionDoesNotExist) as error:
        raise CommandError(
            f"Cannot read which migrations database {alias!r} has applied "
            f"({error}). Name the database of the release that serves with "
            f"--database, or the last migration that shipped with "
            f"'--through MIGRATION' and one app label. Nothing was promoted."
        ) from error


def shipped_on_database(alias: str) -> Callable[[MigrationKey], str | None]:
    """
    A ``waits(contract)`` for ``promotion.plan_promotions``: a contract has
    shipped once database ``alias`` has applied it.
    """
    applied = applied_on(alias)

    def waits(contract: MigrationKey) -> str | None:
        if contract in applied:
            return None
        return f"contract {contract[1]} is not applied on database {alias!r}"

    return waits


def shipped_through(
    loader: MigrationLoader, app_label: str, name: str
) -> Callable[[MigrationKey], str | None]:
    """
    A ``waits(contract)``: the contracts at or before migration ``name`` of
    ``app_label`` (a prefix, as ``migrate`` takes) in the graph have shipped.
    """
    try:
        through = loader.get_migration_by_prefix(app_label, name)
    except AmbiguityError:
        raise CommandError(
            f"More than one migration of {app_label!r} matches {name!r} "
            f"(--through). Give more of its name. Nothing was promoted."
        ) from None
    except KeyError:
        raise CommandError(
            f"No migration of {app_label!r} matches {name!r} (--through). "
            f"Name the last migration the serving release has applied "
            f"('python manage.py showmigrations {app_label}'). Nothing was "
            f"promoted."
        ) from None
    key = (app_label, through.name)
    node = contract_node(loader.graph, key)
    if node is None:
        raise CommandError(
            f"Migration {app_label}.{through.name} (--through) is replaced by a "
            f"squashed migration that is not in use. Name a migration of "
            f"'python manage.py showmigrations {app_label}'. Nothing was promoted."
        )
    shipped = set(loader.graph.forwards_plan(node))
    if node != key:
        # --through names a migration a squash replaces: what the squash
        # replaces up to it has shipped, not the whole squash.
        shipped.discard(node)
        replaced = [tuple(each) for each in loader.graph.nodes[node].replaces]
        shipped.update(replaced[: replaced.index(key) + 1])

    def waits(contract: MigrationKey) -> str | None:
        # A squashed migration may stand for the contract in the graph.
        if contract in shipped or contract_node(loader.graph, contract) in shipped:
            return None
        return f"contract {contract[1]} comes after {through.name} (--through)"

    return waits


def contract_of(migration: Migration) -> MigrationKey | None:
    """
    The contract of ``migration`` if it is a promoted cleanup, else None.

    Its ``bluegreen_contract`` says; a cleanup promoted before the markers
    existed is known by its name (``NNNN_cleanup_...``), and its contract is
    the first by number of its dependencies within its app (the other one,
    if any, is the leaf it was numbered after).
    """
    marked = getattr(migration, CONTRACT_MARKER, None)
    if marked:
        return (migration.app_label, marked)
    if not re.match(_PROMOTED_NAME, migration.name):
        return None
    own = sorted(
        tuple(dependency)
        for dependency in migration.dependencies
        if dependency[0] == migration.app_label
    )
    return own[0] if own else None


def refuse_same_deploy(plan: list[tuple[Migration, bool]], alias: str) -> None:
    """
    Before ``migrate`` runs ``plan`` (Django's ``[(migration, backwards)]``)
    on database ``alias``: if the plan applies a cleanup and its contract
    while the database already has migrations of their app applied (it was
    serving the release before the contract), raise CommandError naming
    both. The release before may still be running and reads what the
    cleanup drops. A database with none of the app's migrations applied
    (fresh) replays everything.
    """
    forwards = {
        (migration.app_label, migration.name): migration
        for migration, backwards in plan
        if not backwards
    }
    # A squashed migration in the plan applies the contracts it replaces.
    squashed = {
        tuple(replaced)
        for migration in forwards.values()
        for replaced in getattr(migration, "replaces", ())
    }
    pairs = []
    for migration in forwards.values():
        contract = contract_of(migration)
        if contract in forwards or contract in squashed:
            pairs.append((contract, migration))
    if not pairs:
        return
    serving = {label for label, _ in applied_on(alias)}
    pairs = [
        (contract, cleanup) for contract, cleanup in pairs if contract[0] in serving
    ]
    if not pairs:
        return
    lines = [
        f"  - {cleanup.app_label}.{cleanup.name} is the cleanup of "
        f"{contract[0]}.{contract[1]}"
        for contract, cleanup in pairs
    ]
    first_contract, first_cleanup = pairs[0]
    database = "" if alias == "default" else f" --database {alias}"
    raise CommandError(
        f"Cannot apply a cleanup in the same migrate as its contract on "
        f"database {alias!r}, which already serves "
        f"{', '.join(sorted({c[0] for c, _ in pairs}))}: the release before the "
        f"contract may still be running, and it reads what the cleanup drops.\n"
        + "\n".join(lines)
        + f"\nDeploy the contract first: 'python manage.py migrate "
        f"{first_contract[0]} {first_contract[1]}{database}'; once no instance "
        f"of the release before runs, apply {first_cleanup.name} with "
        f"'python manage.py migrate{database}' in the next deploy. Nothing was "
        f"migrated."
    )
