"""migrate on SQLite while the other release writes: it waits its turn, it never fails."""

import sqlite3
import threading
import time

import pytest

from .model_sources import BOOK, BOOK_WITH_RATING
from .oracles import Release
from .project import assert_stopped

V1, V2 = BOOK_WITH_RATING, BOOK


class Writer(threading.Thread):
    """
    The release serving: short write transactions one after another, as
    requests commit them (each waits up to 10 s for the lock, as Django's
    connections do with OPTIONS timeout). Failed writes are kept.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path, self.stop, self.written, self.failed = path, False, 0, []

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        while not self.stop:
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO shop_book (title) VALUES ('new')")
                time.sleep(0.01)
                connection.execute("COMMIT")
                self.written += 1
            except sqlite3.Error as error:
                self.failed.append(str(error))
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            time.sleep(0.001)
        connection.close()


def _migrate_while_writing(project, *args):
    writer = Writer(project.database["NAME"])
    writer.start()
    try:
        time.sleep(0.2)
        return project.manage("migrate", *args, check=False), writer
    finally:
        writer.stop = True
        writer.join()


# Both journal modes; Django's default transactions (deferred) and those of
# projects that ask for IMMEDIATE.
OPTIONS = {
    "rollback journal": "",
    "WAL, IMMEDIATE": (
        'DATABASES["default"]["OPTIONS"] = {"init_command": '
        '"PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}\n'
    ),
}


@pytest.mark.parametrize("options", OPTIONS)
def test_cleanup_succeeds_while_the_other_release_writes(make_project, options):
    project = make_project("sqlite", extra_settings=OPTIONS[options])
    release = Release(project, V1, V2)
    release.make_v2()
    project.manage("migrate", "-v0")
    with sqlite3.connect(project.database["NAME"]) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal" if "WAL" in options else "delete")
    project.manage("promotemigrations", "-v0")
    for _ in range(3):
        result, writer = _migrate_while_writing(project)
        assert result.returncode == 0, result.stderr
        assert "Applying shop." in result.stdout
        assert writer.written > 0 and writer.failed == []
        # ... and back past the cleanup, and forwards again, under writes.
        result, writer = _migrate_while_writing(project, "shop", release.v2)
        assert result.returncode == 0, result.stderr
        assert writer.failed == []


def test_cleanup_gives_up_on_one_line_when_a_writer_never_lets_go(make_project):
    settings = "BLUEGREEN_LOCK_TIMEOUT = 0.5\nBLUEGREEN_LOCK_RETRIES = 1\n"
    project = make_project("sqlite", extra_settings=settings)
    release = Release(project, V1, V2)
    release.make_v2()
    project.manage("migrate", "-v0")
    project.manage("promotemigrations", "-v0")
    holder = sqlite3.connect(project.database["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = project.manage("migrate", check=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_stopped(result, "could not take its locks within 0.5s, 2 time(s)")
    assert "lock not taken within 0.5s (try 1 of 2)" in result.stdout
    # Nothing of the cleanup ran: it applies once the writer has let go.
    assert "Applying shop." in project.manage("migrate").stdout
