"""
Beside django-migration-linter and django-linear-migrations, the real
packages installed in the temporary projects.
"""

import re

import pytest

from .oracles import Release

LINTER = """
INSTALLED_APPS = INSTALLED_APPS + ["django_migration_linter"]
MIGRATION_LINTER_OPTIONS = {"no_cache": True}
"""

LINEAR = """
INSTALLED_APPS = INSTALLED_APPS + ["django_linear_migrations"]
"""

# Every kind of cleanup: drop columns (one a foreign key), drop an M2M
# table, drop a model's table, drop a database default.
V1 = """
class Author(models.Model):
    name = models.CharField(max_length=50)


class Font(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    rating = models.IntegerField(null=True)
    pages = models.IntegerField(default=1)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    font = models.ForeignKey(Font, on_delete=models.PROTECT, null=True)
    fans = models.ManyToManyField(Author, related_name="favourites")
"""

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    stock = models.IntegerField(default=3)
"""

V3 = (
    V2
    + """

class Shelf(models.Model):
    label = models.CharField(max_length=10)
"""
)


def lint(project, *options: str) -> tuple[int, dict[str, list[str]]]:
    """lintmigrations' exit status and, per migration, its verdict and issues."""
    result = project.manage("lintmigrations", *options, check=False)
    verdicts: dict[str, list[str]] = {}
    current = None
    for line in result.stdout.splitlines():
        match = re.match(r"\((\w+), (\w+)\)\.\.\. (.+)$", line)
        if match:
            current = match[2]
            verdicts[current] = [match[3].strip()]
        elif line.startswith("\t") and current:
            verdicts[current].append(line.strip())
    assert verdicts, result.stdout + result.stderr
    return result.returncode, verdicts


def test_linter_ignores_cleanups_and_passes_contracts(make_project, vendor):
    project = make_project(vendor, extra_settings=LINTER)
    release = Release(project, V1, V2)
    release.make_v2()
    (cleanup,) = project.pending_files()
    assert "django_migration_linter.operations.IgnoreMigration()" in (
        cleanup.read_text()
    )
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    # Linted as PR 2's CI would: the database at release N. (Once the cleanup
    # dropped the M2M table, sqlmigrate of any AlterField of it fails on
    # MySQL, stock migrations' included: its introspection needs the table.)
    status, verdicts = lint(project)
    promoted = project.migration_names()[-1]
    assert verdicts[promoted] == ["IGNORE"]
    assert lint(project, "--include-name", promoted)[0] == 0
    project.manage("migrate", "-v0")
    if vendor == "sqlite":
        # The linter's SQLite analyser flags every table rebuild that keeps a
        # NOT NULL column, stock AlterField(null=True) included (README,
        # "Companions"); nothing else may be flagged in the contract.
        assert set(verdicts[release.v2][1:]) <= {
            "NOT NULL constraint on columns",
            "ADDING unique constraint",
        }, verdicts
    else:
        assert status == 0, verdicts
        assert verdicts[release.v2] == ["OK"]


def test_unmarked_cleanup_trips_the_linter(make_project, vendor):
    """Negative control: without the mark the linter fails on the cleanup."""
    project = make_project(
        vendor, extra_settings=LINTER + "BLUEGREEN_MIGRATION_LINTER = False\n"
    )
    release = Release(project, V1, V2)
    release.make_v2()
    assert "IgnoreMigration" not in project.pending_files()[0].read_text()
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    promoted = project.migration_names()[-1]
    result = project.manage("lintmigrations", "--include-name", promoted, check=False)
    assert result.returncode != 0, result.stdout


def test_promotion_marks_a_cleanup_parked_before_the_linter_came(make_project):
    project = make_project("sqlite")
    release = Release(project, V1, V2)
    release.make_v2()
    assert "IgnoreMigration" not in project.pending_files()[0].read_text()
    settings = project.root / "settings.py"
    settings.write_text(settings.read_text() + LINTER)
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    promoted = project.migrations / f"{project.migration_names()[-1]}.py"
    assert "IgnoreMigration()" in promoted.read_text()


