"""
Settings of the corpus run (``tests/corpus/run.py``): the apps whose
histories it replays, the package with its flag on, one database.
``CORPUS_DATABASE`` is a JSON ``DATABASES`` entry (run.py sets it).
"""

import json
import os

SECRET_KEY = "corpus"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {"default": json.loads(os.environ["CORPUS_DATABASE"])}
INSTALLED_APPS = [
    "bluegreen_autodetector",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",
    "django_celery_beat",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_hotp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
]
SITE_ID = 1
BLUEGREEN_MIGRATIONS = True
BLUEGREEN_LOCK_TIMEOUT = None
# allauth's AppConfig.ready() insists on it.
MIDDLEWARE = ["allauth.account.middleware.AccountMiddleware"]
# oauth2_provider's swappable models, named as its fields' swappable= names
# them (Django's autodetector reads these settings).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
# oauth2_provider hashes client secrets on save: PBKDF2 made it 80% of the run.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
