"""Settings shared by every environment; values come from the environment.

defaults (here) -> environment (readers in socialsec.lib.envconf) -> computed.
dev.py, test.py and production.py import this module and change only what differs.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from socialsec.lib import embedded
from socialsec.lib.envconf import env_bool, env_int, env_list, env_str, fail

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("SOCIALSEC_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

# --- Time and language -------------------------------------------------------
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    fail("TIME_ZONE", f"unknown time zone {TIME_ZONE!r} (e.g. Asia/Shanghai)")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "socialsec_language"

# --- Database ------------------------------------------------------------------
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600, minimum=0)
_database_url = env_str("DATABASE_URL")
if _database_url:
    if not _database_url.startswith(("postgres://", "postgresql://")):
        fail("DATABASE_URL", "must be a postgres:// or postgresql:// URL (socialsec runs on PostgreSQL only)")
    try:
        _default_db = dj_database_url.parse(_database_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    except ValueError as exc:
        fail("DATABASE_URL", str(exc))
    if not _default_db.get("NAME"):
        fail("DATABASE_URL", "names no database (postgresql://user@host:5432/DBNAME)")
    _default_db["ENGINE"] = "django.db.backends.postgresql"
else:
    # No server given: a project-local PostgreSQL under var/ (pgserver), shared by all processes.
    _default_db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": embedded.DATABASE_NAME,
        "USER": "postgres",
        "HOST": embedded.postgres_socket_dir(VAR_DIR),
        "CONN_MAX_AGE": CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
    }
# JIT off for this application's sessions: its statements are index-driven (a township's persons, a
# roster's lines), and PostgreSQL's cost-based JIT compiled them anyway, 0.3 s per statement for
# work of 0.1 s (measured on the monthly sweep's rules). Only long analytical scans gain from JIT.
# Added to the options DATABASE_URL may give (?options=-c%20statement_timeout%3D…), which stay.
_db_options = _default_db.setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery --------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        fail("REDIS_URL", "must be a redis://, rediss:// or unix:// URL")
else:
    REDIS_URL = embedded.redis_url(VAR_DIR)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "socialsec",
    }
}

# kombu spells a unix socket redis+socket://
CELERY_BROKER_URL = (
    "redis+socket://" + REDIS_URL.removeprefix("unix://") if REDIS_URL.startswith("unix://") else REDIS_URL
)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "socialsec"

# --- Applications ------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "django_celery_results",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "csp",
    "socialsec.core",
    "socialsec.imports",
    "enrollment",
    "benefits",
    "relief",
    "fund_audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "socialsec.core.middleware.HistoryContextMiddleware",
    "socialsec.core.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "socialsec.urls"
WSGI_APPLICATION = "socialsec.wsgi.application"
ASGI_APPLICATION = "socialsec.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "socialsec.core.context_processors.navigation",
            ],
        },
    }
]

# --- Auth and security ----------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Login throttling: lock a username from one address after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "socialsec.core.middleware.axes_client_ip"
# Reverse proxies whose X-Forwarded-For is believed (audit trail and login throttling).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

# Content Security Policy: same-origin only, no inline script; nonces where a page needs one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Static files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "socialsec.core.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "socialsec.core.api.AutoSchema",
    "EXCEPTION_HANDLER": "socialsec.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "socialsec API",
    "DESCRIPTION": (
        "County social-security casework. Every list and object is scoped to the caller's townships."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or "status"; name their enums so the schema stays unambiguous.
    "ENUM_NAME_OVERRIDES": {
        "DivisionKindEnum": "socialsec.core.choices.DivisionKind",
        "SizeClassEnum": "enrollment.choices.SizeClass",
        "FeeReliefKindEnum": "enrollment.choices.FeeReliefKind",
        "SpecialGroupEnum": "enrollment.choices.SpecialGroup",
        "CategorySourceEnum": "enrollment.choices.CategorySource",
        "CardStatusEnum": "enrollment.choices.CardStatus",
        "RosterStatusEnum": "socialsec.rosters.choices.RosterStatus",
        "EntitlementStatusEnum": "benefits.entitlements.EntitlementStatus",
    },
}

# --- Audit trail (django-pghistory) ---------------------------------------------------------
# Event tables are read by object (pgh_obj) and by context; the foreign keys they copy from the
# tracked row (township, village, household…) are never searched there, and indexing them would
# make every bulk update write several more indexes.
import pghistory  # noqa: E402 - settings read this app's config classes

PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=True)
# The audit trail is append-only: every event table refuses UPDATE and DELETE (pghistory's Protect
# trigger); socialsec.core.audit adds the TRUNCATE guard pghistory does not cover.
PGHISTORY_APPEND_ONLY = True

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# --- Domain ---------------------------------------------------------------------------------
# The county this installation serves (6-digit GB/T 2260 code); seed_county uses it too.
COUNTY_CODE = env_str("COUNTY_CODE", "360121")
if COUNTY_CODE is None or len(COUNTY_CODE) != 6 or not COUNTY_CODE.isdigit():
    fail("COUNTY_CODE", f"must be a 6-digit division code, got {COUNTY_CODE!r}")
COUNTY_NAME = env_str("COUNTY_NAME", "南昌县")

# Payout rosters: an xlsx export of more lines than this is built by a Celery task (202 + status URL).
ROSTER_XLSX_INLINE_MAX_LINES = env_int("ROSTER_XLSX_INLINE_MAX_LINES", 5000, minimum=1)
# The monthly sweep works through the registry in slices of this many person ids, one transaction
# (and one progress step) each (benefits.sweep_services).
SWEEP_CHUNK_PERSONS = env_int("SWEEP_CHUNK_PERSONS", 100_000, minimum=1)
