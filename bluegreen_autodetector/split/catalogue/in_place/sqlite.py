"""
SQLite: a column's declared type is an affinity (INTEGER, TEXT, NUMERIC,
REAL, BLOB); values are stored as written, so a change within one affinity
(integer to bigint, varchar(50) to varchar(200) or text, a wider decimal)
changes no data. Editing the declared type in ``sqlite_master`` would be
enough for those, but Django's AlterField rebuilds the table for any of
them (``_remake_table``: a copy of every row under the database's write
lock), and this package does not yet edit the declared type in place. So
no rule: every type change goes through the second column
(``retypes.py``), which never rebuilds the table (ADD COLUMN, triggers, a
batched UPDATE; the cleanup's DROP COLUMN and RENAME COLUMN).
"""

IN_PLACE: list = []
