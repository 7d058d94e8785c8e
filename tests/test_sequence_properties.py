"""
Property tests of release sequences (issue 10, DESIGN.md "Release
sequences"): hypothesis draws 2-3 releases of edits, additions, removals and
Meta changes, with a second makemigrations within a release and promotions
at random points (tests/sequences.py), and drives them through the real
commands on one database. At every deploy:

- where the verifier let makemigrations write (it found nothing), the
  release still serving and the new one both do CRUD on the database
  (tests/probe.py), and makemigrations stays clean;
- where it refused, stock Django's migration of the same edit, on a copy of
  the project at that point, is reported by ``check`` (bluegreen.W001) and
  really breaks the old release's CRUD: the verifier's hazard is real;

- where a rename (a field of Book, a ForeignKey, Book itself) went through,
  the release still serving writes under the old names and the new one
  reads the value under the new names, and the other way round;

and at the end, once every cleanup is promoted and migrated, the schema is
the one stock Django reaches from the first models to the last, and
migrating back to the first release restores its schema.

Examples are few and reproducible (a fixed seed per vendor). Run more with
``SEQUENCE_EXAMPLES=20 SEQUENCE_SEED=1 .venv/bin/pytest tests/test_sequence_properties.py -k sqlite``.
"""

from __future__ import annotations

import os
import shutil

from hypothesis import HealthCheck, Phase, example, given, note, seed, settings

from .oracles import assert_same_schema, failures, stock_schema
from .project import Project
from .sequences import (
    ISSUE_CASES,
    NAMES,
    RENAME_CASES,
    RENAMED,
    Models,
    Sequence,
    sequences,
)
from .test_properties import projects

# Each example runs 25-40 management commands. Two explicit examples
# (ISSUE_CASES, RENAME_CASES) run first on every vendor; with these, as many
# examples as before renames joined (the CI budget). Hypothesis' first draw,
# the simplest, renames Book and renames it back, its cleanup pending.
EXAMPLES = {"sqlite": 2, "postgresql": 1, "mysql": 1}
SEEDS = {"sqlite": 20261201, "postgresql": 5432, "mysql": 3306}

# What the examples drew, printed with -s: renames must be exercised.
DRAWN = dict.fromkeys(
    [
        "sequences",
        "with a rename written",
        "renames written",
        "renames refused",
        "edits of a renamed field/model, cleanup pending, written",
        "edits of a renamed field/model, cleanup pending, refused",
        "cross-release reads under both names",
    ],
    0,
)


# What a team does when a cleanup adding a foreign-key constraint stops on
# rows that refer to rows the old release deleted while the constraint
# waited: what the new release's on_delete would have done to them.
REPAIR_DANGLING_ROWS = """
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
from django.apps import apps
from django.db import transaction
with transaction.atomic():
    for model in apps.get_app_config("shop").get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not field.many_to_one and not field.one_to_one:
                continue
            existing = field.related_model._base_manager.values(
                field.target_field.attname
            )
            dangling = model._base_manager.exclude(
                **{f"{field.attname}__isnull": True}
            ).exclude(**{f"{field.attname}__in": existing})
            if field.null:
                dangling.update(**{field.attname: None})
            else:
                dangling.delete()
"""


def makemigrations(project: Project, knob: str, *options: str):
    if knob in NAMES:  # Answer "y" at "Did you rename ...?", as a team does.
        return project.run(
            "manage.py", "makemigrations", *options, check=False, input="y\n"
        )
    return project.manage("makemigrations", *options, "--noinput", check=False)


