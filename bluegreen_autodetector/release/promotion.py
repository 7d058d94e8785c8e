"""
Promotion: the pending cleanups whose contract has shipped move into the
migrations folder, renumbered after the app's leaf (``promotemigrations``;
``releases.py`` says which contracts have shipped, ``guard.py`` which live
releases still hold one back).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db.migrations import Migration
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader

from ..files.pending import (
    CLEANUP_PREFIX,
    CONTRACT_MARKER,
    PendingCleanup,
    contract_node,
    list_pending,
    lost_contract,
    migrations_directory,
    render,
    write_files,
)


class Promotion:
    """One pending cleanup moved into the migrations folder."""

    def __init__(
        self,
        pending: PendingCleanup,
        migration: Migration,  # renamed and rewired
        path: str,  # where it goes
    ) -> None:
        self.pending = pending
        self.migration = migration
        self.path = path


class Waiting:
    """A pending cleanup that stays pending: its contract has not shipped."""

    def __init__(
        self,
        pending: PendingCleanup,
        reason: str,  # e.g. "contract 0003_x is not applied on database 'default'"
    ) -> None:
        self.pending = pending
        self.reason = reason


def plan_promotions(
    app_label: str,
    loader: MigrationLoader,
    waits: Callable[[tuple[str, str]], str | None] | None = None,
) -> tuple[list[Promotion], list[Waiting]]:
    """
    Plan the promotion of the pending cleanups of ``app_label`` whose
    contract has shipped: ``waits(contract)`` is None for those, and for the
    others why they wait (``waits=None``: every contract has shipped). The
    promoted ones go in the order of their contract migrations, numbered
    after the app's leaf, each depending on its contract and on the
    migration before it (one leaf), and keep ``bluegreen_contract``.
    """
    pending = list_pending(app_label)
    if not pending:
        return [], []
    nodes = {}
    for cleanup in pending:
        nodes[cleanup.path] = contract_node(loader.graph, cleanup.contract)
        if nodes[cleanup.path] is None:
            raise CommandError(f"{lost_contract(cleanup)} Nothing was promoted.")
    waiting = []
    ready = []
    for cleanup in pending:
        reason = waits(cleanup.contract) if waits else None
        if reason:
            waiting.append(Waiting(cleanup, reason))
        else:
            ready.append(cleanup)
    if not ready:
        return [], waiting
    leaves = loader.graph.leaf_nodes(app_label)
    if len(leaves) > 1:
        raise CommandError(
            f"App {app_label!r} has several leaf migrations "
            f"({', '.join(name for _, name in leaves)}). Run "
            f"'python manage.py makemigrations --merge' first, then promote."
        )
    order = {
        key: index for index, key in enumerate(loader.graph.forwards_plan(leaves[0]))
    }
    ready.sort(key=lambda cleanup: order[nodes[cleanup.path]])
    previous = leaves[0]
    number = MigrationAutodetector.parse_number(previous[1]) or 0
    promotions = []
    for cleanup in ready:
        number += 1
        fragment = _fragment(cleanup.migration.name)
        migration = Migration(f"{number:04d}_{fragment}", app_label)
        migration.operations = cleanup.migration.operations
        migration.atomic = cleanup.migration.atomic
        migration.dependencies = [
            dependency
            for dependency in cleanup.migration.dependencies
            if dependency[0] != app_label
        ] + sorted({nodes[cleanup.path], previous})
        # Once promoted, it depends on two migrations of its app: the
        # marker says which one is its contract (by its own name, where a
        # squashed migration replaces it and the dependency names the squash).
        setattr(migration, CONTRACT_MARKER, cleanup.contract[1])
        promotions.append(
            Promotion(
                cleanup,
                migration,
                os.path.join(migrations_directory(app_label), f"{migration.name}.py"),
            )
        )
        previous = (app_label, migration.name)
    return promotions, waiting


def _fragment(pending_name: str) -> str:
    """'cleanup_0002_remove_book_font' -> 'cleanup_remove_book_font'."""
    rest = pending_name.removeprefix(CLEANUP_PREFIX)
    number, _, words = rest.partition("_")
    if not number.isdigit():
        words = rest
    return f"{CLEANUP_PREFIX}{words}" if words else CLEANUP_PREFIX.rstrip("_")


def promote(promotions: list[Promotion], include_header: bool = True) -> list[str]:
    """
    Write the promoted files (all or none), then remove their pending files,
    and the pending folder once it holds no cleanup (a new split creates it
    again).
    """
    write_files({p.path: render(p.migration, include_header) for p in promotions})
    for promotion in promotions:
        os.remove(promotion.pending.path)
    for directory in {os.path.dirname(p.pending.path) for p in promotions}:
        remove_if_empty(directory)
    return [promotion.path for promotion in promotions]


def remove_if_empty(directory: str) -> None:
    """Remove a pending folder that holds nothing but Python's byte-code cache."""
    if not os.path.isdir(directory):
        return
    if set(os.listdir(directory)) - {"__pycache__"}:
        return
    shutil.rmtree(os.path.join(directory, "__pycache__"), ignore_errors=True)
    os.rmdir(directory)
