"""Settings for the bluegreen_autodetector example project (SQLite by default)."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "example-project-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django_extensions",
    "bluegreen_autodetector",
    "bookstore",
]

# Split backward-incompatible migrations into a contract migration (this
# release) and a pending cleanup migration (next release).
BLUEGREEN_MIGRATIONS = True

# Each serving process records its release in the database; a cleanup waits
# while a release without its contract was seen within this many seconds
# (0: off). benchmarks/registry_cost.py serves with it on and off.
BLUEGREEN_RELEASE_TTL = float(os.environ.get("EXAMPLE_RELEASE_TTL", 60))

MIDDLEWARE = []

ROOT_URLCONF = "example.urls"

# SQLite by default. benchmarks/rollout.py (`make rehearsal`) serves the same
# project on PostgreSQL or on a shared SQLite file through these variables:
#   EXAMPLE_DB_VENDOR  sqlite (default) | postgresql | mysql
#   EXAMPLE_DB_NAME    the database name (SQLite: the file; default db.sqlite3)
#   EXAMPLE_DB_HOST, EXAMPLE_DB_PORT, EXAMPLE_DB_USER, EXAMPLE_DB_PASSWORD
EXAMPLE_DB_VENDOR = os.environ.get("EXAMPLE_DB_VENDOR", "sqlite")

if EXAMPLE_DB_VENDOR == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("EXAMPLE_DB_NAME") or BASE_DIR / "db.sqlite3",
            # Several processes (two releases' web workers and `migrate`)
            # share the file: readers must not block the writer (WAL), and
            # writers queue for the lock (BEGIN IMMEDIATE + busy timeout)
            # instead of failing with "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
elif EXAMPLE_DB_VENDOR in ("postgresql", "mysql"):
    DATABASES = {
        "default": {
            "ENGINE": f"django.db.backends.{EXAMPLE_DB_VENDOR}",
            "NAME": os.environ.get("EXAMPLE_DB_NAME", "bluegreen_example"),
            "HOST": os.environ.get("EXAMPLE_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get(
                "EXAMPLE_DB_PORT",
                "5432" if EXAMPLE_DB_VENDOR == "postgresql" else "3306",
            ),
            "USER": os.environ.get(
                "EXAMPLE_DB_USER",
                "postgres" if EXAMPLE_DB_VENDOR == "postgresql" else "root",
            ),
            "PASSWORD": os.environ.get("EXAMPLE_DB_PASSWORD", ""),
        }
    }
else:
    raise ImproperlyConfigured(
        f"EXAMPLE_DB_VENDOR={EXAMPLE_DB_VENDOR!r}: expected sqlite, postgresql or mysql"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
