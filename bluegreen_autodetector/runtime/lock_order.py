"""
PostgreSQL: a migration takes the table locks it needs when it begins, all
in one statement, waiting less than the server's ``deadlock_timeout``.

A migration that locks one table, then waits for another that a request
holds, while the request waits for the first (a deferred foreign-key check
at COMMIT reads the referenced table), is a deadlock. PostgreSQL resolves
it by aborting the backend whose deadlock check runs first: the one that
has waited ``deadlock_timeout`` while the cycle exists, as likely the
request as ``migrate``. Taken up front, the locks are waited for before the
migration holds any other: a request that then waits behind one started
waiting after ``migrate`` did, and ``migrate``'s wait, shorter than
``deadlock_timeout``, ends first. ``migrate`` gives up and retries
(``locks.py``); the request goes on.

The tables come from the operations the package can read: the models they
name (before the migration), those models' many-to-many tables, the tables
the relations they add, alter or remove point at, and the table of each
cleanup step. SQL the package cannot read (``RunSQL``, ``RunPython``) takes
its own locks as it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.migrations import Migration, operations
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.models import ModelOperation
from django.db.migrations.state import ProjectState

from ..operations import CleanupSQL, RunAlterSQL, database_operations

# At most this share of deadlock_timeout is spent waiting up front.
SHARE_OF_DEADLOCK_TIMEOUT = 0.5

# Model operations that change Django's state only.
STATE_ONLY = (operations.AlterModelOptions, operations.AlterModelManagers)


def tables_to_lock(migration: Migration, state: ProjectState) -> list[str]:
    """
    The existing tables ``migration``'s operations lock, sorted, given the
    project ``state`` before it.
    """
    models = state.apps
    tables: set[str] = set()

    def add(model, fields=()) -> None:
        meta = model._meta
        if not meta.managed or meta.proxy or meta.swapped:
            return
        tables.add(meta.db_table)
        for field in meta.local_many_to_many:
            if field.remote_field.through._meta.auto_created:
                tables.add(field.remote_field.through._meta.db_table)
        for field in fields:
            related = getattr(field, "related_model", None)
            if related is not None and not isinstance(related, str):
                tables.add(related._meta.db_table)

    def model_named(name: str):
        try:
            return models.get_model(migration.app_label, name)
        except LookupError:  # created by this migration: nobody uses it yet
            return None

    for operation in database_operations(migration.operations):
        if isinstance(operation, CleanupSQL):
            tables.add(operation.table)
            if isinstance(operation, RunAlterSQL) and operation.foreign_keys:
                for model in models.get_models(include_auto_created=True):
                    if model._meta.db_table == operation.table:
                        add(model, model._meta.local_fields)
            continue
        if isinstance(operation, STATE_ONLY):
            continue
        if isinstance(operation, Operation) and hasattr(operation, "model_name"):
            model = model_named(operation.model_name)
            if model is None:
                continue
            fields = [
                field
                for field in (
                    _field_named(model, getattr(operation, "name", None)),
                    _bound_field(models, migration.app_label, operation),
                )
                if field is not None
            ]
            add(model, fields)
        elif isinstance(operation, ModelOperation):
            model = model_named(operation.name)
            if model is not None:
                deleting = isinstance(operation, operations.DeleteModel)
                add(model, model._meta.local_fields if deleting else ())
    return sorted(tables)


def _field_named(model, name):
    try:
        return model._meta.get_field(name) if name else None
    except Exception:  # FieldDoesNotExist: added by this operation
        return None


def _bound_field(models, app_label, operation):
    """The field an AddField or AlterField sets, bound to its related model."""
    field = getattr(operation, "field", None)
    remote = getattr(getattr(field, "remote_field", None), "model", None)
    if remote is None:
        return None
    if isinstance(remote, str):
        label = remote if "." in remote else f"{app_label}.{remote}"
        try:
            remote = models.get_model(label)
        except LookupError:
            return None
    return _Related(remote)


class _Related:
    """Just enough of a relation for ``add``: the model it points at."""

    def __init__(self, model) -> None:
        self.related_model = model


def deadlock_timeout(connection) -> float:
    """The server's ``deadlock_timeout``, in seconds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::int FROM pg_settings WHERE name = 'deadlock_timeout'"
        )
        (milliseconds,) = cursor.fetchone()
    return milliseconds / 1000


@contextmanager
def locked_first(
    migration: Migration, state: ProjectState, connection, seconds: float
) -> Iterator[None]:
    """
    While the block runs, ``migration`` applied or unapplied on ``connection``
    (PostgreSQL, in a transaction) first locks its tables, waiting at most
    ``seconds``.
    """
    if connection.vendor != "postgresql" or not migration.atomic:
        yield
        return
    tables = tables_to_lock(migration, state)
    if not tables:
        yield
        return
    wait = min(seconds, SHARE_OF_DEADLOCK_TIMEOUT * deadlock_timeout(connection))

    def first(method):
        def run(project_state, schema_editor, collect_sql=False):
            if not collect_sql:
                _lock(schema_editor.connection, tables, wait, seconds)
            return method(project_state, schema_editor, collect_sql)

        return run

    migration.apply = first(migration.apply)
    migration.unapply = first(migration.unapply)
    try:
        yield
    finally:
        del migration.apply, migration.unapply


def _lock(connection, tables: list[str], wait: float, seconds: float) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Only the tables there are (a model state may have no table yet).
        cursor.execute(
            "SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
            [[quote(table) for table in tables]],
        )
        present = [name for (name,) in cursor.fetchall()]
        if not present:
            return
        cursor.execute(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'")
        cursor.execute(f"LOCK TABLE {', '.join(present)} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")
