"""The test suite: base settings on PostgreSQL, changed only for speed and isolation."""

from socialsec.settings.base import *  # noqa: F403
from socialsec.settings.base import CACHES

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789abcdefghijklmnop"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
CACHES["default"]["KEY_PREFIX"] = "socialsec-test"
# Serve static files from the source folders (the live server of the browser tests), no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
