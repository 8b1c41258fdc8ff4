"""perfbench scenarios of the registry's clerk pages: the person list, the person page, coverage.

person_list, person_detail: half the clients are a clerk of the most populous township, half
a county-wide clerk, so both branches of visible_to are measured. Detail pages are random
persons each clerk may see.

coverage (issue 3, 全民参保): "the page's database time is at most a tenth of the raw
aggregate measured in the same run". The setup rebuilds the rollup for the county's day and
records every query the coverage page issues for a county-wide clerk (a test-client GET
under CaptureQueriesContext: session, user, permissions, the rollup). The app side runs
exactly those statements again, so it times the page's database work and nothing else; the
reference is the raw GROUP BY over persons and open pension enrollments that the page would
need without the rollup. Both give the figures per township and for the county.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from enrollment.choices import CLOSED_ENROLLMENT_STATUSES
from enrollment.coverage import PENSION_SCHEMES, coverage_refresh, latest_birth_date
from enrollment.models import Enrollment, Person
from socialsec.core.benchmarking import BenchContext, Request, RequestScenario, TimedScenario
from socialsec.core.choices import Role
from socialsec.core.models import AdministrativeDivision, User
from socialsec.core.seeding import busiest_township_id


def _clerks(ctx: BenchContext) -> list[tuple[User, str]]:
    """(user, session cookie) for a township clerk and a county-wide clerk, made afresh each run."""
    busiest = busiest_township_id()
    townships = AdministrativeDivision.objects.filter(pk=busiest) if busiest is not None else []
    township_clerk = ctx.bench_user("perfbench_township_clerk", roles=[Role.CLERK], townships=townships)
    county_clerk = ctx.bench_user("perfbench_county_clerk", roles=[Role.CLERK], county_wide=True)
    return [(user, ctx.session_cookie(user)) for user in (township_clerk, county_clerk)]


def _path(name: str, *args: int, fallback: str) -> str:
    # The URL may not exist yet while the page is being built; the run then reports its 404.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def person_list_requests(ctx: BenchContext, rng: np.random.Generator, n: int) -> list[Request]:
    path = _path("enrollment:person_list", fallback="/persons/")
    cookies = [cookie for _user, cookie in _clerks(ctx)]
    return [Request(path, cookies[i % len(cookies)]) for i in range(n)]


def person_detail_requests(ctx: BenchContext, rng: np.random.Generator, n: int) -> list[Request]:
    requests = []
    clerks = _clerks(ctx)
    for index, (user, cookie) in enumerate(clerks):  # two clerks
        visible = np.fromiter(Person.objects.visible_to(user).values_list("id", flat=True), dtype=np.int64)
        share = n // len(clerks) + (1 if index < n % len(clerks) else 0)
        ids = rng.choice(visible, size=share) if len(visible) else np.zeros(share, dtype=np.int64)
        requests += [
            Request(_path("enrollment:person_detail", int(pk), fallback=f"/persons/{pk}/"), cookie)
            for pk in ids
        ]
    order = rng.permutation(len(requests))  # mix the two clerks over the clients
    return [requests[i] for i in order]


# --- coverage --------------------------------------------------------------------------------------

_coverage: dict[str, Any] = {}

# The figures without the rollup: every living person of 16 and over, against open pension enrollments.
_RAW_COVERAGE_SQL = f"""
    SELECT p.township_id, count(*), count(e.person_id)
      FROM {Person._meta.db_table} p
      LEFT JOIN (
            SELECT DISTINCT person_id FROM {Enrollment._meta.db_table}
             WHERE scheme = ANY(%(schemes)s) AND NOT (status = ANY(%(closed)s))
           ) e ON e.person_id = p.id
     WHERE p.death_date IS NULL AND p.birth_date <= %(born_by)s
     GROUP BY GROUPING SETS ((p.township_id), ())
"""


def _coverage_day(ctx: BenchContext) -> dt.date:
    return ctx.as_of or timezone.localdate()


def coverage_setup(ctx: BenchContext) -> None:
    """Rollup as of the county's day, then the page's queries as a county-wide clerk sends them."""
    coverage_refresh(as_of=_coverage_day(ctx))
    clerk = ctx.bench_user("perfbench_county_clerk", roles=[Role.CLERK], county_wide=True)
    client = Client()
    client.force_login(clerk)
    path = reverse("enrollment:coverage_overview")
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client.get(path, secure=True)  # warm-up: the first request of a process loads what it caches
        with CaptureQueriesContext(connection) as page:
            response = client.get(path, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"the coverage page answered {response.status_code}")
    _coverage["queries"] = [query["sql"] for query in page.captured_queries]


def coverage_app(ctx: BenchContext) -> dict[int | None, tuple[int, int]]:
    """The coverage page's queries, as it sent them; the figures read from the rollup's rows."""
    figures: dict[int | None, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        for sql in _coverage["queries"]:
            cursor.execute(sql)
            if cursor.description is None:
                continue
            rows = cursor.fetchall()
            names = [column.name for column in cursor.description]
            if {"township_id", "residents", "enrolled"} <= set(names):
                at = {name: names.index(name) for name in ("township_id", "residents", "enrolled")}
                figures = {
                    row[at["township_id"]]: (row[at["residents"]], row[at["enrolled"]]) for row in rows
                }
    return figures


def coverage_ref(ctx: BenchContext) -> dict[int | None, tuple[int, int]]:
    day = _coverage_day(ctx)
    with connection.cursor() as cursor:
        cursor.execute(
            _RAW_COVERAGE_SQL,
            {
                "schemes": [str(s) for s in PENSION_SCHEMES],
                "closed": [str(s) for s in CLOSED_ENROLLMENT_STATUSES],
                "born_by": latest_birth_date(day),
            },
        )
        return {township: (residents, enrolled) for township, residents, enrolled in cursor.fetchall()}


SCENARIOS = [
    RequestScenario(name="person_list", requests=person_list_requests),
    RequestScenario(name="person_detail", requests=person_detail_requests),
    TimedScenario(
        name="coverage",
        setup=coverage_setup,
        app=coverage_app,
        ref=coverage_ref,
        rows=lambda ctx: ctx.persons,
    ),
]
