"""
The release model: a cleanup ships one release after its contract.

Contract and cleanup name each other in class attributes Django ignores; a
contract whose cleanup is lost is an error; ``promotemigrations`` promotes a
cleanup only once its contract has shipped; ``migrate`` never applies both
in one run on a database that was serving the release before.
"""

import re

from .model_sources import BOOK, BOOK_WITH_RATING
from .oracles import Release, failures

V1, V2 = BOOK_WITH_RATING, BOOK

# A NOT NULL addition whose default lives in Python: the contract keeps a
# database default, the cleanup drops it.
V2_ADDS = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
    stock = models.IntegerField(default=7)
"""

STOCK_SETTINGS = """\
from settings import *  # noqa

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "bluegreen_autodetector"]
"""


def marker(text: str, name: str) -> str | None:
    """The value of ``name = "..."`` right after the Migration class line."""
    match = re.search(
        rf'^class Migration\(migrations\.Migration\):\n\n    {name} = "([^"]+)"\n',
        text,
        re.MULTILINE,
    )
    return match[1] if match else None


def applied(project) -> list[str]:
    listed = project.manage("showmigrations", project.app_label, "--list").stdout
    return re.findall(r"\[X\] (\S+)", listed)


def test_contract_and_cleanup_name_each_other_and_promotion_keeps_it(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    project = release.project
    contract = project.snapshot()[f"{release.v2}.py"]
    (cleanup,) = project.pending_files()
    assert marker(contract, "bluegreen_cleanup") == cleanup.stem
    assert marker(cleanup.read_text(), "bluegreen_contract") == release.v2
    project.run("-m", "black", "--check", str(project.migrations))
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    promoted = project.snapshot()[f"{project.migration_names()[-1]}.py"]
    assert marker(promoted, "bluegreen_contract") == release.v2
    project.run("-m", "black", "--check", str(project.migrations))
    assert "bluegreen" not in project.manage("check").stderr

    # --update renames the contract: both markers follow the new name.
    project.set_models(V2 + "    isbn = models.CharField(max_length=13, null=True)\n")
    project.manage("makemigrations", "-v0", "--name", "add_isbn")
    project.set_models(
        "class Book(models.Model):\n"
        "    isbn = models.CharField(max_length=13, null=True)\n"
    )
    project.manage("makemigrations", "--update")
    updated = project.migration_names()[-1]
    assert not updated.endswith("add_isbn")
    (cleanup,) = project.pending_files()
    assert cleanup.stem == f"cleanup_{updated}"
    assert marker(project.snapshot()[f"{updated}.py"], "bluegreen_cleanup") == (
        cleanup.stem
    )
    assert marker(cleanup.read_text(), "bluegreen_contract") == updated
    assert "bluegreen" not in project.manage("check").stderr


def test_files_written_before_the_markers_keep_working(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    project = release.project
    for path in [project.migrations / f"{release.v2}.py", *project.pending_files()]:
        text = path.read_text()
        path.write_text(re.sub(r"\n    bluegreen_\w+ = \"[^\"]+\"\n", "", text))
    assert "bluegreen_c" not in "".join(project.snapshot().values())
    project.manage("migrate", "-v0")
    assert "Promotions for 'shop'" in project.manage("promotemigrations").stdout
    # A cleanup promoted before the markers: known by its name, and its
    # contract by its dependencies.
    promoted = project.migrations / f"{project.migration_names()[-1]}.py"
    promoted.write_text(
        re.sub(r"\n    bluegreen_\w+ = \"[^\"]+\"\n", "", promoted.read_text())
    )
    project.manage("migrate", "-v0")
    project.new_database()
    project.manage("migrate", "shop", "0001", "-v0")
    refused = project.manage("migrate", check=False)
    assert refused.returncode != 0
    assert f"{promoted.stem} is the cleanup of shop.{release.v2}" in refused.stderr


def test_lost_pending_file_is_an_error_and_makemigrations_refuses(make_project):
    release = Release(make_project("sqlite"), V1, V2_ADDS)
    release.make_v2()
    project = release.project
    (cleanup,) = project.pending_files()
    contract = project.migrations / f"{release.v2}.py"
    cleanup.unlink()  # a merge lost it
    before = project.snapshot()
    checked = project.manage("check", check=False)
    assert checked.returncode != 0
    assert "bluegreen.E002" in checked.stderr
    assert f"shop/migrations/{release.v2}.py" in checked.stderr
    assert f"pending/{cleanup.name}" in checked.stderr
    assert "Restore" in checked.stderr
    # makemigrations refuses, with the checks and without them, and with
    # the check silenced (it then looks itself).
    silenced = 'SILENCED_SYSTEM_CHECKS = ["bluegreen.E002"]\n'
    for options, settings in (((), ""), (("--skip-checks",), ""), ((), silenced)):
        settings_file = project.root / "settings.py"
        settings_file.write_text(settings_file.read_text() + settings)
        refused = project.manage("makemigrations", *options, check=False)
        assert refused.returncode != 0
        assert f"pending/{cleanup.name}" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert project.snapshot() == before
    # Negative control: without the marker (as before it existed), the next
    # makemigrations writes the change again: it drops the kept database
    # default in the release that still needs it.
    contract.write_text(
        re.sub(r"\n    bluegreen_cleanup = \"[^\"]+\"\n", "", contract.read_text())
    )
    written = project.manage("makemigrations", "--no-bluegreen")
    assert "Alter field stock on book" in written.stdout, written.stdout


def test_promotion_waits_until_its_contract_has_shipped(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    project = release.project
    (cleanup,) = project.pending_files()
    waits = f"waits: contract {release.v2} is not applied on database 'default'"

    stayed = project.manage("promotemigrations").stdout
    assert waits in stayed and "No cleanup is ready to promote." in stayed
    assert project.pending_files() == [cleanup]
    listed = project.manage("promotemigrations", "--list").stdout
    assert waits in listed and cleanup.name in listed
    # Waiting cleanups belong to the next release: --check passes on them.
    assert waits in project.manage("promotemigrations", "--check").stdout

    # --through: the contracts up to that migration have shipped.
    before = project.snapshot()
    early = project.manage("promotemigrations", "shop", "--through", "0001").stdout
    assert f"waits: contract {release.v2} comes after 0001_initial" in early
    through = project.manage(
        "promotemigrations", "shop", "--through", release.v2[:4], "--dry-run"
    ).stdout
    assert "0003_cleanup_remove_book_rating" in through
    assert project.snapshot() == before
    no_label = project.manage("promotemigrations", "--through", "0002", check=False)
    assert no_label.returncode != 0 and "exactly one app label" in no_label.stderr

    project.manage("migrate", "-v0")  # the contract ships
    listed = project.manage("promotemigrations", "--list").stdout
    assert "ready: promotes as 0003_cleanup_remove_book_rating" in listed
    assert project.manage("promotemigrations", "--check", check=False).returncode == 1
    assert "Promotions for 'shop'" in project.manage("promotemigrations").stdout
    assert project.pending_files() == []
    assert project.manage("promotemigrations", "--check").returncode == 0


def test_cleanup_never_runs_in_the_same_migrate_as_its_contract(make_project, vendor):
    release = Release(make_project(vendor), V1, V2)
    project = release.project
    release.make_v2()
    # Promoted too early: contract and cleanup now wait in one plan.
    project.manage("promotemigrations", "shop", "--through", release.v2)
    cleanup = project.migration_names()[-1]
    schema = project.probe("schema")
    refused = project.manage("migrate", check=False)
    assert refused.returncode != 0
    assert (
        f"shop.{cleanup} is the cleanup of shop.{release.v2}" in refused.stderr
    ), refused.stderr
    assert f"'python manage.py migrate shop {release.v2}'" in refused.stderr
    assert project.probe("schema") == schema  # no DDL ran
    assert applied(project) == [release.v1]  # nothing recorded
    # Migrating to the contract, then in the next deploy to the cleanup.
    project.manage("migrate", "shop", release.v2, "-v0")
    assert not failures(release.crud())
    project.manage("migrate", "-v0")
    assert set(project.probe("schema")["shop_book"]["columns"]) == {"id", "title"}

    # A fresh database (the test runner's) replays everything at once.
    project.new_database()
    project.manage("migrate", "-v0")
    assert applied(project) == [release.v1, release.v2, cleanup]

    # Negative control: stock Django's migrate runs both, and the release
    # still serving (v1) breaks.
    (project.root / "stock_settings.py").write_text(STOCK_SETTINGS)
    project.new_database()
    project.manage("migrate", "shop", release.v1, "-v0")
    project.manage("migrate", "--settings", "stock_settings", "-v0")
    broken = failures(release.crud())
    assert any(problem.startswith("v1 ") for problem in broken), broken
