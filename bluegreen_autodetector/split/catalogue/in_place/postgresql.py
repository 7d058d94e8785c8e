"""
PostgreSQL 12 and later (checked on 15): the type changes ``ALTER COLUMN
... TYPE`` makes by updating the catalog, without a table rewrite (ALTER
TABLE's documentation: a binary-coercible change, a varchar's limit raised
or removed, a numeric's precision raised with its scale kept). The lock is
ACCESS EXCLUSIVE, held for the catalog update only; ``migrate``'s lock
timeout and retries bound its wait. An index on the column would be rebuilt
under that lock: ``retypes.py`` takes an indexed column through a second
column, whatever this list says.

Not in place (rewrite): integer to bigint, smallint to integer, any change
of a numeric's scale, text to varchar(n), anything to or from a number and
a string.
"""


def _wider(old: tuple, new: tuple) -> bool:
    return int(new[0]) >= int(old[0])


def _more_digits_same_places(old: tuple, new: tuple) -> bool:
    return int(new[0]) >= int(old[0]) and int(new[1]) == int(old[1])


IN_PLACE = [
    # varchar(n) -> varchar(m), m >= n
    (r"varchar\((\d+)\)", r"varchar\((\d+)\)", _wider),
    # varchar(n) -> text, varchar -> text (binary coercible)
    (r"varchar(?:\(\d+\))?", r"text", None),
    (r"varchar\(\d+\)", r"varchar", None),
    # numeric(p, s) -> numeric(q, s), q >= p; numeric(p, s) -> numeric
    (
        r"numeric\((\d+),\s*(\d+)\)",
        r"numeric\((\d+),\s*(\d+)\)",
        _more_digits_same_places,
    ),
    (r"numeric\(\d+,\s*\d+\)", r"numeric", None),
]
