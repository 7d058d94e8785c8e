"""
System checks (``python manage.py check``):

- ``bluegreen.E001``: a pending cleanup that cannot be loaded, or whose
  contract migration is missing from the migrations folder;
- ``bluegreen.E002``: a contract migration whose cleanup is neither pending
  nor promoted (its pending file was lost, e.g. in a merge);
- ``bluegreen.W001`` (with ``BLUEGREEN_MIGRATIONS``): what the verifier finds
  in the migrations of the project's own apps (not installed packages) that
  the default database has not applied yet: a statement of the release now
  serving, or of the one they ship, that fails against the database they
  leave. Silence it for one migration by giving its class
  ``bluegreen_reviewed = "why it is safe"``. Where the registry of live
  releases of that database has one, the release now serving is the
  oldest live release (``release/serving.py``);
- ``bluegreen.W002``: ``makemigrations``, ``migrate`` or ``promotemigrations``
  is another app's command, not built on ours (django-linear-migrations,
  django-migration-linter and others ship a ``makemigrations`` too; the
  first app listed wins);
- ``bluegreen.W003``: ours shadows another app's command that it cannot be
  built on (``companions.composed``), so that command never runs;
- ``bluegreen.W004``: the registry of live releases of the default database
  cannot be read; W001 judges against the applied migrations instead.
"""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.core.management import get_commands
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.exceptions import BadMigrationError, NodeNotFoundError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from . import conf
from .files import companions, pending
from .verifier import judge, live


@checks.register("migrations")
def check_migrations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    configs = app_configs or apps.get_app_configs()
    loader = None
    messages = []
    for config in configs:
        if not pending.has_pending(config.label):
            continue
        loader = loader or _loader(None)
        if loader is None:
            break
        try:
            cleanups = pending.list_pending(config.label)
        except CommandError as error:
            messages.append(checks.Error(str(error), id="bluegreen.E001"))
            continue
        if pending.tolerating():
            # migrate runs no pending file; it says so at its end.
            continue
        for cleanup in cleanups:
            if pending.contract_node(loader.graph, cleanup.contract) is None:
                messages.append(
                    checks.Error(
                        pending.lost_contract(cleanup),
                        hint="A squash stands for the contracts it replaces while "
                        "it keeps their names in its replaces: remove them from "
                        "it only once the cleanup is promoted.",
                        id="bluegreen.E001",
                    )
                )
    if conf.enabled():
        messages += _hazards(configs)
    return messages


