"""
MariaDB 10.4 and later (checked on 10.11), InnoDB in its default
ROW_FORMAT=DYNAMIC: the type changes made with ``ALGORITHM=INSTANT``, which
``migrate`` asks for (``runtime/online.py``).

- A VARCHAR made longer within its length prefix: a column of at most 255
  bytes keeps a one-byte prefix, one of 256 or more two bytes; crossing
  from one to the other copies the table. The bytes are the characters
  times the character set's width, which the rules do not know: they count
  4 bytes a character (utf8mb4) for the short side (at most 63 characters)
  and 1 (latin1) for the long side (at least 256 characters), so a change
  they call in place is instant in every character set.
- Nothing else: VARCHAR to TEXT (Django's ``longtext``), INT to BIGINT,
  SMALLINT to INT and a wider DECIMAL all copy the table (``ALGORITHM=COPY``,
  which blocks writes).
"""

SHORT = 63  # characters: at most 255 bytes in utf8mb4
LONG = 256  # characters: at least 256 bytes in any character set


def _within_prefix(old: tuple, new: tuple) -> bool:
    before, after = int(old[0]), int(new[0])
    return after >= before and (after <= SHORT or before >= LONG)


IN_PLACE = [
    (r"varchar\((\d+)\)", r"varchar\((\d+)\)", _within_prefix),
]
