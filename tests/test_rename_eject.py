"""
``ejectbluegreen`` after a rename's contract and cleanup: the contract's
synchronisation (``RunSyncSQL``) and backfill (``CopyColumn``) become stock
``RunSQL`` doing the same thing, so that with the package uninstalled a
fresh database migrates through the contract (its rows copied, the two
columns kept equal by the triggers both ways), the cleanup, and back.
"""

import pytest

from .oracles import Release, assert_same_schema
from .test_adoption_eject import _uninstall
from .test_rename_field import KINDS, make_v2, models_source
from .test_rename_resume import COLUMNS, connect, query

# kind: (a value of the old column, another, a third)
VALUES = {
    "plain": ("'one'", "'two'", "'three'"),
    "unique": ("'one'", "'two'", "'three'"),
    "db_column": ("'one'", "'two'", "'three'"),
    "foreign_key": ("1", "2", "3"),
}


def value_of(connection, column, pk):
    return query(connection, f"SELECT {column} FROM shop_book WHERE id = {pk}")[0][0]


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_ejected_rename_does_the_same_without_the_package(make_project, vendor, kind):
    old_field, new_field, *_ = KINDS[kind]
    old, new = COLUMNS[kind]
    first, second, third = VALUES[kind]
    project = make_project(vendor)
    release = Release(project, models_source(old_field), models_source(new_field))
    project.set_models(release.v2_models)
    make_v2(project)
    contract = project.migration_names()[-1]
    project.manage("migrate", "-v0")
    release.promote_and_migrate()
    deployed = project.probe("schema")
    deployed_database = project.database
    settings = (project.root / "settings.py").read_text()

    # Control: without the rewrite, the history needs the package.
    _uninstall(project, settings)
    project.new_database()
    result = project.manage("migrate", "-v0", check=False)
    assert result.returncode != 0 and "bluegreen_autodetector" in result.stderr

    (project.root / "settings.py").write_text(settings)
    project.database = deployed_database  # where the migrations are applied
    output = project.manage("ejectbluegreen").stdout
    assert "The migrations import only Django now." in output, output
    for path in project.migrations.glob("*.py"):
        assert "bluegreen_autodetector" not in path.read_text(), path.name
    assert "RunSQL" in (project.migrations / f"{contract}.py").read_text()

    # A fresh database, the package gone: v1 with a row, then the contract.
    _uninstall(project, settings)
    project.new_database()
    project.manage("migrate", "shop", release.v1, "-v0")
    connection = connect(project)
    try:
        for name in ("a", "b", "c"):
            query(connection, f"INSERT INTO shop_author (name) VALUES ('{name}')")
        query(connection, f"INSERT INTO shop_book (pages, {old}) VALUES (1, {first})")
        (before,) = query(connection, "SELECT MAX(id) FROM shop_book")[0]
    finally:
        connection.close()
    project.manage("migrate", "shop", contract, "-v0")
    connection = connect(project)
    try:
        # The backfill copied the row; the triggers keep both ways.
        assert value_of(connection, new, before) == value_of(connection, old, before)
        query(connection, f"UPDATE shop_book SET {new} = {second} WHERE id = {before}")
        assert value_of(connection, old, before) == value_of(connection, new, before)
        query(connection, f"INSERT INTO shop_book (pages, {old}) VALUES (1, {third})")
        (after,) = query(connection, "SELECT MAX(id) FROM shop_book")[0]
        assert value_of(connection, new, after) == value_of(connection, old, after)
    finally:
        connection.close()
    project.manage("migrate", "-v0")
    assert "No changes detected" in project.manage("makemigrations", "--check").stdout
    (project.root / "settings.py").write_text(settings)
    deployed_here = project.probe("schema")
    assert_same_schema(deployed_here, deployed, "fresh after eject")

    _uninstall(project, settings)
    project.manage("migrate", "shop", release.v1, "-v0")
    (project.root / "settings.py").write_text(settings)
    # Backwards the unique constraint comes back under Django's name for a
    # later one, not the CREATE TABLE's (as without eject: compared unnamed).
    assert_same_schema(
        project.probe("schema"),
        release.v1_schema,
        "rolled back after eject",
        names=False,
    )
