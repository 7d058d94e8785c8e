"""
The four properties every catalogue row must have, written once:
coexistence (with its negative control), equivalence, reversibility and
idempotence. Each row's test file states v1 and v2 models and calls these.
"""

from __future__ import annotations

from .project import Project


class Release:
    """A project taken from v1 to v2 the blue-green way (or the stock way)."""

    def __init__(self, project: Project, v1: str, v2: str) -> None:
        self.project = project
        self.v1_models = v1
        self.v2_models = v2
        project.set_models(v1)
        project.manage("makemigrations", "--no-bluegreen", "-v0")
        project.manage("migrate", "-v0")
        self.v1 = project.migration_names()[-1]
        self.v1_schema = project.probe("schema")

    def make_v2(self, *options: str) -> str:
        """Write v2's migration(s); return makemigrations' output."""
        self.project.set_models(self.v2_models)
        output = self.project.manage("makemigrations", *options).stdout
        self.v2 = self.project.migration_names()[-1]
        return output

    def crud(self) -> list[dict]:
        return self.project.probe(
            "crud", app=self.project.app_label, v1=self.v1, v2=self.v2
        )

    def promote_and_migrate(self) -> None:
        self.project.manage("promotemigrations")
        self.project.manage("migrate", "-v0")


def failures(results: list[dict]) -> list[str]:
    return [f"{r['step']}: {r['error']}" for r in results if not r["ok"]]


def assert_coexistence(release: Release) -> None:
    """After the contract, old and new releases both do CRUD on one database."""
    release.make_v2()
    assert release.project.pending_files(), "no cleanup was parked in pending/"
    release.project.manage("migrate", "-v0")
    problems = failures(release.crud())
    assert not problems, "old and new release do not coexist:\n" + "\n".join(problems)


def assert_stock_breaks_old_release(release: Release) -> list[str]:
    """Negative control: the same CRUD fails after stock Django's migration."""
    release.make_v2("--no-bluegreen")
    assert not release.project.pending_files()
    release.project.manage("migrate", "-v0")
    problems = failures(release.crud())
    assert problems, "stock Django's migration broke nothing: the oracle is blind"
    return problems


def stock_migrate(project: Project) -> None:
    """Stock Django's migrate (not the package's) on ``project``."""
    project.manage(
        "shell",
        "-c",
        "from django.core.management import call_command\n"
        "from django.core.management.commands.migrate import Command\n"
        "call_command(Command(), verbosity=0)\n",
    )


def assert_idempotent(project: Project) -> None:
    """A second makemigrations finds nothing, and --check agrees."""
    result = project.manage("makemigrations", "--dry-run")
    assert "No changes detected" in result.stdout, result.stdout
    project.manage("makemigrations", "--check", "--dry-run")


def stock_schema(
    make_project, vendor: str, v1: str, v2: str, answers: str | None = None
) -> dict:
    """
    The schema stock Django reaches from v1 to v2, on a twin project.
    ``answers``: makemigrations' input for v2 (a rename's "y"); without,
    ``--noinput``.
    """
    twin = make_project(vendor, installed=False)
    twin.set_models(v1)
    twin.manage("makemigrations", "-v0")
    twin.manage("migrate", "-v0")
    twin.set_models(v2)
    if answers is None:
        # As the sequences' makemigrations: a NOT NULL without default asks
        # nothing (the twin's tables are empty).
        twin.manage("makemigrations", "--noinput", "-v0")
    else:
        twin.run("manage.py", "makemigrations", "-v0", input=answers)
    twin.manage("migrate", "-v0")
    return twin.probe("schema")


def assert_same_schema(
    actual: dict, expected: dict, what: str, names: bool = True
) -> None:
    """
    Same tables, columns (type, nullability, default) and constraints. With
    ``names=False`` the constraints' names are not compared: Django names a
    unique constraint it adds with AlterField (``..._uniq``) differently from
    the one a CREATE TABLE declares inline (``..._key`` or the column's name),
    and it finds both by their columns, never by those names.
    """
    assert sorted(actual) == sorted(expected), f"{what}: tables differ"
    if not names:
        actual, expected = _unnamed(actual), _unnamed(expected)
    for table in expected:
        assert actual[table]["columns"] == expected[table]["columns"], (
            f"{what}: columns of {table} differ"
        )
        got, want = actual[table]["constraints"], expected[table]["constraints"]
        assert got == want, (
            f"{what}: constraints/indexes of {table} differ:\n"
            f"  only now: { {k: v for k, v in got.items() if want.get(k) != v} }\n"
            f"  expected: { {k: v for k, v in want.items() if got.get(k) != v} }"
        )


def _unnamed(schema: dict) -> dict:
    return {
        table: {
            "columns": info["columns"],
            "constraints": {
                str(i): c
                for i, c in enumerate(
                    sorted(
                        info["constraints"].values(),
                        key=lambda c: repr(sorted(c.items())),
                    )
                )
            },
        }
        for table, info in schema.items()
    }


def assert_equivalent_and_reversible(release: Release, make_project) -> None:
    """
    Contract + promoted cleanup reach stock Django's v2 schema; makemigrations
    stays clean; migrating back to v1 restores v1's schema.
    """
    project = release.project
    release.make_v2()
    project.manage("migrate", "-v0")
    assert_idempotent(project)
    release.promote_and_migrate()
    assert not project.pending_files()
    assert_idempotent(project)
    expected = stock_schema(
        make_project, project.vendor, release.v1_models, release.v2_models
    )
    assert_same_schema(project.probe("schema"), expected, "after cleanup vs stock v2")
    project.manage("migrate", project.app_label, release.v1, "-v0")
    assert_same_schema(
        project.probe("schema"), release.v1_schema, "back to v1", names=False
    )
