"""
Runs inside a temporary test project (copied there by tests/project.py).

    python probe.py crud '{"app": "shop", "v1": "0001_initial", "v2": "0002_..."}'
    python probe.py schema '{}'
    python probe.py rows '{}'
    python probe.py inserts '{"app": "shop", "release": "0001_initial"}'

Prints one JSON line. ``crud`` drives the old and the new release's models
(historical models from the migration graph: v1 = the state after migration
``v1``, v2 = after ``v2``) against the same database, each step in its own
transaction so deferred constraints are checked at COMMIT.
"""

import datetime
import decimal
import itertools
import json
import os
import sys
import traceback
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import django  # noqa: E402

django.setup()

# The probe is the tests' instrument, not a release: it records none.
from bluegreen_autodetector.release import heartbeat  # noqa: E402

heartbeat.leave_unrecorded()

from django.db import connection, models, transaction  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

counter = itertools.count(1)


def value_for(field):
    n = next(counter)
    if isinstance(field, (models.AutoField, models.BigAutoField)):
        return None
    if isinstance(field, models.BooleanField):
        return n % 2 == 0
    if isinstance(field, models.DurationField):
        return datetime.timedelta(seconds=n)
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(n)
    if isinstance(field, models.FloatField):
        return float(n)
    if isinstance(field, models.IntegerField):
        return n
    if isinstance(field, models.DateTimeField):
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    if isinstance(field, models.DateField):
        return datetime.date(2026, 1, 1)
    if isinstance(field, models.TimeField):
        return datetime.time(12, n % 60)
    if isinstance(field, models.BinaryField):
        return f"v{n}".encode()
    if isinstance(field, models.FileField):
        return f"file{n}.txt"
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.JSONField):
        return {"n": n}
    if isinstance(field, models.EmailField):
        return f"user{n}@example.com"
    if isinstance(field, (models.CharField, models.TextField)):
        text = f"v{n}"
        if field.max_length and len(text) > field.max_length:
            text = base36(n)  # Still distinct in a short (key) column.
        return text[: field.max_length] if field.max_length else text
    raise TypeError(f"probe.py has no value for {field!r}")


def base36(n):
    digits = ""
    while n:
        n, digit = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits or "0"


def make(model, created, nulls=False):
    """
    Create a row of ``model`` filling every concrete field, relations too;
    with ``nulls``, nullable plain fields get NULL (as old code may write).
    """
    kwargs = {}
    for field in model._meta.concrete_fields:
        if (
            field.primary_key
            and field.auto_created
            or isinstance(field, (models.AutoField, models.BigAutoField))
            or field.generated  # The database computes it.
        ):
            continue
        if field.is_relation:
            if field.null and field.related_model is model:
                continue
            target = field.related_model
            kwargs[field.name] = make(target, created, nulls)
        elif nulls and field.null:
            kwargs[field.name] = None
        elif field.has_db_default() and not field.has_default():
            continue  # As code usually does: the database default fills it.
        elif field.has_default() and not field.null:
            kwargs[field.name] = field.get_default()
        else:
            kwargs[field.name] = value_for(field)
    instance = model.objects.create(**kwargs)
    created.append(instance)
    for field in model._meta.many_to_many:
        target = instance if field.related_model is model else None
        getattr(instance, field.name).add(
            target or make(field.related_model, created, nulls)
        )
    return instance


def step(results, name, action):
    try:
        with transaction.atomic():
            action()
        results.append({"step": name, "ok": True})
    except Exception as error:
        results.append(
            {
                "step": name,
                "ok": False,
                "error": f"{type(error).__name__}: {error}",
                "trace": traceback.format_exc(limit=-3),
            }
        )


def own_models(apps, app_label):
    return [
        model
        for model in apps.get_app_config(app_label).get_models()
        if not model._meta.auto_created
    ]


