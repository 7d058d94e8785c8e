"""Settings for the bluegreen_autodetector example project (SQLite)."""

from pathlib import Path

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

MIDDLEWARE = []

ROOT_URLCONF = "example.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
