"""``migrate``, which also says when cleanups are waiting for promotion."""

from __future__ import annotations

from django.apps import apps
from django.core.management.commands import migrate

from ... import conf, pending
from ...autodetector import BlueGreenAutodetector


class Command(migrate.Command):
    autodetector = BlueGreenAutodetector

    def handle(self, *args, **options):
        split = conf.enabled()
        # migrate only asks whether models have unmigrated changes; a split
        # never changes that answer, so it need not capture any SQL.
        with conf.forced(False):
            super().handle(*args, **options)
        if options["verbosity"] < 1 or not split:
            return
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
