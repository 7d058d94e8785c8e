"""
The names of tables and columns: as Django's state computes them (a model's
``db_table``, an auto-created many-to-many table, each truncated as Django
truncates it), and as each vendor compares them; and the check that a name
still in the database is not given to a new field or model. Read from model
states; nothing is rendered.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import CommandError
from django.db import connection, models
from django.db.backends.utils import strip_quotes, truncate_name
from django.db.migrations import operations
from django.db.migrations.state import ModelState, ProjectState

from . import conf
from .files.pending import relative
from .operations import RunCleanupSQL

# A rename's contract gives a field these suffixes in its database
# operations only: the new column's field while the old one still has its
# name (a db_column change), and the old one's while the new field has it.
NEW_COLUMN_SUFFIX = "__bluegreen_new"
OLD_COLUMN_SUFFIX = "__bluegreen_old"


def model_table(app_label: str, model_state: ModelState) -> str:
    """The table of the model, as ``Options.contribute_to_class`` names it."""
    declared = model_state.options.get("db_table")
    if declared:
        return declared
    return _truncated(f"{app_label}_{model_state.name_lower}")


def m2m_table(table: str, name: str, field: models.Field) -> str | None:
    """
    The auto-created table of the many-to-many field ``name`` of the model
    whose table is ``table``, as ``ManyToManyField._get_m2m_db_table`` names
    it; None for an explicit ``through`` (its model's table).
    """
    if field.remote_field.through is not None:
        return None
    if field.db_table:
        return field.db_table
    return _truncated(f"{strip_quotes(table)}_{name}")


def _truncated(name: str) -> str:
    """``name`` cut to the default database's limit, as Django's state cuts it."""
    if len(name) <= _SHORTEST_LIMIT:
        return name  # The common case, read without asking the backend.
    return truncate_name(name, connection.ops.max_name_length())


# No supported vendor limits a name to fewer characters (PostgreSQL 63,
# MySQL 64, SQLite none).
_SHORTEST_LIMIT = 63


# PostgreSQL cuts a longer identifier to this many bytes (NAMEDATALEN - 1).
_POSTGRESQL_LENGTH = 63


def spelled(name: str, vendor: str) -> str:
    """
    ``name`` as ``vendor``'s database compares it to another name: SQLite
    and MySQL/MariaDB ignore case (MariaDB's tables too where
    ``lower_case_table_names`` is set: taken as set, so a clash is never
    missed), PostgreSQL cuts at 63 bytes; SQLite and PostgreSQL read a name
    Django was given quoted (``'"Legacy"'``) without its quotes.
    """
    if vendor == "mysql":
        return name.lower()
    name = strip_quotes(name)
    if vendor == "postgresql":
        return name.encode()[:_POSTGRESQL_LENGTH].decode(errors="ignore")
    if name.isascii():  # The common case, lowered at once.
        return name.lower()
    return "".join(c.lower() if c.isascii() else c for c in name)


def refuse_names_taken(
    changes, old_state: ProjectState, new_state: ProjectState, cleanups
) -> None:
    """
    A column or table stays in the database after Django's state forgets it,
    until a cleanup drops it: one a pending cleanup drops (held), or one this
    run removes (freed: its cleanup drops it next release). A field or model
    added now under that name (its own, a ``db_column``, a foreign key's
    ``_id``, a many-to-many or model ``db_table``) would collide with it when
    migrated ("duplicate column", "already exists"; MariaDB half-way).
    Names are compared as each vendor spells them. Refuse, naming both,
    before anything is written. A model created beside the one it replaces
    on the same table, in the same migration, is the catalogue's to judge
    (it takes the table over, or is refused there).
    """
    # What this run adds under a name of its own, read first: most runs add
    # no field or model, and then no name held need be read at all.
    taken = [
        (app_label, migration, operation, table, column)
        for app_label, migrations in sorted(changes.items())
        for migration in migrations
        for operation in migration.operations
        for table, column in _names_taken(app_label, operation, new_state)
    ]
    if not taken:
        return
    vendors = conf.vendors()
    holders = {}
    for cleanup in cleanups:
        for operation in cleanup.migration.operations:
            if isinstance(operation, RunCleanupSQL):
                holder = (
                    f"its cleanup {relative(cleanup.path)} (of contract "
                    f"{cleanup.contract[1]}) drops it in the next release",
                    None,
                )
                for key in _spellings(operation.table, operation.column, vendors):
                    holders.setdefault(key, holder)
    for app_label, migrations in sorted(changes.items()):
        for migration in migrations:
            for operation in migration.operations:
                for table, column in _names_freed(app_label, operation, old_state):
                    holder = (
                        f"'{operation.describe()}' ({app_label}.{migration.name}) "
                        f"leaves it there for its cleanup to drop in the next "
                        f"release",
                        (migration, operation, table),
                    )
                    for key in _spellings(table, column, vendors):
                        holders.setdefault(key, holder)
    clashes = []
    for app_label, migration, operation, table, column in taken:
        holder = next(
            (
                holders[key]
                for key in _spellings(table, column, vendors)
                if key in holders
            ),
            None,
        )
        if holder is None or _taken_over(holder[1], migration, operation, table):
            continue
        what = f"column {column} of {table}" if column else f"table {table}"
        clashes.append(
            f"{_models_file(app_label)}: '{operation.describe()}' needs "
            f"{what}, which is still in the database: {holder[0]}."
        )
    if clashes:
        raise CommandError(
            "Names still held by a lingering column or table (nothing was "
            "written):\n"
            + "\n".join(f"  - {clash}" for clash in clashes)
            + "\nRemove the old field or model in this release and add the new "
            "one once 'python manage.py promotemigrations' has brought the "
            "cleanup into the migrations folder (it then runs first), or give "
            "the new field another column (db_column) or the new model another "
            "table (db_table). A rename keeping the column: answer yes when "
            "makemigrations asks whether the field was renamed."
        )


def _spellings(table: str, column: str | None, vendors) -> list[tuple]:
    """How each vendor compares the column (or the table) to another's."""
    return [
        (
            vendor,
            spelled(table, vendor),
            column and spelled(column, vendor),
        )
        for vendor in vendors
    ]


def _taken_over(removal, migration, operation, table: str) -> bool:
    """
    A model created (``operation``) beside the model it replaces, in the
    same ``migration``, on the very same ``table`` (the catalogue compares
    the names as written): ``removal`` deletes that model, or one of its
    fields.
    """
    if removal is None or removal[0] is not migration or removal[2] != table:
        return False
    if not isinstance(operation, operations.CreateModel):
        return False
    removed = removal[1]
    deleted = getattr(removed, "model_name_lower", None) or removed.name_lower
    return any(
        isinstance(other, operations.DeleteModel) and other.name_lower == deleted
        for other in migration.operations
    )


def _models_file(app_label: str) -> str:
    """Where the app's models are, for a message; its label if not installed."""
    try:
        module = apps.get_app_config(app_label).models_module
    except LookupError:
        return app_label  # A state-only app (Django's own tests make them).
    path = getattr(module, "__file__", None)
    return relative(path) if path else app_label


def _names_freed(app_label, operation, old_state: ProjectState):
    """
    The (table, column) or (table, None) that a removal leaves in the
    database for its cleanup, read from the state before the run.
    """
    return _names(app_label, operation, old_state, operations.RemoveField)


def _names_taken(app_label, operation, new_state: ProjectState):
    """
    The (table, column) or (table, None) an added field or model needs, read
    from the model states (nothing is rendered).
    """
    return _names(app_label, operation, new_state, operations.AddField)


def _names(app_label, operation, state: ProjectState, field_operation):
    """The names of ``operation``'s model, or field (``field_operation``)."""
    if isinstance(operation, field_operation):
        return _names_of(app_label, operation.model_name_lower, [operation.name], state)
    whole = (
        operations.DeleteModel
        if field_operation is operations.RemoveField
        else operations.CreateModel
    )
    if isinstance(operation, whole):
        return _names_of(app_label, operation.name_lower, None, state)
    return ()


def _names_of(app_label, model_name, fields, state: ProjectState):
    """
    The names in ``state`` of the fields ``fields`` of a model (their column,
    or their auto-created many-to-many table), or with ``fields`` None of the
    model's table and its many-to-many tables.
    """
    from .verifier.shape import column_of

    model_state = state.models.get((app_label, model_name))
    if model_state is None:
        return
    table = model_table(app_label, model_state)
    if fields is None:
        if model_state.options.get("proxy") or not model_state.options.get(
            "managed", True
        ):
            return
        yield table, None
        fields = [
            name for name, field in model_state.fields.items() if field.many_to_many
        ]
    for name in fields:
        field = model_state.fields.get(name)
        if field is None:
            continue
        if field.many_to_many:
            if (m2m := m2m_table(table, name, field)) is not None:
                yield m2m, None
        elif (column := column_of(name, field)) is not None:
            yield table, column
