"""
SQLite: a column's declared type gives it an affinity (INTEGER, TEXT, BLOB,
REAL, NUMERIC; ``capture.sqlite.affinity``, SQLite's rules of section 3.1
of https://www.sqlite.org/datatype3.html), and values are stored by it. A
change within one affinity (integer to bigint, smallint to integer,
varchar(50) to varchar(200) or text, date to datetime) changes no stored
value: only the declared type. Django's AlterField would rebuild the table
for it (``_remake_table``: a copy of every row under the database's write
lock); the package's ``migrate`` edits the declared type in
``sqlite_master`` instead (``runtime/sqlite_in_place.py``), SQLite's
documented procedure for a change that needs no change of the stored data.

A change across affinities (integer to varchar, integer to real) may
convert the stored values: it goes through the second column
(``retypes.py``), which never rebuilds the table either.
"""

from ....capture.sqlite import affinity


def _same_affinity(old: tuple, new: tuple) -> bool:
    return affinity(old[0]) == affinity(new[0])


IN_PLACE = [
    (r"(.*)", r"(.*)", _same_affinity),
]
