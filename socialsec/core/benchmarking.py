"""perfbench: each scenario through the application's own path and through a reference, interleaved.

Apps declare scenarios in `<app>.benchmarks.SCENARIOS`, found the way seeding parts are.
Two kinds:

- TimedScenario: `app(ctx)` and `ref(ctx)` each return a comparable result (e.g. a row
  count), after an optional untimed `setup(ctx)`. Reported: median seconds of each,
  ratio = app_s / ref_s, rows per second of the app, and whether the results agreed in
  every round.
- RequestScenario: `requests(ctx, rng, n)` returns n (path, cookie) pairs for the app; the
  reference is the same number of requests to /healthz, a view that touches no database.
  Both go to gunicorn with production settings on 127.0.0.1. Reported: median requests per
  second of each, latency percentiles of the app's requests, and
  ratio = ref_rps / app_rps (how many times dearer the page is than a bare request).

For both kinds ratio is "app cost over reference cost": 1.0 is parity, higher is slower.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import importlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import module_has_submodule

from socialsec.core.models import AdministrativeDivision, TownshipAssignment, User
from socialsec.core.seeding import existing_registry, read_marker, run_seed

# A request that has not answered by then counts as failed (status 0).
REQUEST_TIMEOUT_S = 30.0
# Upper bound on one round of requests, whatever --requests says.
ROUND_TIME_LIMIT_S = 120.0
REFERENCE_PATH = "/healthz"


@dataclass(frozen=True)
class Measured:
    """What an app or ref side returns when only part of its work is the measure (e.g. the second
    of two runs): the result compared with the other side, and the seconds it timed itself."""

    result: Any
    seconds: float


@dataclass(frozen=True)
class TimedScenario:
    name: str
    app: Callable[[BenchContext], Any]
    ref: Callable[[BenchContext], Any]
    rows: Callable[[BenchContext], int]
    # Run once before the rounds, untimed (e.g. building what the app side reads).
    setup: Callable[[BenchContext], None] | None = None


@dataclass(frozen=True)
class Request:
    path: str
    cookie: str = ""


@dataclass(frozen=True)
class RequestScenario:
    name: str
    requests: Callable[[BenchContext, np.random.Generator, int], list[Request]]


Scenario = TimedScenario | RequestScenario


@dataclass
class BenchContext:
    persons: int
    seed: int
    rounds: int
    requests: int
    clients: int
    as_of: dt.date | None = None  # the reference date of the seeded county (SeedContext.as_of)
    _server: AppServer | None = field(default=None, repr=False)

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, *name.encode()])

    @property
    def server(self) -> AppServer:
        """gunicorn on the benchmark's own database, started on first use and stopped by close()."""
        if self._server is None:
            self._server = AppServer()
            self._server.start()
        return self._server

    def close(self) -> Path | None:
        """Stop the server; returns its log when a request failed (kept for reading), else None."""
        kept = None
        if self._server is not None:
            kept = self._server.log_path if self._server.keep_log else None
            self._server.stop(keep_log=self._server.keep_log)
            self._server = None
        return kept

    def bench_user(
        self,
        username: str,
        *,
        roles: Sequence[str],
        townships: Iterable[AdministrativeDivision] = (),
        county_wide: bool = False,
    ) -> User:
        """A staff account for the benchmark, (re)created with exactly these roles and townships."""
        from django.contrib.auth.models import Group

        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()  # only ever logged in through session_cookie
            user.county_wide = county_wide
            user.is_active = True
            user.save()
            user.groups.set(Group.objects.filter(name__in=roles))
            wanted = list(townships)
            TownshipAssignment.objects.filter(user=user).exclude(township__in=wanted).delete()
            for township in wanted:
                TownshipAssignment.objects.get_or_create(user=user, township=township)
        return user

    def session_cookie(self, user: User) -> str:
        """A Cookie header for a logged-in session of user, valid for the benchmark's server.

        The session row is written the way django.contrib.auth.login would, signed with the
        server's SECRET_KEY. The production cookie is Secure, which only a browser honours;
        over plain HTTP to 127.0.0.1 the header is sent as is and Django reads it.
        """
        engine = importlib.import_module(settings.SESSION_ENGINE)
        with override_settings(SECRET_KEY=self.server.secret_key):
            session = engine.SessionStore()
            session[SESSION_KEY] = user._meta.pk.value_to_string(user)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# --- Discovery and the run -------------------------------------------------------------------------


