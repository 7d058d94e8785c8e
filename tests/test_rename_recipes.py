"""
A refused rename prints a recipe; following it keeps every row and relation.

For each kind of field or table a rename can concern, the test renames it,
reads the recipe makemigrations prints, writes the models as it says, and
takes the project through makemigrations, migrate, promotemigrations and
migrate; the data written before, read back through the models in another
process, is all still there. The recipe printed before issue 24 (the field's
name as its column, the default table of a model with its own) is followed
the same way as the negative control: it loses the data.
"""

from __future__ import annotations

import json
import re

import pytest

from .project import Project

COMMON = """
class Author(models.Model):
    name = models.CharField(max_length=20)

class Tag(models.Model):
    label = models.CharField(max_length=20)
"""

LONG = "ModelWhoseNameIsLongEnoughThatDjangoMustTruncateIt"

# kind: (v1 models, v2 models: the rename, the recipe printed before issue 24
# or None where it was right or nothing is refused, the answers typed).
KINDS = {
    "plain": (
        "class Book(models.Model):\n    sku = models.CharField(max_length=9, null=True)\n",
        "class Book(models.Model):\n    code = models.CharField(max_length=9, null=True)\n",
        None,
    ),
    "foreign_key": (
        "class Book(models.Model):\n    author = models.ForeignKey(Author, models.CASCADE, null=True)\n",
        "class Book(models.Model):\n    writer = models.ForeignKey(Author, models.CASCADE, null=True)\n",
        "writer = models.ForeignKey(..., db_column='author')",
    ),
    "one_to_one": (
        "class Book(models.Model):\n    author = models.OneToOneField(Author, models.CASCADE, null=True)\n",
        "class Book(models.Model):\n    writer = models.OneToOneField(Author, models.CASCADE, null=True)\n",
        "writer = models.OneToOneField(..., db_column='author')",
    ),
    "many_to_many": (
        "class Book(models.Model):\n    tags = models.ManyToManyField(Tag)\n",
        "class Book(models.Model):\n    labels = models.ManyToManyField(Tag)\n",
        "labels = models.ManyToManyField(..., db_column='tags')",
    ),
    "many_to_many_long_table": (
        f"class {LONG}(models.Model):\n    tags_of_the_model = models.ManyToManyField(Tag)\n",
        f"class {LONG}(models.Model):\n    labels_of_the_model = models.ManyToManyField(Tag)\n",
        None,
    ),
    "many_to_many_through": (
        "class Book(models.Model):\n    tags = models.ManyToManyField(Tag, through='Tagging')\n\n"
        "class Tagging(models.Model):\n    book = models.ForeignKey(Book, models.CASCADE)\n"
        "    tag = models.ForeignKey(Tag, models.CASCADE)\n",
        "class Book(models.Model):\n    labels = models.ManyToManyField(Tag, through='Tagging')\n\n"
        "class Tagging(models.Model):\n    book = models.ForeignKey(Book, models.CASCADE)\n"
        "    tag = models.ForeignKey(Tag, models.CASCADE)\n",
        None,
    ),
    "many_to_many_own_table": (
        "class Book(models.Model):\n    tags = models.ManyToManyField(Tag, db_table='Book_Tags')\n",
        "class Book(models.Model):\n    labels = models.ManyToManyField(Tag, db_table='Book_Tags')\n",
        None,
    ),
    "own_db_column": (
        "class Book(models.Model):\n    sku = models.CharField(max_length=9, null=True, db_column='SkuCode')\n",
        "class Book(models.Model):\n    code = models.CharField(max_length=9, null=True, db_column='SkuCode')\n",
        None,
    ),
    "model": (
        "class Book(models.Model):\n    author = models.ForeignKey(Author, models.CASCADE, null=True)\n",
        "class Volume(models.Model):\n    author = models.ForeignKey(Author, models.CASCADE, null=True)\n",
        None,
    ),
    "model_own_table": (
        "class Book(models.Model):\n    author = models.ForeignKey(Author, models.CASCADE, null=True)\n"
        "    class Meta:\n        db_table = 'library_books'\n",
        "class Volume(models.Model):\n    author = models.ForeignKey(Author, models.CASCADE, null=True)\n"
        "    class Meta:\n        db_table = 'library_volumes'\n",
        "class Meta: db_table = 'shop_book'",
    ),
    "model_quoted_table": (
        "class Book(models.Model):\n    title = models.CharField(max_length=9, null=True)\n"
        "    class Meta:\n        db_table = '\"LegacyBooks\"'\n",
        "class Volume(models.Model):\n    title = models.CharField(max_length=9, null=True)\n"
        "    class Meta:\n        db_table = '\"LegacyVolumes\"'\n",
        "class Meta: db_table = 'shop_book'",
    ),
    "many_to_many_of_quoted_table": (
        "class Book(models.Model):\n    tags = models.ManyToManyField(Tag)\n"
        "    class Meta:\n        db_table = '\"LegacyBooks\"'\n",
        "class Book(models.Model):\n    labels = models.ManyToManyField(Tag)\n"
        "    class Meta:\n        db_table = '\"LegacyBooks\"'\n",
        "labels = models.ManyToManyField(..., db_column='tags')",
    ),
    "inherited_field": (
        "class Book(models.Model):\n    title = models.CharField(max_length=9, null=True)\n\n"
        "class Ebook(Book):\n    url = models.CharField(max_length=9, null=True)\n",
        "class Book(models.Model):\n    title = models.CharField(max_length=9, null=True)\n\n"
        "class Ebook(Book):\n    link = models.CharField(max_length=9, null=True)\n",
        None,
    ),
    "inheriting_model": (
        "class Book(models.Model):\n    title = models.CharField(max_length=9, null=True)\n\n"
        "class Ebook(Book):\n    url = models.CharField(max_length=9, null=True)\n",
        "class Book(models.Model):\n    title = models.CharField(max_length=9, null=True)\n\n"
        "class Digital(Book):\n    url = models.CharField(max_length=9, null=True)\n",
        None,
    ),
}