def migrate(project: Project) -> None:
    """
    migrate; a cleanup that stops on rows left dangling while a constraint
    waited must have changed nothing, and goes through once they are repaired.
    """
    result = project.manage("migrate", "-v0", check=False)
    if result.returncode != 0 and "no longer has" in result.stderr:
        note(f"stopped on dangling rows: {result.stderr.splitlines()[-4:]}")
        assert "changed nothing" in result.stderr, result.stderr
        project.run("-c", REPAIR_DANGLING_ROWS)
        result = project.manage("migrate", "-v0", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def assert_renames_seen(project: Project, before: Models, after: Models, v1, v2):
    """
    Each name renamed from ``before`` (served by ``v1``) to ``after`` (by
    ``v2``): what one release writes under its names, the other reads under
    its own.
    """
    book = {v1: before.name("book_name"), v2: after.name("book_name")}

    def write(release, field, value, pk=None):
        return project.probe(
            "write",
            app=project.app_label,
            release=release,
            model=book[release],
            field=field[release],
            value=value,
            pk=pk,
        )

    def read(release, field, pk):
        return project.probe(
            "read",
            app=project.app_label,
            release=release,
            model=book[release],
            field=field[release],
            pk=pk,
        )

    checks = []
    if book[v1] != book[v2]:
        checks.append(({v1: "title", v2: "title"}, lambda n: f"title {n}"))
    for knob in ("note_name", "author_name"):
        field = RENAMED[knob]
        if before.name(knob) == after.name(knob):
            continue
        if before.definition(field) is None or after.definition(field) is None:
            continue
        if field == "note":
            checks.append(
                ({v1: before.name(knob), v2: after.name(knob)}, lambda n: f"n{n}")
            )
        elif before.definition(field) == after.definition(field):
            target = "Author" if "Author" in after.definition(field) else "Publisher"

            def related(n, target=target):
                return project.probe(
                    "write",
                    app=project.app_label,
                    release=v2,
                    model=target,
                    field="name",
                    value=f"related {n}",
                )

            checks.append(({v1: before.name(knob), v2: after.name(knob)}, related))
    for field, value in checks:
        DRAWN["cross-release reads under both names"] += 1
        # The old release creates, the new one reads and updates, the old
        # one reads (tests/test_rename_*.py go through every direction).
        a = value(1)
        pk = write(v1, field, a)
        assert read(v2, field, pk) == a, ("new reads old's insert", field)
        b = value(2)
        write(v2, field, b, pk=pk)
        assert read(v1, field, pk) == b, ("old reads new's update", field)


def deploy(project: Project, serving: str, before: Models, after: Models) -> str:
    """migrate while ``serving`` runs; both releases' CRUD must succeed."""
    migrate(project)
    latest = project.migration_names()[-1]
    assert_renames_seen(project, before, after, serving, latest)
    problems = failures(
        project.probe("crud", app=project.app_label, v1=serving, v2=latest)
    )
    assert not problems, f"{serving} and {latest} do not coexist:\n" + "\n".join(
        problems
    )
    result = project.manage("makemigrations", "--dry-run", "--noinput")
    assert "No changes detected" in result.stdout, result.stdout
    return latest


def assert_hazard_is_real(
    project: Project, make, models: Models, serving: str, knob: str
):
    """
    The refused edit, made by stock Django on a copy of the project at this
    point: check reports it, and the release serving breaks once migrated,
    or the database refuses stock's migration outright (SQLite: a column
    dropped under the old name's view, whose triggers name it).
    """
    copy = make(project.vendor)
    app = copy.root / copy.app_label
    shutil.rmtree(app)
    shutil.copytree(project.root / project.app_label, app)
    copy.manage("migrate", "-v0")
    copy.set_models(models.source())
    result = makemigrations(copy, knob, "--no-bluegreen", "-v0")
    assert result.returncode == 0, result.stderr
    reported = copy.manage("check").stderr
    assert "bluegreen.W001" in reported and " fails: " in reported, reported
    applied = copy.manage("migrate", "-v0", check=False)
    if applied.returncode != 0:
        # The database's error: its message may go on over several lines
        # (PostgreSQL's DETAIL and HINT).
        error = next(
            (
                line
                for line in reversed(applied.stderr.splitlines())
                if line.startswith("django.db.utils.")
            ),
            None,
        )
        assert error is not None, applied.stderr
        note(f"stock's migration fails: {error}")
        return
    latest = copy.migration_names()[-1]
    problems = failures(copy.probe("crud", app=copy.app_label, v1=serving, v2=latest))
    assert (
        problems
    ), f"the verifier refused, yet stock's migration broke nothing:\n{reported}"


def renames(knob: str, before: Models, after: Models) -> bool:
    """Whether the edit of ``knob`` renames a field or model that exists."""
    if knob not in NAMES or before.name(knob) == after.name(knob):
        return False
    return knob == "book_name" or before.definition(RENAMED[knob]) is not None


def run(vendor: str, sequence: Sequence, make) -> None:
    project = make(vendor)
    models = sequence.initial
    project.set_models(models.source())
    project.manage("makemigrations", "--no-bluegreen", "-v0")
    project.manage("migrate", "-v0")
    serving = first = project.migration_names()[-1]
    first_schema = project.probe("schema")
    served = models
    DRAWN["sequences"] += 1
    renamed = set()  # What a rename changed, its cleanup not promoted yet.
    renamed_any = False
    for number, release in enumerate(sequence.releases, 1):
        if release.promote:
            project.manage("promotemigrations")
            renamed.clear()
        for knob, choice in release.edits:
            edited = models.with_edit(knob, choice)
            project.set_models(edited.source())
            result = makemigrations(project, knob)
            # A later edit of what a rename changed: of its field, of Book.
            conflict = RENAMED.get(knob, knob) in renamed or "book" in renamed
            outcome = "written" if result.returncode == 0 else "refused"
            if conflict:
                what = "edits of a renamed field/model, cleanup pending"
                DRAWN[f"{what}, {outcome}"] += 1
            if renames(knob, models, edited):
                DRAWN[f"renames {outcome}"] += 1
            if result.returncode == 0:
                if renames(knob, models, edited):
                    renamed.add(RENAMED[knob])
                    renamed_any = True
                models = edited
                continue
            note(f"release {number}: {knob}={choice} refused: {result.stderr}")
            assert "nothing was written" in result.stderr, result.stderr
            assert_hazard_is_real(project, make, edited, serving, knob)
            project.set_models(models.source())
        serving = deploy(project, serving, served, models)
        served = models
    DRAWN["with a rename written"] += renamed_any
    # The next releases: every cleanup promoted and migrated.
    for _ in range(2):
        project.manage("promotemigrations")
        migrate(project)
    assert not project.pending_files()
    result = project.manage("makemigrations", "--dry-run", "--noinput")
    assert "No changes detected" in result.stdout, result.stdout
    expected = stock_schema(make, vendor, sequence.initial.source(), models.source())
    assert_same_schema(
        project.probe("schema"), expected, "after the sequence vs stock", names=False
    )
    # Reversibility: the probe's CRUD leaves the tables empty, so migrating
    # back to the first release has no row in its way.
    project.manage("migrate", project.app_label, first, "-v0")
    assert_same_schema(
        project.probe("schema"), first_schema, "back to the first", names=False
    )


def test_release_sequences_coexist_and_refusals_are_real(vendor, tmp_path_factory):
    examples = int(os.environ.get("SEQUENCE_EXAMPLES", EXAMPLES[vendor]))
    DRAWN.update(dict.fromkeys(DRAWN, 0))

    @seed(int(os.environ.get("SEQUENCE_SEED", SEEDS[vendor])))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
        # No shrinking: each example takes a minute; the failing one is
        # printed whole (note()) and replays from its seed.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(sequence=sequences())
    @example(sequence=ISSUE_CASES)
    @example(sequence=RENAME_CASES)
    def check(sequence: Sequence) -> None:
        note(repr(sequence))
        with projects(tmp_path_factory) as make:
            run(vendor, sequence, make)

    check()
    print(f"\n{vendor}: " + ", ".join(f"{k}: {v}" for k, v in DRAWN.items()))
