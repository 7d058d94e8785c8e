"""
NULLs filled before NOT NULL is set: ``FillColumn`` (a constant, or a
callable default called once per row, in batches, ``runtime/backfill.py``).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import router
from django.db.migrations.operations.base import Operation

from ..operations import server_name


class FillColumn(Operation):
    """
    A NOT NULL's backfill: fill the NULLs of field ``name`` of model
    ``model_name`` (its column, as Django's state has it) in primary-key
    batches (``backfill.py``), each its own transaction when the migration
    is not atomic, before its NOT NULL is set. ``call`` is the import path
    of a callable default, called once per row (``uuid.uuid4``: each row its
    own UUID, where Django's ``AddField`` gives every existing row one);
    else ``value`` is the constant every NULL gets. Resumable: only rows
    still NULL are written. Nothing to undo backwards.
    """

    __module__ = "bluegreen_autodetector.operations"  # its public path

    reversible = True
    reduces_to_sql = True  # sqlmigrate shows the UPDATE, or what is called

    # Django's writer serialises the arguments named in __init__'s signature.
    def __init__(
        self,
        model_name: str,
        name: str,
        call: str | None = None,
        value=None,
        hints: dict | None = None,
    ) -> None:
        self.model_name = model_name
        self.name = name
        self.call = call
        self.value = value
        self.hints = hints or {}

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "name": self.name}
        if self.call is not None:
            kwargs["call"] = self.call
        else:
            kwargs["value"] = self.value
        if self.hints:
            kwargs["hints"] = self.hints
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if not router.allow_migrate(connection.alias, app_label, **self.hints):
            return
        try:
            model = to_state.apps.get_model(app_label, self.model_name)
            field = model._meta.get_field(self.name)
        except (LookupError, FieldDoesNotExist):
            return  # Removed since (its column dropped by a later cleanup).
        table, column = model._meta.db_table, field.column
        quote = connection.ops.quote_name
        if schema_editor.collect_sql:
            if self.call is not None:
                schema_editor.collected_sql.append(
                    f"-- migrate fills each NULL of {table}.{column} with its own "
                    f"call of {self.call}(), in primary-key batches"
                )
            else:
                value = schema_editor.quote_value(
                    field.get_db_prep_save(self.value, connection)
                )
                schema_editor.collected_sql.append(
                    f"UPDATE {quote(table)} SET {quote(column)} = {value} "
                    f"WHERE {quote(column)} IS NULL;"
                )
            return
        with connection.cursor() as cursor:
            description = connection.introspection.get_table_description(
                cursor, server_name(connection, table)
            )
        if server_name(connection, column) not in [c.name for c in description]:
            return  # Gone already (a later cleanup, or a SQLite rebuild).
        if self.call is not None:
            produce = _imported(self.call)
        else:
            constant = self.value

            def produce():
                return constant

        from ..runtime.backfill import fill_by_keys, fill_column

        keys = [pk.column for pk in getattr(model._meta, "pk_fields", [model._meta.pk])]
        if len(keys) > 1:  # A CompositePrimaryKey: no key range to batch by.
            fill_by_keys(
                connection,
                table,
                column,
                keys,
                lambda: field.get_db_prep_save(produce(), connection),
                each_row=self.call is not None,
            )
            return
        fill_column(
            connection,
            table,
            column,
            model._meta.pk.column,
            lambda: field.get_db_prep_save(produce(), connection),
            each_row=self.call is not None,
            placeholder=(
                f"CAST(%s AS {field.cast_db_type(connection)})"
                if connection.vendor == "postgresql"
                else "%s"
            ),
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self) -> str:
        what = f"{self.call}()" if self.call is not None else repr(self.value)
        return (
            f"Fill the NULLs of {self.model_name}.{self.name} with {what} (in "
            f"batches; resumable)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"swap_{self.table}_{self.source}"

        return f"fill_{self.model_name}_{self.name}"


def _imported(path: str):
    """The object at import path ``path`` (``module.Class.method`` too)."""
    from importlib import import_module

    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(f"{path} cannot be imported")
