"""
What README says the old release can and cannot do once the contract is
applied, shown on a real database with both releases' models (historical
models at the release before the contract and at the contract).
"""

from __future__ import annotations

import json

import pytest

from .oracles import Release
from .test_adoption_eject import V1  # Author; Book with rating and author

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)

class Book(models.Model):
    title = models.CharField(max_length=200)
"""

SCRIPT = """
import json, os, sys
import django
django.setup()
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

v1_name, v2_name = sys.argv[1:3]
loader = MigrationLoader(connection)
v1 = loader.project_state(("shop", v1_name)).apps
v2 = loader.project_state(("shop", v2_name)).apps
said = {}

# The old release wrote a book; the new release deletes its author (it no
# longer knows the relation, and the contract dropped the constraint).
author = v1.get_model("shop", "Author").objects.create(name="a")
old = v1.get_model("shop", "Book").objects.create(title="old", rating=3, author=author)
v2.get_model("shop", "Author").objects.filter(pk=author.pk).delete()
book = v1.get_model("shop", "Book").objects.get(pk=old.pk)
try:
    book.author
    said["deleted_target"] = "no error"
except ObjectDoesNotExist as error:
    said["deleted_target"] = type(error).__name__

# The new release writes a book: rating and author_id are NULL.
new = v2.get_model("shop", "Book").objects.create(title="new")
book = v1.get_model("shop", "Book").objects.get(pk=new.pk)
said["reads"] = [book.title, book.rating, book.author_id]
try:
    book.full_clean()
    said["full_clean"] = "valid"
except ValidationError as error:
    said["full_clean"] = sorted(error.message_dict)
book.title = "edited by the old release"
book.save()  # an UPDATE of every column, NULLs included, succeeds
said["saved"] = v1.get_model("shop", "Book").objects.get(pk=new.pk).title
print(json.dumps(said))
"""


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"], indirect=True)
def test_what_the_old_release_can_and_cannot_do_after_the_contract(
    make_project, vendor
):
    release = Release(make_project(vendor), V1, V2)
    release.make_v2()
    project = release.project
    project.manage("migrate", "-v0")
    (project.root / "old_release.py").write_text(SCRIPT)
    output = project.run("old_release.py", release.v1, release.v2).stdout
    said = json.loads(output.strip().splitlines()[-1])
    assert said["deleted_target"] == "DoesNotExist"
    assert said["reads"] == ["new", None, None]
    assert said["full_clean"] == ["author", "rating"]
    assert said["saved"] == "edited by the old release"