def test_linter_mark_without_the_linter_is_refused_and_writes_nothing(make_project):
    project = make_project(
        "sqlite", extra_settings="BLUEGREEN_MIGRATION_LINTER = True\n"
    )
    # The project's folder comes first on sys.path: hide the real package.
    hidden = project.root / "django_migration_linter"
    hidden.mkdir()
    (hidden / "__init__.py").write_text("raise ImportError('not installed')\n")
    release = Release(project, V1, V2)
    before = project.snapshot()
    project.set_models(V2)
    result = project.manage("makemigrations", check=False)
    assert result.returncode != 0
    assert "pip install django-migration-linter" in result.stderr
    assert project.snapshot() == before
    assert project.migration_names()[-1] == release.v1


def max_migration(project) -> str:
    return (project.migrations / "max_migration.txt").read_text()


def linear_errors(project) -> str:
    """django-linear-migrations' own system check messages (dlm.E00N)."""
    result = project.manage("check", check=False)
    return "\n".join(re.findall(r"dlm\.E\d+.*", result.stderr + result.stdout))


def test_max_migration_txt_follows_contract_later_release_and_promotion(
    make_project,
):
    project = make_project("sqlite", extra_settings=LINEAR)
    release = Release(project, V1, V2)
    assert max_migration(project) == "0001_initial\n"
    release.make_v2()
    assert max_migration(project) == f"{release.v2}\n"
    assert linear_errors(project) == ""
    project.manage("migrate", "-v0")
    # Another release lands before the promotion.
    project.set_models(V3)
    project.manage("makemigrations", "-v0")
    later = project.migration_names()[-1]
    assert max_migration(project) == f"{later}\n"
    project.manage("promotemigrations")
    promoted = project.migration_names()[-1]
    assert promoted.startswith("0004_cleanup_")
    assert max_migration(project) == f"{promoted}\n"
    assert linear_errors(project) == ""
    project.manage("migrate", "-v0")
    # Negative control: the stale file is what django-linear-migrations
    # rejects, so the check above could fail.
    (project.migrations / "max_migration.txt").write_text(f"{later}\n")
    assert "dlm.E004" in linear_errors(project)


def test_dry_run_promotion_leaves_max_migration_txt_alone(make_project):
    project = make_project("sqlite", extra_settings=LINEAR)
    release = Release(project, V1, V2)
    release.make_v2()
    project.manage("migrate", "-v0")
    assert "Promotions for" in project.manage("promotemigrations", "--dry-run").stdout
    assert max_migration(project) == f"{release.v2}\n"


def test_another_apps_makemigrations_listed_first_is_reported(make_project):
    project = make_project(
        "sqlite",
        extra_settings='INSTALLED_APPS = ["django_linear_migrations"] + INSTALLED_APPS\n',
    )
    result = project.manage("check", check=False)
    assert "bluegreen.W002" in result.stderr
    assert (
        "'manage.py makemigrations' runs the command of 'django_linear_migrations'"
        in result.stderr
    )
    listed_after = make_project("sqlite", extra_settings=LINEAR)
    assert "bluegreen.W002" not in listed_after.manage("check", check=False).stderr


def test_merge_migration_becomes_max_migration(make_project):
    project = make_project("sqlite", extra_settings=LINEAR)
    Release(project, V1, V1)
    (project.migrations / "0002_other_branch.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n"
        "    operations = []\n"
    )
    (project.migrations / "0002_another_branch.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n"
        "    operations = []\n"
    )
    # django-linear-migrations says to merge with --skip-checks.
    project.manage("makemigrations", "--merge", "--noinput", "--skip-checks", "-v0")
    merge = project.migration_names()[-1]
    assert merge.startswith("0003_merge_")
    assert max_migration(project) == f"{merge}\n"
    assert linear_errors(project) == ""


# A project's own makemigrations, as real projects ship: it ignores changes
# the database never sees.
IGNORING_MAKEMIGRATIONS = """\
from django.core.management.commands import makemigrations
from django.db import models

IGNORED = ("verbose_name", "help_text")


class Command(makemigrations.Command):
    def handle(self, *args, **options):
        original = models.Field.deconstruct

        def deconstruct(field):
            name, path, args, kwargs = original(field)
            for key in IGNORED:
                kwargs.pop(key, None)
            return name, path, args, kwargs

        models.Field.deconstruct = deconstruct
        try:
            return super().handle(*args, **options)
        finally:
            models.Field.deconstruct = original
"""

