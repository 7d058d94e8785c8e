"""
Markdown descriptions for the two pull requests of a split: what changes,
the deploy order, how to verify, how to roll back.
"""

from __future__ import annotations

import os

from django.db.migrations import Migration, operations

from ..operations import CleanupSQL


def contract_note(contract: Migration, cleanup: Migration, warnings: list[str]) -> str:
    app, name = contract.app_label, contract.name
    previous = [dep[1] for dep in contract.dependencies if dep[0] == app]
    lines = [
        f"# PR 1 (this release): `{app}.{name}`",
        "",
        "## What changes",
        "",
        *[f"- {line}" for line in _describe(contract.operations)],
        "",
        f"The cleanup `{cleanup.name}` waits in `{app}/migrations/pending/` "
        "and ships in PR 2 of the next release.",
        "",
        "## Deploy order",
        "",
        "1. Deploy this release and run `python manage.py migrate` before "
        "switching traffic: the release still serving keeps working against "
        "the migrated database.",
        "2. Switch traffic to this release; stop the old one.",
        f"3. In the next release: `python manage.py promotemigrations {app}` (PR 2).",
        "",
        "## How to verify",
        "",
        f"- `python manage.py showmigrations {app}` shows `{name}` applied.",
        "- `python manage.py makemigrations --check` finds no changes.",
        f"- `python manage.py promotemigrations --list {app}` lists `{cleanup.name}`.",
        "",
        "## How to roll back",
        "",
        "- Switch traffic back to the old release: the database still serves it.",
        f"- To undo the migration as well: `python manage.py migrate {app} "
        f"{previous[0] if previous else 'zero'}`. It stops before any change, "
        "naming the rows, where rows written since hold NULL in a column the "
        "old release declares NOT NULL.",
    ]
    if warnings:
        lines += ["", "## Warnings", "", *[f"- {warning}" for warning in warnings]]
    return "\n".join(lines) + "\n"


def cleanup_note(cleanup: Migration, contract_name: str) -> str:
    app = cleanup.app_label
    lines = [
        f"# PR 2 (next release): `{app}.{cleanup.name}`",
        "",
        "## What changes",
        "",
    ]
    for operation in cleanup.operations:
        lines += [f"- {operation.describe()}", ""]
        if isinstance(operation, CleanupSQL):
            for vendor, statements in sorted(operation.sql.items()):
                lines += [f"  {vendor}:", "", "  ```sql"]
                lines += [f"  {statement}" for statement in statements]
                lines += ["  ```", ""]
    lines += [
        "## Deploy order",
        "",
        f"1. Only once no instance of the release before `{contract_name}` runs.",
        "2. Run `python manage.py migrate`.",
        "",
        "## How to verify",
        "",
        f"- `python manage.py sqlmigrate {app} {cleanup.name}` shows the SQL above.",
        "- After migrating: `python manage.py makemigrations --check` finds no "
        "changes and `python manage.py promotemigrations --check` exits 0.",
        "",
        "## How to roll back",
        "",
        f"- `python manage.py migrate {app} {contract_name}` brings back the "
        "dropped columns and tables in the contract's shape, empty (their data "
        "is gone), and restores dropped defaults and NULL allowed.",
    ]
    return "\n".join(lines) + "\n"


def note_path(directory: str, migration: Migration, pr: int) -> str:
    return os.path.join(directory, f"{migration.app_label}_{migration.name}_pr{pr}.md")


def _describe(ops) -> list[str]:
    described = []
    for operation in ops:
        if isinstance(operation, operations.SeparateDatabaseAndState):
            described += [
                f"{line} (Django's state only; the database keeps it until PR 2)"
                for line in _describe(operation.state_operations)
            ]
            described += _describe(operation.database_operations)
        else:
            described.append(operation.describe())
    return described
