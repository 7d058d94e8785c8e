"""
New unique and check constraints (issue 27, item 3): ``migrate`` builds them
without blocking the old release's writes where the vendor can (PostgreSQL:
a concurrent unique index then ``ADD CONSTRAINT ... USING INDEX``, ``CHECK
... NOT VALID`` then ``VALIDATE``; MariaDB: unique indexes ``LOCK=NONE``),
ends where stock Django ends, and stops before any DDL, naming the first
keys, where rows already break the constraint.

The executed SQL is captured in the ``migrate`` process itself
(``connection.execute_wrapper``); the old release writes from a process of
its own, through its historical models, all through ``migrate``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from .oracles import Release, assert_same_schema, failures, stock_schema
from .project import VENDORS

V1 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
    sku = models.CharField(max_length=20)
    price = models.IntegerField(default=1)
"""

SKU = "sku = models.CharField(max_length=20)"


def v2(field: str = "", meta: str = "") -> str:
    source = V1.replace(SKU, field) if field else V1
    return source + (f"\n    class Meta:\n        {meta}\n" if meta else "")


# kind -> (v2's models, rows that break the new constraint)
KINDS = {
    "unique=True": (
        v2(field="sku = models.CharField(max_length=20, unique=True)"),
        [("a", "s1", 1), ("b", "s1", 2)],
    ),
    "UniqueConstraint": (
        v2(
            meta="constraints = [models.UniqueConstraint("
            "fields=['title', 'sku'], name='book_title_sku_uq')]"
        ),
        [("a", "s1", 1), ("a", "s1", 2)],
    ),
    "conditional UniqueConstraint": (
        v2(
            meta="constraints = [models.UniqueConstraint(fields=['sku'], "
            "condition=models.Q(price__gt=0), name='book_sku_priced_uq')]"
        ),
        [("a", "s1", 5), ("b", "s1", 6)],
    ),
    "unique_together": (
        v2(meta="unique_together = [('title', 'sku')]"),
        [("a", "s1", 1), ("a", "s1", 2)],
    ),
    "CheckConstraint": (
        v2(
            meta="constraints = [models.CheckConstraint("
            "condition=models.Q(price__gte=0), name='book_price_gte_0')]"
        ),
        [("a", "s1", -1)],
    ),
}

CAPTURE = """\
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from django.core.management import call_command
from django.db import connection

ran = []

def record(execute, sql, params, many, context):
    try:
        result = execute(sql, params, many, context)
    except Exception:
        ran.append({"sql": sql, "ok": False})
        raise
    ran.append({"sql": sql, "ok": True})
    return result

error = None
try:
    with connection.execute_wrapper(record):
        if sys.argv[1] == "stock":
            from django.core.management.commands.migrate import Command
            call_command(Command(), verbosity=0)
        elif sys.argv[1] == "sql":
            with connection.cursor() as cursor:
                for statement in json.loads(sys.argv[2]):
                    cursor.execute(statement)
        else:
            call_command("migrate", verbosity=0)
except BaseException as exception:
    error = f"{type(exception).__name__}: {exception}"
print(json.dumps({"ran": ran, "error": error}))
"""

OLD_RELEASE = """\
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

release, stop = sys.argv[1], sys.argv[2]
Book = MigrationLoader(connection).project_state(("shop", release)).apps.get_model(
    "shop", "Book"
)
print("ready", flush=True)
done, failed, longest, n = 0, [], 0.0, 0
while not os.path.exists(stop) or done < 20:
    n += 1
    began = time.monotonic()
    try:
        with transaction.atomic():
            # Values the new constraint accepts: the old release's ordinary writes.
            Book.objects.create(title=f"old {n}", sku=f"old-{os.getpid()}-{n}", price=n)
        done += 1
    except Exception as exception:
        failed.append(f"{type(exception).__name__}: {exception}")
    longest = max(longest, time.monotonic() - began)
    time.sleep(0.005)
print(json.dumps({"done": done, "failed": failed, "longest": longest}), flush=True)
"""


def run_script(project, script: str, name: str, *args: str) -> dict:
    path = project.root / name
    if not path.exists():
        path.write_text(script)
    result = project.run(name, *args, check=False)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def migrate(project, how: str = "package") -> dict:
    """``migrate`` (``stock``: Django's own command): the SQL it ran, its error."""
    return run_script(project, CAPTURE, "capture.py", how)


def run_sql(project, statements: list[str]) -> None:
    outcome = run_script(project, CAPTURE, "capture.py", "sql", json.dumps(statements))
    assert outcome["error"] is None, outcome["error"]