def discover_scenarios() -> list[Scenario]:
    """SCENARIOS of every installed app's `benchmarks` module, in INSTALLED_APPS order."""
    found: list[Scenario] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "benchmarks"):
            module = importlib.import_module(f"{config.name}.benchmarks")
            found.extend(getattr(module, "SCENARIOS", []))
    return found


def run_scenario(ctx: BenchContext, scenario: Scenario) -> dict[str, Any]:
    if isinstance(scenario, TimedScenario):
        return _run_timed(ctx, scenario)
    return _run_requests(ctx, scenario)


def _timed(side: Callable[[BenchContext], Any], ctx: BenchContext, times: list[float]) -> Any:
    """Run one side; append its seconds (its own Measured.seconds when it returns one)."""
    started = time.perf_counter()
    result = side(ctx)
    elapsed = time.perf_counter() - started
    if isinstance(result, Measured):
        result, elapsed = result.result, result.seconds
    times.append(elapsed)
    return result


def _run_timed(ctx: BenchContext, scenario: TimedScenario) -> dict[str, Any]:
    if scenario.setup is not None:
        scenario.setup(ctx)
    app_times, ref_times, same = [], [], True
    for _ in range(ctx.rounds):
        # Interleaved, so drift on the machine (cache, autovacuum, other load) hits both sides.
        app_result = _timed(scenario.app, ctx, app_times)
        ref_result = _timed(scenario.ref, ctx, ref_times)
        same = same and app_result == ref_result
    app_s, ref_s = statistics.median(app_times), statistics.median(ref_times)
    rows = scenario.rows(ctx)
    return {
        "scenario": scenario.name,
        "rows": rows,
        "app_s": round(app_s, 4),
        "ref_s": round(ref_s, 4),
        "ratio": round(app_s / ref_s, 3) if ref_s else None,
        "rows_per_s": round(rows / app_s) if app_s else None,
        "same_result": same,
    }


def _run_requests(ctx: BenchContext, scenario: RequestScenario) -> dict[str, Any]:
    server = ctx.server
    rng = ctx.rng(scenario.name)
    app_rps, ref_rps, latencies = [], [], []
    statuses: Counter[int] = Counter()
    ref_statuses: Counter[int] = Counter()
    # Warm-up, not measured: every worker imports its views and opens its database connection.
    _load(server.port, scenario.requests(ctx, rng, 2 * ctx.clients), ctx.clients)
    _load(server.port, [Request(REFERENCE_PATH)] * (2 * ctx.clients), ctx.clients)
    for _ in range(ctx.rounds):
        result = _load(server.port, scenario.requests(ctx, rng, ctx.requests), ctx.clients)
        app_rps.append(result.rps)
        latencies.extend(result.latencies)
        statuses.update(result.statuses)
        result = _load(server.port, [Request(REFERENCE_PATH)] * ctx.requests, ctx.clients)
        ref_rps.append(result.rps)
        ref_statuses.update(result.statuses)
    app, ref = statistics.median(app_rps), statistics.median(ref_rps)
    ok = set(statuses) == {200} and set(ref_statuses) == {200}
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "requests": ctx.requests,
        "clients": ctx.clients,
        "app_rps": round(app, 1),
        "ref_rps": round(ref, 1),
        "ratio": round(ref / app, 3) if app else None,
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1) if latencies else None,
        "p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1) if latencies else None,
        "status_ok": ok,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }
    if not ok:
        failing = [code for code, _ in statuses.most_common() if code != 200]
        report["status"] = failing[0] if failing else 200
        server.keep_log = True  # the tracebacks are in gunicorn's log
    return report


@dataclass
class _LoadResult:
    rps: float
    latencies: list[float]
    statuses: Counter[int]


