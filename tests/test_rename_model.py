"""
Catalogue row: a table renamed (RenameModel, answered "y" at Django's "Was
the model ... renamed ...?", a changed Meta.db_table, a many-to-many field
renamed so that its table's name changes). The contract renames the table
(Django's own operation) and keeps each old name as a view the old release
reads and writes through; the cleanup drops the views.
"""

import json

import django
import pytest

from .oracles import (
    Release,
    assert_idempotent,
    assert_same_schema,
    failures,
    stock_schema,
)
from .project import SERVERS, CommandFailed, Project

TAG = """
class Tag(models.Model):
    name = models.CharField(max_length=20)
"""


def book(name: str, body: str = "", meta: str = "", tag: str = TAG) -> str:
    return (
        f"{tag}\n\nclass {name}(models.Model):\n"
        f"    title = models.CharField(max_length=100)\n"
        f"    pages = models.IntegerField(default=1)\n"
        + (f"    {body}\n" if body else "")
        + (f"\n    class Meta:\n        {meta}\n" if meta else "")
    )


REVIEW = """
class Review(models.Model):
    book = models.ForeignKey("shop.{model}", models.CASCADE)
    stars = models.IntegerField(default=3)
"""

# Another model's many-to-many table names a column after the model
# (shop_tag_books.book_id becomes novel_id): read from the model's side
# through the reverse accessor.
TAG_OF = TAG + "    books = models.ManyToManyField('shop.{model}')\n"
AUTHOR = """
class Author(models.Model):
    name = models.CharField(max_length=20)
"""

# kind: (v1's models, v2's models, (v1's model, v2's model), M2M fields: (v1's
# name, v2's name), or a list of them)
KINDS = {
    "plain": (book("Book"), book("Novel"), ("Book", "Novel"), None),
    "custom_db_table": (
        book("Book", meta='db_table = "library_books"'),
        book("Novel", meta='db_table = "library_books"'),
        ("Book", "Novel"),
        None,
    ),
    "db_table_only": (
        book("Book"),
        book("Book", meta='db_table = "library_books"'),
        ("Book", "Book"),
        None,
    ),
    "referenced_from_other_app": (
        {"shop": book("Book"), "reviews": REVIEW.format(model="Book")},
        {"shop": book("Novel"), "reviews": REVIEW.format(model="Novel")},
        ("Book", "Novel"),
        None,
    ),
    "m2m_renamed": (
        book("Book", "tags = models.ManyToManyField(Tag)"),
        book("Book", "labels = models.ManyToManyField(Tag)"),
        ("Book", "Book"),
        ("tags", "labels"),
    ),
    "model_with_m2m_renamed": (
        book("Book", "tags = models.ManyToManyField(Tag)"),
        book("Novel", "tags = models.ManyToManyField(Tag)"),
        ("Book", "Novel"),
        ("tags", "tags"),
    ),
    # Issue 26: a many-to-many field's own db_table changed.
    "m2m_db_table": (
        book("Book", "tags = models.ManyToManyField(Tag)"),
        book("Book", "tags = models.ManyToManyField(Tag, db_table='book_labels')"),
        ("Book", "Book"),
        ("tags", "tags"),
    ),
    # Issue 26: another model's many-to-many table names a column after it.
    "pointed_at_by_m2m": (
        book("Book", tag=TAG_OF.format(model="Book")),
        book("Novel", tag=TAG_OF.format(model="Novel")),
        ("Book", "Novel"),
        ("tag_set", "tag_set"),
    ),
    # The model's table keeps its name: only the column changes.
    "pointed_at_by_m2m_custom_db_table": (
        book(
            "Book", meta='db_table = "library_books"', tag=TAG_OF.format(model="Book")
        ),
        book(
            "Novel", meta='db_table = "library_books"', tag=TAG_OF.format(model="Novel")
        ),
        ("Book", "Novel"),
        ("tag_set", "tag_set"),
    ),
    "pointed_at_by_m2m_from_other_app": (
        {"shop": book("Book"), "reviews": TAG_OF.format(model="Book")},
        {"shop": book("Novel"), "reviews": TAG_OF.format(model="Novel")},
        ("Book", "Novel"),
        ("tag_set", "tag_set"),
    ),
    # Both at once: its own many-to-many table (shop_book_authors, renamed
    # with its book_id) and another model's naming a column after it.
    "own_m2m_and_pointed_at_by_m2m": (
        book(
            "Book",
            "authors = models.ManyToManyField(Author)",
            tag=TAG_OF.format(model="Book") + AUTHOR,
        ),
        book(
            "Novel",
            "authors = models.ManyToManyField(Author)",
            tag=TAG_OF.format(model="Novel") + AUTHOR,
        ),
        ("Book", "Novel"),
        [("tag_set", "tag_set"), ("authors", "authors")],
    ),
    # Its own many-to-many table under a db_table keeps its name; its
    # column named after the model (book_id) changes.
    "own_m2m_under_db_table": (
        book("Book", "tags = models.ManyToManyField(Tag, db_table='book_tags')"),
        book("Novel", "tags = models.ManyToManyField(Tag, db_table='book_tags')"),
        ("Book", "Novel"),
        ("tags", "tags"),
    ),
    # Its own many-to-many table names both columns after it (from_, to_).
    "own_self_m2m_and_pointed_at_by_m2m": (
        book(
            "Book",
            "similar = models.ManyToManyField('self')",
            tag=TAG_OF.format(model="Book"),
        ),
        book(
            "Novel",
            "similar = models.ManyToManyField('self')",
            tag=TAG_OF.format(model="Novel"),
        ),
        ("Book", "Novel"),
        ("tag_set", "tag_set"),
    ),
    # Both columns of its table named after the renamed model (from_, to_).
    "model_with_self_m2m_renamed": (
        book("Book", "similar = models.ManyToManyField('self')"),
        book("Novel", "similar = models.ManyToManyField('self')"),
        ("Book", "Novel"),
        None,
    ),
}


