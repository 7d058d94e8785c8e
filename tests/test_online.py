"""
Online DDL (online.py): on PostgreSQL and MariaDB, ``migrate`` runs the
statements that would hold a big table's lock while they scan or copy it in
the vendor's online form; the migrations that need it are written
``atomic = False``; a migration stopped part-way runs again.
"""

import MySQLdb
import psycopg
import pytest

from .oracles import Release
from .project import SERVERS

ONLINE_VENDORS = ["postgresql", "mysql"]

V1 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    note = models.TextField(null=True)
"""

# A NOT NULL the cleanup sets, a ForeignKey whose constraint and index it
# adds, an index on a table in use.
V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    note = models.TextField(default="")
    author = models.ForeignKey(Author, models.CASCADE, null=True)

    class Meta:
        indexes = [models.Index(fields=["title"], name="book_title_idx")]
"""


def _connect(vendor, database):
    if vendor == "postgresql":
        return psycopg.connect(
            host=SERVERS["postgresql"]["HOST"],
            user="postgres",
            dbname=database["NAME"],
            autocommit=True,
        )
    return MySQLdb.connect(
        host=SERVERS["mysql"]["HOST"],
        user="root",
        password="",
        database=database["NAME"],
        autocommit=True,
    )


def _rows(connection, sql, params=()):
    cursor = connection.cursor()
    cursor.execute(sql, params)
    rows = cursor.fetchall() if cursor.description else []
    cursor.close()
    return rows


def _table_identity(vendor, connection, database, table):
    """What changes when the table is copied: relfilenode, InnoDB's table id."""
    if vendor == "postgresql":
        return _rows(connection, "SELECT pg_relation_filenode(%s)", [table])[0][0]
    return _rows(
        connection,
        "SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME = %s",
        [f"{database['NAME']}/{table}"],
    )[0][0]


def _released(make_project, vendor):
    project = make_project(vendor)
    release = Release(project, V1, V2)
    release.make_v2()
    return project, release


def test_migrations_that_build_online_are_written_outside_a_transaction(
    make_project,
):
    project, _ = _released(make_project, "postgresql")
    contract = (project.migrations / f"{project.migration_names()[-1]}.py").read_text()
    (cleanup,) = project.pending_files()
    # The contract adds the ForeignKey's column and index, and the index.
    assert "    atomic = False\n" in contract
    assert "    atomic = False\n" in cleanup.read_text()


def test_sqlite_only_projects_keep_atomic_migrations(make_project):
    project, _ = _released(make_project, "sqlite")
    contract = (project.migrations / f"{project.migration_names()[-1]}.py").read_text()
    assert "atomic" not in contract
    # The cleanup fills note's NULLs in batches that commit one by one
    # (FillColumn, as a rename's copy): that alone takes it out of a
    # transaction, on every vendor.
    cleanup = project.pending_files()[0].read_text()
    assert "FillColumn" in cleanup and "    atomic = False\n" in cleanup


def test_sqlmigrate_shows_the_online_forms(make_project):
    project, _ = _released(make_project, "postgresql")
    contract = project.migration_names()[-1]
    shown = project.manage("sqlmigrate", "shop", contract).stdout
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "book_title_idx"' in shown
    assert "BEGIN;" not in shown
    cleanup = project.pending_files()[0].stem
    shown = project.manage("sqlmigrate", "shop", cleanup).stdout
    assert "NOT VALID" in shown and "VALIDATE CONSTRAINT" in shown
    assert 'CHECK ("note" IS NOT NULL) NOT VALID' in shown
    assert 'ALTER COLUMN "note" SET NOT NULL' in shown


