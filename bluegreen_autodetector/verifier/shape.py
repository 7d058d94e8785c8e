"""
The database as each release sees it: a ``Shape`` (tables of columns and
unique constraints) made from a ``ProjectState``, with every column Django
creates (the ``_order`` of ``order_with_respect_to`` too) and every way it
declares uniqueness. ``judge.py`` compares shapes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.utils import resolve_relation
from django.db.models.fields import AutoFieldMixin
from django.db.models.options import normalize_together

from .. import names
from ..fields import bound_copy
from ..keys import ModelKey


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
        "on_delete",
        "source",
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
        # The ON DELETE action of its constraint (Django 6.1's DB_CASCADE,
        # DB_SET_NULL, DB_SET_DEFAULT): "" where the database does nothing,
        # Python's on_delete acting first.
        on_delete: str = "",
        # The field it is read from: what an INSERT that leaves the column
        # out puts there is asked of it only when a unique constraint needs it.
        source: models.Field | None = None,
    ) -> None:
        self.field = field
        self.null = null
        self.filled = filled
        self.type = type
        self.relation = relation
        self.constrained = constrained
        self.written = written
        self.relies_on_db_default = relies_on_db_default
        self.on_delete = on_delete
        self.source = source


def database_on_delete(field: models.Field) -> str:
    """
    The ON DELETE action the database applies for the relation ``field``
    (its ``on_delete`` is Django 6.1's DB_CASCADE, DB_SET_NULL or
    DB_SET_DEFAULT), or "" (Python's on_delete acts, or none at all).
    """
    on_delete = getattr(field.remote_field, "on_delete", None)
    if not hasattr(on_delete, "on_delete_sql"):
        return ""
    return on_delete.operation


class Unique:
    """
    A unique constraint as the database enforces it, however Django declares
    it: a primary key, ``unique=True``, ``unique_together``, a
    ``UniqueConstraint`` (of fields or expressions, with a ``condition`` or
    ``nulls_distinct``), an auto-created many-to-many table's pair.
    """

    __slots__ = ("columns", "condition", "nulls_distinct", "expressions")

    def __init__(
        self,
        columns: frozenset[str],  # the columns it reads (its expressions' too)
        condition: models.Q | None = None,  # on field names, as declared
        nulls_distinct: bool | None = None,  # None: the vendor's default (distinct)
        expressions: tuple = (),
    ) -> None:
        self.columns = columns
        self.condition = condition
        self.nulls_distinct = nulls_distinct
        self.expressions = expressions

    def implies(self, other: Unique) -> bool:
        """Whether every pair of rows ``other`` rejects, this rejects too."""
        if self.expressions or other.expressions:
            return (self.columns, self.condition, self.expressions) == (
                other.columns,
                other.condition,
                other.expressions,
            ) and (self.nulls_distinct is False or other.nulls_distinct is not False)
        return (
            self.columns <= other.columns
            and (self.condition is None or self.condition == other.condition)
            and (self.nulls_distinct is False or other.nulls_distinct is not False)
        )

    def describe(self) -> str:
        described = f"({', '.join(sorted(self.columns))})"
        if self.expressions:
            described = f"({', '.join(map(str, self.expressions))})"
        if self.condition is not None:
            described += f" where {self.condition}"
        return described


class Table:
    """A table: its columns by name, and its unique constraints and checks."""

    def __init__(self, model: str) -> None:
        self.model = model  # "app_label.Model", for messages
        self.columns: dict[str, Column] = {}
        self.names: dict[str, str] = {}  # field name -> column, for conditions
        self.unique: list[Unique] = []
        self.checks: set[str] = set()


Shape = dict[str, Table]  # by table name


def db_table(app_label: str, model_state: ModelState) -> str:
    return names.model_table(app_label, model_state)


def m2m_table(table: str, name: str, field: models.Field) -> str:
    """The auto-created table of the many-to-many field ``name`` of ``table``."""
    return field.db_table or names.m2m_table(table, name, field)


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
    columns_of = table.names
    by_name = table.columns
    unique = table.unique
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
                (
                    None
                    if column is None or not (field.unique or field.primary_key)
                    else Unique(frozenset([column]))
                ),
            )
        column = read[1]
        if column is None:
            continue  # No column of its own (CompositePrimaryKey, ForeignObject).
        columns_of[name] = column
        by_name[column] = read[2]
        if read[3] is not None:
            unique.append(read[3])
    options = model_state.options
    if options.get("order_with_respect_to"):
        # Django adds this column itself (Options._prepare), never a field of
        # the state: NOT NULL, without a database default.
        by_name["_order"] = _order_column()
    if options.get("unique_together"):
        for together in normalize_together(options["unique_together"]):
            unique.append(Unique(frozenset(columns_of.get(n, n) for n in together)))
    for constraint in options.get("constraints") or ():
        if isinstance(constraint, models.UniqueConstraint):
            unique.append(_unique(constraint, columns_of))
        else:  # A check, an exclusion (PostgreSQL), any other.
            table.checks.add(constraint.name)


def _unique(constraint: models.UniqueConstraint, columns_of: dict) -> Unique:
    names = list(constraint.fields)
    expressions = list(constraint.expressions)
    while expressions:  # The fields the expressions read.
        expression = expressions.pop()
        if isinstance(expression, models.F):
            names.append(expression.name)
        elif hasattr(expression, "get_source_expressions"):
            expressions += expression.get_source_expressions()
    return Unique(
        frozenset(columns_of.get(name, name) for name in names),
        constraint.condition,
        getattr(constraint, "nulls_distinct", None),
        tuple(constraint.expressions),
    )


_ORDER: Column | None = None  # built on first use (_order_column)


def _order_column() -> Column:
    global _ORDER
    if _ORDER is None:
        from django.db.models.fields.proxy import OrderWrt

        _ORDER = _column("_order", OrderWrt(), None)
    return _ORDER


def _column(name: str, field: models.Field, relation: str | None) -> Column:
    """The column of ``field``; ``relation``: the table it refers to, if any."""
    # AutoFieldMixin: isinstance of AutoField asks its metaclass, slowly.
    database_filled = isinstance(field, AutoFieldMixin) or field.generated
    db_default = field.has_db_default()
    on_delete = ""
    if relation:
        type_, constrained = _RELATION, field.db_constraint
        if constrained:
            on_delete = database_on_delete(field)
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
        on_delete,
        field,
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
    table.unique.append(Unique(frozenset([f"{source}_id", f"{other}_id"])))
    tables[table_name] = table


def _type(field: models.Field) -> tuple:
    return (
        field.get_internal_type(),
        getattr(field, "max_length", None),
        getattr(field, "max_digits", None),
        getattr(field, "decimal_places", None),
    )
