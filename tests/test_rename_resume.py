"""
A rename's contract whose ``migrate`` was killed half-way through its
backfill, run again: it continues where it stopped (the contract runs
outside a transaction, ``atomic = False``, and keeps what it did).

To stop the backfill at a known row without a mock, the test installs a
trigger of its own that waits, when row ``STALL`` is updated, for a lock
the test holds (PostgreSQL's advisory lock, MariaDB's ``GET_LOCK``): the
batches before it commit (the first is ``backfill.FIRST_BATCH`` rows), the
one holding it waits, and once the server shows that wait the test kills
``migrate`` with SIGKILL and lets the lock go, so that the killed
session's batch ends and rolls back. Run again, ``migrate`` copies the rows
left, and only them. SQLite has no lock to wait on: there the trigger fails
the batch, and ``migrate`` stops with that error at the same point.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .oracles import Release, failures
from .test_rename_field import KINDS, make_v2, models_source

# The second batch is between half and twice the first's size (it follows
# the first's time): it holds row STALL and the rest, whatever its size.
ROWS = 1100
STALL = 1050
FIRST_BATCH = 1000  # runtime/backfill.py
# kind: (old column, new column)
COLUMNS = {
    "plain": ("title", "headline"),
    "nullable": ("note", "remark"),
    "unique": ("code", "sku"),
    "indexed": ("rank", "position"),
    "foreign_key": ("author_id", "writer_id"),
    "one_to_one": ("cover_id", "jacket_id"),
    "db_column": ("title", "headline"),
}
FILL = {
    "text": "Book({field}=f'fill {{n}}')",
    "int": "Book({field}=n)",
    "author": "Book({field}=authors[n])",
}
# The lock the trigger waits for: an advisory lock is the database's own on
# PostgreSQL; GET_LOCK's names are the server's, so the database's is in it.
LOCK = {
    "postgresql": str(STALL),
    "mysql": "CONCAT(DATABASE(), '.test_stall')",
}
STALL_SQL = {
    "postgresql": [
        "CREATE FUNCTION test_stall() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF NEW.id = {STALL} THEN "
        f"PERFORM pg_advisory_xact_lock({LOCK['postgresql']}); END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER test_stall BEFORE UPDATE ON shop_book FOR EACH ROW "
        "EXECUTE FUNCTION test_stall()",
    ],
    "mysql": [
        "CREATE TRIGGER test_stall BEFORE UPDATE ON shop_book FOR EACH ROW "
        f"BEGIN IF NEW.id = {STALL} THEN DO GET_LOCK({LOCK['mysql']}, 300); "
        "END IF; END",
    ],
    # SQLite has no lock to wait on: the batch fails, and migrate stops there.
    "sqlite": [
        "CREATE TRIGGER test_stall BEFORE UPDATE ON shop_book FOR EACH ROW "
        f"WHEN NEW.id = {STALL} BEGIN SELECT RAISE(ABORT, 'test stall'); END",
    ],
}
HOLD_SQL = {
    "postgresql": f"SELECT pg_try_advisory_lock({LOCK['postgresql']})::int",
    "mysql": f"SELECT GET_LOCK({LOCK['mysql']}, 0)",
}
RELEASE_SQL = {
    "postgresql": f"SELECT pg_advisory_unlock({LOCK['postgresql']})",
    "mysql": f"SELECT RELEASE_LOCK({LOCK['mysql']})",
}
# Another session of the test's database waiting for the lock.
WAITING_SQL = {
    "postgresql": "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = "
    "current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
    "mysql": "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
    "DB = DATABASE() AND STATE = 'User lock'",
}
UNSTALL_SQL = {
    "postgresql": [
        "DROP TRIGGER test_stall ON shop_book",
        "DROP FUNCTION test_stall()",
    ],
    "mysql": ["DROP TRIGGER test_stall"],
    "sqlite": ["DROP TRIGGER test_stall"],
}


def connect(project):
    settings = project.database
    if project.vendor == "postgresql":
        import psycopg

        return psycopg.connect(
            host=settings["HOST"],
            user=settings["USER"],
            dbname=settings["NAME"],
            autocommit=True,
        )
    if project.vendor == "mysql":
        import MySQLdb

        return MySQLdb.connect(
            host=settings["HOST"],
            user=settings["USER"],
            database=settings["NAME"],
            autocommit=True,
        )
    import sqlite3

    return sqlite3.connect(settings["NAME"], isolation_level=None, timeout=30)


def query(connection, sql):
    cursor = connection.cursor()
    cursor.execute(sql)
    rows = cursor.fetchall() if cursor.description else []
    cursor.close()
    return rows


def fill(project, kind):
    _, _, field, _, values = KINDS[kind]
    authors = ""
    if values == "author":
        authors = (
            "authors = Author.objects.bulk_create("
            f"Author(name=f'a{{n}}') for n in range({ROWS}))\n"
        )
    make = FILL[values].format(field=field)
    project.manage(
        "shell",
        "-c",
        "from shop.models import Author, Book\n"
        + authors
        + f"Book.objects.bulk_create({make} for n in range({ROWS}))",
    )


def copied(connection, old, new):
    return query(
        connection,
        f"SELECT COUNT(*) FROM shop_book WHERE {new} = {old}",
    )[0][0]


def start_migrate(project):
    env = {
        **os.environ,
        "TEST_PROJECT_DATABASES": json.dumps({"default": project.database}),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "settings",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "migrate"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, process, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            raise AssertionError(
                f"migrate ended before {what}:\n{process.stdout.read()}"
            )
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"timed out waiting for {what}")


def kill_migrate_at_stall(project, connection, vendor):
    """Start migrate, kill it once its batch holding row STALL waits, let go."""
    assert query(connection, HOLD_SQL[vendor])[0][0] == 1
    process = start_migrate(project)
    wait_for(
        lambda: query(connection, WAITING_SQL[vendor])[0][0] == 1,
        process,
        "the batch holding row STALL to wait for the test's lock",
    )
    kill(process)
    # The killed session's batch goes on, and rolls back at its end.
    query(connection, RELEASE_SQL[vendor])


def kill(process):
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    process.stdout.close()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_killed_backfill_continues_where_it_stopped(make_project, vendor, kind):
    old_field, new_field, *_ = KINDS[kind]
    old, new = COLUMNS[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    fill(project, kind)
    connection = connect(project)
    try:
        for sql in STALL_SQL[vendor]:
            query(connection, sql)
        project.set_models(release.v2_models)
        make_v2(project)
        if vendor == "sqlite":
            failed = project.manage("migrate", check=False)
            assert "test stall" in failed.stderr, failed.stderr
        else:
            kill_migrate_at_stall(project, connection, vendor)
        for sql in UNSTALL_SQL[vendor]:  # waits for the killed session's end
            query(connection, sql)
        # What the first run left: the new column, the batch before the one
        # holding row STALL.
        done = copied(connection, old, new)
        assert FIRST_BATCH <= done < STALL
    finally:
        connection.close()
    assert project.migration_names()[-1] not in applied(project)
    rerun = project.manage("migrate")
    assert "stopped part-way" in rerun.stdout, rerun.stdout
    left = ROWS - done
    assert f"{left}/{left} rows" in rerun.stdout, rerun.stdout
    connection = connect(project)
    try:
        assert copied(connection, old, new) == ROWS
    finally:
        connection.close()
    # Both releases at work, each seeing the other's writes.
    release.v2 = project.migration_names()[-1]
    problems = failures(release.crud())
    assert not problems, "\n".join(problems)
    assert project.manage("migrate").stdout.count("No migrations to apply") == 1


def applied(project):
    output = project.manage("showmigrations", "shop", "--plan").stdout
    return [line.split(".", 1)[1] for line in output.splitlines() if "[X]" in line]


# A model rename whose model another model's M2M table names a column after
# (tests/test_rename_model.py, KEPT_COLUMN): the contract's fill of
# shop_tag_books stopped part-way.
KEPT_STALL_SQL = {
    vendor: [sql.replace("shop_book", "shop_tag_books") for sql in statements]
    for vendor, statements in STALL_SQL.items()
}
KEPT_UNSTALL_SQL = {
    vendor: [sql.replace("shop_book", "shop_tag_books") for sql in statements]
    for vendor, statements in UNSTALL_SQL.items()
}
KEPT_FILL = f"""
from shop.models import Book, Tag
book = Book.objects.create(title="linked")
tags = Tag.objects.bulk_create(Tag(name=f"t{{n}}") for n in range({ROWS}))
Tag.books.through.objects.bulk_create(
    Tag.books.through(tag=tag, book=book) for tag in tags
)
print(book.pk)
"""
# The number of tags of book ``pk`` as ``release`` (a migration of shop)
# reads them, after linking one more named ``add``.
LINK_COUNT = """
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = MigrationLoader(connection).project_state(("shop", {release!r})).apps
related = apps.get_model("shop", {model!r}).objects.get(pk={pk!r}).tag_set
if {add!r}:
    related.add(related.model.objects.create(name={add!r}))
