"""perfbench scenarios of the registry's clerk pages: the person list and the person page.

Half the clients are a clerk of the most populous township, half a county-wide clerk, so
both branches of visible_to are measured. Detail pages are random persons each clerk may see.
"""

from __future__ import annotations

import numpy as np
from django.db.models import Count
from django.urls import NoReverseMatch, reverse

from enrollment.models import Person
from socialsec.core.benchmarking import BenchContext, Request, RequestScenario
from socialsec.core.choices import Role
from socialsec.core.models import AdministrativeDivision, User


def _clerks(ctx: BenchContext) -> list[tuple[User, str]]:
    """(user, session cookie) for a township clerk and a county-wide clerk, made afresh each run."""
    busiest = (
        Person.objects.values("township_id").annotate(n=Count("id")).order_by("-n", "township_id").first()
    )
    townships = AdministrativeDivision.objects.filter(pk=busiest["township_id"]) if busiest else []
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


SCENARIOS = [
    RequestScenario(name="person_list", requests=person_list_requests),
    RequestScenario(name="person_detail", requests=person_detail_requests),
]
