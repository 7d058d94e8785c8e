"""
The database side of the corpus run: rows both releases write and read
(tests/probe.py's, with what the corpus apps' fields need), the schema as
introspected, and an empty database between replays.
"""

from __future__ import annotations

from functools import partial

from tests import probe

_probe_value_for = probe.value_for
_probe_make = probe.make


def install() -> None:
    """probe.py's make() and value_for() become the ones below."""
    probe.value_for = value_for
    probe.make = make


def compare(actual: dict, expected: dict, what: str, names: bool):
    from tests.oracles import assert_same_schema

    try:
        assert_same_schema(actual, expected, what, names=names)
    except AssertionError as difference:
        columns = [
            f"{table}.{column}: {actual[table]['columns'].get(column)} != "
            f"{expected[table]['columns'].get(column)}"
            for table in sorted(set(actual) & set(expected))
            for column in sorted(
                set(actual[table]["columns"]) | set(expected[table]["columns"])
            )
            if actual[table]["columns"].get(column)
            != expected[table]["columns"].get(column)
        ]
        return "; ".join([str(difference), *columns])
    return "ok"


def schema() -> dict:
    return probe.schema()


def crud(v1_apps, v2_apps, app: str) -> list[str]:
    """
    Both releases create, read, update and delete rows of ``app``'s models
    (tests/probe.py's rows), each step in its own transaction; the failures.
    """
    from django.db import connection

    created = {"v1": [], "v2": []}
    results = []
    releases = {"v1": v1_apps, "v2": v2_apps}
    for release, apps in releases.items():
        for model in probe.own_models(apps, app):
            label = f"{release} {model.__name__}"
            make = partial(create, model, created[release], release == "v1")
            probe.step(results, f"{label} create", make)
            probe.step(results, f"{label} read", partial(list, model.objects.all()))
            probe.step(results, f"{label} update", partial(save_all, model))
    probe.delete_all(results, releases, app)
    for model in reversed(list(v2_apps.get_app_config(app).get_models(True))):
        probe.step(
            results,
            f"delete rows left in {model._meta.db_table}",
            partial(model._base_manager.all()._raw_delete, connection.alias),
        )
    return [f"{r['step']}: {r['error']}" for r in results if not r["ok"]]


def create(model, created: list, nulls: bool) -> None:
    if singleton(model):
        model.objects.all().delete()
    probe.make(model, created, nulls=nulls)


def save_all(model) -> None:
    for row in model.objects.all():
        row.save()


def value_for(field):
    """probe.py's values, plus addresses and text fields of other types (time zones)."""
    from django.db import models

    if isinstance(field, models.GenericIPAddressField):
        return "10.0.0.1"
    try:
        return _probe_value_for(field)
    except TypeError:
        if field.get_internal_type() in ("CharField", "TextField"):
            return "UTC"
        raise


MAKING: list = []  # the models whose rows make() is creating, outermost first


def make(model, created, nulls=False):
    """
    probe.py's make(), but a row of a model already being made is not made
    again: a cycle of nullable relations (oauth2_provider's access and
    refresh tokens) is closed by NULL.
    """
    if model in MAKING:
        return None
    MAKING.append(model)
    try:
        return _probe_make(model, created, nulls)
    finally:
        MAKING.pop()


def singleton(model) -> bool:
    """A table of one row: its primary key has a constant default."""
    pk = model._meta.pk
    return pk.has_default() and not callable(pk.default)


def reset_database() -> None:
    """An empty database: nothing but what each replay migrates."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    with connection.schema_editor() as editor:
        if connection.vendor == "postgresql":
            editor.execute("DROP SCHEMA public CASCADE")
            editor.execute("CREATE SCHEMA public")
        elif connection.vendor == "mysql":
            editor.execute("SET FOREIGN_KEY_CHECKS = 0")
            for table in tables:
                editor.execute(f"DROP TABLE {editor.quote_name(table)}")
            editor.execute("SET FOREIGN_KEY_CHECKS = 1")
        else:
            for table in tables:
                editor.execute(f"DROP TABLE {editor.quote_name(table)}")
