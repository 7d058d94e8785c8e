"""
``ejectbluegreen``: rewrite promoted, applied cleanups as stock ``RunSQL``
for one vendor, so the project's migrations import only Django and the
package can be removed (README, "Removing the package").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.core.management.utils import run_formatters
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

from ...files import pending
from ...files.pending import relative
from ...release import eject


class Command(BaseCommand):
    help = (
        "Rewrite the cleanup migrations promoted and applied on --database as "
        "stock RunSQL holding one vendor's SQL, so that the project's migrations "
        "import only Django and bluegreen_autodetector can be uninstalled."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "args", metavar="app_label", nargs="*", help="Apps (default: every app)."
        )
        parser.add_argument(
            "--vendor",
            help="The vendor whose SQL the rewritten migrations keep (sqlite, "
            "postgresql or mysql; default: the vendor of --database).",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The cleanups must be applied on this database "
            '(default: "default").',
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be rewritten."
        )
        parser.add_argument(
            "--no-header",
            action="store_false",
            dest="include_header",
            help="Do not add a header comment to rewritten migration files.",
        )

    def handle(self, *app_labels, **options):
        connection = connections[options["database"]]
        vendor = options["vendor"] or connection.vendor
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        rewrites = eject.plan_rewrites(
            loader, list(app_labels), vendor, options["database"]
        )
        verbose = options["verbosity"] >= 1
        if not rewrites and verbose:
            self.stdout.write("No promoted cleanup to rewrite.")
        files = {r.path: eject.rendered(r, options["include_header"]) for r in rewrites}
        if verbose and rewrites:
            self.stdout.write(
                self.style.MIGRATE_HEADING(f"Rewritten as stock RunSQL ({vendor}):")
            )
            for path in files:
                self.stdout.write(f"  {relative(path)}")
        if options["dry_run"]:
            return
        pending.write_files(files)
        run_formatters(list(files), stderr=self.stderr)
        left = eject.importing_package(MigrationLoader(None, ignore_no_migrations=True))
        if left:
            self.stderr.write(
                "These migrations still import bluegreen_autodetector; edit them "
                "before removing it:\n"
                + "\n".join(f"  {relative(path)}" for path in left)
            )
        elif verbose:
            self.stdout.write(
                "The migrations import only Django now. Remove "
                "'bluegreen_autodetector' from INSTALLED_APPS and the BLUEGREEN_* "
                "settings, then 'pip uninstall bluegreen-autodetector'."
            )
