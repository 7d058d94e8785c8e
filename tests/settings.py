"""Settings for in-process tests; the catalogue tests run temporary projects."""

SECRET_KEY = "tests"
INSTALLED_APPS = ["bluegreen_autodetector"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
