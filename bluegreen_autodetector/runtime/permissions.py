"""
A renamed model's permissions while both releases run.

From Django 6.1, ``migrate`` renames a renamed model's permissions
(``django.contrib.auth``'s ``post_migrate`` hook: ``change_book`` becomes
``change_novel``), and the old release's ``has_perm("shop.change_book")``
would fail until it is gone. A contract that renames a model therefore
keeps the old codenames too: a copy of each renamed permission on the same
content type, held by the same users and groups (every many-to-many table
that points at ``Permission``). The cleanup deletes the copies; rolling it
back makes them again, and rolling back the contract deletes them before
Django renames the permissions back (it would find the old codenames taken).
Before Django 6.1 the permissions keep their codenames, and nothing is done.

A grant made during the overlap holds in the release that made it: the two
codenames are two permissions.

Django's hook renames for the ``RenameModel`` operations of a migration's
own list only. A contract that renames the table itself runs its
``RenameModel`` on the state only, inside a ``SeparateDatabaseAndState``
(``split/catalogue/tables.rename_with_views``: on MariaDB, and on
PostgreSQL where another model's many-to-many table names a column after
the model): Django's hook is called for those too,
with them alone, as ``content_types.py`` renames their ContentType rows.
Without it the renamed model's permissions kept the old codenames, and the
new release's ``change_novel`` was a new permission that nobody held.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps as global_apps
from django.db import router, transaction
from django.db.migrations import operations
from django.db.models.signals import post_migrate, pre_migrate

from ..files import pending

UID = "bluegreen_autodetector.runtime.permissions"


@contextmanager
def keeping_old_codenames(using: str) -> Iterator[None]:
    """While the block runs, ``migrate`` on ``using`` keeps them as above."""
    if not _renames_permissions():
        yield
        return

    # Both signals are sent once per app, the whole plan with each: each
    # app's renames are handled with its own (auth renames its permissions
    # in its post_migrate).
    def before(app_config, plan=None, apps=None, **kwargs):
        if kwargs.get("using") == using:
            for renames in _renames(plan, app_config.label, True, backward=True):
                _delete_copies(apps, using, app_config.label, renames)

    def after(app_config, plan=None, apps=None, **kwargs):
        if kwargs.get("using") != using:
            return
        label = app_config.label
        _rename_state_only(app_config, plan, apps, kwargs)
        for renames in _renames(plan, label, contracts=True, backward=False):
            _copy(apps, using, label, renames)
        for renames in _renames(plan, label, contracts=False, backward=True):
            _copy(apps, using, label, renames)
        for renames in _renames(plan, label, contracts=False, backward=False):
            _delete_copies(apps, using, label, renames)

    # Connected after django.contrib.auth's hooks (AppConfig.ready): run after them.
    pre_migrate.connect(before, dispatch_uid=UID, weak=False)
    post_migrate.connect(after, dispatch_uid=UID, weak=False)
    try:
        yield
    finally:
        pre_migrate.disconnect(dispatch_uid=UID)
        post_migrate.disconnect(dispatch_uid=UID)


def _renames_permissions() -> bool:
    """Django renames a renamed model's permissions (6.1) and auth is installed."""
    if not global_apps.is_installed("django.contrib.auth"):
        return False
    from django.contrib.auth import management

    return hasattr(management, "rename_permissions_after_model_rename")


def _renames(plan, app_label: str, contracts: bool, backward: bool):
    """
    [(old model name, new model name)] of each contract (``contracts``) or
    cleanup of a model rename of ``app_label`` in ``plan`` that runs in the
    direction ``backward``; names lower-cased.
    """
    for migration, is_backward in plan or ():
        if is_backward is not backward or migration.app_label != app_label:
            continue
        if contracts:
            if not getattr(migration, pending.CLEANUP_MARKER, None):
                continue
            contract = migration
        else:
            name = getattr(migration, pending.CONTRACT_MARKER, None)
            if not name:
                continue
            contract = _contract(migration.app_label, name)
            if contract is None:
                continue
        renames = [
            (operation.old_name_lower, operation.new_name_lower)
            for operation in [
                *contract.operations,
                *_state_only_renames(contract),
            ]
            if isinstance(operation, operations.RenameModel)
        ]
        if renames:
            yield renames


def _state_only_renames(migration) -> list:
    """The ``RenameModel`` operations a contract runs on the state only."""
    from .content_types import state_only_renames

    return [
        renamed
        for operation in migration.operations
        for renamed in state_only_renames(operation)
    ]


