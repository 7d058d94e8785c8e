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

from django.db import models
from django.db.migrations.state import ProjectState
from django.db.models.fields import AutoFieldMixin

from .shape import (
    Column,
    ModelKey,
    Shape,
    Table,
    Unique,
    related_keys,
    shape,
)
from .views import seen_through_views

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
    # A rename's pairs of columns that triggers keep equal (live.py).
    synced = getattr(database, "bluegreen_synced", {})
    findings: list[Finding] = []
    for release, state in releases.items():
        believed = seen_through_views(shape(state, keys, judged, columns), database)
        for table, seen in believed.items():
            findings += _judge_table(release, table, seen, actual.get(table))
        findings += _judge_deletes(release, believed, actual, synced)
    return findings


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
    for unique in real.unique:
        if any(known.implies(unique) for known in seen.unique):
            continue  # It rejects nothing this release does not expect.
        collides = _collides(unique, seen, real)
        if collides is False:
            continue
        yield Finding(
            release,
            "INSERT",
            table,
            ", ".join(sorted(unique.columns)),
            (
                f"the unique constraint on {unique.describe()} rejects its second "
                f"row: this release writes none of those columns, and the database "
                f"fills each with the same value for every row"
                if collides
                else f"a unique constraint on {unique.describe()} that this release "
                f"does not know may reject its writes"
            ),
            ERROR if collides else WARNING,
        )
    for check in sorted(real.checks - seen.checks):
        yield Finding(
            release,
            "INSERT",
            table,
            None,
            f"constraint {check!r}, which this release does not know, "
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
    if column.on_delete and (
        column.on_delete != there.on_delete or there.relation != column.relation
    ):
        # Its deletes leave the rows of this table to the database.
        acts = (
            f"ON DELETE {there.on_delete}"
            if there.on_delete
            else "a constraint that blocks the delete"
            if there.constrained
            else "no constraint: the rows are left naming a deleted row"
        )
        yield Finding(
            release,
            "DELETE",
            column.relation,
            name,
            f"{what} has on_delete=DB_{column.on_delete.replace(' ', '_')} in "
            f"this release, which leaves the rows of {table} to the database, "
            f"and the database has {acts}",
        )
    if column.relation is None:
        rejected = _rejects(there.type, column.type)
        if rejected is not None:
            yield Finding(
                release,
                "INSERT",
                table,
                name,
                f"{what} is {_describe_type(there.type)} in the database, this "
                f"release writes {_describe_type(column.type)}"
                + (f": {rejected}" if rejected else ""),
                WARNING,
            )


def _rejects(there: tuple, written: tuple) -> str | None:
    """
    How a column of type ``there`` may reject (or change) values of type
    ``written``: None if it takes them all, "" for another type, else which
    values. Every narrowing of the same type's range counts: a shorter
    length (or a length where there was none), fewer digits before the
    decimal point, fewer after it.
    """
    if there == written:
        return None
    if there[0] != written[0]:
        return _rejects_another_type(there, written)
    _, length, digits, places = there
    _, wanted_length, wanted_digits, wanted_places = written
    narrowed = []
    if length is not None and (wanted_length is None or length < wanted_length):
        narrowed.append("its longer values are rejected")
    if digits is not None and wanted_digits is not None:
        if digits - places < wanted_digits - wanted_places:
            narrowed.append(
                f"its values of more than {digits - places} digits before the "
                f"decimal point are rejected"
            )
        if places < wanted_places:
            narrowed.append(f"its values are rounded to {places} decimal places")
    return "; ".join(narrowed) or None


# The ranges of Django's integer fields (its backends' integer_field_ranges,
# the same on every vendor for these).
_SMALL, _INT, _BIG = 2**15, 2**31, 2**63
INTEGER_RANGES = {
    "SmallIntegerField": (-_SMALL, _SMALL - 1),
    "IntegerField": (-_INT, _INT - 1),
    "BigIntegerField": (-_BIG, _BIG - 1),
    "PositiveSmallIntegerField": (0, _SMALL - 1),
    "PositiveIntegerField": (0, _INT - 1),
    "PositiveBigIntegerField": (0, _BIG - 1),
    "SmallAutoField": (-_SMALL, _SMALL - 1),
    "AutoField": (-_INT, _INT - 1),
    "BigAutoField": (-_BIG, _BIG - 1),
}
_TEXTS = ("CharField", "TextField", "SlugField", "EmailField", "URLField")


def _rejects_another_type(there: tuple, written: tuple) -> str:
    """
    ``_rejects`` where the types differ: the limit a value of ``written``
    may cross in a column of ``there`` (a retype's column keeps its old type
    while two releases write it), else "" (values of another type).
    """
    internal, length = there[0], there[1]
    if internal in INTEGER_RANGES and written[0] in INTEGER_RANGES:
        low, high = INTEGER_RANGES[internal]
        wanted_low, wanted_high = INTEGER_RANGES[written[0]]
        if low <= wanted_low and wanted_high <= high:
            return None
        return f"its values outside {low}..{high} are rejected"
    if internal in _TEXTS and written[0] in _TEXTS:
        if length is None or (written[1] is not None and written[1] <= length):
            return None
        return f"its values longer than {length} characters are rejected"
    if internal in INTEGER_RANGES and written[0] in _TEXTS:
        low, high = INTEGER_RANGES[internal]
        return f"its values that are not integers within {low}..{high} are rejected"
    if internal in _TEXTS and written[0] in INTEGER_RANGES and length is not None:
        low, high = INTEGER_RANGES[written[0]]
        if len(str(low)) > length:
            return f"its values longer than {length} characters are rejected"
    return ""


_VARIES = object()  # the column may differ between two rows of the release


_NULL = object()  # NULL in every row of the release


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


def _collides(unique: Unique, seen: Table, real: Table) -> bool | None:
    """
    Whether two INSERTs of the release that believes ``seen`` always (True),
    never (False), or depending on their values (None) meet in ``unique``.

    The rule: the second of two INSERTs that differ in what the release
    writes fails whatever the values only if, in every column of the
    constraint, the database puts the same value for every row the release
    writes (the release writes none of them, and each is filled with a
    constant database default, or NULL under ``nulls_distinct=False``), and
    the constraint's condition, if any, holds for those rows. A column the
    release writes (it can choose distinct values), an auto-incremented key
    (distinct by construction) or a generated column (a function of the
    row) makes it depend on the values. A column the database fills with
    NULL (NULLs distinct), or a condition that is not true for the
    release's rows (evaluated in SQL's three-valued logic on those
    constants), never rejects them.
    """
    values = {column: _inserted(column, seen, real) for column in unique.columns}
    if unique.nulls_distinct is not False and _NULL in values.values():
        return False  # NULLs are distinct: no row of the release meets another.
    if unique.condition is not None:
        covered = _holds(unique.condition, real, lambda c: _inserted(c, seen, real))
        if True not in covered:
            return False  # The constraint covers none of the release's rows.
        if covered != _TRUE:
            return None
    if all(value is _NULL or type(value) is _Constant for value in values.values()):
        return True
    return None


def _inserted(column: str, seen: Table, real: Table):
    """
    What an INSERT of the release that believes ``seen`` puts in ``column``:
    ``_VARIES``, ``_NULL``, a ``_Constant``, or None (unknown to the judge).
    """
    known = seen.columns.get(column)
    if known is not None and known.written:
        return _VARIES  # The release chooses the value.
    there = real.columns.get(column)
    field = there.source if there is not None else None
    if field is None:
        return None
    if isinstance(field, AutoFieldMixin):
        return _VARIES
    if field.generated:
        return None  # A function of the row: it depends on the values.
    if field.has_db_default():
        default = field.db_default
        if isinstance(default, models.Value):
            default = default.value
        elif hasattr(default, "resolve_expression"):
            return None  # A function (Now(), a random UUID...).
        return _NULL if default is None else _Constant(default)
    return _NULL if field.null else None


_TRUE, _FALSE, _UNKNOWN = frozenset([True]), frozenset([False]), frozenset([None])
_ANY = frozenset([True, False, None])


def _holds(condition: models.Q, real: Table, inserted) -> frozenset:
    """The values ``condition`` (a Q on field names) may take for a row."""
    result = None
    for child in condition.children:
        if isinstance(child, models.Q):
            value = _holds(child, real, inserted)
        elif isinstance(child, tuple) and len(child) == 2:
            value = _lookup(*child, real, inserted)
        else:
            value = _ANY  # An expression: not evaluated here.
        if result is None:
            result = value
        else:
            combine = _and if condition.connector == models.Q.AND else _or
            result = frozenset(combine(a, b) for a in result for b in value)
    result = _TRUE if result is None else result
    if condition.negated:
        result = frozenset(None if value is None else not value for value in result)
    return result


def _and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


_COMPARISONS = {
    "exact": lambda a, b: a == b,
    "in": lambda a, b: a in b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _lookup(path: str, wanted, real: Table, inserted) -> frozenset:
    name, _, lookup = path.partition("__")
    column = real.names.get(name, name)
    value = inserted(column)
    lookup = lookup or "exact"
    if hasattr(wanted, "resolve_expression") or hasattr(wanted, "_meta"):
        return _ANY  # Another column, an expression, a model instance.
    if lookup == "exact" and wanted is None:
        lookup, wanted = "isnull", True
    if value is _NULL:
        if lookup == "isnull":
            return _TRUE if wanted else _FALSE
        return _UNKNOWN if lookup in _COMPARISONS else _ANY
    if type(value) is not _Constant:
        return _ANY
    if lookup == "isnull":
        return _FALSE if wanted else _TRUE
    try:
        return frozenset([bool(_COMPARISONS[lookup](value.value, wanted))])
    except (KeyError, TypeError):
        return _ANY


def _judge_deletes(release: str, believed: Shape, actual: Shape, synced=None):
    """
    Every constraint pointing at a table the release deletes from must be
    known, or be the constraint of a column that triggers keep equal to one
    the release knows as that relation (a rename's new column: the release's
    on_delete acts on the old one, and the triggers carry it over).
    """
    synced = synced or {}
    for table, real in actual.items():
        for name, there in real.columns.items():
            if not there.constrained or there.relation not in believed:
                continue
            if there.on_delete:
                continue  # The database acts on the rows: nothing blocks.
            known = believed.get(table)
            column = known.columns.get(name) if known else None
            if column is not None and column.relation == there.relation:
                continue
            twin = synced.get(table, {}).get(name)
            known_twin = known.columns.get(twin) if known and twin else None
            if known_twin is not None and known_twin.relation == there.relation:
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