SAYING_MIGRATE = """\
from django.core.management.commands import migrate


class Command(migrate.Command):
    def handle(self, *args, **options):
        self.stdout.write("the project's migrate ran")
        return super().handle(*args, **options)
"""

UNRELATED = """\
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, **options):
        self.stdout.write("the project's {name} ran")
"""

BUILT_ON_OURS = """\
from bluegreen_autodetector.management.commands.{name} import Command as Ours


class Command(Ours):
    pass
"""

BOOK = """
class Book(models.Model):
    title = models.CharField(max_length=50)
    rating = models.IntegerField(null=True)
"""

BOOK_DOCUMENTED = """
class Book(models.Model):
    title = models.CharField(max_length=50, help_text="As printed", verbose_name="name")
    rating = models.IntegerField(null=True, help_text="Stars")
"""

BOOK_DOCUMENTED_WITHOUT_RATING = """
class Book(models.Model):
    title = models.CharField(max_length=50, help_text="As printed", verbose_name="name")
"""


def with_command(project, name: str, source: str) -> None:
    commands = project.root / project.app_label / "management" / "commands"
    commands.mkdir(parents=True, exist_ok=True)
    for package in (commands.parent, commands):
        (package / "__init__.py").touch()
    (commands / f"{name}.py").write_text(source.format(name=name))


def test_a_shadowed_makemigrations_runs_inside_ours(make_project):
    project = make_project("sqlite")
    with_command(project, "makemigrations", IGNORING_MAKEMIGRATIONS)
    Release(project, BOOK, BOOK)
    project.manage("migrate", "-v0")
    checked = project.manage("check", check=False)
    assert "bluegreen.W00" not in checked.stderr, checked.stderr
    # The project's command is in effect: documentation is not a change.
    project.set_models(BOOK_DOCUMENTED)
    result = project.manage("makemigrations", "--check", "--dry-run", check=False)
    assert result.returncode == 0 and "No changes detected" in result.stdout, (
        result.stdout + result.stderr
    )
    # And ours: a removal is split into a contract and a pending cleanup.
    project.set_models(BOOK_DOCUMENTED_WITHOUT_RATING)
    project.manage("makemigrations", "-v0")
    assert len(project.pending_files()) == 1
    assert "help_text" not in project.snapshot()[f"{project.migration_names()[-1]}.py"]


def test_a_shadowed_migrate_runs_inside_ours(make_project):
    project = make_project("sqlite")
    with_command(project, "migrate", SAYING_MIGRATE)
    release = Release(project, BOOK, BOOK_DOCUMENTED_WITHOUT_RATING)
    release.make_v2()
    output = project.manage("migrate").stdout
    assert "the project's migrate ran" in output
    # Ours ran too: it reports the cleanup waiting for promotion.
    assert "Cleanups pending in shop" in output
    assert "bluegreen.W00" not in project.manage("check", check=False).stderr


@pytest.mark.parametrize("name", ["makemigrations", "migrate"])
def test_a_shadowed_command_that_cannot_be_combined_is_reported(make_project, name):
    project = make_project("sqlite")
    with_command(project, name, UNRELATED)
    result = project.manage("check", check=False)
    assert "bluegreen.W003" in result.stderr, result.stderr
    assert (
        f"'manage.py {name}' of 'shop' never runs: 'bluegreen_autodetector''s, "
        f"listed above it in INSTALLED_APPS, replaces it" in result.stderr
    )


@pytest.mark.parametrize("name", ["makemigrations", "migrate"])
def test_a_command_listed_first_and_built_on_ours_is_not_reported(make_project, name):
    project = make_project(
        "sqlite",
        extra_settings='INSTALLED_APPS = ["shop", "bluegreen_autodetector"]\n',
    )
    with_command(project, name, BUILT_ON_OURS)
    result = project.manage("check", check=False)
    assert "bluegreen.W00" not in result.stderr, result.stderr
