"""
MariaDB: a rename's new column of a ForeignKey or OneToOneField is added
with its foreign key in one ``ADD COLUMN`` (Django's MySQL schema editor
puts it inline). The server copies the table for that, blocking writes
(3.9 s at 1,000,000 rows in benchmarks/write_stall.py), unless
``foreign_key_checks`` is off; the column is all NULL, so there is nothing
to check: ``migrate`` adds it with the checks off, in place, and the
constraint holds afterwards.
"""

import pytest

from .oracles import Release, failures
from .test_rename_field import KINDS, make_v2, models_source
from .test_rename_resume import COLUMNS, connect, query


@pytest.mark.parametrize("kind", ["foreign_key", "one_to_one"])
def test_the_new_foreign_key_column_is_added_in_place(make_project, kind):
    old_field, new_field, *_ = KINDS[kind]
    new = COLUMNS[kind][1]
    project = make_project("mysql")
    release = Release(project, models_source(old_field), models_source(new_field))
    project.set_models(release.v2_models)
    make_v2(project)
    contract = project.migration_names()[-1]
    lines = project.manage("sqlmigrate", "shop", contract).stdout.splitlines()
    add = next(i for i, line in enumerate(lines) if f"ADD COLUMN `{new}`" in line)
    # (sqlmigrate shows the forms tried in a comment before a statement.)
    before = [line for line in lines[:add] if line.strip() and line[:2] != "--"]
    assert before[-1].startswith("SET SESSION foreign_key_checks = 0"), "\n".join(lines)
    after = [line for line in lines[add + 1 :] if line.strip() and line[:2] != "--"]
    assert after[0].startswith("SET SESSION foreign_key_checks = 1"), lines

    project.manage("migrate", "-v0")
    connection = connect(project)
    try:
        query(connection, "INSERT INTO shop_author (name) VALUES ('a')")
        with pytest.raises(Exception, match="1452"):
            query(
                connection,
                f"INSERT INTO shop_book (pages, {new}) VALUES (1, 999999)",
            )
        names = query(
            connection,
            "SELECT CONSTRAINT_NAME FROM information_schema.KEY_COLUMN_USAGE "
            f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'shop_book' "
            f"AND COLUMN_NAME = '{new}' AND REFERENCED_TABLE_NAME = 'shop_author'",
        )
        assert names, "the new column has no foreign key"
    finally:
        connection.close()
    release.v2 = contract
    problems = failures(release.crud())
    assert not problems, "\n".join(problems)