# Kinds with a second app, "reviews".
OTHER_APP = {"referenced_from_other_app", "pointed_at_by_m2m_from_other_app"}


def new_project(make_project, vendor, kind, **kwargs) -> Project:
    apps = ("reviews",) if kind in OTHER_APP else ()
    return make_project(vendor, apps=apps, **kwargs)


def make_v2(project: Project, *options: str) -> str:
    # One question per rename at most; "y" to each.
    return project.run("manage.py", "makemigrations", *options, input="y\ny\n").stdout


# Kinds whose contract keeps another table's column beside the one Django
# renames (book_id of shop_tag_books beside novel_id): on SQLite Django's
# RenameModel renames it and the contract adds it back, in one transaction;
# on PostgreSQL and MariaDB the contract adds novel_id first, then renames
# the table (RenameModel on the state only).
KEPT_COLUMN = {
    "pointed_at_by_m2m",
    "pointed_at_by_m2m_custom_db_table",
    "pointed_at_by_m2m_from_other_app",
    "own_m2m_and_pointed_at_by_m2m",
    "own_self_m2m_and_pointed_at_by_m2m",
    "own_m2m_under_db_table",
}


def relations(m2m) -> list[tuple[str, str]]:
    """A kind's M2M fields, (v1's name, v2's name) each."""
    if m2m is None:
        return []
    return [m2m] if isinstance(m2m[0], str) else list(m2m)


def write(project, release, model, value, pk=None):
    return project.probe(
        "write",
        app="shop",
        release=release,
        model=model,
        field="title",
        value=value,
        pk=pk,
    )


def read(project, release, model, pk):
    return project.probe(
        "read", app="shop", release=release, model=model, field="title", pk=pk
    )


LINKS = """
import json
from django.db import connection
from django.db.migrations.loader import MigrationLoader
release = {release!r}
apps = MigrationLoader(connection).project_state(
    ("shop", release) if isinstance(release, str) else [tuple(n) for n in release]
).apps
model = apps.get_model("shop", {model!r})
row = model.objects.get(pk={pk!r})
related = getattr(row, {field!r})
if {add!r} is not None:
    tag = related.model.objects.create(name={add!r})
    related.add(tag)
print(json.dumps(sorted(related.values_list("name", flat=True))))
"""


def links(project, kind, release, model, field, pk, add=None) -> list[str]:
    """The names of row ``pk``'s tags as ``release`` reads them (``add``: one more)."""
    release = nodes(project, kind, release)
    code = LINKS.format(release=release, model=model, field=field, pk=pk, add=add)
    output = project.manage("shell", "-c", code).stdout
    return json.loads(output.strip().splitlines()[-1])


def nodes(project: Project, kind: str, migration: str):
    """The release at ``migration`` of shop, with the other app's last one."""
    if kind not in OTHER_APP:
        return migration
    others = sorted(
        p.stem for p in (project.root / "reviews" / "migrations").glob("[0-9]*.py")
    )
    return [["shop", migration], ["reviews", others[-1]]]


