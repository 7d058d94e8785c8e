"""
``deploystatus``: the state of a deploy on one database, as the registry of
live releases (``registry.py``) and the migrations folders show it: the live
releases, the pending and the promoted-but-unapplied cleanups, which are
ready, and which release holds each of the others back.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.db.migrations.loader import MigrationLoader

from ... import conf
from ...files import pending
from ...release import guard, releases


class Command(BaseCommand):
    help = (
        "Show the live releases recorded on a database (their migrations, "
        "hosts, first and last seen), the pending and promoted cleanups, which "
        "are ready, and which release holds each of the others back."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help='The database whose releases and migrations to show (default: "default").',
        )
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="text (default) or json, for scripts.",
        )

    def handle(self, *args, **options):
        alias = options["database"]
        ttl = conf.release_ttl()
        found = guard.live(alias) if ttl else None
        loader = MigrationLoader(None, ignore_no_migrations=True)
        knowledge = guard.Knowledge(loader.graph)
        applied = releases.applied_on(alias)
        cleanups = self._pending(loader, applied, found or [], knowledge)
        cleanups += self._promoted(loader, applied, found or [], knowledge)
        state = {
            "database": alias,
            "release_ttl": ttl,
            "registry": "off" if not ttl else "empty" if found is None else "on",
            "releases": [self._release(release) for release in found or []],
            "cleanups": cleanups,
        }
        if options["format"] == "json":
            self.stdout.write(json.dumps(state, indent=2, default=str))
        else:
            self._text(state)

    @staticmethod
    def _release(release) -> dict:
        return {
            "release": release.name,
            "migrations": release.migrations,
            "hosts": [
                {
                    "host": host,
                    "pids": pids,
                    "programs": sorted(
                        {p.program for p in release.processes if p.host == host}
                    ),
                }
                for host, pids in release.hosts().items()
            ],
            "first_seen": release.first_seen.isoformat(),
            "last_seen": release.last_seen.isoformat(),
            "seconds_since_seen": round(release.age, 1),
        }

    @staticmethod
    def _holders(contract, found, knowledge) -> list[str]:
        return [r.name for r in found if not knowledge.knows(r, contract)]

    def _pending(self, loader, applied, found, knowledge) -> list[dict]:
        listed = []
        for config in apps.get_app_configs():
            if not pending.has_pending(config.label):
                continue
            try:
                cleanups = pending.list_pending(config.label)
            except CommandError as error:
                raise CommandError(f"{error} (deploystatus)") from error
            for cleanup in cleanups:
                contract = cleanup.contract
                node = pending.contract_node(loader.graph, contract)
                shipped = contract in applied or (node is not None and node in applied)
                held = self._holders(contract, found, knowledge)
                listed.append(
                    {
                        "app": config.label,
                        "cleanup": cleanup.migration.name,
                        "contract": contract[1],
                        "state": "pending",
                        "contract_applied": shipped,
                        "held_by": held,
                        "ready": shipped and not held,
                    }
                )
        return listed

    def _promoted(self, loader, applied, found, knowledge) -> list[dict]:
        listed = []
        for key in sorted(loader.graph.nodes):
            if key in applied:
                continue
            migration = loader.graph.nodes[key]
            contract = releases.contract_of(migration)
            if contract is None:
                continue
            held = self._holders(contract, found, knowledge)
            listed.append(
                {
                    "app": key[0],
                    "cleanup": key[1],
                    "contract": contract[1],
                    "state": "promoted",
                    "contract_applied": contract in applied,
                    "held_by": held,
                    "ready": not held,
                }
            )
        return listed

    def _text(self, state) -> None:
        write, style = self.stdout.write, self.style
        # The project's own apps: installed packages' migrations say little.
        own = {
            config.label
            for config in apps.get_app_configs()
            if not any(p in config.path for p in ("site-packages", "dist-packages"))
        }
        if state["registry"] == "off":
            write("Registry of live releases: off (BLUEGREEN_RELEASE_TTL = 0).")
        elif state["registry"] == "empty":
            write(
                f"Live releases on database {state['database']!r}: none has "
                f"recorded itself yet."
            )
        else:
            write(
                style.MIGRATE_HEADING(
                    f"Live releases on database {state['database']!r} (seen "
                    f"within BLUEGREEN_RELEASE_TTL = {state['release_ttl']:g} s):"
                )
            )
            if not state["releases"]:
                write("  (none)")
            for release in state["releases"]:
                at = "; ".join(
                    f"{app} at {', '.join(names)}"
                    for app, names in sorted(release["migrations"].items())
                    if app in own
                )
                write(
                    f"  {style.MIGRATE_LABEL(release['release'])}"
                    + (f"  {at}" if at else "")
                )
                for host in release["hosts"]:
                    write(
                        f"    {host['host']}: pid {', '.join(map(str, host['pids']))}"
                        f" ({', '.join(host['programs'])})"
                    )
                write(
                    f"    first seen {release['first_seen']}, last seen "
                    f"{release['seconds_since_seen']:.0f} s ago"
                )
        write(style.MIGRATE_HEADING("Cleanups:"))
        if not state["cleanups"]:
            write("  (none pending or unapplied)")
        for cleanup in state["cleanups"]:
            if cleanup["held_by"]:
                verdict = f"held back by release {', '.join(cleanup['held_by'])}"
            elif not cleanup["contract_applied"] and cleanup["state"] == "pending":
                verdict = f"waits: contract {cleanup['contract']} is not applied"
            elif cleanup["state"] == "pending":
                verdict = "ready to promote"
            else:
                verdict = "ready to migrate"
            write(
                f"  {cleanup['app']}.{cleanup['cleanup']} ({cleanup['state']}, "
                f"cleanup of {cleanup['contract']}): {verdict}"
            )