def insert(rows) -> list[str]:
    return [
        f"INSERT INTO shop_book (title, sku, price) VALUES ('{t}', '{s}', {p})"
        for t, s, p in rows
    ]


DISTINCT = [(f"t{i}", f"sku{i}", i + 1) for i in range(200)]

_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP)\b", re.I)


def ddl(outcome: dict, ok: bool = True) -> list[str]:
    return [r["sql"] for r in outcome["ran"] if _DDL.match(r["sql"]) and r["ok"] == ok]


class OldRelease:
    """The old release, writing through its models in a process of its own."""

    def __init__(self, project, release: str) -> None:
        (project.root / "old_release.py").write_text(OLD_RELEASE)
        self.stop_file = project.root / "stop"
        env = {
            **__import__("os").environ,
            "TEST_PROJECT_DATABASES": json.dumps({"default": project.database}),
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "old_release.py", release, str(self.stop_file)],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.strip() == "ready", line + self.process.stderr.read()
        time.sleep(0.2)  # writes before migrate begins

    def stop(self) -> dict:
        self.stop_file.write_text("")
        out, err = self.process.communicate(timeout=120)
        assert out.strip(), err
        return json.loads(out.strip().splitlines()[-1])


def online_form(vendor: str, kind: str, outcome: dict) -> None:
    """The statements that built the constraint are the vendor's online form."""
    ran = ddl(outcome)
    text = "\n".join(ran)
    if vendor == "postgresql":
        if kind == "CheckConstraint":
            assert re.search(r"ADD CONSTRAINT .* CHECK .* NOT VALID$", text, re.M)
            assert "VALIDATE CONSTRAINT" in text, text
            assert not re.search(r"CHECK \(.*\)$", text, re.M), text
        else:
            assert "CREATE UNIQUE INDEX CONCURRENTLY" in text, text
            # Django's blocking forms never ran.
            assert not re.search(r"UNIQUE( NULLS NOT DISTINCT)? \(", text), text
            assert not re.search(r"CREATE UNIQUE INDEX (?!CONCURRENTLY)", text), text
            if kind != "conditional UniqueConstraint":
                assert "UNIQUE USING INDEX" in text, text
    elif vendor == "mysql":
        if kind == "conditional UniqueConstraint":
            assert not ran, ran  # MariaDB builds none (Django's models.W036)
        elif kind == "CheckConstraint":
            # No online form: the server refuses each asked for; it copies.
            (check,) = [s for s in ran if "CHECK" in s]
            assert "ALGORITHM" not in check, check
            refused = ddl(outcome, ok=False)
            assert any("LOCK=NONE" in s for s in refused), refused
        else:
            (unique,) = [s for s in ran if "UNIQUE" in s]
            assert "LOCK=NONE" in unique, unique
    else:
        rebuilt = any("new__shop_book" in s for s in ran)
        # Django rebuilds the table for these; the others are an index.
        assert rebuilt == (
            kind in ("unique=True", "UniqueConstraint", "CheckConstraint")
        ), ran


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("vendor", VENDORS)
def test_constraint_is_built_online_while_the_old_release_writes(
    make_project, vendor, kind
):
    models_v2, _ = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, V1, models_v2)
    run_sql(project, insert(DISTINCT))
    output = release.make_v2()
    assert "may fail" in output, output  # the verifier's warning stays
    old = OldRelease(project, release.v1)
    try:
        outcome = migrate(project)
    finally:
        writes = old.stop()
    assert outcome["error"] is None, outcome["error"]
    online_form(vendor, kind, outcome)
    assert not writes["failed"], writes["failed"][:3]
    assert writes["done"] >= 20, writes
    expected = stock_schema(make_project, vendor, V1, models_v2)
    assert_same_schema(project.probe("schema"), expected, f"{kind} vs stock")


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
@pytest.mark.parametrize("kind", ["unique=True", "unique_together"])
def test_stock_migrate_runs_the_blocking_form(make_project, vendor, kind):
    """Negative control: the online-form assertions fail on Django's own SQL."""
    models_v2, _ = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, V1, models_v2)
    release.make_v2()
    outcome = migrate(project, "stock")
    assert outcome["error"] is None, outcome["error"]
    with pytest.raises(AssertionError):
        online_form(vendor, kind, outcome)


def _violation_cases():
    for vendor in VENDORS:
        for kind in KINDS:
            marks = ()
            if vendor == "mysql" and kind == "conditional UniqueConstraint":
                marks = pytest.mark.skip(
                    reason="MariaDB builds no conditional unique constraint"
                )
            yield pytest.param(vendor, kind, marks=marks, id=f"{vendor}-{kind}")


