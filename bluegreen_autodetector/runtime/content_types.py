"""
A renamed model's ContentType row, where the contract's RenameModel is on
the state only.

Django renames the row of a renamed model (``RenameContentType``, which
``django.contrib.contenttypes`` inserts after each ``RenameModel`` of the
plan in its ``pre_migrate`` hook), keeping its key. It looks at a
migration's own operations only: a contract that renames the model's table
itself and runs ``RenameModel`` inside a ``SeparateDatabaseAndState``
(``split/catalogue/tables.rename_with_views``: PostgreSQL where another
model's many-to-many table names a column after the model, MariaDB for
every table rename) would leave the row under the old name, and the new
release would make a second one. Here the same operation is inserted after
that ``SeparateDatabaseAndState``, in every contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps as global_apps
from django.db import router
from django.db.migrations import operations
from django.db.models.signals import pre_migrate

from ..files import pending

UID = "bluegreen_autodetector.runtime.content_types"


@contextmanager
def renaming_content_types(using: str) -> Iterator[None]:
    """While the block runs, ``migrate`` on ``using`` renames the rows as above."""
    if not global_apps.is_installed("django.contrib.contenttypes"):
        yield
        return
    from django.contrib.contenttypes.management import RenameContentType

    def inject(plan=None, apps=None, **kwargs):
        if plan is None or kwargs.get("using") != using:
            return
        try:
            content_type = apps.get_model("contenttypes", "ContentType")
        except LookupError:
            return
        if not router.allow_migrate_model(using, content_type):
            return
        for migration, _ in plan:
            if not getattr(migration, pending.CLEANUP_MARKER, None):
                continue  # Only a contract renames a table itself.
            inserts = [
                (index + 1, renamed)
                for index, operation in enumerate(migration.operations)
                for renamed in state_only_renames(operation)
            ]
            for inserted, (index, renamed) in enumerate(inserts):
                migration.operations.insert(
                    inserted + index,
                    RenameContentType(
                        migration.app_label,
                        renamed.old_name_lower,
                        renamed.new_name_lower,
                    ),
                )

    sender = global_apps.get_app_config("contenttypes")
    pre_migrate.connect(inject, sender=sender, dispatch_uid=UID, weak=False)
    try:
        yield
    finally:
        pre_migrate.disconnect(sender=sender, dispatch_uid=UID)


def state_only_renames(operation) -> list:
    """The RenameModel ``operation`` runs on the state only, if any."""
    if not isinstance(operation, operations.SeparateDatabaseAndState):
        return []
    return [
        inner
        for inner in operation.state_operations
        if isinstance(inner, operations.RenameModel)
    ]
