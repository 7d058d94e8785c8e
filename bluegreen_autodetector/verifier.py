"""
The verifier: the one place that knows what breaks a release.

During a blue-green deploy two releases serve against one database. For
each table a release uses, it must still be able to SELECT (every column it
lists exists), INSERT (every NOT NULL column it does not write has a
database default; what it writes is accepted), UPDATE, and DELETE (every
foreign-key constraint pointing at the table is one its Python
``on_delete`` knows).

Pure: ``ProjectState`` objects in, ``Finding`` objects out; no database, no
command line. The database's real shape is a ``ProjectState`` too, made by
``releases.py``: Django's state plus what contracts left lingering.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.utils import resolve_relation
from django.db.models.fields import AutoFieldMixin
from django.db.models.options import normalize_together

ModelKey = tuple[str, str]  # (app_label, lower-case model name), as in ProjectState

ERROR = "error"  # the statement fails whatever the values
WARNING = "warning"  # the statement may fail, depending on the values


class Finding:
    """One statement of one release that fails against the database."""

    # Plain classes, not NamedTuples: makemigrations imports this module on
    # every run, and a NamedTuple costs its class a generated constructor.
    __slots__ = ("release", "statement", "table", "column", "reason", "severity")

    def __init__(
        self,
        release: str,  # e.g. "the old release (before shop.0002_remove_book_rating)"
        statement: str,  # SELECT, INSERT, UPDATE or DELETE
        table: str,
        column: str | None,
        reason: str,
        severity: str = ERROR,
    ) -> None:
        self.release = release
        self.statement = statement
        self.table = table
        self.column = column
        self.reason = reason
        self.severity = severity

    def __str__(self) -> str:
        fails = "fails" if self.severity == ERROR else "may fail"
        return (
            f"{self.release}: {self.statement} on {self.table} {fails}: {self.reason}"
        )

    def __repr__(self) -> str:
        return f"<Finding {self.severity}: {self}>"


class Column:
    """A column as a release believes it is, or as the database holds it."""

    __slots__ = (
        "field",
        "null",
        "filled",
        "type",
        "relation",
        "constrained",
        "written",
        "relies_on_db_default",
    )

    def __init__(
        self,
        field: str,  # the field's name, for messages
        null: bool,
        # The database fills it when an INSERT leaves it out (db_default, an
        # auto-incremented primary key, a generated column).
        filled: bool,
        type: tuple,
        relation: str | None = None,  # the table a relation refers to
        constrained: bool = False,  # ... with a foreign-key constraint
        # Seen from a release: it writes the column (every concrete field but
        # an auto-incremented key and a generated column), and leaves the
        # value to the database (db_default without a Python default).
        written: bool = True,
        relies_on_db_default: bool = False,
    ) -> None:
        self.field = field
        self.null = null
        self.filled = filled
        self.type = type
        self.relation = relation
        self.constrained = constrained
        self.written = written
        self.relies_on_db_default = relies_on_db_default


class Table:
    """A table: its columns by name, and its unique column sets and checks."""

    def __init__(self, model: str) -> None:
        self.model = model  # "app_label.Model", for messages
        self.columns: dict[str, Column] = {}
        self.unique: set[frozenset[str]] = set()
        self.checks: set[str] = set()


Shape = dict[str, Table]  # by table name


def db_table(app_label: str, model_state: ModelState) -> str:
    return (
        model_state.options.get("db_table") or f"{app_label}_{model_state.name_lower}"
    )


def m2m_table(table: str, name: str, field: models.Field) -> str:
    """The auto-created table of the many-to-many field ``name`` of ``table``."""
    return field.db_table or f"{table}_{name}"


def column_of(name: str, field: models.Field) -> str | None:
    """The column of the field ``name`` (None: it has none of its own)."""
    if field.many_to_many:
        return None
    # Django's own naming, read without binding a copy of the field (the
    # verifier asks for every column of every model a change touches).
    kind = type(field)
    if kind.get_attname_column in _STOCK_ATTNAME_COLUMN:
        if kind.get_attname is models.Field.get_attname:
            return field.db_column or name
        if kind.get_attname is models.ForeignKey.get_attname:
            return field.db_column or f"{name}_id"
    return bound_copy(field, name).column


_STOCK_ATTNAME_COLUMN = (
    models.Field.get_attname_column,
    models.ForeignKey.get_attname_column,
)


def bound_copy(field: models.Field, name: str) -> models.Field:
    """
    A shallow copy of ``field`` named ``name`` (its column and attname set),
    leaving ``field``, which a model state shares, as it was.
    """
    bound = object.__new__(type(field))
    bound.__dict__ = field.__dict__.copy()
    bound.set_attributes_from_name(name)
    return bound


def shape(
    state: ProjectState,
    keys: Iterable[ModelKey],
    columns_of: Iterable[ModelKey] | None = None,
    columns: dict | None = None,
) -> Shape:
    """
    The tables of the models ``keys`` of ``state`` (their M2M tables too).
    With ``columns_of``, the tables of the other models are listed by name
    only: a model no migration judged touches has the same table in every
    state, so only whether it exists can differ. ``columns``: the columns
    already read, shared by the shapes of states that share field objects
    (a state's clone does), to be read once.
    """
    tables: Shape = {}
    columns = {} if columns is None else columns
    full = None if columns_of is None else set(columns_of)
    for key in keys:
        model_state = state.models.get(key)
        if model_state is None or not _has_table(model_state):
            continue
        if full is None or key in full:
            _add_model(state, key, model_state, tables, columns)
        else:
            tables[db_table(key[0], model_state)] = Table(
                f"{key[0]}.{model_state.name}"
            )
    return tables


def related_keys(states: Iterable[ProjectState], keys: set[ModelKey]) -> set[ModelKey]:
    """``keys`` and every model one of them refers to, in any of ``states``."""
    found = set(keys)
    # The same state may come twice (the old release is the database's state
    # when nothing is pending).
    for state in {id(state): state for state in states}.values():
        for key in keys:
            model_state = state.models.get(key)
            if model_state is None:
                continue
            for field in model_state.fields.values():
                if field.is_relation and field.remote_field.model is not None:
                    found.add(_target(field, key))
    return found


def verify(
    releases: dict[str, ProjectState], database: ProjectState, keys: set[ModelKey]
) -> list[Finding]:
    """
    What fails when each of ``releases`` (a description -> its state) runs
    against ``database``, for the tables of the models ``keys`` (and the
    existence of the tables they refer to). Tables no release uses are never
    judged; nor are the columns of a model ``keys`` leaves out, which are the
    same in every state: the cost is what the migrations touch, not the
    size of the project.
    """
    judged = set(keys)
    keys = related_keys([database, *releases.values()], judged)
    columns: dict = {}
    actual = shape(database, keys, judged, columns)
    findings: list[Finding] = []
    for release, state in releases.items():
        believed = shape(state, keys, judged, columns)
        for table, seen in believed.items():
            findings += _judge_table(release, table, seen, actual.get(table))
        findings += _judge_deletes(release, believed, actual)
    return findings


# Judging ---------------------------------------------------------------------


def _judge_table(release: str, table: str, seen: Table, real: Table | None):
    if real is None:
        yield Finding(release, "SELECT", table, None, "the table does not exist")
        return
    for name, column in seen.columns.items():
        there = real.columns.get(name)
        if there is None:
            yield Finding(
                release,
                "SELECT",
                table,
                name,
                f"it lists column {name} ({seen.model}.{column.field}), which "
                f"does not exist",
            )
            continue
        if column is not there:  # One read of the same field finds nothing.
            yield from _judge_column(release, table, seen, name, column, there)
    for name, there in real.columns.items():
        if name in seen.columns and seen.columns[name].written:
            continue
        if not there.null and not there.filled:
            yield Finding(
                release,
                "INSERT",
                table,
                name,
                f"column {name} is NOT NULL without a database default, and "
                f"this release does not write it",
            )
        elif not there.null and any(name in columns for columns in real.unique):
            yield Finding(
                release,
                "INSERT",
                table,
                name,
                f"column {name} is unique and this release does not write it: "
                f"its second row repeats the database default",
            )
    for columns in real.unique - seen.unique:
        yield Finding(
            release,
            "INSERT",
            table,
            ", ".join(sorted(columns)),
            f"a unique constraint on ({', '.join(sorted(columns))}) that this "
            f"release does not know may reject its writes",
            WARNING,
        )
    for check in sorted(real.checks - seen.checks):
        yield Finding(
            release,
            "INSERT",
            table,
            None,
            f"check constraint {check!r}, which this release does not know, "
            f"may reject its writes",
            WARNING,
        )


def _judge_column(release, table, seen: Table, name, column: Column, there: Column):
    what = f"column {name} ({seen.model}.{column.field})"
    if column.written and column.null and not there.null:
        yield Finding(
            release,
            "INSERT",
            table,
            name,
            f"{what} is NOT NULL, and this release may write NULL to it",
        )
    if column.relies_on_db_default and not there.filled and not there.null:
        yield Finding(
            release,
            "INSERT",
            table,
            name,
            f"{what} has no database default any more, and this release leaves "
            f"its value to the database",
        )
    if there.constrained and column.written and column.relation != there.relation:
        yield Finding(
            release,
            "INSERT",
            table,
            name,
            f"{what} must now refer to a row of {there.relation}; this release "
            f"writes "
            + (f"keys of {column.relation}" if column.relation else "plain values"),
            ERROR if column.relation else WARNING,
        )
    if column.relation is None and _rejects(there.type, column.type):
        narrower = column.type[0] == there.type[0]
        yield Finding(
            release,
            "INSERT",
            table,
            name,
            f"{what} is {_describe_type(there.type)} in the database, this "
            f"release writes {_describe_type(column.type)}"
            + (": its longer values are rejected" if narrower else ""),
            WARNING,
        )


def _rejects(there: tuple, written: tuple) -> bool:
    """Whether a column of type ``there`` may reject values of type ``written``."""
    if there == written:
        return False
    if there[0] != written[0]:
        return True
    # Same type: only a narrower length or precision rejects anything.
    return any(
        limit is not None and wanted is not None and limit < wanted
        for limit, wanted in zip(there[1:], written[1:], strict=True)
    )


def _judge_deletes(release: str, believed: Shape, actual: Shape):
    """Every constraint pointing at a table the release deletes from must be known."""
    for table, real in actual.items():
        for name, there in real.columns.items():
            if not there.constrained or there.relation not in believed:
                continue
            known = believed.get(table)
            column = known.columns.get(name) if known else None
            if column is not None and column.relation == there.relation:
                continue
            yield Finding(
                release,
                "DELETE",
                there.relation,
                name,
                f"column {name} of {table} refers to it with a foreign-key "
                f"constraint that this release does not know, so its Python "
                f"on_delete cannot honour it: rows that refer to a deleted row "
                f"block the delete",
            )


def _describe_type(type_: tuple) -> str:
    internal, length, digits, places = type_
    if length:
        return f"{internal}(max_length={length})"
    if digits is not None:
        return f"{internal}({digits}, {places})"
    return internal


# Shapes ----------------------------------------------------------------------


def _has_table(model_state: ModelState) -> bool:
    options = model_state.options
    return not options.get("proxy") and options.get("managed", True)


def _target(field: models.Field, key: ModelKey) -> ModelKey:
    return resolve_relation(field.remote_field.model, *key)


def _table_of(state: ProjectState, key: ModelKey) -> str:
    model_state = state.models.get(key)
    return db_table(key[0], model_state) if model_state else f"{key[0]}_{key[1]}"


def _add_model(state, key, model_state: ModelState, tables: Shape, columns) -> None:
    table = Table(f"{key[0]}.{model_state.name}")
    tables[db_table(key[0], model_state)] = table
    columns_of = {}
    by_name = table.columns
    for name, field in model_state.fields.items():
        if field.many_to_many:
            if field.remote_field.through is None:
                _add_m2m_table(state, key, model_state, name, field, tables)
            continue
        relation = _table_of(state, _target(field, key)) if field.is_relation else None
        # The field itself is kept in the entry, so that its id is not reused.
        read = columns.get((id(field), name, relation))
        if read is None:
            column = column_of(name, field)
            read = columns[id(field), name, relation] = (
                field,
                column,
                None if column is None else _column(name, field, relation),
                column is not None and field.unique and not field.primary_key,
            )
        column = read[1]
        if column is None:
            continue  # No column of its own (CompositePrimaryKey, ForeignObject).
        columns_of[name] = column
        by_name[column] = read[2]
        if read[3]:
            table.unique.add(frozenset([column]))
    options = model_state.options
    if options.get("unique_together"):
        for together in normalize_together(options["unique_together"]):
            table.unique.add(frozenset(columns_of.get(name, name) for name in together))
    for constraint in options.get("constraints") or ():
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            table.unique.add(
                frozenset(columns_of.get(name, name) for name in constraint.fields)
            )
        elif isinstance(constraint, models.CheckConstraint):
            table.checks.add(constraint.name)


def _column(name: str, field: models.Field, relation: str | None) -> Column:
    """The column of ``field``; ``relation``: the table it refers to, if any."""
    # AutoFieldMixin: isinstance of AutoField asks its metaclass, slowly.
    database_filled = isinstance(field, AutoFieldMixin) or field.generated
    db_default = field.has_db_default()
    if relation:
        type_, constrained = _RELATION, field.db_constraint
    else:
        type_, constrained = _type(field), False
    return Column(
        name,
        field.null,
        database_filled or db_default,
        type_,
        relation,
        constrained,
        not database_filled,
        db_default and not field.has_default(),
    )


_RELATION = ("relation", None, None, None)


def _add_m2m_table(state, key, model_state, name, field, tables: Shape) -> None:
    """The auto-created table of a many-to-many field: two constrained keys."""
    own_table = db_table(key[0], model_state)
    table_name = m2m_table(own_table, name, field)
    target = _target(field, key)
    source, other = key[1], target[1]
    if target == key:
        source, other = f"from_{source}", f"to_{other}"
    table = Table(f"{key[0]}.{model_state.name}.{name}")
    table.columns["id"] = Column("id", False, True, ("AutoField", None, None, None))
    for column, refers_to in (
        (f"{source}_id", own_table),
        (f"{other}_id", _table_of(state, target)),
    ):
        table.columns[column] = Column(
            field=name,
            null=False,
            filled=False,
            type=("relation", None, None, None),
            relation=refers_to,
            constrained=field.remote_field.db_constraint,
        )
    table.unique.add(frozenset([f"{source}_id", f"{other}_id"]))
    tables[table_name] = table


def _type(field: models.Field) -> tuple:
    return (
        field.get_internal_type(),
        getattr(field, "max_length", None),
        getattr(field, "max_digits", None),
        getattr(field, "decimal_places", None),
    )