@pytest.mark.parametrize("vendor, kind", list(_violation_cases()))
def test_violating_rows_stop_migrate_before_any_ddl(make_project, vendor, kind):
    models_v2, violating = KINDS[kind]
    project = make_project(vendor)
    release = Release(project, V1, models_v2)
    run_sql(project, insert(DISTINCT[:3] + violating))
    before = project.probe("schema")
    release.make_v2()
    outcome = migrate(project)
    error = outcome["error"] or ""
    assert error.startswith(f"CommandError: Cannot apply shop.{release.v2}: "), error
    assert "\n" not in error, error
    keys = ", ".join(str(4 + i) for i in range(len(violating)))
    assert f"{len(violating)} row(s) of shop_book" in error, error
    assert f"(primary keys {keys})" in error, error
    assert "nothing of this migration ran" in error, error
    assert not ddl(outcome) and not ddl(outcome, ok=False), ddl(outcome)
    assert_same_schema(project.probe("schema"), before, "after the refusal")
    # Stock Django, negative control: the database refuses after DDL began,
    # and names no row.
    stock = migrate(project, "stock")
    assert stock["error"] and "primary keys" not in stock["error"], stock["error"]
    assert ddl(stock) + ddl(stock, ok=False), stock["ran"][-3:]


def test_old_release_duplicates_are_warned_by_makemigrations(make_project):
    """unique_together and a narrower DecimalField: 'may fail', naming column and limit."""
    project = make_project("sqlite")
    decimal = "price = models.DecimalField(max_digits={}, decimal_places=2, default=1)"
    release = Release(
        project,
        V1.replace("price = models.IntegerField(default=1)", decimal.format(10)),
        v2(meta="unique_together = [('title', 'sku')]").replace(
            "price = models.IntegerField(default=1)", decimal.format(6)
        ),
    )
    project.set_models(release.v2_models)
    result = project.manage("makemigrations")
    output = result.stdout + result.stderr
    assert re.search(
        r"INSERT on shop_book may fail: a unique constraint on \(sku, title\)", output
    ), output
    assert re.search(
        r"INSERT on shop_book may fail: column price .*more than 4 digits before the "
        r"decimal point",
        output,
    ), output


@pytest.mark.parametrize("left", ["an invalid index", "a valid index"])
def test_a_try_stopped_after_the_concurrent_index_runs_again(make_project, left):
    """
    PostgreSQL: a build that failed (a duplicate written meanwhile) left an
    invalid index, dropped and built again; one that stopped before ``USING
    INDEX`` (a lock timeout) left a valid one, used as it is.
    """
    models_v2, duplicates = KINDS["UniqueConstraint"]
    project = make_project("postgresql")
    release = Release(project, V1, models_v2)
    run_sql(project, insert(DISTINCT[:3] + duplicates))
    release.make_v2()
    build = (
        'CREATE UNIQUE INDEX CONCURRENTLY "book_title_sku_uq" ON "shop_book" '
        '("title", "sku")'
    )
    if left == "an invalid index":
        outcome = run_script(project, CAPTURE, "capture.py", "sql", json.dumps([build]))
        assert "IntegrityError" in (outcome["error"] or ""), outcome
        run_sql(project, ["DELETE FROM shop_book WHERE id = 5"])
    else:
        run_sql(project, ["DELETE FROM shop_book WHERE id = 5", build])
    outcome = migrate(project)
    assert outcome["error"] is None, outcome["error"]
    ran = "\n".join(ddl(outcome))
    assert ("DROP INDEX CONCURRENTLY" in ran) == (left == "an invalid index"), ran
    assert ("CREATE UNIQUE INDEX" in ran) == (left == "an invalid index"), ran
    assert "UNIQUE USING INDEX" in ran, ran
    expected = stock_schema(make_project, "postgresql", V1, models_v2)
    assert_same_schema(project.probe("schema"), expected, f"{left}, run again")


