"""
How long MariaDB stalls writes while it adds a CHECK constraint (it has no
online form for one: it copies the table, ``ALGORITHM=COPY``, reads going
on, writes waiting), beside a unique index built ``NOCOPY, LOCK=NONE``.

    python benchmarks/mariadb_check_stall.py [--rows 100000]

A table of N rows (id, code, price); a writer thread on its own autocommit
connection makes single-row INSERTs and UPDATEs, 5 ms apart, each timed,
from 0.3 s before each ALTER to 0.3 s after; printed: the ALTER's time, the
form the server accepted, and the longest write. MariaDB on 127.0.0.1:3306,
root, empty password; the database is created and dropped by the script.
"""

from __future__ import annotations

import argparse
import random
import threading
import time

import MySQLdb

DATABASE = "bluegreen_check_stall"
FORMS = (
    ", ALGORITHM=INSTANT",
    ", ALGORITHM=NOCOPY, LOCK=NONE",
    ", ALGORITHM=INPLACE, LOCK=NONE",
    "",
)
CHANGES = (
    (
        "CheckConstraint",
        "ALTER TABLE item ADD CONSTRAINT item_price_gte_0 CHECK (price >= 0)",
    ),
    ("unique=True", "ALTER TABLE item ADD CONSTRAINT item_code_uniq UNIQUE (code)"),
)


def connect(database: str | None = DATABASE):
    kwargs = {"database": database} if database else {}
    return MySQLdb.connect(
        host="127.0.0.1", user="root", password="", autocommit=True, **kwargs
    )


class Writer(threading.Thread):
    def __init__(self, rows: int) -> None:
        super().__init__(daemon=True)
        self.rows = rows
        self.latencies: list[tuple[float, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        cursor = connect().cursor()
        i = 0
        while not self.stopping.is_set():
            i += 1
            start = time.monotonic()
            if i % 2:
                cursor.execute(
                    "INSERT INTO item (code, price) VALUES (%s, 5)", [f"w{i}-{start}"]
                )
            else:
                cursor.execute(
                    "UPDATE item SET price = 7 WHERE id = %s",
                    [random.randint(1, self.rows)],
                )
            self.latencies.append((start, time.monotonic() - start))
            self.stopping.wait(0.005)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    admin = connect(None).cursor()
    admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin.execute(f"CREATE DATABASE {DATABASE}")
    try:
        cursor = connect().cursor()
        cursor.execute("SELECT VERSION()")
        print(f"{cursor.fetchone()[0]}, {rows} rows")
        cursor.execute(
            "CREATE TABLE item (id bigint AUTO_INCREMENT PRIMARY KEY, "
            "code varchar(40) NOT NULL, price integer NOT NULL) ENGINE=InnoDB"
        )
        cursor.execute(
            f"INSERT INTO item (code, price) SELECT concat('code ', seq), 1 + seq % 100 "
            f"FROM seq_1_to_{rows}"
        )
        for change, statement in CHANGES:
            writer = Writer(rows)
            writer.start()
            time.sleep(0.3)
            began = time.monotonic()
            for form in FORMS:
                try:
                    cursor.execute(statement + form)
                    break
                except MySQLdb.OperationalError as error:
                    if error.args[0] not in (1845, 1846):
                        raise
            ended = time.monotonic()
            time.sleep(0.3)
            writer.stopping.set()
            writer.join()
            during = [
                took
                for start, took in writer.latencies
                if start + took >= began and start <= ended + 0.3
            ]
            print(
                f"{change}: ALTER {ended - began:.3f} s as "
                f"{form.strip(', ') or 'written (ALGORITHM=COPY)'}; "
                f"{len(during)} writes, longest {max(during) * 1000:.0f} ms"
            )
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    main()
