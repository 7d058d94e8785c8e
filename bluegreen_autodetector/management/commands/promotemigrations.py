"""``promotemigrations``: move pending cleanups into the migrations folder."""

from __future__ import annotations

import sys

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.core.management.utils import run_formatters
from django.db.migrations.loader import MigrationLoader

from ... import companions, notes, pending


class Command(BaseCommand):
    help = (
        "Move pending cleanup migrations into the migrations folder, numbered "
        "after each app's last migration. Run it in the release after the one "
        "that shipped their contract migrations."
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
            help="Exit with a non-zero status while any cleanup is pending.",
        )
        parser.add_argument(
            "--list", action="store_true", help="List pending cleanups; write nothing."
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
        configs = self._app_configs(app_labels)
        if options["list"] or options["check"]:
            return self._list(configs, check=options["check"])
        loader = MigrationLoader(None, ignore_no_migrations=True)
        # Plan every app before writing anything: one bad file stops all.
        plans = [
            (config.label, pending.plan_promotions(config.label, loader))
            for config in configs
        ]
        plans = [(label, plan) for label, plan in plans if plan]
        for _, plan in plans:
            for promotion in plan:
                companions.mark_reviewed(promotion.migration)
        if not plans:
            self.stdout.write("No pending cleanups.")
            return
        written = []
        for label, plan in plans:
            self.stdout.write(self.style.MIGRATE_HEADING(f"Promotions for '{label}':"))
            for promotion in plan:
                self.stdout.write(
                    f"  {self._relative(promotion.pending.path)} -> "
                    f"{self.style.MIGRATE_LABEL(self._relative(promotion.path))}"
                )
                for operation in promotion.migration.operations:
                    self.stdout.write(f"    - {operation.describe()}")
            if not options["dry_run"]:
                written += pending.promote(plan, options["include_header"])
                if options["pr_notes"]:
                    self._write_notes(plan, options["pr_notes"])
        if written:
            run_formatters(written, stderr=self.stderr)
            companions.update_max_migrations(label for label, _ in plans)
            self.stdout.write(
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
            self.stdout.write(f"  PR notes: {self._relative(path)}")

    def _list(self, configs, check):
        found = 0
        for config in configs:
            for cleanup in pending.list_pending(config.label):
                found += 1
                self.stdout.write(
                    f"{config.label}: {self._relative(cleanup.path)} "
                    f"(cleanup of {cleanup.contract[1]})"
                )
        if not found:
            self.stdout.write("No pending cleanups.")
        elif check:
            self.stderr.write(
                f"{found} cleanup(s) pending: promote them with "
                f"'python manage.py promotemigrations' in the next release."
            )
            sys.exit(1)

    @staticmethod
    def _app_configs(app_labels):
        if not app_labels:
            return list(apps.get_app_configs())
        configs = []
        for label in app_labels:
            try:
                configs.append(apps.get_app_config(label))
            except LookupError as error:
                raise CommandError(
                    f"No installed app with label {label!r}. A cleanup runs "
                    f"only inside its app's migration graph: if the app was "
                    f"removed from INSTALLED_APPS with cleanups pending, put it "
                    f"back, promote and migrate them, then remove it; or delete "
                    f"its migrations/pending/ folder to leave its tables as they "
                    f"are. Nothing was promoted."
                ) from error
        return configs

    @staticmethod
    def _relative(path):
        from django.core.management.commands.makemigrations import Command

        return Command.get_relative_path(path)
