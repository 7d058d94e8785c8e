"""
A relation between models that the same makemigrations run creates, in any
app, needs no split: the old release knows neither model, so no DELETE of
its can be blocked by the constraint. A new project's first makemigrations
(cross-app and circular relations, which Django splits into a second
migration of an app) parks no cleanup, and every foreign-key constraint is
in the database after migrate. A relation from a new model to one the old
release uses is still split.
"""

from __future__ import annotations

import textwrap

import pytest

from .project import Project

TWO_APPS = {
    "shop": """
class S(models.Model):
    partner = models.ForeignKey('alpha.A', models.CASCADE, related_name='+')
    peers = models.ManyToManyField('alpha.A', related_name='+')
""",
    "alpha": """
class A(models.Model):
    s = models.ForeignKey('shop.S', models.CASCADE, null=True, related_name='+')
    twin = models.OneToOneField('shop.S', models.CASCADE, null=True, related_name='+')
""",
}

THREE_APPS = {
    "shop": """
class S(models.Model):
    a = models.ForeignKey('alpha.A', models.CASCADE, related_name='+')
""",
    "alpha": """
class A(models.Model):
    b = models.OneToOneField('beta.B', models.CASCADE, null=True, related_name='+')
""",
    "beta": """
class B(models.Model):
    s = models.ForeignKey('shop.S', models.CASCADE, null=True, related_name='+')
    tags = models.ManyToManyField('shop.S', related_name='+')
    kin = models.ManyToManyField('alpha.A', related_name='+')
""",
}

# (table, column) -> table it refers to, once migrated.
EXPECTED = {
    "two apps": {
        ("shop_s", "partner_id"): "alpha_a",
        ("shop_s_peers", "s_id"): "shop_s",
        ("shop_s_peers", "a_id"): "alpha_a",
        ("alpha_a", "s_id"): "shop_s",
        ("alpha_a", "twin_id"): "shop_s",
    },
    "three apps": {
        ("shop_s", "a_id"): "alpha_a",
        ("alpha_a", "b_id"): "beta_b",
        ("beta_b", "s_id"): "shop_s",
        ("beta_b_tags", "b_id"): "beta_b",
        ("beta_b_tags", "s_id"): "shop_s",
        ("beta_b_kin", "b_id"): "beta_b",
        ("beta_b_kin", "a_id"): "alpha_a",
    },
}
APPS = {"two apps": TWO_APPS, "three apps": THREE_APPS}


def _project(make_project, vendor: str, apps: dict[str, str]) -> Project:
    others = [label for label in apps if label != "shop"]
    project = make_project(
        vendor, extra_settings=f"INSTALLED_APPS = INSTALLED_APPS + {others!r}\n"
    )
    for label in others:
        app = project.root / label
        (app / "migrations").mkdir(parents=True)
        (app / "__init__.py").write_text("")
        (app / "migrations" / "__init__.py").write_text("")
    _set_models(project, apps)
    return project


def _set_models(project: Project, apps: dict[str, str]) -> None:
    project.set_models(apps["shop"])
    for label, source in apps.items():
        if label != "shop":
            (project.root / label / "models.py").write_text(
                "from django.db import models\n\n" + textwrap.dedent(source)
            )


def _pending(project: Project) -> list[str]:
    return sorted(str(p) for p in project.root.glob("*/migrations/pending/*.py"))


def _foreign_keys(project: Project) -> dict[tuple[str, str], str]:
    found = {}
    for table, info in project.probe("schema").items():
        for constraint in info["constraints"].values():
            if constraint["foreign_key"] and len(constraint["columns"]) == 1:
                found[table, constraint["columns"][0]] = constraint["foreign_key"][0]
    return found


@pytest.mark.parametrize("case", sorted(APPS))
def test_a_new_projects_relations_need_no_split(make_project, vendor, case):
    project = _project(make_project, vendor, APPS[case])
    output = project.manage("makemigrations").stdout
    names = sorted(p.name for p in project.root.glob("*/migrations/0*.py"))
    # Django splits a circular relation into a second migration of an app.
    assert any(name.startswith("0002") for name in names), names
    assert "Blue-green split" not in output, output
    assert "constraint" not in output, output
    assert _pending(project) == []
    project.manage("migrate", "-v0")
    keys = _foreign_keys(project)
    for (table, column), target in EXPECTED[case].items():
        assert keys.get((table, column)) == target, (table, column, keys)
    project.manage("makemigrations", "--check", "--dry-run")


def test_a_new_models_relation_to_a_model_in_use_is_still_split(make_project, vendor):
    """The neighbour that must split: one end is a model the old release has."""
    project = _project(
        make_project,
        vendor,
        {"shop": "class Old(models.Model):\n    pass\n", "alpha": ""},
    )
    project.manage("makemigrations", "-v0")
    project.manage("migrate", "-v0")
    _set_models(
        project,
        {
            "shop": "class Old(models.Model):\n    pass\n\n" + TWO_APPS["shop"],
            "alpha": TWO_APPS["alpha"].replace(
                "twin = models.OneToOneField('shop.S'",
                "twin = models.OneToOneField('shop.Old'",
            ),
        },
    )
    output = project.manage("makemigrations").stdout
    pending = _pending(project)
    assert len(pending) == 1 and "/alpha/" in pending[0], (pending, output)
    assert "Add the foreign-key constraint of alpha_a.twin_id" in output, output
    assert "partner_id" not in output and "s_id" not in output, output
    project.manage("migrate", "-v0")
    keys = _foreign_keys(project)
    assert ("alpha_a", "twin_id") not in keys
    assert keys.get(("alpha_a", "s_id")) == "shop_s"
    assert keys.get(("shop_s", "partner_id")) == "alpha_a"