@checks.register("migrations")
def check_cleanups_present(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every contract migration's cleanup is pending or promoted."""
    configs = app_configs or apps.get_app_configs()
    try:
        loader = pending.disk_loader()
    except BadMigrationError:
        return []  # Django's commands report a migration they cannot load.
    messages = []
    for config in configs:
        for contract, path in pending.missing_cleanups(config.label, loader):
            contract_path = pending.relative(pending.migration_path(contract))
            messages.append(
                checks.Error(
                    f"Contract migration {contract_path} has lost its cleanup: "
                    f"{pending.relative(path)} is not pending, and no migration of "
                    f"{config.label!r} has {pending.CONTRACT_MARKER} = "
                    f"{contract.name!r}. What the contract left for the release "
                    f"before stays in the database, and makemigrations may "
                    f"write the change again, dropping it in this release.",
                    hint=f"Restore {pending.relative(path)} from version control (a "
                    f"merge may have lost it). If the change was abandoned "
                    f"before the contract shipped, delete {contract_path} too "
                    f"and revert the models; if the database is to keep what "
                    f"the contract left, delete the line "
                    f"{pending.CLEANUP_MARKER} = ... from {contract_path}.",
                    id="bluegreen.E002",
                )
            )
    return messages


def _loader(connection) -> MigrationLoader | None:
    """
    The migration graph, or None where it cannot be built: a database that
    cannot be reached, or a graph Django's loader rejects (a dependency on
    an unknown app or a missing migration). Django's own commands report a
    broken graph; a check here would only crash ``manage.py check``.
    """
    try:
        return MigrationLoader(connection, ignore_no_migrations=True)
    except (DatabaseError, ValueError, NodeNotFoundError, BadMigrationError):
        return None


def _serves(connection) -> bool:
    """
    Whether ``connection``'s database has applied migrations (one query; no
    migration graph is built for a fresh or unreachable database).
    """
    try:
        return bool(MigrationRecorder(connection).applied_migrations())
    except DatabaseError:
        return False


def _finishing(graph, unapplied, applied):
    """
    The promoted cleanups among ``unapplied`` whose contract is applied: the
    release now serving shipped that contract with the models, which are its
    state plus the cleanup's state operations (a NOT NULL the cleanup sets,
    say, it already honours). Judged as part of that release, not as news to
    it.
    """
    for node in unapplied:
        contract = getattr(graph.nodes[node], pending.CONTRACT_MARKER, None)
        if contract and (node[0], contract) in applied:
            yield node


# What is lost when another app's command runs instead of ours.
OUR_COMMANDS = {
    "makemigrations": "backward-incompatible changes are not split",
    "migrate": "no lock timeouts, no rollback check of NULL rows",
    "promotemigrations": "pending cleanups are not promoted as documented",
}


@checks.register()
def check_commands(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """
    Our commands must be the ones ``manage.py`` runs (W002), and those they
    shadow must run inside them (W003; see ``companions.composed``).
    """
    from django.core.management import load_command_class

    ours = __package__
    messages = []
    for name, lost in OUR_COMMANDS.items():
        owner = get_commands().get(name)
        if owner != ours:
            if _built_on_ours(owner, name):
                continue
            messages.append(
                checks.Warning(
                    f"'manage.py {name}' runs the command of {owner!r}, not "
                    f"{ours!r}'s: {lost}.",
                    hint=f"List {ours!r} above {owner!r} in INSTALLED_APPS: "
                    f"the first app listed provides a command, and {ours}'s "
                    f"is built on the one it shadows when that one subclasses "
                    f"Django's (or make {owner!r}'s Command subclass "
                    f"{ours}.management.commands.{name}.Command).",
                    id="bluegreen.W002",
                )
            )
            continue
        shadowed = companions.shadowed_command(name)
        if shadowed is None:
            continue
        command = load_command_class(ours, name).__class__
        if getattr(command, "shadows", None) != shadowed[0]:
            messages.append(
                checks.Warning(
                    f"'manage.py {name}' of {shadowed[0]!r} never runs: "
                    f"{ours!r}'s, listed above it in INSTALLED_APPS, replaces "
                    f"it, and cannot be built on it ({shadowed[1].__module__}."
                    f"{shadowed[1].__qualname__} is not a subclass of Django's "
                    f"{name} Command).",
                    hint=f"Make it subclass django.core.management.commands."
                    f"{name}.Command (then {ours}'s runs it), or make it "
                    f"subclass {ours}.management.commands.{name}.Command and "
                    f"list {shadowed[0]!r} above {ours!r}.",
                    id="bluegreen.W003",
                )
            )
    return messages


def _built_on_ours(owner: str, name: str) -> bool:
    """Whether app ``owner``'s ``name`` command subclasses ours."""
    from django.core.management import load_command_class

    module = f"{__package__}.management.commands.{name}"
    try:
        theirs = load_command_class(owner, name).__class__
    except ImportError:
        return False
    return any(klass.__module__ == module for klass in theirs.__mro__)


def _hazards(configs) -> list[checks.CheckMessage]:
    """
    The verifier on the migrations of the project's own apps that the
    default database has not applied: what they break for the release now
    serving (the applied migrations; the oldest live release where the
    database's registry has one, ``release/serving.py``) or the one they
    ship. A fresh database serves no release; one that cannot be reached
    says nothing; a registry that cannot be read is bluegreen.W004.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if not _serves(connection):
        return []
    loader = _loader(connection)
    if loader is None:
        return []
    applied = set(loader.applied_migrations or ())
    if not applied:
        return []
    # The project's own apps: installed packages' history is theirs.
    labels = {
        config.label
        for config in configs
        if not any(part in config.path for part in ("site-packages", "dist-packages"))
    }
    unapplied = [node for node in loader.graph.nodes if node not in applied]
    judged = [
        loader.graph.nodes[node]
        for node in unapplied
        if node[0] in labels
        and not getattr(loader.graph.nodes[node], "bluegreen_reviewed", None)
    ]
    keys = live.touched(judged)
    if not keys:
        return []
    old_name = (
        f"the release now serving (migrations applied on database {DEFAULT_DB_ALIAS!r})"
    )
    unreleased = set(unapplied) - set(_finishing(loader.graph, unapplied, applied))
    # The oldest live release, where the registry of this database has one.
    from .release import serving

    messages = []
    found = serving.recorded(
        DEFAULT_DB_ALIAS,
        loader.graph,
        lambda line: messages.append(checks.Warning(line, id="bluegreen.W004")),
        old_name,
    )(unreleased)
    if found is not None:
        old_name, unreleased = found
    releases, leaf = live.replay(
        loader.graph,
        unreleased,
        loader.unmigrated_apps,
        old_name,
        with_leaf=True,
    )
    findings = judge.verify(
        {releases.old_name: releases.old, "the new release": leaf},
        releases.database,
        keys,
    )
    names = ", ".join(f"{m.app_label}.{m.name}" for m in judged)
    return messages + [
        checks.Warning(f"{finding}.", hint=_hint(finding, names), id="bluegreen.W001")
        for finding in findings
    ]


def _hint(finding, names: str) -> str:
    if finding.severity == judge.WARNING:
        # Whether it fails depends on the values written (a constraint or a
        # type the other release does not know): no split avoids it.
        return (
            f"Unapplied migrations: {names}. Such a write fails only for some "
            f"values, while both releases run; makemigrations "
            f"(BLUEGREEN_MIGRATIONS on) warns of it, and no split avoids it. If "
            f"no release writes such values, set bluegreen_reviewed = '<why>' "
            f"on the Migration class."
        )
    return (
        f"Unapplied migrations: {names}. Make the change with makemigrations "
        f"(BLUEGREEN_MIGRATIONS on) so that it is split, or, if it is safe (e.g. "
        f"no release runs that code), set bluegreen_reviewed = '<why>' on the "
        f"Migration class."
    )