DEDUPE = """\
from django.db import migrations
from django.db.models import Min


def dedupe(apps, schema_editor):
    Book = apps.get_model("shop", "Book")
    keep = Book.objects.values("sku").annotate(first=Min("id"))
    keep = keep.values_list("first", flat=True)
    Book.objects.exclude(id__in=list(keep)).delete()


class Migration(migrations.Migration):
    dependencies = [("shop", "{previous}")]
    operations = [migrations.RunPython(dedupe, migrations.RunPython.noop)]
"""


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_data_fix_earlier_in_the_same_migrate_is_waited_for(make_project, vendor):
    """A data migration that removes the duplicates runs before the look."""
    models_v2, duplicates = KINDS["unique=True"]
    project = make_project(vendor)
    release = Release(project, V1, models_v2)
    run_sql(project, insert(DISTINCT[:3] + duplicates))
    fix = project.migrations / "0002_dedupe.py"
    fix.write_text(DEDUPE.replace("{previous}", release.v1))
    release.make_v2()
    assert project.migration_names()[-1].startswith("0003"), project.migration_names()
    outcome = migrate(project)
    assert outcome["error"] is None, outcome["error"]
    assert "UNIQUE" in "\n".join(ddl(outcome)) or vendor == "sqlite"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_refused_migration_leaves_nothing_half_written(make_project, vendor):
    """
    A column added by the same migration is not added either (MariaDB's DDL
    is not transactional); stock Django, the negative control, adds it
    there and then fails on the constraint.
    """
    models_v2, duplicates = KINDS["unique_together"]
    models_v2 = models_v2.replace(
        "    class Meta:", "    note = models.TextField(null=True)\n\n    class Meta:"
    )
    project = make_project(vendor)
    release = Release(project, V1, models_v2)
    run_sql(project, insert(DISTINCT[:3] + duplicates))
    before = project.probe("schema")
    release.make_v2()
    outcome = migrate(project)
    assert (outcome["error"] or "").startswith("CommandError: Cannot apply"), outcome
    assert_same_schema(project.probe("schema"), before, "after the refusal")
    stock = migrate(project, "stock")
    assert stock["error"], stock
    columns = project.probe("schema")["shop_book"]["columns"]
    # Stock: half-written on MariaDB (DDL is not transactional) and on
    # PostgreSQL (the migration runs outside a transaction, for the online
    # forms); SQLite rolls it back.
    assert ("note" in columns) == (vendor != "sqlite"), columns


@pytest.mark.parametrize("nulls_distinct", [None, False])
def test_nulls_repeat_only_where_the_constraint_says_so(make_project, nulls_distinct):
    """
    PostgreSQL (15+): NULLs never repeat in a unique constraint unless
    ``nulls_distinct=False``; a deferrable one is built online too.
    """
    v1 = V1.replace(SKU, "sku = models.CharField(max_length=20, null=True)")
    models_v2 = v1 + (
        "\n    class Meta:\n        constraints = [models.UniqueConstraint("
        "fields=['sku'], name='book_sku_uq', deferrable=models.Deferrable.DEFERRED"
        f", nulls_distinct={nulls_distinct})]\n"
    )
    project = make_project("postgresql")
    release = Release(project, v1, models_v2)
    run_sql(
        project,
        insert(DISTINCT[:2])
        + ["INSERT INTO shop_book (title, sku, price) VALUES ('n', NULL, 1)"] * 2,
    )
    release.make_v2()
    outcome = migrate(project)
    if nulls_distinct is False:
        assert "2 row(s) of shop_book repeat values of (sku)" in outcome["error"]
        assert "(primary keys 3, 4)" in outcome["error"], outcome["error"]
        return
    assert outcome["error"] is None, outcome["error"]
    ran = "\n".join(ddl(outcome))
    assert "UNIQUE USING INDEX" in ran and "DEFERRABLE INITIALLY DEFERRED" in ran, ran
    expected = stock_schema(make_project, "postgresql", v1, models_v2)
    assert_same_schema(project.probe("schema"), expected, "deferrable vs stock")


@pytest.mark.parametrize("kind", ["unique=True", "UniqueConstraint", "CheckConstraint"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_a_rebuild_for_the_constraint_keeps_what_lingers(make_project, vendor, kind):
    """
    SQLite rebuilds the table for these (Django's ``_remake_table``) from
    Django's state: a column that a contract before left lingering for the
    old release (a field removed, its cleanup pending) is kept through the
    rebuild, and the old release reads and writes it, on every vendor.
    """
    models_v2, _ = KINDS[kind]
    v1 = V1 + "    note = models.CharField(max_length=20, null=True)\n"
    project = make_project(vendor)
    release = Release(project, v1, V1)
    run_sql(project, insert(DISTINCT[:3]))
    release.make_v2()  # the contract: note lingers
    project.manage("migrate", "-v0")
    project.set_models(models_v2)
    project.manage("makemigrations", "-v0")
    release.v2 = project.migration_names()[-1]
    outcome = migrate(project)
    assert outcome["error"] is None, outcome["error"]
    if vendor == "sqlite":
        assert any("new__shop_book" in s for s in ddl(outcome)), ddl(outcome)
    assert "note" in project.probe("schema")["shop_book"]["columns"]
    problems = failures(release.crud())
    assert not problems, "\n".join(problems)