def crud(app, v1, v2):
    """
    ``v1``, ``v2``: a migration of ``app``, or a list of [app, migration]
    (each app's last, where the apps' migrations depend on each other).
    """
    loader = MigrationLoader(connection)
    releases = {
        release: loader.project_state(
            (app, name) if isinstance(name, str) else [tuple(node) for node in name]
        ).apps
        for release, name in (("v1", v1), ("v2", v2))
    }
    results = []
    created = {"v1": [], "v2": []}
    for release, apps in releases.items():
        for model in own_models(apps, app):
            label = f"{release} {model.__name__}"
            step(
                results,
                f"{label} create",
                lambda: make(model, created[release], nulls=release == "v1"),
            )
            step(
                results,
                f"{label} read",
                lambda: [
                    list(model.objects.all()),
                    [
                        list(getattr(o, f.name).all())
                        for o in model.objects.all()
                        for f in model._meta.many_to_many
                    ],
                ],
            )
            step(
                results,
                f"{label} update",
                lambda: [o.save() for o in model.objects.all()],
            )
    # Each release reads and updates what the other wrote.
    for release, apps in releases.items():
        for model in own_models(apps, app):
            step(
                results,
                f"{release} {model.__name__} read+update all rows",
                lambda: [o.save() for o in model.objects.all()],
            )
    # The new release deletes everything it knows, including rows the old
    # release's rows still point at through a removed relation.
    delete_all(results, releases, app)
    # The old release deletes rows that the new release links to through a
    # relation only the new release knows (a new foreign key, M2M or model):
    # the old release's Python on_delete cannot honour it. Fresh links for
    # each model, so that the order of the models does not hide one.
    for model in own_models(releases["v1"], app):
        step(
            results,
            f"v2 links rows for v1 {model.__name__} to delete",
            lambda: [make(m, created["v2"]) for m in own_models(releases["v2"], app)],
        )
        step(
            results,
            f"v1 {model.__name__} delete rows the new release links to",
            lambda: [o.delete() for o in model.objects.all()],
        )
    # No row is left behind, as after the first round (a rollback follows).
    delete_all(results, releases, app, " (again)")
    # Left: rows naming rows the old release deleted, which neither release
    # reaches (M2M links, a child without its parent). The cleanup that adds
    # their constraints stops on them until someone deletes them, as here.
    config = releases["v2"].get_app_config(app)
    for model in reversed(list(config.get_models(include_auto_created=True))):
        step(
            results,
            f"delete rows left in {model._meta.db_table}",
            lambda: model._base_manager.all()._raw_delete(connection.alias),
        )
    return results


def inserts(app, release, count=2, start=1):
    """
    ``count`` INSERTs into each model of ``app`` as the release at migration
    ``release`` writes them (each in its own transaction), as an old release
    does while a newer one migrates. The values are distinct, counted from
    ``start``: another process's rows may already hold the first ones.
    """
    global counter
    counter = itertools.count(start)
    apps = MigrationLoader(connection).project_state((app, release)).apps
    results, created = [], []
    for model in own_models(apps, app):
        for n in range(count):
            step(
                results,
                f"{release} {model.__name__} insert {n + 1}",
                lambda: make(model, created),
            )
    return results


def write(app, release, model, field, value, pk=None):
    """
    As the release at migration ``release`` writes: create a row of
    ``model`` with ``field`` (a relation: the primary key it names) set to
    ``value``, the other fields filled, or (``pk``) update that row's
    ``field`` with ``save()``, as a form does. Answers the row's primary key.
    """
    apps = MigrationLoader(connection).project_state((app, release)).apps
    model = apps.get_model(app, model)
    attname = model._meta.get_field(field).attname
    with transaction.atomic():
        if pk is None:
            kwargs = {}
            for each in model._meta.concrete_fields:
                if each.name == field or each.primary_key or each.generated:
                    continue
                if each.is_relation:
                    kwargs[each.name] = make(each.related_model, [])
                elif not each.null:
                    kwargs[each.name] = value_for(each)
            instance = model(**kwargs)
            setattr(instance, attname, value)
            instance.save()
        else:
            instance = model.objects.get(pk=pk)
            setattr(instance, attname, value)
            instance.save()
    return instance.pk


