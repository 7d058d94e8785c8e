"""
``migrate``: Django's, plus what a blue-green deploy needs. ``handle``
enters one with-block, ``runtime.migrating.migrating``, whose docstring
draws the wrappers outermost first (lock timeouts and retries, online DDL,
SQLite rebuilds that keep what lingers), and judges the plan before any DDL
from Django's ``pre_migrate`` signal: a cleanup with its contract on a
database that was serving (``release/releases.py``), a cleanup while a live
release lacks its contract (``release/guard.py``; ``--wait``), a rollback
that rows block (``runtime/rollback.py``). At its end it says which
cleanups wait for promotion.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.commands import migrate
from django.db import connections
from django.db.models.signals import pre_migrate

from ... import conf
from ...autodetector import BlueGreenAutodetector
from ...files import companions, pending

# locks, online, releases, rollback and sqlite_rebuilds are imported where migrate runs: every
# command's system checks load this class (commands.E001), makemigrations'
# included, which needs none of them.


class Command(migrate.Command):
    # makemigrations and migrate must share one autodetector (commands.E001).
    autodetector = BlueGreenAutodetector

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--wait",
            nargs="?",
            type=float,
            const=300.0,
            metavar="SECONDS",
            help="While a live release lacks the contract of a cleanup to apply, "
            "wait for it to leave, up to SECONDS (default 300), instead of "
            "refusing (registry of live releases; give it as --wait=SECONDS).",
        )

    def execute(self, *args, **options):
        # The system checks run before handle(): they too must not stop on a
        # pending file that cannot be loaded.
        with pending.tolerated():
            result = super().execute(*args, **options)
            unloadable = pending.tolerated_errors()
        for message in unloadable:
            self.stderr.write(
                f"{message} (migrate never runs a pending file; makemigrations "
                f"and promotemigrations stop on it.)"
            )
        return result

    def handle(self, *args, **options):
        from ...runtime.migrating import migrating

        self.database = options["database"]
        self.wait = options.get("wait")
        split = conf.enabled()
        # migrate only asks whether models have unmigrated changes; a split
        # never changes that answer, so it need not capture any SQL.
        self.plan_checked = options["fake"]  # --fake runs no DDL
        self.violations = None  # runtime.violations.Checker, once the plan is known
        # Django computes the plan, then sends pre_migrate (once per app)
        # before its first DDL (syncdb included): the plan is judged there.
        pre_migrate.connect(self._refuse_same_deploy, dispatch_uid=id(self))
        try:
            connection = connections[self.database]
            with conf.forced(False), migrating(connection, self.stdout.write):
                super().handle(*args, **options)
        finally:
            pre_migrate.disconnect(dispatch_uid=id(self))
        if options["verbosity"] >= 1 and split:
            self._report_pending()

    def migration_progress_callback(self, action, migration=None, fake=False):
        if action == "unapply_start" and not fake:
            from ...runtime import rollback

            rollback.refuse_if_blocked(migration, connections[self.database])
        if action == "apply_start" and not fake and self.violations is not None:
            # Rows that break a constraint it adds, before its first DDL.
            self.violations.refuse(migration)
        super().migration_progress_callback(action, migration, fake)

    def _refuse_same_deploy(self, plan=None, using=None, **kwargs):
        if self.plan_checked or using != self.database or plan is None:
            return
        self.plan_checked = True
        from ...release import guard, releases
        from ...runtime import rollback, violations

        releases.refuse_same_deploy(plan, using)
        say = self.stdout.write if self.verbosity >= 1 else None
        guard.refuse_live(plan, using, self.wait, say)
        rollback.refuse_blocked_plan(plan, connections[using])
        self.violations = violations.Checker(connections[using])
        self.violations.refuse_plan(plan)

    def _report_pending(self):
        waiting = [
            config.label
            for config in apps.get_app_configs()
            if pending.has_pending(config.label)
        ]
        if waiting:
            self.stdout.write(
                "Cleanups pending in "
                + ", ".join(waiting)
                + ": promote them in the next release "
                "('python manage.py promotemigrations'), once no instance of "
                "the release before runs."
            )


# Built on the command of the same name that ours shadows, if any (companions.py).
Command = companions.composed("migrate", Command, migrate.Command)