def crud(project, release, kind):
    return project.probe(
        "crud",
        app="shop",
        v1=nodes(project, kind, release.v1),
        v2=nodes(project, kind, release.v2),
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_both_releases_see_each_others_writes(make_project, vendor, kind):
    both_releases_see_each_others_writes(make_project, vendor, kind)


# Capture databases of the two servers (the project's own is the other's).
CAPTURE = {
    "postgresql": {**SERVERS["postgresql"], "NAME": "postgres"},
    "mysql": {**SERVERS["mysql"], "NAME": "mysql"},
}


@pytest.mark.parametrize(
    "kind", ["plain", "model_with_m2m_renamed", "m2m_renamed", "pointed_at_by_m2m"]
)
@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_a_project_deployed_on_both_servers_renames_on_each(make_project, vendor, kind):
    """
    BLUEGREEN_VENDORS names PostgreSQL and MariaDB: the contract renames the
    tables itself on both (MariaDB's swap, PostgreSQL's one transaction),
    and both releases read each other's writes on whichever it runs.
    """
    project = both_releases_see_each_others_writes(
        make_project,
        vendor,
        kind,
        extra_settings=(
            'BLUEGREEN_VENDORS = ["postgresql", "mysql"]\n'
            f"BLUEGREEN_CAPTURE_DATABASES = {CAPTURE!r}\n"
        ),
    )
    contract = project.migrations / f"{project.migration_names()[-1]}.py"
    text = contract.read_text()
    assert '"postgresql": [' in text and "RENAME TABLE `" in text, text


def both_releases_see_each_others_writes(make_project, vendor, kind, **options):
    v1_models, v2_models, (old, new), m2m = KINDS[kind]
    project = new_project(make_project, vendor, kind, **options)
    release = Release(project, v1_models, v2_models)
    v1 = release.v1
    before = write(project, v1, old, "before")
    for was, _ in relations(m2m):
        links(project, kind, v1, old, was, before, add="first")
    project.set_models(v2_models)
    output = make_v2(project)
    if kind != "custom_db_table":  # No table's name changes: nothing to split.
        assert "until the cleanup drops" in output, output
        assert project.pending_files()
    project.manage("migrate", "-v0")
    v2 = release.v2 = project.migration_names()[-1]
    assert read(project, v2, new, before) == "before"
    # In turn, each in its own process, each reading the other's writes.
    from_old = write(project, v1, old, "a")
    assert read(project, v2, new, from_old) == "a"
    from_new = write(project, v2, new, "b")
    assert read(project, v1, old, from_new) == "b"
    write(project, v1, old, "c", pk=from_new)
    assert read(project, v2, new, from_new) == "c"
    write(project, v2, new, "d", pk=from_old)
    assert read(project, v1, old, from_old) == "d"
    for was, now in relations(m2m):
        assert links(project, kind, v2, new, now, before) == ["first"]
        assert links(project, kind, v1, old, was, from_new, add="old's") == ["old's"]
        assert links(project, kind, v2, new, now, from_new) == ["old's"]
        assert links(project, kind, v2, new, now, from_old, add="new's") == ["new's"]
        assert links(project, kind, v1, old, was, from_old) == ["new's"]
    assert_idempotent(project)
    problems = failures(crud(project, release, kind))
    assert not problems, "\n".join(problems)
    return project


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cleanup_reaches_stock_schema_and_rolls_back(make_project, vendor, kind):
    v1_models, v2_models, (old, new), m2m = KINDS[kind]
    project = new_project(make_project, vendor, kind)
    release = Release(project, v1_models, v2_models)
    row = write(project, release.v1, old, "kept")
    for was, _ in relations(m2m):
        links(project, kind, release.v1, old, was, row, add="linked")
    project.set_models(v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    assert_idempotent(project)
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    v2 = project.migration_names()[-1]
    assert read(project, v2, new, row) == "kept"
    for _, now in relations(m2m):
        assert links(project, kind, v2, new, now, row) == ["linked"]
    # Stock Django renames tables keeping the names of their indexes and
    # constraints: compared unnamed.
    twin = stock_schema(
        lambda vendor, **options: new_project(make_project, vendor, kind, **options),
        vendor,
        v1_models,
        v2_models,
        "y\ny\n",
    )
    assert_same_schema(project.probe("schema"), twin, "after cleanup", names=False)
    # Back past the cleanup and the contract: v1's schema, the row kept.
    project.manage("migrate", "shop", release.v1, "-v0")
    if kind in OTHER_APP:
        project.manage("migrate", "-v0", "reviews")
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "back to v1", names=False
    )
    assert read(project, release.v1, old, row) == "kept"
    for was, _ in relations(m2m):
        assert links(project, kind, release.v1, old, was, row) == ["linked"]


@pytest.mark.parametrize(
    "kind",
    sorted(set(KINDS) - {"custom_db_table"}),  # Stock breaks nothing there.
)
def test_stock_rename_breaks_the_old_release(make_project, vendor, kind):
    v1_models, v2_models, (old, new), m2m = KINDS[kind]
    project = new_project(make_project, vendor, kind)
    release = Release(project, v1_models, v2_models)
    project.set_models(v2_models)
    make_v2(project, "--no-bluegreen")
    assert not project.pending_files()
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    problems = failures(crud(project, release, kind))
    assert any(f"v1 {old}" in problem for problem in problems), problems


def test_stock_rename_breaks_the_old_releases_links(make_project, vendor):
    """
    Stock RenameModel renames the column another model's many-to-many table
    names after the model (book_id becomes novel_id): the old release's
    reads of the links fail, here where the model's table keeps its name
    (the other kinds lose the table first: the test above).
    """
    kind = "pointed_at_by_m2m_custom_db_table"
    v1_models, v2_models, (old, new), m2m = KINDS[kind]
    project = new_project(make_project, vendor, kind)
    release = Release(project, v1_models, v2_models)
    row = write(project, release.v1, old, "linked")
    assert links(project, kind, release.v1, old, m2m[0], row, add="a") == ["a"]
    project.set_models(v2_models)
    make_v2(project, "--no-bluegreen")
    project.manage("migrate", "-v0")
    v2 = project.migration_names()[-1]
    assert links(project, kind, v2, new, m2m[1], row) == ["a"]
    with pytest.raises(CommandFailed, match="book_id"):
        links(project, kind, release.v1, old, m2m[0], row)


def contract_applied(make_project, vendor, kind="plain"):
    v1_models, v2_models, *_ = KINDS[kind]
    project = new_project(make_project, vendor, kind)
    release = Release(project, v1_models, v2_models)
    project.set_models(v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    release.v2 = project.migration_names()[-1]
    return project, release


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("plain", ("max_length=100", "max_length=50")),
        ("plain", ("    pages = models.IntegerField(default=1)\n", "")),
        ("m2m_renamed", ("labels = models.ManyToManyField(Tag)", "")),
        ("m2m_db_table", ("tags = models.ManyToManyField(Tag, db_table=", "x = (")),
        ("m2m_db_table", ("max_length=100", "max_length=50")),
    ],
)
def test_a_change_of_the_renamed_table_waits_for_the_cleanup(
    make_project, vendor, kind, change
):
    project, release = contract_applied(make_project, vendor, kind)
    before = project.snapshot()
    project.set_models(release.v2_models.replace(*change))
    result = project.manage("makemigrations", "--noinput", check=False)
    assert result.returncode != 0
    assert "under the views the old release still uses" in result.stderr, result.stderr
    assert project.snapshot() == before
    # One the database never sees goes through.
    project.set_models(
        release.v2_models.replace("max_length=100", "max_length=100, help_text='h'")
    )
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    v3 = project.migration_names()[-1]
    row = write(project, release.v1, KINDS[kind][2][0], "old release")
    assert read(project, v3, KINDS[kind][2][1], row) == "old release"


