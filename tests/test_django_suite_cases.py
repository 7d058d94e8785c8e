"""
What Django's own tests/migrations found (tests/django_suite/), as the
package's regression tests: the split in-process on project states, each
vendor's cleanup captured by its schema editor.
"""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import models

from bluegreen_autodetector.split.result import split_of

from .split_in_process import capture_servers, model, only, split, state

pytestmark = pytest.mark.usefixtures("capture_servers")
__all__ = ["capture_servers"]  # the fixture, used by pytestmark


def test_a_relation_to_a_model_no_state_holds_is_captured_from_its_app(
    vendor, with_auth
):
    # An app without migrations (or left out of the states, as Django's
    # tests build them): its models are never in Django's state.
    owner = ("owner", models.ForeignKey("auth.user", models.CASCADE))
    migration = only(split(state(model("Book", owner)), state(model("Book")), vendor))
    (step,) = split_of(migration).cleanup.operations
    assert (step.table, step.column) == ("shop_book", "owner_id")
    # Its way back re-adds the column in the type of auth.User's key (an
    # AutoField), not of this project's BigAutoField keys.
    reverse = " ".join(step.reverse_sql[vendor]).lower()
    assert "owner_id" in reverse and "int" in reverse and "bigint" not in reverse


def test_a_relation_to_a_model_nothing_defines_is_a_command_error(vendor):
    owner = ("owner", models.ForeignKey("nowhere.owner", models.CASCADE))
    with pytest.raises(CommandError, match=r"^nowhere\.owner: .* Install its app"):
        split(state(model("Book", owner)), state(model("Book")), vendor)


def test_a_field_class_its_path_cannot_import_is_rebuilt_from_its_class(vendor):
    class LocalForeignKey(models.ForeignKey):  # as Django's tests define them
        pass

    author = ("author", LocalForeignKey("shop.author", models.CASCADE, null=True))
    before = state(model("Author"), model("Book"))
    after = state(model("Author"), model("Book", author))
    migration = only(split(before, after, vendor))
    (added,) = [
        op for op in migration.operations if getattr(op, "name", "") == "author"
    ]
    assert type(added.field) is LocalForeignKey
    assert added.field.db_constraint is False  # the constraint waits for PR 2
    assert split_of(migration).cleanup is not None
