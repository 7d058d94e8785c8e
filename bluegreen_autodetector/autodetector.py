"""
The autodetector: Django's, plus the blue-green split of its result.

Django detects the changes and names the migrations as usual; then every
migration holding a backward-incompatible operation is rewritten as a
contract migration (stock operations only) and gets a cleanup migration
that the ``makemigrations`` command writes to the pending folder. Both, and
what the user must hear, are the migration's ``split.result.SplitResult``.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import CommandError
from django.db.migrations import Migration, operations
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState

from . import conf, names
from .capture.capture import Capture
from .files import pending
from .split.migration import created_in_run, split_migration
from .split.result import attach
from .verifier import judge, live, shape, states


class BlueGreenAutodetector(MigrationAutodetector):
    """
    Split backward-incompatible changes into a contract and a cleanup, when
    ``conf.enabled()``; otherwise Django's autodetector.

    Either way, Django's state is taken as it will be once the pending
    cleanups have run: they bring it to the models, so the changes they hold
    are not detected again.
    """

    def __init__(self, from_state, to_state, questioner=None):
        self.pending_cleanups = [
            cleanup
            for config in apps.get_app_configs()
            for cleanup in pending.list_pending(config.label)
        ]
        # Django's state at the graph's leaf: the contracts' shape, which is
        # what the database holds until the pending cleanups run.
        self.leaf_state = from_state
        super().__init__(
            with_cleanups(from_state, self.pending_cleanups), to_state, questioner
        )

    def _detect_changes(self, convert_apps=None, graph=None):
        # Django moves the options naming fields of a created or a deleted
        # model into operations of their own, popping them from the state it
        # reads (generate_created_models, generate_deleted_models). The split
        # and the verifier read both states as the models are: without them,
        # a new model's unique_together was a constraint its own release did
        # not know, and its order_with_respect_to a NOT NULL column _order it
        # never wrote (a refused initial migration).
        if not conf.enabled():
            return super()._detect_changes(convert_apps, graph)
        kept = [
            *_field_options(self.to_state, self.from_state),
            *_field_options(self.from_state, self.to_state),
        ]
        try:
            return super()._detect_changes(convert_apps, graph)
        finally:
            # A new dict: Django's CreateModel holds the one it popped from.
            for model_state, options in kept:
                model_state.options = {**options, **model_state.options}

    def _generate_added_field(self, app_label, model_name, field_name):
        field = self.to_state.models[app_label, model_name].get_field(field_name)
        if not (
            conf.enabled()
            and field.unique
            and field.has_default()
            and callable(field.default)
        ):
            return super()._generate_added_field(app_label, model_name, field_name)
        from .split.catalogue.additions import fills_each_row

        if not fills_each_row(field):
            return super()._generate_added_field(app_label, model_name, field_name)
        # The split fills each existing row with its own call of the default:
        # Django's question (unique values by a hand-written migration, or
        # quit) does not arise, and is not asked.
        questioner = self.questioner
        self.questioner = _UniqueValuesFilled(questioner)
        try:
            return super()._generate_added_field(app_label, model_name, field_name)
        finally:
            self.questioner = questioner

    def changes(self, graph, trim_to_apps=None, convert_apps=None, migration_name=None):
        if pending.tolerated_errors():
            # A pending cleanup that cannot be loaded hides what it changes:
            # whether the models have unmigrated changes cannot be told.
            return {}
        changes = super().changes(graph, trim_to_apps, convert_apps, migration_name)
        if not conf.enabled():
            return changes
        names.refuse_names_taken(
            changes, self.from_state, self.to_state, self.pending_cleanups
        )
        capture = Capture(self.leaf_state, conf.vendors(), self.to_state)
        ordered = _in_dependency_order(changes)
        # The pending cleanups are part of the plan (split/replan.py), read
        # only where there are some: most runs have none, and an import costs.
        plan = None
        if self.pending_cleanups:
            from .split.replan import replan_before_split

            plan = replan_before_split(ordered, self.pending_cleanups, self.leaf_state)
        # The split reads each operation against what the database holds.
        split_keys = _touched_models(changes)
        state = states.copy_state(self.leaf_state, split_keys)
        refusals = list(plan.refusals) if plan else []
        non_interactive = isinstance(self.questioner, NonInteractiveMigrationQuestioner)
        created = created_in_run(ordered, self.from_state, self.to_state)
        for migration in ordered:
            refusals += split_migration(
                migration, state, capture, non_interactive, created
            )
        if plan:
            from .split.replan import replan_removals

            replan_removals(self.pending_cleanups, state, plan)
        if ordered and not refusals:
            refusals += self._judge(graph, ordered, whole=split_keys is None)
        if refusals:
            raise CommandError(
                "Backward-incompatible changes that no blue-green split makes "
                "safe (nothing was written):\n"
                + "\n".join(f"  - {refusal}" for refusal in refusals)
                + "\nFollow the safe recipe, or run makemigrations --allow-unsafe "
                "to let the stock operations through for this run."
            )
        if ordered:
            attach(ordered[-1]).rewrites = plan.rewrites if plan else {}
        return changes

    def _judge(self, graph, ordered: list[Migration], whole: bool) -> list[str]:
        """
        What the verifier finds once ``ordered`` are applied, with the
        releases that can then be live: the errors to refuse (or, with
        --allow-unsafe, to warn about on the last migration). ``whole``: the
        operations may change any model (a rename), so copy them all. With
        ``--database``, the old release is the oldest one its registry shows
        live, if any.
        """
        recorded = None
        if judged_on := conf.judged_on_database():
            from .release import serving  # only --database reads a registry

            recorded = serving.recorded(
                judged_on[0],
                graph,
                judged_on[1],
                "the release before the oldest pending contract",
            )
        releases = live.live_releases(
            graph,
            [
                pending.contract_node(graph, cleanup.contract) or cleanup.contract
                for cleanup in self.pending_cleanups
            ],
            self.leaf_state,
            recorded,
        )
        keys = live.touched(ordered) | live.touched(
            [graph.nodes[node] for node in releases.unreleased]
            + [cleanup.migration for cleanup in self.pending_cleanups]
        )
        if whole:
            database = states.copy_state(releases.database)
        else:
            # The verifier reads these models and those they refer to.
            scope = shape.related_keys(
                [releases.database, releases.old, self.to_state], keys
            )
            # Only the models the migrations change are copied.
            database = states.part_of(releases.database, scope, keys)
        for migration in ordered:
            live.database_forwards(migration, database)
        findings = judge.verify(
            {
                releases.old_name: releases.old,
                "the new release": states.unrenamed(self.to_state, self.renamed_models),
            },
            database,
            keys,
        )
        errors = [str(f) for f in findings if f.severity == judge.ERROR]
        attach(ordered[-1]).warnings += _new_warnings(releases, findings, keys)
        if conf.allow_unsafe():
            attach(ordered[-1]).warnings += [
                f"let through by --allow-unsafe: {error}" for error in errors
            ]
            return []
        return errors


# The options Django's autodetector pops from a created or deleted model.
_FIELD_OPTIONS = ("indexes", "constraints", "unique_together", "order_with_respect_to")


def _field_options(state: ProjectState, other: ProjectState) -> list[tuple]:
    """
    Each model state of ``state`` that ``other`` lacks (created, or deleted,
    or renamed), with a copy of its options naming fields.
    """
    return [
        (
            model_state,
            {
                name: model_state.options[name]
                for name in _FIELD_OPTIONS
                if name in model_state.options
            },
        )
        for key, model_state in state.models.items()
        if key not in other.models
    ]


class _UniqueValuesFilled:
    """``questioner``, answering "continue" when asked about a unique field's
    callable default."""

    def __init__(self, questioner):
        self._questioner = questioner

    def __getattr__(self, name):
        return getattr(self._questioner, name)

    def ask_unique_callable_default_addition(self, field_name, model_name):
        return None


def _new_warnings(releases: live.LiveReleases, findings, keys) -> list[str]:
    """
    What the verifier says the old release's writes may meet (a unique or
    check constraint it does not know, a narrower type), less what the
    unreleased migrations brought: that was said when they were made.
    """
    warned = [
        str(finding)
        for finding in findings
        if finding.severity == judge.WARNING and finding.release == releases.old_name
    ]
    # The new release's, where the database keeps a column's old type while
    # both releases write it (a retype's second column, retypes.py).
    warned += [
        str(finding)
        for finding in findings
        if finding.severity == judge.WARNING and finding.release != releases.old_name
    ]
    if warned and releases.unreleased:
        before = judge.verify(
            {releases.old_name: releases.old}, releases.database, keys
        )
        said = {str(finding) for finding in before}
        warned = [warning for warning in warned if warning not in said]
    return warned


def with_cleanups(
    state: ProjectState, cleanups: list[pending.PendingCleanup]
) -> ProjectState:
    """``state`` plus the state operations of the pending ``cleanups``."""
    if not cleanups:
        return state
    state = state.clone()
    for cleanup in cleanups:
        for operation in cleanup.migration.operations:
            if _finishes_something_gone(operation, cleanup.migration.app_label, state):
                continue  # The next makemigrations re-plans the cleanup.
            operation.state_forwards(cleanup.migration.app_label, state)
    return state


def _finishes_something_gone(operation, app_label: str, state: ProjectState) -> bool:
    """A step finishing a field or model that a later migration removed."""
    for step in getattr(operation, "state_operations", None) or ():
        if isinstance(step, operations.AlterField):
            model_state = state.models.get((app_label, step.model_name_lower))
            if model_state is None or step.name not in model_state.fields:
                return True
    return False


def _touched_models(changes: dict[str, list[Migration]]) -> set | None:
    """
    The models the split may change, or None (all of them): a rename
    repoints every field that refers to what it renames.
    """
    migrations = [m for app_migrations in changes.values() for m in app_migrations]
    if any(
        isinstance(operation, (operations.RenameModel, operations.RenameField))
        for migration in migrations
        for operation in migration.operations
    ):
        return None
    return live.touched(migrations)


def _in_dependency_order(changes: dict[str, list[Migration]]) -> list[Migration]:
    by_key = {
        (migration.app_label, migration.name): migration
        for app_migrations in changes.values()
        for migration in app_migrations
    }
    ordered, seen = [], set()

    def visit(migration):
        key = (migration.app_label, migration.name)
        if key in seen:
            return
        seen.add(key)
        for dependency in migration.dependencies:
            if tuple(dependency[:2]) in by_key:
                visit(by_key[tuple(dependency[:2])])
        ordered.append(migration)

    for migration in by_key.values():
        visit(migration)
    return ordered
