"""docker-compose.yml and the Dockerfile, checked for structure (Docker does not run here).

Each command a container runs must name code that exists in this repository, so a
renamed module breaks this test rather than a deployment.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_the_stack_has_postgres_redis_web_worker_and_beat(services: dict[str, Any]) -> None:
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_postgres_16_and_redis_7_keep_their_data_in_volumes(compose: dict[str, Any], services: dict) -> None:
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        volume, _, target = services[name]["volumes"][0].partition(":")
        assert target == mount
        assert volume in compose["volumes"]


@pytest.mark.parametrize(
    ("name", "probe"), [("postgres", "pg_isready"), ("redis", "redis-cli ping"), ("web", "/healthz")]
)
def test_postgres_redis_and_web_have_health_checks(services: dict[str, Any], name: str, probe: str) -> None:
    test = services[name]["healthcheck"]["test"]
    assert probe in " ".join(test)


def test_the_web_health_check_asks_a_url_the_project_serves(services: dict[str, Any]) -> None:
    from django.urls import resolve

    script = services["web"]["healthcheck"]["test"][-1]
    ast.parse(script)  # the check is Python; a syntax error would mark web unhealthy forever
    assert "http://127.0.0.1:8000/healthz" in script
    assert resolve("/healthz").url_name == "healthz"


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [
        ("socialsec.example.gov.cn, intranet.local", "socialsec.example.gov.cn"),
        (".example.gov.cn", "example.gov.cn"),  # a wildcard entry also matches the bare domain
        ("*", "localhost"),
    ],
)
def test_the_web_health_check_sends_an_allowed_host_over_https(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch, allowed_hosts: str, host: str
) -> None:
    import urllib.request

    sent: list[urllib.request.Request] = []
    monkeypatch.setenv("ALLOWED_HOSTS", allowed_hosts)
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: sent.append(request))

    exec(services["web"]["healthcheck"]["test"][-1], {})  # noqa: S102 - our own compose file

    (request,) = sent
    assert request.full_url == "http://127.0.0.1:8000/healthz"
    assert request.get_header("Host") == host
    assert request.get_header("X-forwarded-proto") == "https"


def test_healthz_answers_the_health_checks_request_under_production_security_settings() -> None:
    # What the check sends (an allowed Host, X-Forwarded-Proto: https) passes the HTTPS redirect
    # and the host check of production.py; a bare request would be redirected.
    from django.test import Client, override_settings

    with override_settings(
        ALLOWED_HOSTS=["socialsec.example.gov.cn"],
        SECURE_SSL_REDIRECT=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ):
        client = Client()
        checked = client.get("/healthz", HTTP_HOST="socialsec.example.gov.cn", HTTP_X_FORWARDED_PROTO="https")
        bare = client.get("/healthz", HTTP_HOST="socialsec.example.gov.cn")

    assert checked.status_code == 200
    assert bare.status_code == 301


@pytest.mark.parametrize("name", APP_SERVICES)
def test_application_containers_run_production_settings_against_the_compose_services(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    environment = service["environment"]

    assert service["env_file"] == ".env"
    assert environment["DJANGO_SETTINGS_MODULE"] == "socialsec.settings.production"
    assert importlib.util.find_spec(environment["DJANGO_SETTINGS_MODULE"]) is not None
    assert re.fullmatch(
        r"postgresql://socialsec:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432/socialsec",
        environment["DATABASE_URL"],
    )
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_web_worker_and_beat_wait_for_healthy_services_and_migrations(
    services: dict[str, Any], name: str
) -> None:
    depends_on = services[name]["depends_on"]

    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_runs_once_and_waits_only_for_the_database(services: dict[str, Any]) -> None:
    migrate = services["migrate"]

    assert command_of(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert set(migrate["depends_on"]) == {"postgres"}


def test_web_serves_the_wsgi_application_with_gunicorn(services: dict[str, Any]) -> None:
    command = command_of(services["web"])
    assert command[0] == "gunicorn"
    module, _, attribute = command[1].partition(":")
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"

    # Importing socialsec.wsgi would load production settings, so read it instead.
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert attribute in assigned


def test_web_is_published_on_localhost_only(services: dict[str, Any]) -> None:
    # Production trusts X-Forwarded-Proto, so only the reverse proxy on the host may reach it.
    assert all(port.startswith("127.0.0.1:") for port in services["web"]["ports"])


def test_worker_and_beat_find_the_celery_app_as_celery_does() -> None:
    from celery import Celery
    from celery.app.utils import find_app

    assert isinstance(find_app("socialsec"), Celery)
    assert isinstance(importlib.import_module("socialsec.celery").app, Celery)


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_worker_and_beat_run_celery_on_the_socialsec_app(
    services: dict[str, Any], name: str, subcommand: str
) -> None:
    command = command_of(services[name])
    assert command[:4] == ["celery", "-A", "socialsec", subcommand]


def test_beat_reads_its_schedule_from_the_database(services: dict[str, Any]) -> None:
    from django_celery_beat.schedulers import DatabaseScheduler

    command = command_of(services["beat"])
    alias = command[command.index("-S") + 1]
    # celery resolves -S through this entry-point group (celery.beat.Service.get_scheduler).
    schedulers = {point.name: point.value for point in entry_points(group="celery.beat_schedulers")}
    assert schedulers[alias] == "django_celery_beat.schedulers:DatabaseScheduler"
    assert DatabaseScheduler.__name__ == "DatabaseScheduler"


def test_the_env_example_sets_every_variable_compose_interpolates() -> None:
    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    compose_text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose_text))

    assert used <= defined
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD"} <= defined


def test_the_env_example_leaves_secrets_empty_so_nothing_starts_with_a_known_key() -> None:
    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")

    assert re.search(r"^SECRET_KEY=$", example, flags=re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=$", example, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


class TestDockerfile:
    def test_builds_on_python_3_11_slim_from_the_lock_file(self, dockerfile: str) -> None:
        assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, flags=re.MULTILINE)
        assert "pip install --requirement requirements.lock" in dockerfile
        assert (ROOT / "requirements.lock").is_file()

    def test_vendors_the_front_end_libraries_with_npm(self, dockerfile: str) -> None:
        assert "npm ci" in dockerfile
        assert "npm run --silent vendor" in dockerfile
        package = (ROOT / "package.json").read_text(encoding="utf-8")
        assert '"vendor"' in package

    def test_runs_as_a_non_root_user(self, dockerfile: str) -> None:
        users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
        assert users and users[-1] not in ("root", "0")

    def test_collects_static_files_into_the_image(self, dockerfile: str) -> None:
        assert "manage.py collectstatic --noinput" in dockerfile

    def test_keeps_local_state_and_secrets_out_of_the_build_context(self) -> None:
        ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
        assert {".git", ".venv", "node_modules", "var", ".env"} <= ignored
