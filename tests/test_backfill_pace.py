"""
A backfill pauses after each batch, half as long as the batch took
(``runtime/backfill.py``, ``PAUSE_RATIO``): batches written back to back
outran PostgreSQL's background writers, and the old release's writes, its
INSERTs too, waited for that I/O (benchmarks/write_stall.py, a retype's
copy at 1,000,000 rows: 134 ms, 31 ms with the pause).

A rename's contract copies a table of ``ROWS`` rows while a trigger of the
test logs the transaction and the clock of every row the backfill writes;
the batches are the transactions. The first ``SLOW`` batches sleep
``SLEEP`` seconds at their first row, so that they take longer than the
time between two batches without a pause (commit, the next batch's bounds:
about 15 ms); after each of them, the next batch begins at least half as
long after the last row as the batch took until then. PostgreSQL only: it
has the transaction's id and the wall clock (``clock_timestamp()``) in a
trigger; on MariaDB the batches cannot be told apart there, and SQLite's
clock is the statement's.
"""

from .oracles import Release
from .test_rename_field import make_v2, models_source
from .test_rename_resume import connect, query

ROWS = 20_000
PAUSE_RATIO = 0.5  # runtime/backfill.py
SLOW, SLEEP = 3, 0.1
LOG_SQL = [
    "CREATE TABLE test_pace (tx bigint, at timestamptz)",
    "CREATE INDEX test_pace_tx ON test_pace (tx)",
    "CREATE FUNCTION test_pace() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF NOT EXISTS (SELECT 1 FROM test_pace WHERE tx = txid_current()) "
    f"AND (SELECT count(DISTINCT tx) FROM test_pace) < {SLOW} THEN "
    "INSERT INTO test_pace VALUES (txid_current(), clock_timestamp()); "
    f"PERFORM pg_sleep({SLEEP}); END IF; "
    "INSERT INTO test_pace VALUES (txid_current(), clock_timestamp()); "
    "RETURN NEW; END $$",
    "CREATE TRIGGER test_pace AFTER UPDATE ON shop_book FOR EACH ROW "
    "EXECUTE FUNCTION test_pace()",
]


def test_the_backfill_pauses_between_its_batches(make_project):
    project = make_project("postgresql")
    release = Release(
        project,
        models_source("title = models.CharField(max_length=100)"),
        models_source("headline = models.CharField(max_length=100)"),
    )
    project.manage(
        "shell",
        "-c",
        "from shop.models import Book\n"
        f"Book.objects.bulk_create(Book(title=f't{{n}}') for n in range({ROWS}))",
    )
    connection = connect(project)
    try:
        for sql in LOG_SQL:
            query(connection, sql)
        project.set_models(release.v2_models)
        make_v2(project)
        project.manage("migrate")
        batches = query(
            connection,
            "SELECT count(*), extract(epoch FROM min(at)), extract(epoch FROM "
            "max(at)) FROM test_pace GROUP BY tx ORDER BY min(at)",
        )
    finally:
        connection.close()
    assert sum(rows for rows, _, _ in batches) == ROWS + SLOW
    assert len(batches) > SLOW, batches
    for (_, start, end), (_, after, _) in zip(
        batches[:SLOW], batches[1 : SLOW + 1], strict=True
    ):
        took, gap = float(end - start), float(after - end)
        assert took >= SLEEP
        assert gap >= PAUSE_RATIO * took, (
            f"a batch wrote its rows for {1000 * took:.1f} ms and the next "
            f"began {1000 * gap:.1f} ms later: {batches}"
        )
