"""
The pending folder, ``<migrations folder>/pending/``: where cleanup
migrations wait for the next release.

Django's loader never reads it (it has no ``__init__.py``, and the loader
only imports modules of the migrations package itself). Files are written
all-or-nothing, and promoted into the migrations folder renumbered after the
app's current leaf, once their contract has shipped
(``release/promotion.py``).

Each half names the other in a class attribute Django ignores: a contract
migration's ``bluegreen_cleanup`` is its pending file's stem, a cleanup's
``bluegreen_contract`` (pending or promoted) is its contract's name.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module

from django.core.management.base import CommandError
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.writer import MigrationWriter

from ..conf import PENDING_DIRNAME
from ..split import describe

CLEANUP_PREFIX = "cleanup_"
CONTRACT_MARKER = "bluegreen_contract"  # on a cleanup: its contract's name
CLEANUP_MARKER = "bluegreen_cleanup"  # on a contract: its cleanup's pending stem
MARKERS = (CLEANUP_MARKER, CONTRACT_MARKER)
_CLASS_LINE = "class Migration(migrations.Migration):\n"

# The errors of pending files that could not be loaded while ``tolerated()``.
_tolerated: ContextVar[list[CommandError] | None] = ContextVar(
    "bluegreen_tolerated", default=None
)


@contextmanager
def tolerated() -> Iterator[list[CommandError]]:
    """
    While the block runs, ``list_pending`` leaves out the pending files it
    cannot load and collects their errors in the list it yields. ``migrate``
    never runs pending files: one that is broken must not stop it.
    """
    errors: list[CommandError] = []
    token = _tolerated.set(errors)
    try:
        yield errors
    finally:
        _tolerated.reset(token)


def tolerating() -> bool:
    return _tolerated.get() is not None


def tolerated_errors() -> list[str]:
    """The messages collected so far by ``tolerated()``, each once."""
    return list(dict.fromkeys(str(error) for error in _tolerated.get() or ()))


def migrations_directory(app_label: str) -> str | None:
    """The app's migrations folder, or None if it has none (never creates one)."""
    module_name, _ = MigrationLoader.migrations_module(app_label)
    if module_name is None:
        return None
    try:
        module = import_module(module_name)
    except ImportError:
        return None
    paths = list(getattr(module, "__path__", []))
    return paths[0] if paths else None


def pending_directory(app_label: str) -> str | None:
    directory = migrations_directory(app_label)
    return os.path.join(directory, PENDING_DIRNAME) if directory else None


def relative(path: str) -> str:
    """``path`` as every message shows it: Django's ``makemigrations`` rule."""
    from django.core.management.commands.makemigrations import Command

    return Command.get_relative_path(path)


def migration_path(migration: Migration) -> str:
    return MigrationWriter(migration).path


def render(migration: Migration, include_header: bool = True) -> str:
    """The file Django's writer makes of ``migration``, with its markers."""
    return MarkedWriter(migration, include_header).as_string()


class MarkedWriter(MigrationWriter):
    """
    Django's ``MigrationWriter``, writing the package's markers too
    (``with_markers``): the one place a migration's markers are written,
    when its file is, whatever name ``--update`` gave it.
    """

    def as_string(self) -> str:
        return with_markers(super().as_string(), self.migration)


@contextmanager
def writing_markers() -> Iterator[None]:
    """
    While the block runs, Django's ``makemigrations`` writes with
    ``MarkedWriter``: its command builds each writer from the name its own
    module imported, and offers no other way to choose the class.
    """
    from django.core.management.commands import makemigrations

    original = makemigrations.MigrationWriter
    makemigrations.MigrationWriter = MarkedWriter
    try:
        yield
    finally:
        makemigrations.MigrationWriter = original


