"""
``promotemigrations``: move pending cleanups whose contract has shipped into
the migrations folder. Shipped means applied on ``--database`` (default
"default") with no live release there lacking it (``release/guard.py``), or,
with ``--through MIGRATION``, at or before that migration.
"""

from __future__ import annotations

import sys

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.core.management.utils import run_formatters
from django.db import DEFAULT_DB_ALIAS
from django.db.migrations.loader import MigrationLoader

from ...files import companions, notes, pending
from ...files.pending import relative
from ...release import releases
from ...release.promotion import plan_promotions, promote


class Command(BaseCommand):
    help = (
        "Move pending cleanup migrations whose contract has shipped into the "
        "migrations folder, numbered after each app's last migration. Run it "
        "in the release after the one that shipped their contract migrations."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "args",
            metavar="app_label",
            nargs="*",
            help="Apps to promote (default: every app).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be promoted; write nothing.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with a non-zero status while any cleanup is pending and "
            "ready to promote (its contract has shipped); list those that wait.",
        )
        parser.add_argument(
            "--list",
            action="store_true",
            help="List pending cleanups, ready or waiting; write nothing.",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="A contract has shipped once this database has applied it "
            '(default: "default").',
        )
        parser.add_argument(
            "--through",
            metavar="MIGRATION",
            help="With one app label: the contracts at or before this migration "
            "have shipped (the database is not read).",
        )
        parser.add_argument(
            "--pr-notes",
            metavar="DIRECTORY",
            help="Also write a Markdown description of this pull request (PR 2) "
            "into DIRECTORY.",
        )
        parser.add_argument(
            "--no-header",
            action="store_false",
            dest="include_header",
            help="Do not add a header comment to promoted migration files.",
        )

    def handle(self, *app_labels, **options):
        # Verbosity 0 prints nothing but errors (and --list, which was asked
        # for); the exit status says the rest, as with Django's commands.
        self.verbosity = options["verbosity"]
        configs = self._app_configs(app_labels)
        configs = [config for config in configs if pending.has_pending(config.label)]
        if not configs:
            if self.verbosity >= 1 or options["list"]:
                self.stdout.write("No pending cleanups.")
            return
        loader = MigrationLoader(None, ignore_no_migrations=True)
        waits = self._waits(app_labels, loader, options)
        # Plan every app before writing anything: one bad file stops all.
        planned = [
            (config.label, *plan_promotions(config.label, loader, waits))
            for config in configs
        ]
        if options["list"] or options["check"]:
            return self._list(planned, check=options["check"])
        for label, _, waiting in planned:
            for wait in waiting:
                self.log(
                    f"{label}: {relative(wait.pending.path)} stays pending; "
                    f"waits: {wait.reason}."
                )
        plans = [(label, plan) for label, plan, _ in planned if plan]
        for _, plan in plans:
            for promotion in plan:
                companions.mark_reviewed(promotion.migration)
        if not plans:
            self.log("No cleanup is ready to promote.")
            return
        written = []
        for label, plan in plans:
            self.log(self.style.MIGRATE_HEADING(f"Promotions for '{label}':"))
            for promotion in plan:
                self.log(
                    f"  {relative(promotion.pending.path)} -> "
                    f"{self.style.MIGRATE_LABEL(relative(promotion.path))}"
                )
                for operation in promotion.migration.operations:
                    self.log(f"    - {operation.describe()}")
            if not options["dry_run"]:
                written += promote(plan, options["include_header"])
                if options["pr_notes"]:
                    self._write_notes(plan, options["pr_notes"])
        if written:
            run_formatters(written, stderr=self.stderr)
            companions.update_max_migrations(label for label, _ in plans)
            self.log(
                "PR 2 (this release): apply with 'python manage.py migrate' once no "
                "instance of the release before the contract runs."
            )

    def _write_notes(self, plan, directory):
        files = {
            notes.note_path(directory, promotion.migration, 2): notes.cleanup_note(
                promotion.migration, promotion.pending.contract[1]
            )
            for promotion in plan
        }
        pending.write_files(files)
        for path in files:
            self.log(f"  PR notes: {relative(path)}")

    def log(self, message: str) -> None:
        """Informational output: shown from verbosity 1 on."""
        if self.verbosity >= 1:
            self.stdout.write(message)

    @staticmethod
    def _waits(app_labels, loader, options):
        """Which contracts have shipped, as the options say."""
        if options["through"] is None:
            from ...release import guard

            return guard.lacking_contract(
                releases.shipped_on_database(options["database"]),
                options["database"],
                loader,
            )
        if len(app_labels) != 1:
            raise CommandError(
                "--through names a migration of one app: give exactly one app "
                "label ('promotemigrations shop --through 0003'). Nothing was "
                "promoted."
            )
        return releases.shipped_through(loader, app_labels[0], options["through"])

    def _list(self, planned, check):
        # --list prints what it was asked for; --check at verbosity 0 only exits.
        write = self.stdout.write if not check or self.verbosity >= 1 else None
        ready = waiting = 0
        for label, plan, waits in planned:
            for promotion in plan:
                ready += 1
                write and write(
                    f"{label}: {relative(promotion.pending.path)} (cleanup of "
                    f"{promotion.pending.contract[1]}) ready: promotes as "
                    f"{promotion.migration.name}"
                )
            for wait in waits:
                waiting += 1
                write and write(
                    f"{label}: {relative(wait.pending.path)} (cleanup of "
                    f"{wait.pending.contract[1]}) waits: {wait.reason}"
                )
        if not ready + waiting:
            write and write("No pending cleanups.")
        elif check and ready:
            if self.verbosity >= 1:
                self.stderr.write(
                    f"{ready} cleanup(s) ready to promote: run 'python manage.py "
                    f"promotemigrations' in this release."
                )
            sys.exit(1)

    def _app_configs(self, app_labels):
        """
        The apps to promote. A label that is no installed app's is said as
        Django's makemigrations says it, and exits with status 2 (a usage
        error), with nothing promoted.
        """
        if not app_labels:
            return list(apps.get_app_configs())
        configs, bad = [], False
        for label in app_labels:
            try:
                configs.append(apps.get_app_config(label))
            except LookupError as error:
                self.stderr.write(str(error))
                bad = True
        if bad:
            self.stderr.write(
                "An app removed from INSTALLED_APPS with cleanups pending: put it "
                "back, promote and migrate them, then remove it."
            )
            sys.exit(2)
        return configs
