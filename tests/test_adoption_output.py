"""
What the commands say and exit with, as Django's own commands would: every
split operation named with what it means for each release, both files at
``--dry-run -v 3``, verbosity 0 silent, a bad app label exiting 2, files
readable by every user (0644 under the usual umask), no empty pending folder
left behind, an unsupported vendor named as such.
"""

from __future__ import annotations

import stat

from .oracles import Release

V1 = """
class Tag(models.Model):
    name = models.CharField(max_length=20)

class Item(models.Model):
    title = models.CharField(max_length=200)
    brand = models.CharField(max_length=50)
    note = models.TextField(null=True)
    tags = models.ManyToManyField(Tag)
    size = models.IntegerField(null=True)
"""

V2 = """
class Item(models.Model):
    title = models.CharField(max_length=200)
    size = models.IntegerField(null=True)
"""

V1_NULLABLE = """
class Item(models.Model):
    title = models.CharField(max_length=200)
    size = models.IntegerField(null=True)
"""

V2_NOT_NULL = """
class Item(models.Model):
    title = models.CharField(max_length=200)
    size = models.IntegerField()
"""


def test_every_removal_is_listed_with_what_each_release_gets(make_project):
    output = Release(make_project("sqlite"), V1, V2).make_v2()
    for line in (
        "- Remove field brand from item (state only; PR 2 drops the column)",
        "- Remove field note from item (state only; PR 2 drops the column)",
        "- Remove field tags from item (state only; PR 2 drops its table shop_item_tags)",
        "- Delete model Tag (state only; PR 2 drops the table)",
        "~ Alter field brand on item (so both releases work with the column; PR 2 drops it)",
    ):
        assert f"    {line}\n" in output, output
    # Django's bare description of the wrapper says nothing of what it holds.
    assert "Custom state/database change combination" not in output


def test_empty_contract_says_why_in_the_file_and_the_output(make_project):
    release = Release(make_project("sqlite"), V1_NULLABLE, V2_NOT_NULL)
    output = release.make_v2("--noinput")
    assert "nothing changes now" in output
    contract = (release.project.migrations / f"{release.v2}.py").read_text()
    assert "# Empty on purpose" in contract
    assert contract.index("# Empty on purpose") < contract.index("operations = [")
    # Still black-clean, and a second run finds nothing to do.
    release.project.run("-m", "black", "--check", "-q", str(release.project.migrations))
    assert "No changes detected" in release.project.manage("makemigrations").stdout


def test_dry_run_at_verbosity_3_prints_both_files(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.project.set_models(V2)
    output = release.project.manage("makemigrations", "--dry-run", "-v", "3").stdout
    assert "Full migrations file '0002_" in output
    assert "Full migrations file 'shop/migrations/pending/cleanup_0002_" in output
    assert "bluegreen_autodetector.operations.RunCleanupSQL(" in output
    assert not release.project.pending_files()


def test_written_files_are_world_readable_like_djangos(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    project = release.project
    written = [project.migrations / f"{release.v2}.py", *project.pending_files()]
    stock = stat.S_IMODE((project.migrations / f"{release.v1}.py").stat().st_mode)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == stock == 0o644, path
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    promoted = project.migrations / f"{project.migration_names()[-1]}.py"
    assert stat.S_IMODE(promoted.stat().st_mode) == 0o644


def test_promotion_removes_the_emptied_pending_folder(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    release.project.manage("migrate", "-v0")
    release.project.manage("promotemigrations")
    assert not release.project.pending.exists()


def test_promotemigrations_at_verbosity_0_prints_nothing(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2()
    project = release.project
    project.manage("migrate", "-v0")
    for options in (["--dry-run"], ["--check"], []):
        result = project.manage("promotemigrations", "-v", "0", *options, check=False)
        assert (result.stdout, result.stderr) == ("", ""), options
    assert result.returncode == 0 and project.migration_names()[-1].startswith("0003_")


def test_makemigrations_at_verbosity_0_splits_and_prints_nothing(
    make_project, tmp_path
):
    release = Release(make_project("sqlite"), V1, V2)
    release.project.set_models(V2)
    notes = tmp_path / "notes"
    result = release.project.manage(
        "makemigrations", "-v", "0", "--pr-notes", str(notes)
    )
    assert (result.stdout, result.stderr) == ("", "")
    assert release.project.pending_files() and len(list(notes.iterdir())) == 2


def test_unknown_app_label_is_said_as_django_says_it_and_exits_2(make_project):
    project = make_project("sqlite")
    project.set_models(V1)
    result = project.manage("promotemigrations", "nosuchapp", check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "No installed app with label 'nosuchapp'."
    stock = project.manage("makemigrations", "nosuchapp", check=False)
    assert stock.returncode == 2
    assert stock.stderr.splitlines()[0] == result.stderr.splitlines()[0]


def test_unsupported_vendor_is_named_not_asked_for_a_capture_database(make_project):
    project = make_project(
        "sqlite", extra_settings='BLUEGREEN_VENDORS = ["sqlite", "oracle"]\n'
    )
    project.set_models(V1)
    result = project.manage("makemigrations", check=False)
    assert result.returncode == 1
    assert "'oracle', a database vendor bluegreen_autodetector does not support" in (
        result.stderr
    )
    assert "BLUEGREEN_CAPTURE_DATABASES" not in result.stderr
    assert not project.migration_names()