# Writes rows through the models (every field, relations and M2M too), or
# reads them back: each model's rows as sorted lists of values, its field
# names left out (they are what a rename changes).
DATA = """\
import json, sys
import probe
from django.apps import apps
from django.db import models

own = [m for m in apps.get_app_config("shop").get_models() if not m._meta.auto_created]
if sys.argv[1] == "seed":
    for model in own:
        for _ in range(2):
            probe.make(model, [])
else:
    tables = []
    for model in own:
        rows = []
        for row in model.objects.order_by("pk"):
            values = [str(getattr(row, f.attname)) for f in model._meta.concrete_fields]
            values += [
                str(sorted(getattr(row, f.name).values_list("pk", flat=True)))
                for f in model._meta.many_to_many
            ]
            rows.append(sorted(values))
        tables.append(rows)
    print(json.dumps(sorted(tables, key=json.dumps)))
"""

FIELD_STEP = re.compile(
    r"(\w+) = (models\.\w+)\(\.\.\., (db_column|db_table)=('[^']*')\)"
)
META_STEP = re.compile(r"class Meta: db_table = ('[^']*')")


def _data(project: Project, command: str):
    (project.root / "data.py").write_text(DATA)
    result = project.run("data.py", command)
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout else None


def _followed(source: str, step: tuple[str, str, str, str] | str) -> str:
    """``source`` written as one step of a recipe says."""
    if isinstance(step, str):  # A model's table.
        if "db_table = " in source:
            return re.sub(r"db_table = '.*'$", f"db_table = {step}", source, flags=re.M)
        return source + f"    class Meta:\n        db_table = {step}\n"
    name, declared, keyword, value = step
    line = re.search(rf"^    {name} = {re.escape(declared)}\((.*)\)$", source, re.M)
    assert line, f"no field {name} = {declared}(...) to follow the recipe on"
    arguments = re.sub(rf",? ?{keyword}='[^']*'", "", line.group(1))
    written = f"    {name} = {declared}({arguments}, {keyword}={value})"
    return source.replace(line.group(0), written)