def with_markers(text: str, migration: Migration) -> str:
    """
    ``text``, a migration file as Django's writer renders it, with a line
    ``bluegreen_cleanup = "..."`` / ``bluegreen_contract = "..."`` for each
    marker set on ``migration``, right after the class line, spaced as the
    writer spaces ``initial = True`` (so it stays black-clean), and
    ``atomic = False`` if it must run outside a transaction (Django's writer
    writes neither). A line already in the text is not repeated.
    """
    text = describe.explain_empty_contract(text, migration, CLEANUP_MARKER)
    lines = "".join(
        f"\n    {marker} = {json.dumps(getattr(migration, marker))}\n"
        for marker in MARKERS
        if getattr(migration, marker, None)
        and not _has_line_starting(text, f"    {marker} = ")
    )
    if not migration.atomic and not _has_line_starting(text, "    atomic = "):
        lines += "\n    atomic = False\n"
    if not lines:
        return text
    end = _line_end(text, _CLASS_LINE)
    if end is None:
        raise CommandError(
            f"Cannot mark migration {migration.app_label}.{migration.name}: its "
            f"file has no line 'class Migration(migrations.Migration):'. "
            f"Nothing was written."
        )
    return text[:end] + lines + text[end:]


def _has_line_starting(text: str, start: str) -> bool:
    """
    Whether a line of ``text`` starts with ``start``: a search for the text
    itself, where a regular expression anchored at each line's start (the
    whole file, as the line is usually absent) costs some 15 times as much.
    """
    return text.startswith(start) or f"\n{start}" in text


def _line_end(text: str, line: str) -> int | None:
    """Where the first line of ``text`` that is ``line`` (with its newline) ends."""
    if text.startswith(line):
        return len(line)
    found = text.find(f"\n{line}")
    return None if found < 0 else found + 1 + len(line)


def pending_path(cleanup: Migration) -> str:
    """Where a new cleanup goes: beside its contract, in ``pending/``."""
    directory = os.path.dirname(migration_path(cleanup))
    return os.path.join(directory, PENDING_DIRNAME, f"{cleanup.name}.py")


class PendingCleanup:
    """A cleanup migration waiting in the pending folder."""

    def __init__(
        self,
        path: str,
        migration: Migration,  # as loaded; its name is the file's name
        contract: tuple[str, str],  # (app_label, name) of its contract migration
    ) -> None:
        self.path = path
        self.migration = migration
        self.contract = contract


def contract_node(graph, contract: tuple[str, str]) -> tuple[str, str] | None:
    """
    The node of ``graph`` that stands for ``contract``: the contract itself,
    else the squashed migration that replaces it (Django's loader takes the
    replaced migrations out of the graph once a squash is used), else None.
    """
    if contract in graph.nodes:
        return contract
    for node, migration in graph.nodes.items():
        if contract in map(tuple, getattr(migration, "replaces", ())):
            return node
    return None


def write_files(files: dict[str, str]) -> None:
    """
    Write every file or none: each goes to a temporary file beside it first,
    and only when all are written are they moved into place.
    """
    temporary = {}
    try:
        for path, content in files.items():
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle, temporary_path = tempfile.mkstemp(
                dir=os.path.dirname(path), prefix=".bluegreen-", suffix=".tmp"
            )
            temporary[temporary_path] = path
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(content)
            # mkstemp makes the file 0600: give it the mode open() gives
            # Django's own files (0666 less the umask), or the one it replaces.
            os.chmod(temporary_path, _mode_for(path))
        for temporary_path, path in temporary.items():
            os.replace(temporary_path, path)
    except OSError as error:
        for temporary_path in temporary:
            if os.path.exists(temporary_path):
                os.remove(temporary_path)
        raise CommandError(
            f"Could not write {error.filename or 'a migration file'}: "
            f"{error.strerror}. Nothing was written; fix the folder's "
            f"permissions and run the command again."
        ) from error


