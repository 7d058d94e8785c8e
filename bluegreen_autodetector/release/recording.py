"""
Which processes record themselves in the registry of live releases
(``registry.py``): every process that sets Django up may serve, except one
running a deploy-time command. Decided before ``heartbeat.py`` is imported,
so that ``makemigrations`` and ``migrate`` do not import it at all.
"""

from __future__ import annotations

import sys

# Commands run at deploy time or by a person inspecting, not releases serving.
DEPLOY_COMMANDS = frozenset(
    {
        "check",
        "collectstatic",
        "createcachetable",
        "dbshell",
        "deploystatus",
        "diffsettings",
        "ejectbluegreen",
        "help",
        "inspectdb",
        "makemigrations",
        "migrate",
        "optimizemigration",
        "promotemigrations",
        "showmigrations",
        "sqldiff",
        "sqlflush",
        "sqlmigrate",
        "sqlsequencereset",
        "squashmigrations",
        "test",
        "testserver",
        "version",
    }
)


def records() -> bool:
    """Whether this process may serve a release (``AppConfig.ready`` asks)."""
    return running_command() not in DEPLOY_COMMANDS


def running_command() -> str | None:
    """The management command this process runs through ``manage.py``, if any."""
    management = sys.modules.get("django.core.management")
    if management is None:
        return None
    code = management.ManagementUtility.execute.__code__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return frame.f_locals.get("subcommand")
        frame = frame.f_back
    return None
