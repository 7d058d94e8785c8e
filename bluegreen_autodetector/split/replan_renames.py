"""
A pending cleanup that finishes a field (``RunAlterSQL``: a foreign key's
constraint, an M2M table's constraints, NOT NULL, a dropped database
default) holds SQL that names the table, the column and the table the
relation points at, as they were when it was captured, and a state step
naming the model and the field. A rename of any of them before the cleanup
runs would leave that SQL naming a view or nothing (the finishing step was
also dropped as if the field were gone: the constraints never came, and
makemigrations saw the field change for ever). Refused until the cleanup is
promoted, like any other change of what it finishes.
"""

from __future__ import annotations

from django.db.migrations import Migration, operations
from django.db.migrations.state import ProjectState

from ..files.pending import PendingCleanup, relative
from .replan import Replan, _finishing


def _target(field, app_label: str) -> str | None:
    """The "app.model" (lower case) a relation points at, or None."""
    remote = getattr(field, "remote_field", None)
    model = getattr(remote, "model", None)
    if model is None:
        return None
    if isinstance(model, str):
        label = model.lower()
        return label if "." in label else f"{app_label}.{label}"
    return model._meta.label_lower


def refuse_renames_of_finished(
    migrations: list[Migration],
    cleanups: list[PendingCleanup],
    leaf_state: ProjectState,
    result: Replan,
) -> None:
    """
    A ``RenameModel``, ``AlterModelTable`` or ``RenameField`` of what a
    pending cleanup finishes (its model, its field, or the model its
    relation points at): refused.
    """
    finishing = _finishing(cleanups)
    for migration in migrations if finishing else ():
        app = migration.app_label
        for operation in migration.operations:
            if isinstance(operation, operations.RenameModel):
                renamed = (app, operation.old_name_lower, None)
            elif isinstance(operation, operations.AlterModelTable):
                renamed = (app, operation.name_lower, None)
            elif isinstance(operation, operations.RenameField):
                renamed = (app, operation.model_name_lower, operation.old_name_lower)
            else:
                continue
            for (label, model, name), (cleanup, finish) in finishing.items():
                step = finish.state_operations[0]
                if renamed[2] is not None:
                    hit = renamed == (label, model, name)
                else:
                    hit = renamed[:2] == (label, model) or (
                        _target(step.field, label) == f"{renamed[0]}.{renamed[1]}"
                    )
                if not hit:
                    continue
                result.refusals.append(
                    f"{label}.{model}.{name}: its cleanup {relative(cleanup.path)} "
                    f"is pending ({finish.describe()}); '{operation.describe()}' "
                    f"would rename what that cleanup's SQL names. Make this "
                    f"change after 'python manage.py promotemigrations' has "
                    f"brought the cleanup into the migrations folder."
                )
                break
