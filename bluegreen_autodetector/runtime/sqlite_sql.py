"""
SQLite's schema as text: the CREATE TABLE and CREATE TRIGGER statements
``sqlite_master`` keeps, read and edited without a parser (SQLite has no
introspection for a column's definition or a trigger's columns): its
tokens, outside quotes and comments; a CREATE TABLE's column definitions;
a trigger's ``UPDATE OF`` columns. Used by ``sqlite_rebuilds.py`` and
``sqlite_in_place.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

# What a table constraint of a CREATE TABLE starts with (a column starts
# with its name).
TABLE_CONSTRAINTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}
# What opens a quoted name or string in SQLite, and what closes it.
QUOTES = {'"': '"', "`": "`", "[": "]", "'": "'"}


def with_columns(create: str, definitions: list[str]) -> str:
    """``create`` (a CREATE TABLE) with ``definitions`` after its last column."""
    start, end = _body(create)
    parts = _split(create[start + 1 : end])
    at = next(
        (i for i, part in enumerate(parts) if identifier(part) is None),
        len(parts),
    )
    parts[at:at] = definitions
    return f"{create[: start + 1]}{', '.join(parts)}{create[end:]}"


def with_definitions(create: str, definitions: list[str]) -> str:
    """``create`` (a CREATE TABLE) declaring ``definitions`` instead of its own."""
    start, end = _body(create)
    return f"{create[: start + 1]}{', '.join(definitions)}{create[end:]}"


def options(create: str) -> list[str]:
    """The words after a CREATE TABLE's definitions (``STRICT``, ``WITHOUT ROWID``)."""
    _, end = _body(create)
    return [text.upper() for text, quoted in tokens(create[end + 1 :]) if not quoted]


def split_at_close(insert: str) -> tuple[str, str]:
    """An INSERT cut before the ``)`` closing its column list."""
    start, end = _body(insert)
    return insert[:end], insert[end:]


def definitions(create: str) -> list[str]:
    """The column definitions and table constraints of a CREATE TABLE."""
    start, end = _body(create)
    return _split(create[start + 1 : end])


def _body(sql: str) -> tuple[int, int]:
    """The positions of the first top-level ``(`` of ``sql`` and of its ``)``."""
    depth, start = 0, None
    for i, char in _structure(sql):
        if char == "(":
            if depth == 0 and start is None:
                start = i
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and start is not None:
                return start, i
    raise ValueError(f"no parenthesised list in {sql!r}")


def _split(body: str) -> list[str]:
    """``body`` cut at its top-level commas."""
    parts, depth, last = [], 0, 0
    for i, char in _structure(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[last:i].strip())
            last = i + 1
    parts.append(body[last:].strip())
    return [part for part in parts if part]


def _structure(sql: str) -> Iterator[tuple[int, str]]:
    """The parentheses and commas of ``sql`` outside quotes and comments."""
    for i, text, quoted in _scan(sql):
        if not quoted and text in "(),":
            yield i, text


def identifier(definition: str) -> str | None:
    """The column a definition declares; None for a table constraint."""
    text, quoted = next(tokens(definition), ("", False))
    if not quoted and (not text or text.upper() in TABLE_CONSTRAINTS):
        return None
    return text


def update_of(trigger: str) -> list[str]:
    """The columns of a CREATE TRIGGER's ``UPDATE OF`` list (none without one)."""
    found = list(tokens(trigger))
    words = [None if quoted else text.upper() for text, quoted in found]
    for i in range(len(found) - 1):
        if words[i] == "BEGIN":
            break
        if words[i] == "UPDATE" and words[i + 1] == "OF":
            columns = []
            for (text, _), word in zip(found[i + 2 :], words[i + 2 :], strict=False):
                if word == "ON":
                    return columns
                if text != ",":
                    columns.append(text)
    return []


def tokens(sql: str) -> Iterator[tuple[str, bool]]:
    """The words, quoted names or strings (unquoted, True) and punctuation of ``sql``."""
    for _, text, quoted in _scan(sql):
        yield text, quoted


def _scan(sql: str) -> Iterator[tuple[int, str, bool]]:
    """``tokens``, each with its position; comments and spaces left out."""
    i = 0
    while i < len(sql):
        char = sql[i]
        if char.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end == -1 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end == -1 else end + 2
        elif char in QUOTES:
            start = i
            text, i = _quoted(sql, i, QUOTES[char])
            yield start, text, True
        elif char.isalnum() or char in "_$":
            start = i
            while i < len(sql) and (sql[i].isalnum() or sql[i] in "_$"):
                i += 1
            yield start, sql[start:i], False
        else:
            yield i, char, False
            i += 1


def _quoted(sql: str, start: int, closing: str) -> tuple[str, int]:
    """The text quoted at ``start`` (doubled quotes undone), and the index after it."""
    text, i = "", start + 1
    while True:
        end = sql.find(closing, i)
        if end == -1:
            raise ValueError(f"unterminated {sql[start]} in {sql!r}")
        text += sql[i:end]
        if closing != "]" and sql[end + 1 : end + 2] == closing:
            text += closing
            i = end + 2
            continue
        return text, end + 1


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
