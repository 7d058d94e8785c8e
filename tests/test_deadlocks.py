"""
PostgreSQL: when a migration and a request of the release serving deadlock,
``migrate`` is the side that gives up and retries, never the request.
"""

import threading
import time

import psycopg

from .oracles import Release
from .project import SERVERS

V1 = """
class Author(models.Model):
    rating = models.IntegerField()

class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, models.CASCADE)
"""

V2 = """
class Author(models.Model):
    rating = models.IntegerField(null=True)

class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, models.CASCADE)
    note = models.TextField(null=True)
"""

# Locks shop_author, works a while (a scan of a big table would), then
# needs shop_book.
MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AlterField("author", "rating", models.IntegerField(null=True)),
        migrations.RunSQL("SELECT pg_sleep(1.5)", migrations.RunSQL.noop),
        migrations.AddField("book", "note", models.TextField(null=True)),
    ]
"""


def _connect(database):
    return psycopg.connect(
        host=SERVERS["postgresql"]["HOST"], user="postgres", dbname=database["NAME"]
    )


def _locked_by_another(monitor, table: str) -> bool:
    return bool(
        monitor.execute(
            "SELECT 1 FROM pg_locks WHERE relation = to_regclass(%s) AND granted "
            "AND mode = 'AccessExclusiveLock' AND pid <> pg_backend_pid()",
            [table],
        ).fetchone()
    )


def test_a_request_deadlocked_with_the_migration_is_never_the_one_aborted(
    make_project,
):
    project = make_project("postgresql")
    release = Release(project, V1, V2)
    project.set_models(V2)
    (project.migrations / "0002_deadlock.py").write_text(MIGRATION)
    request, monitor = _connect(project.database), _connect(project.database)
    monitor.autocommit = True
    (author,) = request.execute(
        "INSERT INTO shop_author (rating) VALUES (1) RETURNING id"
    ).fetchone()
    request.commit()
    # The request writes a book: its transaction holds shop_book, and its
    # foreign-key check, deferred to COMMIT, will need shop_author.
    request.execute(
        "INSERT INTO shop_book (title, author_id) VALUES ('t', %s)", [author]
    )
    outcome = {}
    migrate = threading.Thread(
        target=lambda: outcome.update(result=project.manage("migrate", check=False))
    )
    migrate.start()
    try:
        deadline = time.monotonic() + 30
        while not _locked_by_another(monitor, "shop_author"):
            assert time.monotonic() < deadline, "migrate never locked shop_author"
            time.sleep(0.01)
        # The request commits while the migration holds shop_author, less
        # than deadlock_timeout (1 s) before the migration asks for shop_book.
        time.sleep(0.7)
        request.commit()  # psycopg.errors.DeadlockDetected if it is aborted
    finally:
        migrate.join()
        request.close()
        monitor.close()
    result = outcome["result"]
    assert result.returncode == 0, result.stderr
    assert "Applying shop.0002_deadlock" in result.stdout
    assert release.v1 == "0001_initial"
