"""
Which contracts a recorded release has (guard.Knowledge), and what a
release records of its migrations folder (registry.leaves): every form of
history a release can be at — before, at and after the contract, a merge,
a squash standing for the contract, a migration the judging code does not
have, an app the release does not have.
"""

from __future__ import annotations

import pytest
from django.db.migrations import Migration
from django.db.migrations.graph import MigrationGraph

from bluegreen_autodetector.release import guard, registry


def graph_of(*chains, squash=None) -> MigrationGraph:
    """``chains``: lists of (app, name, [dependencies]); ``squash``: (key, replaces)."""
    graph = MigrationGraph()
    for app, name, _ in chains:
        migration = Migration(name, app)
        if squash and (app, name) == squash[0]:
            migration.replaces = squash[1]
        graph.add_node((app, name), migration)
    for app, name, dependencies in chains:
        for dependency in dependencies:
            graph.add_dependency(None, (app, name), dependency)
    return graph


HISTORY = [
    ("shop", "0001_initial", []),
    ("shop", "0002_remove_book_rating", [("shop", "0001_initial")]),  # the contract
    ("shop", "0003_add_book_isbn", [("shop", "0002_remove_book_rating")]),
    ("shop", "0003_add_book_price", [("shop", "0002_remove_book_rating")]),
    (
        "shop",
        "0004_merge",
        [("shop", "0003_add_book_isbn"), ("shop", "0003_add_book_price")],
    ),
]
CONTRACT = ("shop", "0002_remove_book_rating")


def release(migrations) -> registry.Release:
    return registry.Release(registry.digest(migrations), migrations)


@pytest.mark.parametrize(
    "recorded, knows",
    [
        ({"shop": ["0001_initial"]}, False),  # the release before the contract
        ({"shop": ["0002_remove_book_rating"]}, True),  # the contract's release
        ({"shop": ["0003_add_book_isbn", "0003_add_book_price"]}, True),  # unmerged
        ({"shop": ["0004_merge"]}, True),
        ({"shop": ["0005_later"]}, False),  # a migration this code does not have
        ({"other": ["0001_initial"]}, True),  # no shop: it never reads its tables
    ],
)
def test_a_release_has_the_contracts_at_or_before_its_migrations(recorded, knows):
    knowledge = guard.Knowledge(graph_of(*HISTORY))
    assert knowledge.knows(release(recorded), CONTRACT) is knows


SQUASHED = [
    ("shop", "0001_squashed_0003_add_book_isbn", []),
    ("shop", "0004_later", [("shop", "0001_squashed_0003_add_book_isbn")]),
]
REPLACES = [
    ("shop", "0001_initial"),
    ("shop", "0002_remove_book_rating"),
    ("shop", "0003_add_book_isbn"),
]


@pytest.mark.parametrize(
    "recorded, knows",
    [
        ({"shop": ["0001_initial"]}, False),  # replaced, before the contract
        ({"shop": ["0002_remove_book_rating"]}, True),  # replaced, the contract
        ({"shop": ["0003_add_book_isbn", "0001_squashed_0003_add_book_isbn"]}, True),
        ({"shop": ["0004_later"]}, True),
    ],
)
def test_a_squash_stands_for_the_contracts_it_replaces(recorded, knows):
    graph = graph_of(*SQUASHED, squash=(SQUASHED[0][:2], REPLACES))
    knowledge = guard.Knowledge(graph)
    assert knowledge.knows(release(recorded), CONTRACT) is knows


@pytest.mark.parametrize(
    "names, expected",
    [
        (["0001_initial", "0002_a"], ["0002_a"]),
        (["0001_initial", "0002_a", "0002_b", "0003_merge"], ["0003_merge"]),
        (["0001_initial", "0002_a", "0002_b"], ["0002_a", "0002_b"]),
        (
            ["0001_initial", "0002_a", "0003_b", "0001_squashed_0003_b"],
            ["0001_squashed_0003_b", "0003_b"],
        ),
        (["0001_initial", "custom_name"], ["0001_initial", "custom_name"]),
        (["0009_x", "0010_y", "0100_z"], ["0100_z"]),
    ],
)
def test_a_release_records_its_highest_numbered_migrations(names, expected):
    assert registry.leaves(names) == expected