def _rename_state_only(app_config, plan, apps, signal_kwargs) -> None:
    """
    Django's own renaming of permissions (auth's ``post_migrate`` hook), for
    the contracts' state-only renames of ``app_config``'s models in ``plan``,
    which the hook does not see. Called after it, as it would have run.
    """
    from django.contrib.auth.management import rename_permissions_after_model_rename

    plan = [
        (_Renames(migration.app_label, renames), backward)
        for migration, backward in plan or ()
        if migration.app_label == app_config.label
        and getattr(migration, pending.CLEANUP_MARKER, None)
        and (renames := _state_only_renames(migration))
    ]
    if not plan:
        return
    using = signal_kwargs["using"]
    found = _models(apps, using)
    if found is not None:
        for stand_in, backward in plan:
            for operation in stand_in.operations:
                names = (operation.old_name_lower, operation.new_name_lower)
                old, new = names[::-1] if backward else names
                _drop_unheld_twins(apps, using, found, app_config.label, old, new)
    rename_permissions_after_model_rename(
        app_config,
        plan=plan,
        apps=apps,
        **{
            name: signal_kwargs[name]
            for name in ("verbosity", "using", "stdout")
            if name in signal_kwargs
        },
    )


def _drop_unheld_twins(
    apps, using: str, found, app_label: str, old: str, new: str
) -> None:
    """
    Delete the permissions ``create_permissions`` (auth's hook after the
    renaming one) just made for model ``new`` where ``old``'s are still to be
    renamed to them: Django's renaming would find their codenames taken.
    Only those nobody holds; one that is held stays, and Django reports it.
    """
    permission, content_type = found
    kinds = content_type.objects.using(using).filter(app_label=app_label, model=new)
    for kind in kinds:
        codenames = {
            codename: pk
            for pk, codename in permission.objects.using(using)
            .filter(content_type=kind)
            .values_list("pk", "codename")
        }
        twins = [
            pk
            for codename, pk in codenames.items()
            if codename.endswith(f"_{new}")
            and f"{codename.removesuffix(f'_{new}')}_{old}" in codenames
        ]
        holders = list(_holders(apps, permission))
        for pk in twins:
            if not any(
                through._default_manager.db_manager(using).filter(**{own: pk}).exists()
                for through, own, _ in holders
            ):
                permission._default_manager.db_manager(using).filter(pk=pk).delete()


class _Renames:
    """A stand-in migration holding the renames Django's hook is to see."""

    def __init__(self, app_label: str, operations: list) -> None:
        self.app_label = app_label
        self.operations = operations


def _contract(app_label: str, name: str):
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, load=False, ignore_no_migrations=True)
    loader.load_disk()
    return loader.disk_migrations.get((app_label, name))


def _models(apps, using: str):
    """Permission and ContentType of ``apps``, or None where auth does not migrate here."""
    try:
        permission = apps.get_model("auth", "Permission")
        content_type = apps.get_model("contenttypes", "ContentType")
    except LookupError:
        return None
    if not router.allow_migrate_model(using, permission):
        return None
    return permission, content_type


def _pairs(apps, using: str, app_label: str, renames):
    """(the renamed permission, the codename the old release asks for) of each."""
    found = _models(apps, using)
    if found is None:
        return
    permission, content_type = found
    for old, new in renames:
        for kind in content_type.objects.using(using).filter(
            app_label=app_label, model=new
        ):
            renamed = permission.objects.using(using).filter(content_type=kind)
            for each in renamed:
                action = each.codename.removesuffix(f"_{new}")
                if action != each.codename:
                    yield each, f"{action}_{old}"


def _copy(apps, using: str, app_label: str, renames) -> None:
    # One transaction: a copy is made with its holders or not at all.
    with transaction.atomic(using=using):
        _copy_each(apps, using, app_label, renames)


def _copy_each(apps, using: str, app_label: str, renames) -> None:
    for renamed, codename in list(_pairs(apps, using, app_label, renames)):
        manager = type(renamed)._default_manager.db_manager(using)
        copy, made = manager.get_or_create(
            content_type_id=renamed.content_type_id,
            codename=codename,
            defaults={"name": renamed.name},
        )
        if made:
            for through, own, other in _holders(apps, type(renamed)):
                through._default_manager.db_manager(using).bulk_create(
                    through(**{own: copy.pk, other: row})
                    for row in through._default_manager.db_manager(using)
                    .filter(**{own: renamed.pk})
                    .values_list(other, flat=True)
                )


def _delete_copies(apps, using: str, app_label: str, renames) -> None:
    for renamed, codename in list(_pairs(apps, using, app_label, renames)):
        type(renamed)._default_manager.db_manager(using).filter(
            content_type_id=renamed.content_type_id, codename=codename
        ).exclude(pk=renamed.pk).delete()


def _holders(apps, permission):
    """(through model, its column to a permission, its other column) of each holder."""
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_many_to_many:
            if field.remote_field.model is permission:
                through = field.remote_field.through
                yield (
                    through,
                    field.m2m_reverse_name(),
                    field.m2m_column_name(),
                )