@pytest.mark.parametrize(
    "change",
    [
        ("    books = models.ManyToManyField('shop.Novel')\n", ""),
        ("books = models", "volumes = models"),
        ("Novel", "Volume"),
        ("class Tag(", "class Label("),
    ],
)
def test_a_change_of_the_kept_column_waits_for_the_cleanup(
    make_project, vendor, change
):
    """
    Until the cleanup drops book_id of shop_tag_books and its triggers, a
    change that would drop, rename or re-point that table or its novel_id
    (the triggers name both) is refused, and nothing is written.
    """
    project, release = contract_applied(
        make_project, vendor, "pointed_at_by_m2m_custom_db_table"
    )
    before = project.snapshot()
    project.set_models(release.v2_models.replace(*change))
    result = project.run("manage.py", "makemigrations", input="y\ny\n", check=False)
    assert result.returncode != 0, result.stdout
    refused = "would change shop_tag_books, whose column book_id the old release"
    assert refused in result.stderr, result.stderr
    assert project.snapshot() == before
    # Once the cleanup is promoted and migrated, the change goes through.
    project.manage("promotemigrations")
    project.manage("migrate", "-v0")
    make_v2(project)
    project.manage("migrate", "-v0")
    clean = project.manage("makemigrations", "--dry-run", "--noinput").stdout
    assert "No changes detected" in clean, clean


@pytest.mark.parametrize("kind", ["plain", "model_with_m2m_renamed"])
def test_noinput_says_a_deleted_and_created_model_may_be_a_rename(make_project, kind):
    """Under --noinput Django writes a delete and a create: say it may be a rename."""
    v1_models, v2_models, (old, new), _ = KINDS[kind]
    project = new_project(make_project, "sqlite", kind)
    Release(project, v1_models, v2_models)
    project.set_models(v2_models)
    output = project.manage("makemigrations", "--noinput").stdout
    warning = next(line for line in output.splitlines() if "is deleted and" in line)
    assert f"shop.{old}: it is deleted and {new} with the same fields" in warning
    assert "the cleanup would drop shop_book with its rows" in warning, warning
    assert "answer 'y' when it asks whether the model was renamed" in warning


