"""
A model created or deleted with options that name its fields
(``unique_together``, ``order_with_respect_to``, ``constraints``,
``indexes``). Django's autodetector moves those options into operations of
their own and pops them from the states it reads; the package's verifier
read those states as they were left: a new model's own release did not
know its unique_together or check constraint (a warning on a project's
first migration) nor wrote its ``_order`` column (the first migration
refused).
"""

import pytest

from .oracles import Release, assert_coexistence, assert_idempotent

BOOK = """
class Book(models.Model):
    title = models.CharField(max_length=50)
"""

OPTIONS = {
    "unique_together": 'unique_together = [("title", "edition")]',
    "order_with_respect_to": 'order_with_respect_to = "book"',
    "check": (
        "constraints = [models.CheckConstraint(condition=models.Q(edition__gte=0), "
        'name="chapter_edition_gte")]'
    ),
    "unique_constraint": (
        'constraints = [models.UniqueConstraint(fields=["title", "edition"], '
        'name="chapter_title_edition")]'
    ),
    "conditional_unique": (
        'constraints = [models.UniqueConstraint(fields=["title"], '
        'condition=models.Q(edition__gt=1), name="chapter_title_later")]'
    ),
    "index": 'indexes = [models.Index(fields=["title", "edition"], name="chapter_idx")]',
}


def chapter(option: str) -> str:
    return f"""
class Chapter(models.Model):
    book = models.ForeignKey(Book, models.CASCADE)
    title = models.CharField(max_length=50)
    edition = models.IntegerField(default=1)

    class Meta:
        {OPTIONS[option]}
"""


def makemigrations(project) -> str:
    result = project.run("manage.py", "makemigrations", check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_a_first_migration_is_neither_refused_nor_warned(make_project, option):
    project = make_project("sqlite")
    project.set_models(BOOK + chapter(option))
    output = makemigrations(project)
    assert "Warning" not in output, output
    assert not project.pending_files(), output
    project.manage("migrate", "-v0")
    assert_idempotent(project)


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_a_model_created_later_is_neither_refused_nor_warned(
    make_project, vendor, option
):
    project = make_project(vendor)
    release = Release(project, BOOK, BOOK + chapter(option))
    project.set_models(release.v2_models)
    output = makemigrations(project)
    assert "Warning" not in output, output
    # (Its foreign key's constraint waits for a cleanup: the old release
    # deletes books its Python cascades to no chapter.)
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    assert not [r for r in release.crud() if not r["ok"]]
    assert_idempotent(project)


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_a_deleted_model_keeps_what_its_old_release_knows(make_project, vendor, option):
    release = Release(make_project(vendor), BOOK + chapter(option), BOOK)
    assert_coexistence(release)
    assert_idempotent(release.project)
