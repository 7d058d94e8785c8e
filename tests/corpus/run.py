"""
The corpus test: real migration histories of widely used apps
(``requirements.txt`` pins them), replayed through the package.

For every migration M of their histories that removes something
(RemoveField, DeleteModel), adds a NOT NULL field or changes a field's
nullability, on a fresh database:

1. the app's migrations before M, copied into a temporary migrations package
   (``MIGRATION_MODULES``; so are other apps' that come after M), are
   migrated; the schema is read;
2. the package's autodetector gets the state before M and the state after
   it (M applied to the first) and splits the change; the package's
   ``makemigrations`` writes the contract and the pending cleanup;
3. ``migrate`` applies the contract: **coexistence**, both the release
   before M (the state before it) and the release after M create, read,
   update and delete rows on the database (tests/probe.py's rows);
4. ``promotemigrations`` and ``migrate`` run the cleanup; the schema is read
   (rows.py holds the rows and the schema);
5. **reversibility**: migrating the app back before M restores step 1's schema;
6. **equivalence**: M itself (stock) then migrated reaches the schema of 4.
   Whether stock's M breaks the release before it is recorded too.

A refusal (the package's CommandError) is an outcome, not a failure. The
run exits non-zero on a crash, or on any property that does not hold.

    python tests/corpus/run.py [--vendor sqlite|postgresql|mysql] [--json FILE]

Run by ``make test-corpus`` in its own virtualenv (.cache/corpus/venv).
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from importlib import import_module
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Distribution -> the app labels of its migration histories.
CORPUS = {
    "django-allauth": ["account", "socialaccount", "mfa", "usersessions"],
    "django-axes": ["axes"],
    "django-celery-beat": ["django_celery_beat"],
    "django-oauth-toolkit": ["oauth2_provider"],
    "django-otp": ["otp_email", "otp_hotp", "otp_static", "otp_totp"],
}
LABELS = [label for labels in CORPUS.values() for label in labels]


def setup(vendor: str) -> None:
    sys.path[:0] = [str(HERE), str(REPO)]
    if vendor == "sqlite":
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tempfile.mkdtemp(prefix="corpus-"), "db.sqlite3"),
        }
    else:
        from tests.project import create_database

        database = create_database(vendor)
    os.environ["CORPUS_DATABASE"] = json.dumps(database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "corpus_settings"
    import django

    django.setup()


# --- which migrations -------------------------------------------------------


def reasons(loader, key) -> list[str]:
    """Why migration ``key`` is in the corpus: what it removes, adds or alters."""
    from django.db.migrations import operations
    from django.db.migrations.state import ProjectState

    migration = loader.graph.nodes[key]
    parents = sorted(parent.key for parent in loader.graph.node_map[key].parents)
    before = loader.project_state(parents) if parents else ProjectState()
    found = []
    for operation in migration.operations:
        if isinstance(operation, (operations.RemoveField, operations.DeleteModel)):
            found.append(f"{type(operation).__name__} {operation.describe()}")
        elif isinstance(operation, operations.AddField):
            field = operation.field
            if not field.null and not field.many_to_many:
                found.append(
                    f"NOT NULL AddField {operation.model_name}.{operation.name}"
                )
        elif isinstance(operation, operations.AlterField):
            model = before.models.get((key[0], operation.model_name_lower))
            old = model and model.fields.get(operation.name)
            if old is not None and old.null != operation.field.null:
                found.append(
                    f"null {old.null}->{operation.field.null} "
                    f"{operation.model_name}.{operation.name}"
                )
    return found


def corpus(loader) -> list[tuple[tuple[str, str], list[str]]]:
    chosen = []
    for key in sorted(loader.graph.nodes):
        if key[0] in LABELS and not loader.graph.nodes[key].replaces:
            why = reasons(loader, key)
            if why:
                chosen.append((key, why))
    return chosen


# --- one migration ----------------------------------------------------------


class Questioner:
    """
    Answers as M's author did: the one-off default M's AddField/AlterField
    carries (``preserve_default=False``), a rename only when M renames.
    """

    @staticmethod
    def make(migration):
        from django.db.migrations import operations
        from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
        from django.utils import timezone

        defaults = {
            (op.model_name_lower, op.name_lower): op.field.default
            for op in migration.operations
            if isinstance(op, (operations.AddField, operations.AlterField))
        }
        renames = any(
            isinstance(op, (operations.RenameField, operations.RenameModel))
            for op in migration.operations
        )

        class CorpusQuestioner(NonInteractiveMigrationQuestioner):
            def ask_not_null_addition(self, field_name, model_name):
                return defaults.get((model_name.lower(), field_name.lower()))

            def ask_not_null_alteration(self, field_name, model_name):
                return defaults.get((model_name.lower(), field_name.lower()))

            def ask_auto_now_add_addition(self, field_name, model_name):
                return timezone.now

            def ask_rename(self, *args):
                return renames

            def ask_rename_model(self, *args):
                return renames

        return CorpusQuestioner(dry_run=False)


def migrations_package(root: Path, name: str, loader, keep: set) -> dict[str, str]:
    """
    Copies, under ``root/name``, of each corpus app's migrations in ``keep``;
    the ``MIGRATION_MODULES`` that loads them.
    """
    modules = {}
    for label in LABELS:
        source = sources()[label]
        target = root / name / label
        target.mkdir(parents=True)
        (target / "__init__.py").write_text("")
        for app_label, migration_name in keep:
            if app_label == label:
                shutil.copy(
                    source / f"{migration_name}.py", target / f"{migration_name}.py"
                )
        modules[label] = f"{name}.{label}"
    return modules


@functools.cache
def sources() -> dict[str, Path]:
    """Each corpus app's own migrations folder (read before any override)."""
    from django.db.migrations.loader import MigrationLoader

    folders = {}
    for label in LABELS:
        module_name, _ = MigrationLoader.migrations_module(label)
        folders[label] = Path(import_module(module_name).__file__).parent
    return folders


