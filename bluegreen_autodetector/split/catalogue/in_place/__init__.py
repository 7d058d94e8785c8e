"""
Which type changes each vendor makes in place, without rewriting the table
or blocking writes for longer than a catalog update: one module per vendor
(``postgresql``, ``mysql``, ``sqlite``), each a list of rules as data.

A rule is ``(old, new, holds)``: two regular expressions matched against
the column types Django's schema editor of that vendor declares
(``field.db_type(connection)``, e.g. ``varchar(50)``), and a predicate on
their groups (None: always). A change is in place on a vendor when a rule
matches it there; it passes through as Django's AlterField (``migrate``
asks MariaDB for ``ALGORITHM=INSTANT``, ``runtime/online.py``). Any other
type change goes through a second column (``retypes.py``).
"""

from __future__ import annotations

import re
from importlib import import_module


def in_place(vendor: str, old_type: str | None, new_type: str | None) -> bool:
    """Whether ``vendor`` changes a column of ``old_type`` to ``new_type`` in place."""
    if old_type is None or new_type is None:
        return False
    rules = import_module(f"{__package__}.{vendor}").IN_PLACE
    for old_pattern, new_pattern, holds in rules:
        old = re.fullmatch(old_pattern, old_type.strip(), re.IGNORECASE)
        new = re.fullmatch(new_pattern, new_type.strip(), re.IGNORECASE)
        if old and new and (holds is None or holds(old.groups(), new.groups())):
            return True
    return False