print(related.count())
"""


def link_count(project, release, model, pk, add=None) -> int:
    code = LINK_COUNT.format(release=release, model=model, pk=pk, add=add)
    return int(project.manage("shell", "-c", code).stdout.split()[-1])


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_the_old_release_keeps_its_links_while_the_kept_column_fills(
    make_project, vendor
):
    """
    PostgreSQL and MariaDB: the contract adds novel_id beside book_id of
    shop_tag_books and fills it before it renames anything; a migrate
    killed during that fill leaves the old release every link, through
    book_id, which it reads and writes as before. (Added after the rename,
    as SQLite's contract does in one transaction, book_id would be NULL in
    the rows the fill had not reached: the old release's book would have
    lost its links.) Run again, migrate finishes, and both releases see
    each other's links.
    """
    from .test_rename_model import KINDS as MODEL_KINDS
    from .test_rename_model import make_v2 as make_renamed

    v1_models, v2_models, *_ = MODEL_KINDS["pointed_at_by_m2m"]
    project = make_project(vendor)
    release = Release(project, v1_models, v2_models)
    book = int(project.manage("shell", "-c", KEPT_FILL).stdout.split()[-1])
    connection = connect(project)
    try:
        for sql in KEPT_STALL_SQL[vendor]:
            query(connection, sql)
        project.set_models(v2_models)
        make_renamed(project)
        kill_migrate_at_stall(project, connection, vendor)
        for sql in KEPT_UNSTALL_SQL[vendor]:
            query(connection, sql)
        done = query(
            connection, "SELECT COUNT(*) FROM shop_tag_books WHERE novel_id = book_id"
        )[0][0]
        assert FIRST_BATCH <= done < STALL
    finally:
        connection.close()
    # The contract stopped part-way: the old release has all its links.
    assert link_count(project, release.v1, "Book", book) == ROWS
    assert link_count(project, release.v1, "Book", book, add="old's") == ROWS + 1
    rerun = project.manage("migrate")
    left = ROWS - done  # the old release's own link was filled by the triggers
    assert f"{left}/{left} rows" in rerun.stdout, rerun.stdout
    v2 = project.migration_names()[-1]
    assert link_count(project, v2, "Novel", book) == ROWS + 1
    assert link_count(project, v2, "Novel", book, add="new's") == ROWS + 2
    assert link_count(project, release.v1, "Book", book) == ROWS + 2