def migrate(*args) -> None:
    """The package's ``migrate`` (and ``promotemigrations``), output kept."""
    from django.core.management import call_command

    call_command(*args, verbosity=0, stdout=io.StringIO(), stderr=io.StringIO())


def replay(key, original, root: Path, index: int) -> dict:
    """Steps 1-6 of the module docstring for migration ``key``."""
    from django.core.management.base import CommandError
    from django.db.migrations.loader import MigrationLoader
    from django.test.utils import override_settings
    from rows import compare, crud, reset_database, schema

    from bluegreen_autodetector import conf
    from bluegreen_autodetector.autodetector import BlueGreenAutodetector
    from bluegreen_autodetector.split.result import split_of

    app, name = key
    migration = original.graph.nodes[key]
    before_m = set(original.graph.forwards_plan(key)) - {key}
    parents = [p.key for p in original.graph.node_map[key].parents if p.key[0] == app]
    back_to = parents[0][1] if parents else "zero"
    package = f"corpus{index}"
    modules = migrations_package(root, package, original, before_m)
    result = {"app": app, "migration": name}
    with override_settings(MIGRATION_MODULES=modules):
        reset_database()
        migrate("migrate")
        before_schema = schema()
        loader = MigrationLoader(None, ignore_no_migrations=True)
        before = loader.project_state()
        after = migration.mutate_state(before, preserve=True)
        try:
            with conf.forced(True):
                changes = BlueGreenAutodetector(
                    before, after, Questioner.make(migration)
                ).changes(graph=loader.graph)
        except CommandError as refusal:
            result["outcome"] = "refused"
            result["refusal"] = str(refusal).splitlines()[1:2] or [str(refusal)]
            return result
        contracts = changes.get(app, [])
        result["other apps"] = sorted(set(changes) - {app})
        if not contracts:
            result["outcome"] = "nothing detected"
            return result
        cleanups = [c for c in contracts if split_of(c).cleanup]
        result["outcome"] = "split" if cleanups else "passed through"
        result["contract"] = [c.name for c in contracts]
        result["cleanup operations"] = [
            op.describe() for c in cleanups for op in split_of(c).cleanup.operations
        ]
        write(changes)
        migrate("migrate")
        problems = crud(before.apps, after.apps, app)
        result["coexistence"] = problems or "ok"
        if cleanups:
            migrate("promotemigrations", app)
            migrate("migrate")
        split_schema = schema()
        migrate("migrate", app, back_to)
        result["reversibility"] = compare(
            schema(), before_schema, "back before M", False
        )
        # Stock: M itself in place of the contract and cleanup.
        directory = root / package / app
        for path in directory.glob("*.py"):
            if path.stem not in {n for a, n in before_m if a == app} | {"__init__"}:
                path.unlink()
        shutil.rmtree(directory / conf.PENDING_DIRNAME, ignore_errors=True)
        shutil.copy(sources()[app] / f"{name}.py", directory / f"{name}.py")
        # The contract may bear M's name: the loader must not find it imported.
        for module in [m for m in sys.modules if m.startswith(f"{package}.")]:
            del sys.modules[module]
        importlib.invalidate_caches()
        migrate("migrate")
        result["equivalence"] = compare(
            split_schema, schema(), "split vs stock M", True
        )
        result["stock breaks the release before M"] = bool(
            crud(before.apps, after.apps, app)
        )
    return result