def _follow(project: Project, v1: str, v2: str, recipe: str) -> None:
    """Write the models as ``recipe`` says, and make their migrations."""
    steps = FIELD_STEP.findall(recipe)
    meta = META_STEP.findall(recipe)
    if len(steps) == 2:  # First the old field keeps its table, then the rename.
        project.set_models(COMMON + _followed(v1, steps[0]))
        project.manage("makemigrations", "-v0")
        steps = steps[1:]
    if steps:
        project.set_models(COMMON + _followed(v2, steps[0]))
        project.run("manage.py", "makemigrations", input="y\n")
    else:
        assert meta, f"no recipe to follow in: {recipe}"
        project.set_models(COMMON + _followed(v2, meta[0]))
        project.manage("makemigrations", "--noinput")


def _deploy(project: Project) -> None:
    """This release's migrate, and the next one's promotion and migrate."""
    project.manage("migrate", "-v0")
    project.manage("promotemigrations")
    project.manage("migrate", "-v0")
    assert not project.pending_files()
    project.manage("makemigrations", "--check", "--dry-run")


def _start(make_project, vendor: str, v1: str):
    project = make_project(vendor)
    project.set_models(COMMON + v1)
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    _data(project, "seed")
    return project, _data(project, "read")


def _names_in(schema: dict) -> set[str]:
    return set(schema) | {
        column for table in schema.values() for column in table["columns"]
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_following_the_printed_recipe_keeps_the_data(make_project, vendor, kind):
    v1, v2, _ = KINDS[kind]
    project, before = _start(make_project, vendor, v1)
    snapshot = project.snapshot()
    project.set_models(COMMON + v2)
    asked = project.run("manage.py", "makemigrations", input="y\n", check=False)
    if asked.returncode == 0:
        # Nothing refused: the rename keeps every name, or it is split (a
        # concrete column's, issue 26). Either way no data may be lost.
        assert "Safe recipe" not in asked.stderr
        assert "Traceback" not in asked.stderr
    else:
        assert "Safe recipe" in asked.stderr, asked.stderr
        assert "Traceback" not in asked.stderr
        assert project.snapshot() == snapshot
        recipe = next(
            line for line in asked.stderr.splitlines() if "Safe recipe" in line
        )
        # The recipe names the column or table the database has.
        named = [step[3] for step in FIELD_STEP.findall(recipe)] + META_STEP.findall(
            recipe
        )
        assert named, recipe
        existing = _names_in(project.probe("schema"))
        for name in named:
            name = name.strip("'")
            assert name in existing or name.strip('"') in existing, (name, recipe)
        _follow(project, v1, v2, recipe)
    _deploy(project)
    assert _data(project, "read") == before


NEGATIVE = sorted(kind for kind, (_, _, old, *_) in KINDS.items() if old)


@pytest.mark.parametrize("kind", NEGATIVE)
def test_the_recipe_printed_before_loses_the_data(make_project, vendor, kind):
    """Negative control: the oracle above sees the loss the old recipe caused."""
    v1, v2, old_recipe = KINDS[kind]
    project, before = _start(make_project, vendor, v1)
    if old_recipe.startswith("class Meta"):
        project.set_models(COMMON + _followed(v2, META_STEP.findall(old_recipe)[0]))
        project.manage("makemigrations", "--noinput")
    else:
        # As it is followed where Django asks nothing (--noinput, CI); asked,
        # Django takes a db_column equal to the old name for a rename.
        project.set_models(COMMON + _followed(v2, FIELD_STEP.findall(old_recipe)[0]))
        project.manage("makemigrations", "--noinput")
    _deploy(project)
    assert _data(project, "read") != before


@pytest.mark.parametrize(
    ("kind", "recipe"),
    [
        ("plain", "db_column='sku'"),
        ("foreign_key", "db_column='author_id'"),
        ("one_to_one", "db_column='author_id'"),
        ("many_to_many", "db_table='shop_book_tags'"),
    ],
)
def test_noinput_says_the_recipe_of_a_possible_rename(make_project, kind, recipe):
    """Under --noinput a removal and an addition of one type may be a rename."""
    v1, v2, _ = KINDS[kind]
    project, _ = _start(make_project, "sqlite", v1)
    project.set_models(COMMON + v2)
    output = project.manage("makemigrations", "--noinput").stdout
    warning = next(line for line in output.splitlines() if "of the same type" in line)
    assert recipe in warning, warning
