import socket

import pytest

from .project import SERVERS, VENDORS, dropped_databases, make_project  # noqa: F401


def _reachable(vendor: str) -> bool:
    server = SERVERS[vendor]
    try:
        socket.create_connection(
            (server["HOST"], int(server["PORT"])), timeout=2
        ).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=VENDORS)
def vendor(request):
    """Each catalogue test runs on SQLite, PostgreSQL and MariaDB."""
    if request.param != "sqlite" and not _reachable(request.param):
        # Never a silent skip: 'make test' starts the servers first.
        pytest.fail(
            f"{request.param} is not running on {SERVERS[request.param]['HOST']}:"
            f"{SERVERS[request.param]['PORT']}; start it with scripts/services.sh"
        )
    return request.param


@pytest.fixture
def with_auth(settings):
    """In-process tests: django.contrib.auth installed (a swappable model)."""
    settings.INSTALLED_APPS = [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "bluegreen_autodetector",
    ]
