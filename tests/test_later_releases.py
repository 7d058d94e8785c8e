"""
Releases that land between a contract and the promotion of its cleanup.

On SQLite, Django rebuilds a whole table from its state on many ALTERs: the
package's migrate keeps the lingering columns through it, a database that
stock migrate rebuilt has lost them before their cleanup, and a cleanup must
never rebuild a table itself, or it would drop columns added since.
"""

from .oracles import Release, assert_same_schema, stock_migrate

V1 = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
    subtitle = models.CharField(max_length=100, null=True)
"""

V2 = """
class Book(models.Model):
    title = models.CharField(max_length=200)
"""

# v3 alters the table again: on SQLite a new unique constraint rebuilds
# shop_book from a state that no longer knows the lingering columns (a type
# change no longer does: it goes through a second column, retypes.py).
V3_REBUILDS = """
class Book(models.Model):
    title = models.CharField(max_length=200, unique=True)
"""

# v3 adds a column between the contract and the promotion.
V3_ADDS = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, null=True)
"""


def _contract(make_project, vendor) -> Release:
    release = Release(make_project(vendor), V1, V2)
    release.make_v2()
    release.project.manage("migrate", "-v0")
    return release


def test_contract_never_rebuilds_a_table_after_its_state_only_removal(
    make_project, vendor
):
    # Removing one field and altering another of the same table in one
    # change: the alteration (a rebuild on SQLite) must run before the
    # state forgets the removed column, or the old release loses it at once.
    release = Release(
        make_project(vendor),
        V1,
        V2.replace("max_length=200", "max_length=250"),
    )
    release.make_v2()
    release.project.manage("migrate", "-v0")
    columns = release.project.probe("schema")["shop_book"]["columns"]
    assert {"rating", "subtitle"} <= set(columns)
    assert not [r for r in release.crud() if not r["ok"]]


def test_cleanup_succeeds_when_a_later_release_already_dropped_the_column(
    make_project, vendor
):
    release = _contract(make_project, vendor)
    project = release.project
    project.set_models(V3_REBUILDS)
    project.manage("makemigrations", "-v0")
    if vendor == "sqlite":
        # Stock Django's migrate rebuilds shop_book from a state without
        # the lingering columns (the package's keeps them: see
        # test_sqlite_rebuilds.py), as on a database migrated before.
        stock_migrate(project)
        columns = project.probe("schema")["shop_book"]["columns"]
        assert not {"rating", "subtitle"} & set(columns)
    else:
        project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    project.manage("migrate", "-v0")
    assert set(project.probe("schema")["shop_book"]["columns"]) == {"id", "title"}
    project.manage("makemigrations", "--check", "--dry-run")


def test_column_added_before_promotion_survives_the_cleanup_with_its_data(
    make_project, vendor
):
    release = _contract(make_project, vendor)
    project = release.project
    project.set_models(V3_ADDS)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    project.manage(
        "shell",
        "-c",
        ("from shop.models import Book; Book.objects.create(title='t', isbn='978')"),
    )
    project.manage("promotemigrations")
    names = project.migration_names()
    assert names[-1].startswith("0004_cleanup"), names
    project.manage("migrate", "-v0")
    assert project.probe("rows")["shop_book"] == [
        {"id": "1", "title": "t", "isbn": "978"}
    ]


def test_every_migration_replays_on_a_fresh_database_before_and_after_promotion(
    make_project, vendor
):
    release = _contract(make_project, vendor)
    project = release.project
    project.new_database()
    project.manage("migrate", "-v0")
    before = project.probe("schema")
    project.manage("promotemigrations")
    project.new_database()
    project.manage("migrate", "-v0")
    # And the test runner's way: create a test database, migrate, destroy it.
    project.manage("test", "shop", "--noinput")
    twin = make_project(vendor, installed=False)
    twin.set_models(V1)
    twin.manage("makemigrations", "-v0")
    twin.set_models(V2)
    twin.manage("makemigrations", "-v0")
    twin.manage("migrate", "-v0")
    assert_same_schema(project.probe("schema"), twin.probe("schema"), "replayed")
    assert {"rating", "subtitle"} <= set(before["shop_book"]["columns"])


# v3 adds back a field under a name whose column still lingers.
V3_READDS = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.CharField(max_length=5, null=True)
"""


def test_readding_a_lingering_name_waits_for_the_promotion(make_project, vendor):
    release = _contract(make_project, vendor)
    project = release.project
    before = project.snapshot()
    project.set_models(V3_READDS)
    refused = project.manage("makemigrations", check=False)
    assert refused.returncode != 0
    assert "column rating of shop_book, which is still in the database" in (
        refused.stderr
    )
    assert "pending/cleanup_" in refused.stderr
    assert project.snapshot() == before
    # Negative control: stock Django's migration of it fails on the database.
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    assert project.manage("migrate", check=False).returncode != 0
    (project.migrations / f"{project.migration_names()[-1]}.py").unlink()
    # After the promotion the cleanup runs first, and the field can come back.
    project.manage("promotemigrations")
    project.manage("makemigrations")
    project.manage("migrate", "-v0")
    columns = project.probe("schema")["shop_book"]["columns"]
    assert set(columns) == {"id", "title", "rating"}
    assert columns["rating"]["null"]


def test_recreating_a_model_whose_table_lingers_is_refused(make_project):
    release = Release(make_project("sqlite"), V2 + LABEL, V2)
    release.make_v2()
    project = release.project
    project.set_models(V2 + LABEL.replace("name", "text"))
    refused = project.manage("makemigrations", check=False)
    assert refused.returncode != 0
    assert "table shop_label, which is still in the database" in refused.stderr
    assert len(project.migration_names()) == 2


LABEL = """

class Label(models.Model):
    name = models.CharField(max_length=20)
"""