@pytest.mark.parametrize("vendor", ONLINE_VENDORS)
def test_contract_and_cleanup_end_where_stock_would(make_project, vendor):
    """
    The online forms build what Django's statements would: a valid index, a
    validated foreign key, NOT NULL, no check left behind; on MariaDB
    without copying the table.
    """
    project, release = _released(make_project, vendor)
    connection = _connect(vendor, project.database)
    before = _table_identity(vendor, connection, project.database, "shop_book")
    project.manage("migrate", "-v0")
    # The contract adds a column, an index and the ForeignKey's index in
    # place: no copy of the table (MariaDB: INSTANT, NOCOPY).
    assert _table_identity(vendor, connection, project.database, "shop_book") == (
        before
    )
    _rows(connection, "INSERT INTO shop_author (name) VALUES ('a')")
    _rows(connection, "INSERT INTO shop_book (title, note) VALUES ('t', 'n')")
    release.promote_and_migrate()
    schema = project.probe("schema")["shop_book"]
    assert schema["columns"]["note"]["null"] is False
    constraints = schema["constraints"]
    assert any(c["foreign_key"] for c in constraints.values()), constraints
    assert "book_title_idx" in constraints, constraints
    assert not [c for c in constraints.values() if c["check"]], constraints
    if vendor == "postgresql":
        invalid = _rows(
            connection,
            "SELECT conname FROM pg_constraint WHERE NOT convalidated "
            "AND conrelid = 'shop_book'::regclass",
        ) + _rows(
            connection,
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid "
            "AND indrelid = 'shop_book'::regclass",
        )
        assert invalid == []
    connection.close()


def test_an_index_left_invalid_by_a_failed_try_is_built_again(make_project):
    project, release = _released(make_project, "postgresql")
    connection = _connect("postgresql", project.database)
    # What a CREATE INDEX CONCURRENTLY that failed leaves: an invalid index.
    _rows(connection, 'CREATE INDEX "book_title_idx" ON shop_book (title)')
    _rows(
        connection,
        "UPDATE pg_index SET indisvalid = false "
        "WHERE indexrelid = 'book_title_idx'::regclass",
    )
    project.manage("migrate", "-v0")
    assert _rows(
        connection,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'book_title_idx'::regclass",
    ) == [(True,)]
    connection.close()


def test_a_cleanup_stopped_after_its_check_was_added_runs_again(make_project):
    """The NOT NULL check a stopped try left is used, then dropped."""
    project, release = _released(make_project, "postgresql")
    project.manage("migrate", "-v0")
    project.manage("promotemigrations", "-v0")
    shown = project.manage("sqlmigrate", "shop", project.migration_names()[-1]).stdout
    assert "NOT VALID" in shown, shown
    (check,) = [
        line.split(" ADD CONSTRAINT ")[1].split()[0]
        for line in shown.splitlines()
        if "IS NOT NULL) NOT VALID" in line
    ]
    connection = _connect("postgresql", project.database)
    _rows(
        connection,
        f'ALTER TABLE shop_book ADD CONSTRAINT {check} CHECK ("note" IS NOT NULL) '
        f"NOT VALID",
    )
    project.manage("migrate", "-v0")
    assert (
        _rows(
            connection,
            "SELECT conname FROM pg_constraint WHERE conrelid = 'shop_book'::regclass "
            "AND contype = 'c'",
        )
        == []
    )
    connection.close()


def test_mariadb_refuses_a_foreign_key_to_rows_that_are_gone(make_project):
    """With foreign_key_checks off InnoDB checks nothing: migrate checks first."""
    project, release = _released(make_project, "mysql")
    project.manage("migrate", "-v0")
    connection = _connect("mysql", project.database)
    _rows(connection, "INSERT INTO shop_book (title, author_id) VALUES ('t', 42)")
    project.manage("promotemigrations", "-v0")
    result = project.manage("migrate", "-v0", check=False)
    assert result.returncode != 0
    assert "42" in result.stderr or "gone" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    connection.close()


V2_FOREIGN_KEY = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    note = models.TextField(null=True)
    author = models.ForeignKey(Author, models.CASCADE, null=True)
"""


@pytest.mark.parametrize("online", [True, False], ids=["online", "stock-forms"])
def test_mariadb_adds_a_foreign_key_without_copying_the_table(make_project, online):
    """
    InnoDB copies the whole table to add a foreign key unless the checks
    are off (the negative control: BLUEGREEN_ONLINE_DDL = False).
    """
    project = make_project("mysql", extra_settings=f"BLUEGREEN_ONLINE_DDL = {online}\n")
    release = Release(project, V1, V2_FOREIGN_KEY)
    release.make_v2()
    project.manage("migrate", "-v0")
    project.manage("promotemigrations", "-v0")
    connection = _connect("mysql", project.database)
    before = _table_identity("mysql", connection, project.database, "shop_book")
    project.manage("migrate", "-v0")
    after = _table_identity("mysql", connection, project.database, "shop_book")
    assert (after == before) is online
    constraints = project.probe("schema")["shop_book"]["constraints"]
    assert any(c["foreign_key"] for c in constraints.values())
    connection.close()