def _load(port: int, requests: Sequence[Request], clients: int) -> _LoadResult:
    """Send the requests from `clients` threads; stop early at ROUND_TIME_LIMIT_S."""
    lock = threading.Lock()
    pending = iter(requests)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + ROUND_TIME_LIMIT_S

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                request = next(pending, None)
            if request is None:
                return
            status, seconds = _get(port, request)
            with lock:
                latencies.append(seconds)
                statuses[status] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    rps = len(latencies) / elapsed if elapsed else 0.0
    return _LoadResult(rps=rps, latencies=latencies, statuses=statuses)


def _get(port: int, request: Request) -> tuple[int, float]:
    # A new connection per request: gunicorn's sync workers close it after each response anyway.
    headers = {"Host": f"127.0.0.1:{port}"}
    if request.cookie:
        headers["Cookie"] = request.cookie
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("GET", request.path, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - started


# --- The county ----------------------------------------------------------------------------------


class CountyMismatch(Exception):
    """The database holds data seed_county did not load, or changed since: replacing it needs consent."""


def ensure_county(*, persons: int, seed: int, replace: bool = False) -> tuple[str, dt.date]:
    """Reuse the synthetic county of this size and seed, or load it. Returns (what happened, as_of)."""
    marker = read_marker()
    existing = existing_registry()
    untouched = marker is not None and existing.get("persons") == marker.get("persons")
    if untouched and marker["persons"] == persons and marker["seed"] == seed:
        return "reused", dt.date.fromisoformat(marker["as_of"])
    if any(existing.values()) and not untouched and not replace:
        raise CountyMismatch(existing)
    ctx = run_seed(persons=persons, seed=seed, replace=True)
    return "seeded", ctx.as_of


# --- The server ----------------------------------------------------------------------------------


def database_url(db: dict[str, Any] | None = None) -> str:
    """The benchmark's own database as a DATABASE_URL, so gunicorn reads the same rows."""
    db = db if db is not None else settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or ""
    name = quote(db["NAME"], safe="")
    if host.startswith("/"):  # a unix socket directory, e.g. the embedded PostgreSQL under var/
        return f"postgresql://{auth}@/{name}?host={quote(host, safe='/')}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{auth}@{host}{port}/{name}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """gunicorn with production settings on 127.0.0.1, two sync workers."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self.port = 0
        self.secret_key = secrets.token_urlsafe(45)  # 60 characters
        self.process: subprocess.Popen[bytes] | None = None
        self.keep_log = False
        self.log_path = Path(tempfile.gettempdir()) / f"perfbench-gunicorn-{os.getpid()}.log"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="socialsec.settings.production",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            DEBUG="false",
            DATABASE_URL=database_url(),
            REDIS_URL=settings.REDIS_URL,
        )
        return env

    def collect_static(self) -> None:
        # Production serves hashed names from a manifest; without one every page using {% static %}
        # fails. A deployment runs collectstatic, so the benchmark does too (STATIC_ROOT, gitignored).
        manage = Path(settings.BASE_DIR) / "manage.py"
        subprocess.run(  # noqa: S603 - our interpreter, our manage.py
            [sys.executable, str(manage), "collectstatic", "--noinput", "-v", "0"],
            env=self.environment(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.collect_static()
        self.port = _free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed executable from our own virtualenv
                [
                    str(gunicorn),
                    "socialsec.wsgi:application",
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--chdir",
                    str(settings.BASE_DIR),
                    "--log-level",
                    "warning",
                ],
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while _get(self.port, Request(REFERENCE_PATH))[0] != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop(keep_log=True)
                raise RuntimeError(f"gunicorn did not come up; see {self.log_path}")
            time.sleep(0.2)

    def stop(self, *, keep_log: bool = False) -> None:
        if not keep_log:
            self.log_path.unlink(missing_ok=True)
        if self.process is None:
            return
        # Only the process we started; gunicorn's arbiter stops its own workers on SIGTERM.
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def iter_selected(names: Sequence[str] | None) -> Iterator[Scenario]:
    """The discovered scenarios, or those named, in discovery order; KeyError for an unknown name."""
    scenarios = discover_scenarios()
    known = {s.name for s in scenarios}
    unknown = [name for name in names or () if name not in known]
    if unknown:
        raise KeyError(", ".join(unknown))
    for scenario in scenarios:
        if not names or scenario.name in names:
            yield scenario