CONTENT_TYPES = """
import json
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = MigrationLoader(connection).project_state(("shop", {release!r})).apps
model = apps.get_model("shop", {model!r})
content_type = ContentType.objects.get_for_model(model)
print(json.dumps([
    content_type.pk,
    content_type.model,
    sorted(
        Permission.objects.filter(content_type__app_label="shop")
        .values_list("codename", flat=True)
    ),
]))
"""


def content_type(project, release, model):
    code = CONTENT_TYPES.format(release=release, model=model)
    return json.loads(project.manage("shell", "-c", code).stdout.splitlines()[-1])


@pytest.mark.parametrize("kind", ["plain", "pointed_at_by_m2m"])
def test_content_types_and_permissions_during_the_overlap(make_project, vendor, kind):
    """
    Django's RenameModel renames the model's ContentType row when migrate
    ends (its post_migrate hook), keeping its key. The new release finds that
    row; the old release's first ContentType.objects.get_for_model() finds no
    row under the old name and creates one (a second key: what its generic
    relations write meanwhile names that key, which remove_stale_contenttypes
    would later delete). Permissions are looked up by app label and codename:
    the old codenames stay on the renamed row (before Django 6.1 Django's
    own; from 6.1, which renames them, copies the contract keeps: see the
    test below), and the new release's are there too. So where the
    contract's RenameModel is on the state only (KEPT_COLUMN, off SQLite).
    """
    project = make_project(
        vendor,
        extra_settings=(
            'INSTALLED_APPS += ["django.contrib.contenttypes", "django.contrib.auth"]\n'
        ),
    )
    release = Release(project, *KINDS[kind][:2])
    before, model, permissions = content_type(project, release.v1, "Book")
    assert model == "book" and "change_book" in permissions
    project.set_models(release.v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    v2 = project.migration_names()[-1]
    renamed, model, permissions = content_type(project, v2, "Novel")
    assert (renamed, model) == (before, "novel")
    assert {"change_novel", "change_book"} <= set(permissions)
    again, model, permissions = content_type(project, release.v1, "Book")
    assert model == "book" and again != before
    assert "change_book" in permissions
    # Both rows stay until someone removes the stale one.
    release.promote_and_migrate()
    assert content_type(project, v2, "Novel")[0] == before


GRANTS = """
import json
from django.contrib.auth.models import Group, Permission, User
user, made = User.objects.get_or_create(username="ann")
if made:
    user.user_permissions.add(Permission.objects.get(codename="change_book"))
    group = Group.objects.create(name="editors")
    group.permissions.add(Permission.objects.get(codename="delete_book"))
    user.groups.add(group)
print(json.dumps(sorted(User.objects.get(username="ann").get_all_permissions())))
"""


def grants(project) -> set[str]:
    """What has_perm() holds for a user granted change_book and (by group) delete_book."""
    return set(
        json.loads(project.manage("shell", "-c", GRANTS).stdout.splitlines()[-1])
    )


# Every kind whose contract runs RenameModel on the state only (off SQLite),
# where Django's hook does not see it: its permissions are renamed too.
@pytest.mark.parametrize("kind", ["plain", *sorted(KEPT_COLUMN)])
def test_the_old_release_keeps_its_permissions_through_the_overlap(
    make_project, vendor, kind
):
    """
    From Django 6.1 migrate renames a renamed model's permissions
    (change_book becomes change_novel): the contract keeps the old codenames
    too, held by the same users and groups, so that the old release's
    has_perm("shop.change_book") holds until the cleanup; rolling back
    puts Django's own back. Before 6.1 the codenames never change.
    """
    project = new_project(
        make_project,
        vendor,
        kind,
        extra_settings=(
            'INSTALLED_APPS += ["django.contrib.contenttypes", "django.contrib.auth"]\n'
        ),
    )
    release = Release(project, *KINDS[kind][:2])
    old = {"shop.change_book", "shop.delete_book"}
    new = {"shop.change_novel", "shop.delete_novel"}
    assert grants(project) == old
    project.set_models(release.v2_models)
    make_v2(project)
    v2 = project.migration_names()[-1]
    project.manage("migrate", "-v0")
    renames = django.VERSION >= (6, 1)
    # The old release's checks hold; from 6.1 the new release's too.
    assert grants(project) == (old | new if renames else old)
    release.promote_and_migrate()
    assert grants(project) == (new if renames else old)
    project.manage("migrate", "shop", v2, "-v0")  # the cleanup rolled back
    assert grants(project) == (old | new if renames else old)
    project.manage("migrate", "shop", release.v1, "-v0")
    assert grants(project) == old


def test_sqlmigrate_shows_the_old_names_kept(make_project, vendor):
    release = Release(new_project(make_project, vendor, "plain"), *KINDS["plain"][:2])
    project = release.project
    project.set_models(release.v2_models)
    make_v2(project)
    name = project.migration_names()[-1]
    shown = project.manage("sqlmigrate", "shop", name).stdout
    expected = {
        "postgresql": 'CREATE OR REPLACE VIEW "shop_book" AS SELECT',
        "mysql": "`shop_novel` TO `shop_novel__bg_new`, `shop_book` TO `shop_novel`, "
        "`shop_book__bg_old` TO `shop_book`",
        "sqlite": "-- The table shop_book, made at migrate time as shop_novel is",
    }[vendor]
    assert expected in shown, shown
    project.manage("migrate", "-v0")
    backwards = project.manage("sqlmigrate", "--backwards", "shop", name).stdout
    assert "DROP VIEW IF EXISTS" in backwards or 'DROP TABLE IF EXISTS "shop_book"' in (
        backwards
    ), backwards


# A field whose contract left it tolerant of the old release, its cleanup
# (RunAlterSQL) pending to finish it: the line that adds it.
FINISHED = {
    "m2m": 'tags = models.ManyToManyField("Tag", related_name="tagged")',
    "foreign_key": 'tag = models.ForeignKey("Tag", models.SET_NULL, null=True)',
    "not_null": "stars = models.IntegerField(default=5)",
}
# A rename of what that cleanup's SQL names: (v1 text, v2 text) in the models.
RENAMES_OF_FINISHED = {
    "model": ("class Book(", "class Novel("),
    "db_table": ("    class Meta:\n", '    class Meta:\n        db_table = "novels"\n'),
    "field": ("    tags = ", "    labels = "),
    "target_model": ('"Tag"', '"Label"'),
}


@pytest.mark.parametrize(
    ("finished", "rename"),
    [
        (finished, rename)
        for finished in FINISHED
        for rename in RENAMES_OF_FINISHED
        # NOT NULL has no target.
        if rename != "target_model" or finished != "not_null"
    ],
)
def test_a_rename_of_what_a_pending_cleanup_finishes_waits_for_it(
    make_project, vendor, finished, rename
):
    """
    Found by tests/test_sequence_properties.py: an M2M added, then its model
    renamed before the cleanup adding the M2M's foreign keys was promoted.
    The rename dropped that cleanup's step (its model was "gone"), so the
    constraints never came and makemigrations saw a change of the M2M for
    ever. The cleanup's SQL names the old table and column: a rename of the
    table, the column or the relation's target waits for it.
    """
    line = FINISHED[finished]
    if rename == "field":
        line = line.replace(line.split(" = ")[0], "tags")
    body = "\n    ".join([line, "class Meta:", '    verbose_name = "book"'])
    project = make_project(vendor)
    project.set_models(
        TAG + "\n" + book("Book", "").replace("class Book", "class Book")
    )
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    v1 = project.migration_names()[-1]
    added = TAG + "\n" + book("Book", body)
    project.set_models(added)
    project.manage("makemigrations", "--noinput", "-v0")
    assert project.pending_files()
    project.manage("migrate", "-v0")
    renamed = added.replace(*RENAMES_OF_FINISHED[rename])
    if rename == "target_model":
        renamed = renamed.replace("class Tag(", "class Label(")
    assert renamed != added
    before = project.snapshot()
    project.set_models(renamed)
    result = project.run("manage.py", "makemigrations", check=False, input="y\ny\n")
    assert result.returncode != 0, result.stdout
    assert "nothing was written" in result.stderr, result.stderr
    assert "promotemigrations" in result.stderr, result.stderr
    assert project.snapshot() == before
    # Once the cleanup is promoted and migrated, the rename goes through
    # (the target's too: KEPT_COLUMN).
    project.manage("promotemigrations")
    project.manage("migrate", "-v0")
    v1 = project.migration_names()[-1]
    make_v2(project)
    project.manage("migrate", "-v0")
    clean = project.manage("makemigrations", "--dry-run", "--noinput").stdout
    assert "No changes detected" in clean, clean
    problems = failures(
        project.probe("crud", app="shop", v1=v1, v2=project.migration_names()[-1])
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_sqlmigrate_shows_the_new_column_keyed_before_the_rename(make_project, vendor):
    """
    Off SQLite the kept column's contract adds novel_id, fills it and keys
    it before the table is renamed; the rename is in the captured SQL
    itself (what ejectbluegreen writes as RunSQL), not Django's RenameModel,
    which is on the state only: no RENAME COLUMN.
    """
    kind = "pointed_at_by_m2m"
    release = Release(new_project(make_project, vendor, kind), *KINDS[kind][:2])
    project = release.project
    project.set_models(release.v2_models)
    make_v2(project)
    name = project.migration_names()[-1]
    shown = project.manage("sqlmigrate", "shop", name).stdout
    q = "`" if vendor == "mysql" else '"'
    rename, not_null = {
        "postgresql": (
            'ALTER TABLE "shop_book" RENAME TO "shop_novel"',
            'ALTER COLUMN "novel_id" SET NOT NULL',
        ),
        # One RENAME TABLE swaps the table with a view under its old name.
        "mysql": (
            "`shop_book` TO `shop_novel`",
            "`novel_id` bigint NOT NULL",
        ),
    }[vendor]
    view = {
        "postgresql": 'VIEW "shop_book"',
        "mysql": "`shop_book__bg_old` TO `shop_book`",
    }[vendor]
    steps = [
        f"ADD COLUMN IF NOT EXISTS {q}novel_id{q}",
        f"SET {q}novel_id{q} = {q}book_id{q}",
        "_fk_shop_novel_id",
        not_null,
        rename,
        view,
    ]
    places = [shown.find(step) for step in steps]
    assert -1 not in places and places == sorted(places), (places, shown)
    assert "RENAME COLUMN" not in shown, shown
    source = (project.root / "shop" / "migrations" / f"{name}.py").read_text()
    assert rename in source, source


def contract_made(make_project, vendor, kind):
    """(the release, a row the old release wrote, the contract made, unapplied)."""
    v1_models, v2_models, (old, _), _ = KINDS[kind]
    release = Release(new_project(make_project, vendor, kind), v1_models, v2_models)
    first = write(release.project, release.v1, old, "before")
    release.project.set_models(v2_models)
    make_v2(release.project)
    return release, first, release.project.migration_names()[-1]


def one_by_one(project, migration: str, *options: str) -> list[str]:
    """
    The statements ``sqlmigrate`` shows for shop's ``migration``: each ends
    its line with ";", but for a trigger's, whose body (BEGIN ... END) holds
    statements of its own.
    """
    shown = project.manage("sqlmigrate", *options, "shop", migration).stdout
    statements, lines, body = [], [], False
    for line in shown.splitlines():
        if not lines and (not line.strip() or line.startswith("--")):
            continue
        lines.append(line)
        body = (body or line == "BEGIN") and not line.startswith("END")
        if line.endswith(";") and not body:
            statements.append("\n".join(lines).rstrip(";"))
            lines = []
    return statements


# (the many-to-many table, its column named after the model, the other one)
KEPT_TABLES = {
    "pointed_at_by_m2m": ("shop_tag_books", "novel_id", "tag_id"),
    "own_m2m_under_db_table": ("book_tags", "novel_id", "tag_id"),
}


@pytest.mark.parametrize("kind", sorted(KEPT_TABLES))
@pytest.mark.parametrize("vendor", ["mysql"])
def test_the_new_release_links_between_any_two_statements_of_the_cleanup(
    make_project, vendor, kind
):
    """
    MariaDB's DDL is not transactional: each statement of the kept column's
    cleanup is a moment of its own, and the new release writes between any
    two. Its INSERT of a link gives novel_id only: once the triggers that
    filled book_id are gone, book_id must still take the row (it kept its
    NOT NULL until the cleanup).
    """
    table, column, other = KEPT_TABLES[kind]
    release = Release(new_project(make_project, vendor, kind), *KINDS[kind][:2])
    project = release.project
    project.set_models(release.v2_models)
    make_v2(project)
    project.manage("migrate", "-v0")
    v2 = project.migration_names()[-1]
    project.manage("promotemigrations")
    cleanup = project.migration_names()[-1]
    statements = one_by_one(project, cleanup)
    assert any("DROP COLUMN" in statement for statement in statements), statements
    novel = write(project, v2, "Novel", "linked")
    for n, statement in enumerate(statements):
        project.probe("sql", query=statement)
        tag = project.probe(
            "write", app="shop", release=v2, model="Tag", field="name", value=f"t{n}"
        )
        project.probe(
            "sql",
            query=f"INSERT INTO {table} ({column}, {other}) VALUES ({novel}, {tag})",
        )
    assert project.probe("sql", query=f"SELECT COUNT(*) FROM {table}") == [
        [len(statements)]
    ]


# Kinds whose contract renames a table: on MariaDB one RENAME TABLE swaps
# it with its view (capture/views/mysql.py); the model's own many-to-many
# table keeps its column named after the model beside the new one
# (tables._kept_in_renamed), so that it is swapped too. Each with the links
# the old release writes between the statements; a table whose two columns
# are named after the model (model_with_self_m2m_renamed) is renamed, then
# its columns, then viewed: its links are not written there
# (docs/limitations.md).
SWAPPED = {
    "plain": (),
    "db_table_only": (),
    "referenced_from_other_app": (),
    "m2m_renamed": ("tags",),
    "m2m_db_table": ("tags",),
    "model_with_m2m_renamed": ("tags",),
    "model_with_self_m2m_renamed": (),
}


@pytest.mark.parametrize("kind", sorted(SWAPPED))
@pytest.mark.parametrize("vendor", ["mysql"])
def test_the_old_release_writes_between_any_two_statements_of_the_contract(
    make_project, vendor, kind
):
    """
    MariaDB's DDL is not transactional: between a RENAME TABLE and the view
    that gives the old name back, the old release's queries met no table
    ("Table 'shop_book' doesn't exist"). Each statement of the contract is
    run on its own here, and the old release (its own process) writes and
    reads its rows, and its links, between any two.
    """
    release, first, v2 = contract_made(make_project, vendor, kind)
    project = release.project
    old, new = KINDS[kind][2]
    statements = one_by_one(project, v2)
    assert any("RENAME TABLE" in statement for statement in statements), statements
    written = {first: "before"}
    for n, statement in enumerate(statements):
        project.probe("sql", query=statement)
        pk = write(project, release.v1, old, f"after {n}")
        written[pk] = f"after {n}"
        assert read(project, release.v1, old, first) == "before", statement
        for field in SWAPPED[kind]:
            assert links(project, kind, release.v1, old, field, pk, add=f"{n}") == [
                f"{n}"
            ], statement
    project.manage("migrate", "shop", v2, "--fake", "-v0")
    for pk, value in written.items():
        assert read(project, v2, new, pk) == value


@pytest.mark.parametrize(
    "kind",
    [
        "plain",
        "m2m_renamed",
        "model_with_m2m_renamed",
        "model_with_self_m2m_renamed",
        "own_m2m_and_pointed_at_by_m2m",
        "own_self_m2m_and_pointed_at_by_m2m",
    ],
)
@pytest.mark.parametrize("vendor", ["mysql"])
def test_a_contract_stopped_after_any_statement_runs_again(make_project, vendor, kind):
    """
    MariaDB: a contract (or its rollback) stopped after any of its
    statements, before Django recorded it, runs again to the end: a table
    already swapped with its view is not swapped again (the view under the
    new name cannot be made over a table, and the RENAME TABLE would find
    its names taken), and each release then reads the other's rows.
    """
    release, first, v2 = contract_made(make_project, vendor, kind)
    project = release.project
    old, new = KINDS[kind][2]
    forwards = one_by_one(project, v2)
    project.manage("migrate", "-v0")
    backwards = one_by_one(project, v2, "--backwards")
    project.manage("migrate", "shop", release.v1, "-v0")
    assert len(forwards) >= 4 and len(backwards) >= 2, (forwards, backwards)
    for n in range(1, len(forwards)):
        for statement in forwards[:n]:
            project.probe("sql", query=statement)
        project.manage("migrate", "-v0")
        pk = write(project, release.v1, old, f"v1 {n}")
        assert read(project, v2, new, pk) == f"v1 {n}"
        assert read(project, v2, new, first) == "before"
        stopped_back = backwards[: n % len(backwards) + 1]
        for statement in stopped_back:
            project.probe("sql", query=statement)
        project.manage("migrate", "shop", release.v1, "-v0")
        assert read(project, release.v1, old, pk) == f"v1 {n}"


# Names as long as MariaDB takes (64): the swap's temporary names are
# shortened as Django shortens its own (truncate_name).
LONG_OLD = "Book" + "x" * 54
LONG_NEW = "Novel" + "x" * 53


@pytest.mark.parametrize("vendor", ["mysql"])
def test_a_table_named_as_long_as_mariadb_allows_is_swapped(make_project, vendor):
    v1_models = book(LONG_OLD, "tags = models.ManyToManyField(Tag)")
    v2_models = book(LONG_NEW, "tags = models.ManyToManyField(Tag)")
    release = Release(make_project(vendor), v1_models, v2_models)
    project = release.project
    first = write(project, release.v1, LONG_OLD, "before")
    project.set_models(v2_models)
    make_v2(project)
    v2 = project.migration_names()[-1]
    statements = one_by_one(project, v2)
    assert any("RENAME TABLE" in statement for statement in statements), statements
    for n, statement in enumerate(statements):
        project.probe("sql", query=statement)
        pk = write(project, release.v1, LONG_OLD, f"after {n}")
        assert read(project, release.v1, LONG_OLD, first) == "before", statement
        assert read(project, release.v1, LONG_OLD, pk) == f"after {n}", statement
    project.manage("migrate", "shop", v2, "--fake", "-v0")
    assert read(project, v2, LONG_NEW, first) == "before"
    release.promote_and_migrate()
    assert read(project, project.migration_names()[-1], LONG_NEW, first) == "before"
