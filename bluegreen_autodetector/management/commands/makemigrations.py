"""``makemigrations`` that splits backward-incompatible changes (see README)."""

from __future__ import annotations

import argparse

from django.apps import apps
from django.conf import settings
from django.core.management.base import ALL_CHECKS, CommandError
from django.core.management.commands import makemigrations
from django.db.migrations.loader import MigrationLoader

from ... import conf
from ...autodetector import BlueGreenAutodetector
from ...files import companions, pending
from ...split import describe
from ...split.result import split_of


class Command(makemigrations.Command):
    help = (
        makemigrations.Command.help
        + " With BLUEGREEN_MIGRATIONS (or --bluegreen), backward-incompatible "
        "changes are split into a contract migration and a pending cleanup."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--bluegreen",
            action="store_true",
            dest="bluegreen",
            default=None,
            help="Split backward-incompatible changes even if BLUEGREEN_MIGRATIONS "
            "is off.",
        )
        group.add_argument(
            "--no-bluegreen",
            action="store_false",
            dest="bluegreen",
            help="Behave exactly like Django's makemigrations for this run.",
        )
        parser.add_argument(
            "--allow-unsafe",
            action="store_true",
            help="Let renames and db_column/db_table changes through as Django "
            "writes them, for this run (they break the release still serving).",
        )
        try:
            parser.add_argument(
                "--database",
                metavar="ALIAS",
                help="Judge against the oldest release that the registry of live "
                "releases of this database shows running (default: the release "
                "before the oldest pending contract, reading no database).",
            )
        except argparse.ArgumentError:
            pass  # django-migration-linter's, shadowed: the database it lints on
        parser.add_argument(
            "--pr-notes",
            metavar="DIRECTORY",
            help="Also write a Markdown description of each split's two pull "
            "requests into DIRECTORY.",
        )

    # Django requires makemigrations and migrate to share one autodetector
    # (check commands.E001); it splits only when conf.enabled().
    autodetector = BlueGreenAutodetector

    def handle(self, *app_labels, **options):
        self.pr_notes = options["pr_notes"]
        self.written_app_labels = set()
        with (
            conf.forced(options["bluegreen"], unsafe=options["allow_unsafe"]),
            conf.judged_on(options["database"], self._warn_line),
        ):
            if conf.enabled() and not self._checked_for_lost_cleanups(options):
                self._refuse_missing_cleanups(app_labels)
            super().handle(*app_labels, **options)
        # Ours runs instead of django-linear-migrations' makemigrations.
        companions.update_max_migrations(self.written_app_labels)

    def handle_merge(self, loader, conflicts):
        super().handle_merge(loader, conflicts)
        if not self.dry_run:
            self.written_app_labels.update(conflicts)

    def write_to_last_migration_files(self, changes):
        # --update folds the new operations into the app's last migration,
        # under a new name: the cleanup must follow that name.
        loader = MigrationLoader(None, ignore_no_migrations=True)
        for app_label in changes:
            leaves = set(loader.graph.leaf_nodes(app_label))
            for cleanup in pending.list_pending(app_label):
                if cleanup.contract in leaves:
                    raise CommandError(
                        f"Cannot --update {cleanup.contract[1]}: it is a contract "
                        f"migration whose cleanup {cleanup.path} is pending. Make "
                        f"a new migration instead (drop --update)."
                    )
        self.cleanups_to_relink = {
            app_label: [split_of(m).cleanup for m in migrations if split_of(m).cleanup]
            for app_label, migrations in changes.items()
        }
        super().write_to_last_migration_files(changes)

    def write_migration_files(self, changes, update_previous_migration_paths=None):
        self._warn(changes)
        # Re-planned pending cleanups are written first, and put back as they
        # were if writing the new migrations fails: all or nothing.
        originals = self._rewrite_pending(changes)
        try:
            self._write_split(changes, update_previous_migration_paths)
        except BaseException:
            pending.write_files(originals)
            raise

    def _write_files(self, changes, update_previous_migration_paths):
        # A shadowed command we are built on may override the method with
        # Django's signature before --update (django-migration-linter's
        # does): the second argument goes only where Django gives one.
        # The markers are written with each file (pending.MarkedWriter).
        with pending.writing_markers():
            if update_previous_migration_paths is None:
                super().write_migration_files(changes)
            else:
                super().write_migration_files(changes, update_previous_migration_paths)

    def _write_split(self, changes, update_previous_migration_paths):
        if not self.dry_run:
            self.written_app_labels.update(changes)
        self._outside_transactions(changes)
        splits = []
        for app_label, migrations in changes.items():
            relinked = getattr(self, "cleanups_to_relink", {}).get(app_label, [])
            for migration in migrations:
                cleanups = (
                    [split_of(migration).cleanup]
                    if split_of(migration).cleanup
                    else relinked
                )
                for cleanup in cleanups:
                    cleanup.name = f"{pending.CLEANUP_PREFIX}{migration.name}"
                    cleanup.dependencies = [(app_label, migration.name)]
                    setattr(cleanup, pending.CONTRACT_MARKER, migration.name)
                    setattr(migration, pending.CLEANUP_MARKER, cleanup.name)
                    companions.mark_reviewed(cleanup)
                    splits.append((migration, cleanup))
        if not splits:
            # A contract may hold state-only steps without a cleanup (a
            # declared type SQLite need not change): they say so too.
            for migrations in changes.values():
                for migration in migrations:
                    describe.describe_contract(migration, None)
            self._write_files(changes, update_previous_migration_paths)
            return
        for contract, cleanup in splits:
            describe.describe_contract(contract, cleanup)
        cleanup_files = {}
        if not self.dry_run:
            cleanup_files = {
                pending.pending_path(cleanup): pending.render(
                    cleanup, self.include_header
                )
                for _, cleanup in splits
            }
            pending.write_files(cleanup_files)
            self.written_files.extend(cleanup_files)
        try:
            self._write_files(changes, update_previous_migration_paths)
        except BaseException:
            pending.remove_files(cleanup_files)
            raise
        self._describe_splits(splits)
        if self.dry_run and self.verbosity == 3:
            # As Django prints the contract: the whole file, written nowhere.
            for _, cleanup in splits:
                path = self.get_relative_path(pending.pending_path(cleanup))
                self.log(self.style.MIGRATE_HEADING(f"Full migrations file '{path}':"))
                self.log(pending.render(cleanup, self.include_header))
        if self.pr_notes and not self.dry_run:
            self._write_notes(splits)

    @staticmethod
    def _outside_transactions(changes):
        """
        On PostgreSQL, a migration that builds an index or validates a
        constraint on a table in use runs online only outside a transaction
        (``split/autocommit.py``): it is written ``atomic = False``.
        """
        if not conf.enabled():
            return
        _batched_outside_transactions(changes)
        vendors = conf.vendors()
        if "postgresql" not in vendors:
            return  # Only PostgreSQL's online DDL needs autocommit.
        # Imported here: only a project deployed on PostgreSQL reads it.
        from ...split.autocommit import needs_autocommit

        for migrations in changes.values():
            for migration in migrations:
                for each in (migration, split_of(migration).cleanup):
                    if each is not None and needs_autocommit(each, vendors):
                        each.atomic = False

    def _checked_for_lost_cleanups(self, options) -> bool:
        """
        Whether the system checks this command just ran looked for lost
        cleanups (bluegreen.E002, an error: it stops the command), so that
        looking again would find nothing. ``call_command`` skips the checks
        unless told otherwise.
        """
        return (
            self.requires_system_checks == ALL_CHECKS
            and not options.get("skip_checks", True)
            and "bluegreen.E002" not in settings.SILENCED_SYSTEM_CHECKS
        )

    def _refuse_missing_cleanups(self, app_labels):
        """
        A contract whose cleanup is lost (a bad merge) looks like a change
        not yet made: detection would write it again, as one migration, and
        drop what the release still serving uses. Stop before detecting.
        """
        loader = pending.disk_loader()
        # A label of no installed app is Django's to report (exit status 2).
        labels = {label for label in app_labels if label in apps.app_configs} or {
            label for label, _ in loader.disk_migrations
        }
        missing = [
            (contract, path)
            for label in sorted(labels)
            for contract, path in pending.missing_cleanups(label, loader)
        ]
        if missing:
            raise CommandError(
                "Contract migrations whose cleanup is neither pending nor promoted "
                "(nothing was detected or written):\n"
                + "\n".join(
                    f"  - {self.get_relative_path(pending.migration_path(contract))} "
                    f"needs {self.get_relative_path(path)}"
                    for contract, path in missing
                )
                + "\nRestore the pending file from version control (a merge may "
                "have lost it). If the change was abandoned, see 'python manage.py "
                "check' (bluegreen.E002) for what to do."
            )

    def _write_notes(self, splits):
        from ...files import notes  # Only --pr-notes needs it: an import costs.

        files = {}
        for contract, cleanup in splits:
            warnings = split_of(contract).warnings
            files[notes.note_path(self.pr_notes, contract, 1)] = notes.contract_note(
                contract, cleanup, warnings
            )
            files[notes.note_path(self.pr_notes, contract, 2)] = notes.cleanup_note(
                cleanup, contract.name
            )
        pending.write_files(files)
        for path in files:
            if self.verbosity >= 1:
                self.log(f"  PR notes: {self.get_relative_path(path)}")

    def _warn_line(self, line):
        self.stderr.write(self.style.WARNING(f"Warning: {line}"))

    def _warn(self, changes):
        for migrations in changes.values():
            for migration in migrations:
                for warning in split_of(migration).warnings:
                    self.log_output.write(self.style.WARNING(f"Warning: {warning}"))

    def _describe_splits(self, splits):
        if self.verbosity < 1:
            return
        self.log(self.style.MIGRATE_HEADING("Blue-green split:"))
        for contract, cleanup in splits:
            contract_path = self.get_relative_path(pending.migration_path(contract))
            cleanup_path = self.get_relative_path(pending.pending_path(cleanup))
            self.log(
                f"  PR 1 (this release): {self.style.MIGRATE_LABEL(contract_path)}\n"
                "    contract: the old release keeps working once it is applied"
            )
            if line := describe.empty_contract_line(contract):
                self.log(f"    {line}")
            self.log(
                "  PR 2 (next release, once no old instance runs): "
                f"{self.style.MIGRATE_LABEL(cleanup_path)}"
            )
            for operation in cleanup.operations:
                self.log(f"    - {operation.describe()}")
            self.log(
                "    waits in the pending folder; in the next release run: "
                f"python manage.py promotemigrations {contract.app_label}"
            )
            if self.scriptable:
                self.stdout.write(cleanup_path)

    def _rewrite_pending(self, changes) -> dict[str, str]:
        """
        Write again the pending cleanups the new migrations re-planned;
        return what the files held before.
        """
        rewrites = {
            path: cleanup
            for migrations in changes.values()
            for migration in migrations
            for path, cleanup in split_of(migration).rewrites.items()
        }
        if self.verbosity >= 1:
            for path, cleanup in rewrites.items():
                self.log(
                    f"Re-planned pending cleanup {self.get_relative_path(path)} "
                    f"(of {cleanup.contract[1]})"
                )
        if self.dry_run or not rewrites:
            return {}
        originals = {}
        for path in rewrites:
            with open(path, encoding="utf-8") as stream:
                originals[path] = stream.read()
        pending.write_files(
            {
                path: pending.render(cleanup.migration, self.include_header)
                for path, cleanup in rewrites.items()
            }
        )
        self.written_files.extend(rewrites)
        return originals


def _batched_outside_transactions(changes) -> None:
    """
    A contract or cleanup that backfills a column (a rename's copy, a NOT
    NULL's fill) runs outside a transaction on every vendor: each batch
    commits on its own, so no batch holds its rows, or SQLite's write lock,
    longer than itself.
    """
    from ...operations import CopyColumn, FillColumn

    for migrations in changes.values():
        for migration in migrations:
            for each in (migration, split_of(migration).cleanup):
                if each is not None and any(
                    isinstance(inner, (CopyColumn, FillColumn))
                    for operation in each.operations
                    for inner in [
                        operation,
                        *getattr(operation, "database_operations", ()),
                    ]
                ):
                    each.atomic = False


# Built on the command of the same name that ours shadows, if any (companions.py).
Command = companions.composed("makemigrations", Command, makemigrations.Command)
