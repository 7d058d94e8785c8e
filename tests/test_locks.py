"""migrate takes its locks with a short timeout and retries (PostgreSQL, MariaDB)."""

import threading
import time

import pytest

from .model_sources import BOOK, BOOK_WITH_RATING
from .oracles import Release
from .project import SERVERS, assert_stopped

V1, V2 = BOOK_WITH_RATING, BOOK

SETTINGS = "BLUEGREEN_LOCK_TIMEOUT = 0.5\nBLUEGREEN_LOCK_RETRIES = {retries}\n"


def _hold_table(vendor, database, seconds, ready):
    """A long-running reader: a transaction that has read the table."""
    if vendor == "postgresql":
        import psycopg

        connection = psycopg.connect(
            host=SERVERS[vendor]["HOST"], user="postgres", dbname=database["NAME"]
        )
        connection.execute("SELECT * FROM shop_book")
    else:
        import MySQLdb

        connection = MySQLdb.connect(
            host=SERVERS[vendor]["HOST"], user="root", database=database["NAME"]
        )
        connection.autocommit(False)
        connection.cursor().execute("SELECT * FROM shop_book")
    ready.set()
    time.sleep(seconds)
    connection.rollback()
    connection.close()


def _contract_with_reader(make_project, vendor, retries, hold):
    project = make_project(vendor, extra_settings=SETTINGS.format(retries=retries))
    release = Release(project, V1, V2)
    release.make_v2()
    ready = threading.Event()
    reader = threading.Thread(
        target=_hold_table, args=(vendor, project.database, hold, ready)
    )
    reader.start()
    ready.wait(10)
    try:
        return project.manage("migrate", check=False)
    finally:
        reader.join()


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_contract_retries_while_a_long_reader_holds_the_table(make_project, vendor):
    result = _contract_with_reader(make_project, vendor, retries=6, hold=5)
    assert result.returncode == 0, result.stderr
    assert "lock not taken within 0.5s" in result.stdout
    assert "Applying shop.0002" in result.stdout


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_contract_gives_up_cleanly_when_retries_run_out(make_project, vendor):
    result = _contract_with_reader(make_project, vendor, retries=1, hold=6)
    assert_stopped(result, "could not take its locks within 0.5s, 2 time(s)")
    assert "Nothing of it was applied." in result.stderr
