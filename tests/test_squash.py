"""
Squashing (Django's ``squashmigrations``) over a contract whose cleanup is
pending: the checks, ``promotemigrations`` and ``migrate`` read a squashed
migration's ``replaces``, so the cleanup belongs to the squash that stands
for its contract, promotes after it, and no check says its contract or its
cleanup is lost. The replaced files are deleted only once the cleanup is
promoted (Django's own advice is to keep them until every database has
applied the squash).
"""

import re

import pytest

from .model_sources import BOOK, BOOK_WITH_RATING
from .oracles import Release

# A migration after the contract, for squashes that go past it.
BOOK_WITH_ISBN = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, null=True)
"""


def _contract_pending(project, after: bool) -> Release:
    release = Release(project, BOOK_WITH_RATING, BOOK)
    release.make_v2()
    assert len(project.pending_files()) == 1
    if after:
        project.set_models(BOOK_WITH_ISBN)
        project.manage("makemigrations", "-v0")
    return release


def _squash(project, start: str | None, end: str) -> str:
    args = [start] if start else []
    project.manage("squashmigrations", project.app_label, *args, end, "--noinput")
    (squash,) = [name for name in project.migration_names() if "_squashed_" in name]
    return squash


def _finalize(project, squash: str) -> None:
    """Django's last step: delete what the squash replaces, drop ``replaces``."""
    path = project.migrations / f"{squash}.py"
    text = path.read_text()
    (listed,) = re.findall(r"\n    replaces = \[(.*?)\]\n", text, flags=re.S)
    replaced = re.findall(r'\("shop", "(\w+)"\)', listed)
    for name in replaced:
        (project.migrations / f"{name}.py").unlink(missing_ok=True)
    path.write_text(re.sub(r"\n    replaces = \[.*?\]\n", "\n", text, flags=re.S))


def _columns(project) -> set[str]:
    return set(project.probe("schema")["shop_book"]["columns"])


@pytest.mark.parametrize(
    "squashed", ["from the first to the contract", "from the contract to after it"]
)
def test_a_squash_over_a_contract_whose_cleanup_is_pending_promotes_and_migrates(
    make_project, vendor, squashed
):
    project = make_project(vendor)
    after = squashed.endswith("after it")
    release = _contract_pending(project, after)
    # The database serves the contract's release before the squash.
    project.manage("migrate", "-v0")
    last = project.migration_names()[-1]
    squash = _squash(project, release.v2 if after else None, last)
    project.manage("check")
    project.manage("migrate", "-v0")
    assert "rating" in _columns(project)  # the old release still reads it
    project.manage("promotemigrations")
    assert project.pending_files() == []
    project.manage("check")
    project.manage("migrate", "-v0")
    assert "rating" not in _columns(project)
    project.manage("makemigrations", "--check", "--dry-run")
    # Finishing the squash keeps the history whole.
    _finalize(project, squash)
    project.manage("check")
    project.manage("migrate", "-v0")
    project.manage("makemigrations", "--check", "--dry-run")


def test_promoting_through_a_squashed_contract(make_project):
    project = make_project("sqlite")
    release = _contract_pending(project, after=False)
    _squash(project, None, release.v2)
    squash = [name for name in project.migration_names() if "_squashed_" in name][0]
    waits = project.manage(
        "promotemigrations", "shop", "--through", "0001_initial", "--list"
    )
    assert "waits" in waits.stdout, waits.stdout
    project.manage("promotemigrations", "shop", "--through", squash)
    assert project.pending_files() == []


def test_a_squash_finished_before_its_cleanup_is_promoted_says_what_to_do(
    make_project,
):
    project = make_project("sqlite")
    release = _contract_pending(project, after=False)
    project.manage("migrate", "-v0")
    squash = _squash(project, None, release.v2)
    # Deleting the replaced files once applied is fine: the squash names them.
    (project.migrations / f"{release.v2}.py").unlink()
    project.manage("check")
    # Dropping its replaces too loses the link.
    _finalize(project, squash)
    result = project.manage("check", check=False)
    assert result.returncode != 0
    said = (
        f"belongs to contract migration shop.{release.v2}, which is not in the "
        f"migrations folder, and no squashed migration in use replaces it. If a squash "
        f"replaced it and no longer says so"
    )
    assert said in result.stderr and "bluegreen.E001" in result.stderr, result.stderr
    # promotemigrations' own refusal, behind the check that stops it first.
    for command in (["promotemigrations"], ["promotemigrations", "--skip-checks"]):
        result = project.manage(*command, check=False)
        assert result.returncode != 0 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert len(project.pending_files()) == 1


def test_a_cleanup_pointed_at_the_squash_is_the_cleanup_of_what_it_replaces(
    make_project,
):
    # The fix the check used to suggest: the cleanup names the squash.
    project = make_project("sqlite")
    release = _contract_pending(project, after=False)
    squash = _squash(project, None, release.v2)
    (cleanup,) = project.pending_files()
    cleanup.write_text(cleanup.read_text().replace(release.v2, squash))
    project.manage("check")
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    project.manage("check")
    project.manage("migrate", "-v0")
    assert "rating" not in _columns(project)


def test_a_squash_and_the_cleanup_of_a_contract_it_replaces_never_ship_together(
    make_project,
):
    project = make_project("sqlite")
    release = _contract_pending(project, after=True)
    # The database serves the release before the contract.
    project.manage("migrate", "shop", "0001", "-v0")
    last = project.migration_names()[-1]
    squash = _squash(project, release.v2, last)
    # Promoted by hand, as if the contract had shipped.
    project.manage("promotemigrations", "shop", "--through", squash)
    result = project.manage("migrate", check=False)
    assert result.returncode != 0
    assert "Cannot apply a cleanup in the same migrate as its contract" in (
        result.stderr
    ), result.stderr
    assert "rating" in _columns(project)