def read(app, release, model, field, pk):
    """``field`` (a relation: its key) of row ``pk``, as the release reads it."""
    apps = MigrationLoader(connection).project_state((app, release)).apps
    model = apps.get_model(app, model)
    attname = model._meta.get_field(field).attname
    return getattr(model.objects.get(pk=pk), attname)


def delete_all(results, releases, app, again=""):
    for release in ("v2", "v1"):
        for model in own_models(releases[release], app):
            step(
                results,
                f"{release} {model.__name__} delete rows{again}",
                lambda: [o.delete() for o in model.objects.all()],
            )


def schema():
    """Tables, columns, and constraints/indexes, as the database reports them."""
    introspection = connection.introspection
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(introspection.table_names(cursor)):
            if table == "django_migrations":
                continue
            columns = {
                column.name: {
                    "type": str(column.type_code),
                    "null": bool(column.null_ok),
                    "default": None if column.default is None else str(column.default),
                }
                for column in introspection.get_table_description(cursor, table)
            }
            constraints = {}
            for name, info in introspection.get_constraints(cursor, table).items():
                described = {
                    "columns": info["columns"],
                    "primary_key": info["primary_key"],
                    "unique": info["unique"],
                    "foreign_key": info["foreign_key"],
                    "check": info["check"],
                    "index": info["index"],
                }
                constraints[constraint_key(name, described, constraints)] = described
            if connection.vendor == "mysql":
                fold_foreign_key_indexes(constraints)
            result[table] = {"columns": columns, "constraints": constraints}
    return result


def constraint_key(name, described, constraints):
    """
    The key a constraint is compared under: its name where the name is part
    of the schema, else what it is (its description as JSON).

    Not part of the schema: the names SQLite gives inline constraints itself
    (``__unnamed_...``, ``__primary__``), and the ``fk_N`` Django's SQLite
    introspection makes up for foreign keys from their position in
    ``PRAGMA foreign_key_list``, which follows the order of the columns (a
    table rebuild that moves a column renumbers them). A SQLite foreign key
    is its column, referenced table and referenced column, all in
    ``described``. Two constraints that describe alike stay two.
    """
    positional = connection.vendor == "sqlite" and described["foreign_key"]
    key = json.dumps(described) if positional or name.startswith("__") else name
    while key in constraints:
        key += " (again)"
    return key


def fold_foreign_key_indexes(constraints):
    """
    InnoDB needs an index on every foreign-key column: it makes one named
    after the constraint unless one exists. Django's AlterField adds an
    explicit one, so the same schema can come out either way. Count both as
    "the foreign key, indexed", as is a foreign key whose column leads
    another index (InnoDB then needs no index of its own).
    """
    for name, info in list(constraints.items()):
        if info["foreign_key"] is None:
            continue
        if any(
            other != name
            and index["index"]
            and index["columns"][: len(info["columns"])] == info["columns"]
            and len(index["columns"]) > len(info["columns"])
            for other, index in constraints.items()
        ):
            info["index"] = True
        for other, index in list(constraints.items()):
            if (
                other != name
                and index["index"]
                and not index["unique"]
                and index["foreign_key"] is None
                and index["columns"] == info["columns"]
            ):
                info["index"] = True
                del constraints[other]


def rows():
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table == "django_migrations":
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            names = [column[0] for column in cursor.description]
            result[table] = sorted(
                (
                    dict(zip(names, map(str, row), strict=True))
                    for row in cursor.fetchall()
                ),
                key=json.dumps,
            )
    return result


def sql(query):
    """The rows of ``query`` (a PRAGMA, sqlite_master...), as lists."""
    with connection.cursor() as cursor:
        cursor.execute(query)
        return [list(row) for row in cursor.fetchall()]


if __name__ == "__main__":
    command, arguments = sys.argv[1], json.loads(sys.argv[2])
    answer = {
        "crud": crud,
        "schema": schema,
        "rows": rows,
        "inserts": inserts,
        "write": write,
        "read": read,
        "sql": sql,
    }[command](**arguments)
    print(json.dumps(answer, default=str))
