"""
Rows that stop a change before it runs, found and named: the query for rows
whose reference names a row that is not there (a foreign key about to be
added), and their primary keys as a message shows them.
"""

from __future__ import annotations

SAMPLE = 5  # primary keys named per message


def dangling(table: str, column: str, target: tuple[str, str] | None) -> str:
    """
    ``FROM ... WHERE ...`` (names quoted) of the rows of ``table`` (alias
    ``c``) whose ``column`` names no row of ``target`` (table, column); every
    non-NULL one with ``target`` None (its table is to be re-created empty).
    """
    where = f"FROM {table} c WHERE c.{column} IS NOT NULL"
    if target is not None:
        where += (
            f" AND NOT EXISTS (SELECT 1 FROM {target[0]} p "
            f"WHERE p.{target[1]} = c.{column})"
        )
    return where


def dangling_rows(
    connection, state, table, column, target_table, target_column, target_empty=False
):
    """
    Say how many rows of ``table`` name in ``column`` a row that is gone
    (``target_empty``: ``target_table`` is to be re-created empty; every
    value will be).
    """
    model = next(
        m
        for m in state.apps.get_models(include_auto_created=True)
        if m._meta.db_table == table
    )
    quote = connection.ops.quote_name
    count, keys = selected(
        connection,
        model,
        dangling(
            quote(table),
            quote(column),
            None if target_empty else (quote(target_table), quote(target_column)),
        ),
    )
    if not count:
        return None
    return (
        f"{count} row(s) of {table} hold {column} values that {target_table} no "
        f"longer has (primary keys {keys})"
    )


def selected(connection, model, where: str) -> tuple[int, str]:
    """
    How many rows of ``model``'s table ``where`` (``FROM <table> c WHERE
    ...``) selects, and the first ``SAMPLE`` of them named by their primary
    keys (``named_keys``), with ", ..." if there are more.
    """
    quote = connection.ops.quote_name
    keys = ", ".join(f"c.{quote(field.column)}" for field in model._meta.pk_fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {where}")
        (count,) = cursor.fetchone()
        if not count:
            return 0, ""
        cursor.execute(f"SELECT {keys} {where} ORDER BY {keys}")
        sample = cursor.fetchmany(SAMPLE)
    more = ", ..." if count > len(sample) else ""
    return count, named_keys(connection, model, sample) + more


def named_keys(connection, model, rows) -> str:
    """
    ``rows`` of ``model``'s primary-key columns (``_meta.pk_fields``: one,
    or a ``CompositePrimaryKey``'s) as Django reads them (a UUID with its
    dashes on SQLite too), for a message: each a value, or a tuple of a
    composite key's values.
    """
    # What a query's compiler applies to each column it reads.
    columns = [field.get_col(model._meta.db_table) for field in model._meta.pk_fields]
    converters = [
        connection.ops.get_db_converters(column)
        + column.output_field.get_db_converters(connection)
        for column in columns
    ]
    named = []
    for row in rows:
        values = []
        for value, column, convert in zip(row, columns, converters, strict=True):
            for converter in convert:
                value = converter(value, column, connection)
            values.append(value)
        named.append(str(values[0]) if len(values) == 1 else repr(tuple(values)))
    return ", ".join(named)
