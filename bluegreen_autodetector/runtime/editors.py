"""
The one way ``migrate``'s wrappers reach Django's schema editors: for the
time of a with-block, each editor a connection makes is handed to a
function that changes what it does (``online.py``: its ``execute``;
``sqlite_rebuilds.py``: its table rebuild; ``resume.py``: its
``add_field``). Wrappers nest; each puts back what it found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def editors_changed(connection, change: Callable) -> Iterator[None]:
    """While the block runs, every schema editor of ``connection`` is ``change(editor)``."""
    own = vars(connection).get("schema_editor")
    original = connection.schema_editor

    def schema_editor(*args, **kwargs):
        return change(original(*args, **kwargs))

    connection.schema_editor = schema_editor
    try:
        yield
    finally:
        if own is None:
            del connection.schema_editor
        else:
            connection.schema_editor = own
