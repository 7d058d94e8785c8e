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
``live.py``: Django's state plus what contracts left lingering.
"""

from __future__ import annotations

from django.db.migrations.state import ProjectState

from .shape import (
    Column,
    ModelKey,
    Shape,
    Table,
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
        # Imported here: most tables' unique constraints are all known.
        from . import values

        collides = values.collides(unique, seen, real)
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
