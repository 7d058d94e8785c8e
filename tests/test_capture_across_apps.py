"""
Capture renders a skeleton of each model a cleanup drops, in a registry of
its own: every relation of the skeleton must find there what it points at,
or the schema editor meets a model's name where it needs the model
(``'str' object has no attribute '_meta'``). Here the relations of a deleted
model leave its app: a through model in another app (django-taggit's
``TaggableManager(through=...)``) or a third one, a foreign key or M2M to
another app, a partner deleted in the same run, the swappable user model.
Each change runs end to end: contract, coexistence, cleanup, stock Django's
schema, and back.
"""

import pytest

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    failures,
    stock_schema,
)

APPS = ("library", "links", "accounts")

# A model the changes keep, so that the app has one in every release.
SHELF = """
class Shelf(models.Model):
    name = models.CharField(max_length=20)
"""

TAG = """
class Tag(models.Model):
    name = models.CharField(max_length=20)
"""

AUTHOR = """
class Author(models.Model):
    name = models.CharField(max_length=20)
"""

NATURAL_AUTHOR = """
class Author(models.Model):
    code = models.CharField(max_length=12, primary_key=True)


class Writer(Author):
    class Meta:
        proxy = True
"""

LINK = """
class Link(models.Model):
    book = models.ForeignKey("shop.Book", on_delete=models.CASCADE)
    tag = models.ForeignKey("library.Tag", on_delete=models.CASCADE)
"""


def book(*fields: str) -> str:
    lines = "".join(f"    {field}\n" for field in fields)
    title = "    title = models.CharField(max_length=20)\n"
    return f"\nclass Book(models.Model):\n{title}{lines}"


USER = """
from django.contrib.auth.base_user import AbstractBaseUser


class User(AbstractBaseUser):
    email = models.CharField(max_length=40, unique=True)
    USERNAME_FIELD = "email"
"""

# case: (v1 models by app, v2 models by app); apps left out have none.
CASES = {
    "through in another app, deleted too": (
        {
            "shop": SHELF
            + book(
                'tags = models.ManyToManyField("library.Tag", through="library.Link")'
            ),
            "library": TAG + LINK,
        },
        {"shop": SHELF, "library": TAG},
    ),
    "through in another app, kept without its key": (
        {
            "shop": SHELF
            + book(
                'tags = models.ManyToManyField("library.Tag", through="library.Link")'
            ),
            "library": TAG + LINK,
        },
        {
            "shop": SHELF,
            "library": TAG
            + """
class Link(models.Model):
    tag = models.ForeignKey("library.Tag", on_delete=models.CASCADE)
""",
        },
    ),
    "through in its own app, kept without its key": (
        {
            "shop": SHELF
            + TAG
            + book('tags = models.ManyToManyField(Tag, through="Link")')
            + LINK.replace("library.Tag", "shop.Tag"),
        },
        {
            "shop": SHELF
            + TAG
            + """
class Link(models.Model):
    tag = models.ForeignKey("shop.Tag", on_delete=models.CASCADE)
""",
        },
    ),
    "foreign key to a proxy in another app, of a natural key": (
        {
            "shop": SHELF
            + book(
                'author = models.ForeignKey("library.Writer", on_delete=models.CASCADE)'
            ),
            "library": NATURAL_AUTHOR,
        },
        {"shop": SHELF, "library": NATURAL_AUTHOR},
    ),
    "through in a third app": (
        {
            "shop": SHELF
            + book(
                'tags = models.ManyToManyField("library.Tag", through="links.Link")'
            ),
            "library": TAG,
            "links": LINK,
        },
        {"shop": SHELF, "library": TAG},
    ),
    "foreign key to another app": (
        {
            "shop": SHELF
            + book(
                'author = models.ForeignKey("library.Author", on_delete=models.CASCADE)'
            ),
            "library": AUTHOR,
        },
        {"shop": SHELF, "library": AUTHOR},
    ),
    "foreign key to another app's model, deleted too": (
        {
            "shop": SHELF
            + book(
                'author = models.ForeignKey("library.Author", on_delete=models.CASCADE)'
            ),
            "library": AUTHOR + TAG,
        },
        {"shop": SHELF, "library": TAG},
    ),
    "many-to-many to another app": (
        {
            "shop": SHELF + book('tags = models.ManyToManyField("library.Tag")'),
            "library": TAG,
        },
        {"shop": SHELF, "library": TAG},
    ),
    "many-to-many partner deleted too": (
        {"shop": SHELF + TAG + book("tags = models.ManyToManyField(Tag)")},
        {"shop": SHELF},
    ),
    "many-to-many partner in another app, deleted too": (
        {
            "shop": SHELF + book('tags = models.ManyToManyField("library.Tag")'),
            "library": TAG + AUTHOR,
        },
        {"shop": SHELF, "library": AUTHOR},
    ),
    "foreign key to the swappable user model": (
        {
            "shop": "from django.conf import settings\n"
            + SHELF
            + book(
                "owner = models.ForeignKey("
                "settings.AUTH_USER_MODEL, on_delete=models.CASCADE)"
            ),
            "accounts": USER,
        },
        {"shop": SHELF, "accounts": USER},
    ),
}


def _by_app(models: dict[str, str]) -> dict[str, str]:
    return {label: models.get(label, "") for label in ("shop", *APPS)}


@pytest.mark.parametrize("case", CASES)
def test_deleting_a_model_whose_relations_leave_its_app(make_project, vendor, case):
    v1, v2 = (_by_app(models) for models in CASES[case])

    def make(vendor, **kwargs):
        extra = 'AUTH_USER_MODEL = "accounts.User"\n'
        return make_project(vendor, apps=APPS, extra_settings=extra, **kwargs)

    release = Release(make(vendor), v1, v2)
    project = release.project
    leaves = _leaves(project)
    # makemigrations captures the cleanups (the crash was here); the old and
    # the new release share the database after the contract.
    release.make_v2()
    assert project.pending_files(), "no cleanup was parked in pending/"
    project.manage("migrate", "-v0")
    # Each release as all its apps' migrations make it: a through model's
    # keys may come in a later migration of its app than the M2M's.
    problems = failures(
        project.probe(
            "crud",
            app="shop",
            v1=[[label, name] for label, name in leaves.items() if name],
            v2=[[label, name] for label, name in _leaves(project).items() if name],
        )
    )
    assert not problems, "old and new release do not coexist:\n" + "\n".join(problems)
    assert_idempotent(project)
    # The cleanup really drops the table: the schema is stock Django's.
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    expected = stock_schema(make, vendor, v1, v2)
    assert_same_schema(project.probe("schema"), expected, "after cleanup vs stock v2")
    # And back: the cleanups' reverse SQL re-creates what they dropped.
    for label, leaf in leaves.items():
        project.manage("migrate", label, leaf or "zero", "-v0")
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "back to v1", names=False
    )


def _leaves(project) -> dict[str, str | None]:
    """Each app's last migration (None: it has none)."""
    leaves = {}
    for label in project.apps:
        names = sorted(
            p.stem for p in (project.root / label / "migrations").glob("0*.py")
        )
        leaves[label] = names[-1] if names else None
    return leaves
