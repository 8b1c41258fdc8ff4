"""Production: every secret from the environment, HTTPS only, hashed static files."""

from socialsec.lib.envconf import env_bool, env_int, env_list, env_secret, fail
from socialsec.settings.base import *  # noqa: F403
from socialsec.settings.base import STORAGES

DEBUG = env_bool("DEBUG", False)
if DEBUG:
    fail("DEBUG", "must be off in production settings")
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    fail("ALLOWED_HOSTS", "is required in production (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"https://{host}" for host in ALLOWED_HOSTS])

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The reverse proxy terminates TLS and says so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True

STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
