"""
A fork server for the test projects' commands.

Every command a test runs (``manage.py migrate``, ``probe.py ...``) is a
process of its own, as for a user: the old and the new release never share
an interpreter. Starting each from nothing costs about half a second of
imports (Django's management, migrations and database backends, the
drivers) before the command does anything. This server imports them once,
then forks one child per command: the child is a real, separate process
with its own working directory, environment, arguments, standard streams
and exit status, which starts from an interpreter in which nothing is
configured yet (no settings read, no app loaded, no connection open).

Only Django (with what its commands import), the database drivers and
black are imported ahead: the package under test is imported by the child,
so that a project without it in ``INSTALLED_APPS`` never registers its
checks.

Django formats the migrations it writes by running ``black --fast`` when
black is on ``PATH``; starting black costs a fifth of a second, about as
much as the command itself. When the black found is this environment's, the
child forks once more and the grandchild runs the same black, imported
ahead, on the same files with the same arguments (see ``_format``); any other
black is started as Django starts it.

Protocol, one JSON line each way: the parent sends {"args", "cwd", "env",
"stdin", "stdout", "stderr"} (the last three are file paths); the server
answers {"pid"} once the child runs, then {"returncode"}.
``TEST_NO_ZYGOTE=1`` makes ``tests/project.py`` start plain subprocesses.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys

PRELOAD = (
    "django.core.management",
    "django.core.management.base",
    "django.core.management.commands.check",
    "django.core.management.commands.makemigrations",
    "django.core.management.commands.migrate",
    "django.core.management.commands.sqlmigrate",
    "django.core.checks",
    "django.db.migrations.autodetector",
    "django.db.migrations.executor",
    "django.db.migrations.loader",
    "django.db.migrations.writer",
    "django.db.models",
    "django.db.backends.sqlite3.base",
    "django.db.backends.sqlite3.schema",
    "django.db.backends.postgresql.base",
    "django.db.backends.postgresql.schema",
    "django.db.backends.mysql.base",
    "django.db.backends.mysql.schema",
    "psycopg",
    "MySQLdb",
    # What django.setup() and the system checks import in every command
    # (logging's configuration, the URL resolver and views they load, the
    # template tags, the cache and serializers), none configured by importing.
    "django.utils.log",
    "django.core.cache.backends.locmem",
    "django.core.paginator",
    "django.core.serializers.json",
    "django.core.signing",
    "django.middleware.csrf",
    "django.template.defaultfilters",
    "django.template.defaulttags",
    "django.template.loader_tags",
    "django.templatetags.i18n",
    "django.utils.translation.reloader",
    "django.views.csrf",
    "django.views.debug",
    "django.views.generic",
    "django.db.backends.mysql.compiler",
    "django.core.management.commands.showmigrations",
    "logging.config",
    "logging.handlers",
    "MySQLdb.connections",
    "MySQLdb.cursors",
)


def serve() -> None:
    # The commands run with PYTHONDONTWRITEBYTECODE (a test rewrites a
    # project's models.py within a second); the package's bytecode is
    # written once here, as pip's install does, instead of each child
    # compiling it from source.
    import compileall

    import bluegreen_autodetector

    compileall.compile_dir(os.path.dirname(bluegreen_autodetector.__file__), quiet=1)
    del sys.modules["bluegreen_autodetector"]
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # A driver this leg does not install: the child says so.
    _format_in_a_fork()
    commands, answers = sys.stdin.buffer, sys.stdout.buffer
    for line in commands:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)  # Never returns.
        _answer(answers, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _answer(answers, {"returncode": os.waitstatus_to_exitcode(status)})


def _format_in_a_fork() -> None:
    """Django's ``run_formatters``, black forked instead of started."""
    try:
        import black
    except ImportError:
        return
    from django.core.management import utils
    from django.core.management.commands import makemigrations, squashmigrations

    ours = os.path.join(os.path.dirname(sys.executable), "black")
    started = utils.run_formatters

    def run_formatters(written_files, *args, **kwargs):
        if args or set(kwargs) - {"stderr"} or shutil.which("black") != ours:
            return started(written_files, *args, **kwargs)
        pid = os.fork()
        if pid == 0:
            _format(black, ["--fast", "--", *written_files])  # Never returns.
        os.waitpid(pid, 0)

    for module in (utils, makemigrations, squashmigrations):
        if getattr(module, "run_formatters", None) is started:
            module.run_formatters = run_formatters


def _format(black, args: list[str]) -> None:
    """Run black's command line on ``args``, its output discarded as Django's."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        black.main(args, prog_name="black")
    except SystemExit as exit_:
        code = _exit_code(exit_)
    finally:
        os._exit(code)


def _answer(stream, message: dict) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


def _child(request: dict) -> None:
    """Become the command: streams, directory, environment, arguments."""
    code = 1
    try:
        for fd, path, mode in (
            (0, request["stdin"], os.O_RDONLY),
            (1, request["stdout"], os.O_WRONLY),
            (2, request["stderr"], os.O_WRONLY),
        ):
            opened = os.open(path, mode)
            os.dup2(opened, fd)
            os.close(opened)
        sys.stdin = open(0, closefd=False, encoding="utf-8")
        sys.stdout = open(1, "w", closefd=False, encoding="utf-8")
        sys.stderr = open(2, "w", closefd=False, encoding="utf-8")
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
        import random

        random.seed()  # Not the server's sequence, shared by every child.
        code = _run(request["args"])
    except SystemExit as exit_:
        code = _exit_code(exit_)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        import atexit

        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _run(args: list[str]) -> int:
    """``python ARGS``: a script, ``-m module`` or ``-c code``."""
    import runpy

    if args[0] == "-c":
        sys.argv = ["-c", *args[2:]]
        sys.path.insert(0, "")
        exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
    elif args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(args)
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
        runpy.run_path(args[0], run_name="__main__")
    return 0


def _exit_code(exit_: SystemExit) -> int:
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code
    print(exit_.code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    del sys.path[0]  # This file's folder: each child puts its own first.
    serve()