def _mode_for(path: str) -> int:
    """The permission bits a file written at ``path`` gets."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def remove_files(paths) -> None:
    for path in paths:
        if os.path.exists(path):
            os.remove(path)


def has_pending(app_label: str) -> bool:
    directory = pending_directory(app_label)
    return (
        bool(directory)
        and os.path.isdir(directory)
        and any(
            name.endswith(".py") and not name.startswith(("_", "."))
            for name in os.listdir(directory)
        )
    )


def list_pending(app_label: str) -> list[PendingCleanup]:
    """Every pending cleanup of ``app_label``, loaded; sorted by file name."""
    directory = pending_directory(app_label)
    if not directory or not os.path.isdir(directory):
        return []
    loaded, errors = [], _tolerated.get()
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".py") or filename.startswith(("_", ".")):
            continue
        try:
            loaded.append(load_pending(app_label, os.path.join(directory, filename)))
        except CommandError as error:
            if errors is None:
                raise
            errors.append(error)
    return loaded


def load_pending(app_label: str, path: str) -> PendingCleanup:
    """Import one pending file, or explain which file is broken and what to do."""
    name = os.path.splitext(os.path.basename(path))[0]
    module_name = f"_bluegreen_pending_{app_label}_{name}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        migration_class = module.Migration
    except Exception as error:
        raise CommandError(
            f"Pending cleanup {path} cannot be loaded ({type(error).__name__}: "
            f"{error}). Restore it from version control, or delete it and run "
            f"makemigrations again on the release before its contract migration."
        ) from error
    finally:
        sys.modules.pop(module_name, None)
    migration = migration_class(name, app_label)
    contracts = [
        tuple(dependency)
        for dependency in migration.dependencies
        if dependency[0] == app_label
    ]
    if len(contracts) != 1:
        raise CommandError(
            f"Pending cleanup {path} must depend on exactly one migration of "
            f"{app_label!r}, its contract migration; it depends on "
            f"{contracts or 'none'}. Restore the file from version control."
        )
    # Files written before the markers have none: the dependency says it all.
    marked = getattr(migration, CONTRACT_MARKER, None)
    if marked is not None and marked != contracts[0][1]:
        raise CommandError(
            f"Pending cleanup {path} says its contract is {marked!r} "
            f"({CONTRACT_MARKER}) but depends on {contracts[0][1]!r}. Make "
            f"both name the contract migration, then run the command again."
        )
    return PendingCleanup(path, migration, contracts[0])


def lost_contract(cleanup: PendingCleanup) -> str:
    """Why ``cleanup``'s contract cannot be found, and what to do."""
    label, name = cleanup.contract
    return (
        f"Pending cleanup {cleanup.path} belongs to contract migration "
        f"{label}.{name}, which is not in the migrations folder, and no squashed "
        f"migration in use replaces it. If a squash replaced it and no longer says so, "
        f"or it was renamed, put that migration's name in this file's "
        f"dependencies and {CONTRACT_MARKER}; if its change was abandoned, "
        f"delete this file."
    )


def disk_loader() -> MigrationLoader:
    """
    The migrations on disk (``disk_migrations``), without building the
    graph: what ``missing_cleanups`` reads, at the cost of the files alone.
    """
    loader = MigrationLoader(None, load=False, ignore_no_migrations=True)
    loader.load_disk()
    return loader


def missing_cleanups(
    app_label: str, loader: MigrationLoader
) -> list[tuple[Migration, str]]:
    """
    The contract migrations of ``app_label`` (those with ``bluegreen_cleanup``)
    whose cleanup is neither pending (``pending/<bluegreen_cleanup>.py``) nor
    promoted (no migration of the app has ``bluegreen_contract`` naming the
    contract); each with the pending file it expects. Contracts written
    before the markers are not known as such, and never listed.
    """
    migrations = sorted(
        (name, migration)
        for (label, name), migration in loader.disk_migrations.items()
        if label == app_label
    )
    promoted = {
        getattr(migration, CONTRACT_MARKER, None) for _, migration in migrations
    }
    # A promoted cleanup whose contract is a squashed migration (its marker
    # pointed at the squash) is the cleanup of the contracts the squash replaces.
    for name, migration in migrations:
        if name in promoted:
            promoted.update(
                replaced
                for label, replaced in getattr(migration, "replaces", ())
                if label == app_label
            )
    missing = []
    directory = None  # looked up for the first contract: most apps have none
    for name, migration in migrations:
        stem = getattr(migration, CLEANUP_MARKER, None)
        if not stem or name in promoted:
            continue
        directory = directory or pending_directory(app_label)
        if not directory:
            continue
        path = os.path.join(directory, f"{stem}.py")
        if not os.path.isfile(path):
            missing.append((migration, path))
    return missing
