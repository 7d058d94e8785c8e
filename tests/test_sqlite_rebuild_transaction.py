"""
A SQLite table rebuild in a migration that runs outside a transaction (a
contract with a backfill is written ``atomic = False``) runs in one
transaction of its own: Django's ``_remake_table`` creates ``new__<table>``,
copies the rows, drops the table and renames the new one, and each of those
statements committed on its own, so another connection found no table
between the DROP and the RENAME. The deploy rehearsal caught it: v1's
requests failed with "no such table: bookstore_book" during the contract of
a release that renames a field (the backfill) and makes another unique (a
rebuild).

``migrate`` runs in a process of the test's own with a trace callback on
its SQLite connection: when a rebuild's RENAME begins, a second connection
reads whether the table is there, as another release's would.
"""

import json

import pytest

from .oracles import Release
from .test_rename_field import make_v2

V1 = """
class Book(models.Model):
    title = models.CharField(max_length=100)
    code = models.CharField(max_length=20)
"""
# The rename's backfill makes the contract atomic = False; each change of
# the second field rebuilds the table on SQLite.
SECOND = {
    "unique": "code = models.CharField(max_length=20, unique=True)",
    "longer_unique": "code = models.CharField(max_length=30, unique=True)",
    "indexed_unique": "code = models.CharField(max_length=20, unique=True, "
    "db_index=True)",
}
WATCH = """
import json, re, sqlite3, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection

seen = []

def traced(statement):
    match = re.match(r'ALTER TABLE "new__(\\w+)" RENAME TO', statement)
    if match:
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=5)
        there = other.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = ?", [match[1]]
        ).fetchone()[0]
        other.close()
        seen.append([match[1], bool(there)])

connection.ensure_connection()
connection.connection.set_trace_callback(traced)
call_command("migrate", verbosity=0)
print(json.dumps(seen))
"""


@pytest.mark.parametrize("kind", sorted(SECOND))
def test_a_rebuild_outside_a_transaction_never_shows_a_missing_table(
    make_project, kind
):
    project = make_project("sqlite")
    release = Release(
        project,
        V1,
        V1.replace("title = ", "headline = ").replace(
            "code = models.CharField(max_length=20)", SECOND[kind]
        ),
    )
    project.manage(
        "shell",
        "-c",
        "from shop.models import Book\n"
        "Book.objects.bulk_create(Book(title=f't{n}', code=f'c{n}') "
        "for n in range(500))",
    )
    project.set_models(release.v2_models)
    make_v2(project)
    (project.root / "watch.py").write_text(WATCH)
    seen = json.loads(project.run("watch.py").stdout.strip().splitlines()[-1])
    assert seen, "no rebuild was traced"
    assert all(there for _, there in seen), seen
