"""
What the rows a release writes may hold, as the judge reasons about a new
unique constraint it does not know: a value the release chooses, NULL in
every row, one constant (a default the database or the release fills), or
unknown; and whether a partial constraint's condition covers such a row.
"""

from __future__ import annotations

from django.db import models
from django.db.models.fields import AutoFieldMixin

from .shape import Table, Unique

_VARIES = object()  # the column may differ between two rows of the release


_NULL = object()  # NULL in every row of the release


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


def collides(unique: Unique, seen: Table, real: Table) -> bool | None:
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