def write(changes) -> None:
    """Write ``changes`` as the package's makemigrations does."""
    from bluegreen_autodetector.management.commands.makemigrations import (
        Command as MakeMigrations,
    )

    command = MakeMigrations(stdout=io.StringIO(), stderr=io.StringIO())
    command.verbosity = 0
    command.dry_run = False
    command.include_header = True
    command.scriptable = False
    command.written_files = []
    command.written_app_labels = set()
    command.pr_notes = None
    command.write_migration_files(changes)


def failed(result: dict) -> list[str]:
    """What went wrong for one migration (a refusal is not wrong)."""
    problems = []
    if result["outcome"] == "crash":
        problems.append(f"crash: {result['crash']}")
    for check in ("coexistence", "reversibility", "equivalence"):
        if result.get(check, "ok") != "ok":
            problems.append(f"{check}: {result[check]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--vendor", default="sqlite", choices=["sqlite", "postgresql", "mysql"]
    )
    parser.add_argument("--json", help="write each migration's result into this file")
    parser.add_argument(
        "--only", metavar="APP.MIGRATION", help="replay this migration only"
    )
    args = parser.parse_args()
    start = time.monotonic()
    setup(args.vendor)
    import rows
    from django.db.migrations.loader import MigrationLoader

    rows.install()
    original = MigrationLoader(
        None, ignore_no_migrations=True, replace_migrations=False
    )
    chosen = corpus(original)
    if args.only:
        chosen = [(key, why) for key, why in chosen if ".".join(key) == args.only]
    root = Path(tempfile.mkdtemp(prefix="corpus-migrations-"))
    sys.path.insert(0, str(root))
    results = []
    sources()
    for index, (key, why) in enumerate(chosen):
        began = time.monotonic()
        try:
            result = replay(key, original, root, index)
        except Exception as error:  # noqa: BLE001  (reported, and fails the run)
            frames = traceback.extract_tb(error.__traceback__)
            ours = [f for f in frames if "/bluegreen_autodetector/" in f.filename]
            where = ours[-1] if ours else frames[-1]
            result = {
                "app": key[0],
                "migration": key[1],
                "outcome": "crash",
                "crash": f"{type(error).__name__}: {error} "
                f"({'package' if ours else 'harness'} frame "
                f"{os.path.relpath(where.filename, REPO)}:{where.lineno} {where.name})",
            }
        result["why"] = why
        result["seconds"] = round(time.monotonic() - began, 1)
        results.append(result)
        print(
            f"corpus: {key[0]}.{key[1]}: {result['outcome']} ({result['seconds']} s)"
            + "".join(f"\n    ! {p}" for p in failed(result))
            + "".join(f"\n    refusal: {r}" for r in result.get("refusal", []))
        )
    if args.vendor != "sqlite":
        from django.db import connection

        from tests.project import drop_database

        connection.close()
        drop_database(args.vendor, connection.settings_dict)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    summary(results, args.vendor, time.monotonic() - start)
    return 1 if any(failed(r) for r in results) else 0


def summary(results: list[dict], vendor: str, seconds: float) -> None:
    print(f"corpus on {vendor}: {len(results)} migrations in {seconds:.0f} s")
    for distribution, labels in CORPUS.items():
        mine = [r for r in results if r["app"] in labels]
        outcomes = collections.Counter(r["outcome"] for r in mine)
        bad = sum(bool(failed(r)) for r in mine)
        print(
            f"  {distribution}: {len(mine)} migrations: "
            + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
            + f"; {bad} with a property failing"
        )


if __name__ == "__main__":
    sys.exit(main())
