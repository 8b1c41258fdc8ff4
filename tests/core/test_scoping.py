"""Township scoping is written once and fails closed (foundation issue; STYLE §8–10)."""

from __future__ import annotations

import inspect

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from enrollment.models import Person
from socialsec.core.api import TownshipScopedApi
from socialsec.core.exceptions import NotVisible
from socialsec.core.scoping import get_visible_or_404
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_a_clerk_sees_only_the_persons_of_their_township(cast, person_in_a, person_in_b):
    assert list(Person.objects.visible_to(cast.maker_ann)) == [person_in_a]
    assert list(Person.objects.visible_to(cast.outsider_eve)) == [person_in_b]


def test_a_user_with_no_assignment_sees_nothing(cast, person_in_a, person_in_b):
    assert not Person.objects.visible_to(cast.unassigned_joe).exists()


def test_county_wide_staff_see_every_township(cast, person_in_a, person_in_b):
    assert set(Person.objects.visible_to(cast.auditor_gus)) == {person_in_a, person_in_b}


def test_anonymous_and_deactivated_users_see_nothing(cast, person_in_a):
    from django.contrib.auth.models import AnonymousUser

    assert not Person.objects.visible_to(AnonymousUser()).exists()
    cast.auditor_gus.is_active = False
    assert not Person.objects.visible_to(cast.auditor_gus).exists()


def test_a_user_assigned_to_two_townships_sees_both(cast, person_in_a, person_in_b):
    from socialsec.core.models import TownshipAssignment

    TownshipAssignment.objects.create(user=cast.maker_ann, township=cast.township_b)
    assert set(Person.objects.visible_to(cast.maker_ann)) == {person_in_a, person_in_b}


def test_another_townships_record_and_a_missing_one_give_the_same_answer(cast, person_in_b):
    with pytest.raises(NotVisible) as other:
        get_visible_or_404(Person.objects.all(), cast.maker_ann, pk=person_in_b.pk)
    with pytest.raises(NotVisible) as missing:
        get_visible_or_404(Person.objects.all(), cast.maker_ann, pk=person_in_b.pk + 10_000)
    assert other.value.details == missing.value.details


def test_scoping_reads_the_assignments_once_whatever_the_number_of_townships(cast, django_assert_num_queries):
    from socialsec.core.models import TownshipAssignment, User
    from tests.factories import TownshipFactory

    for _ in range(5):
        TownshipAssignment.objects.create(user=cast.maker_ann, township=TownshipFactory(parent=cast.county))
    PersonFactory(village=cast.village_a)
    ann = User.objects.get(pk=cast.maker_ann.pk)
    with django_assert_num_queries(2):  # her township ids, then the persons
        assert len(list(Person.objects.visible_to(ann))) == 1
    with django_assert_num_queries(1):  # the ids are remembered for the rest of the request
        assert Person.objects.visible_to(ann).count() == 1


def test_a_list_page_query_walks_the_township_index_not_the_whole_table(cast, person_in_a):
    # With literal township ids the planner can use (township_id, id); a subquery hid them.
    from django.db import connection

    queryset = Person.objects.visible_to(cast.maker_ann).order_by("-id")[:50]
    sql, params = queryset.query.sql_with_params()
    assert f'"enrollment_person"."township_id" IN ({cast.township_a.pk})' in sql % tuple(params)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "person_township_id" in plan, plan


# --- The URLconf walk: every view is scoped or explicitly allowed ------------------------------------

# Route name (or namespace:name) → why it needs no township scoping.
ALLOWED_UNSCOPED = {
    "login": "the login page",
    "logout": "ends the caller's own session",
    "set_language": "sets the caller's language cookie",
    "healthz": "liveness probe, reads nothing",
    "home": "the caller's own work queues; later issues fill them through scoped selectors",
    "api-schema": "the OpenAPI schema (login required)",
    "api-docs": "the API documentation page (login required)",
    "api-token": "exchanges the caller's own credentials for a token",
    "api-me": "the caller's own profile",
    "api-divisions": "public statistical division codes, reference data",
    "api-import-kinds": "the kinds of list that can be imported and their columns, reference data",
    "imports:kind_template": "an import kind's empty template workbook, reference data",
    "api-fee-relief-policies": "national and regional fee-relief policies, reference data (DOMAIN §8.1)",
    "api-sweep-list": "monthly sweep runs are county business, no township records; SweepRun.visible_to",
    "api-sweep-detail": "one monthly sweep run, county business; SweepRun.objects.visible_to",
    "sweeps:run_list": "the monthly sweep runs, county business; SweepRun.objects.visible_to",
    "sweeps:run_start": "starts the county's monthly sweep (benefits.add_sweeprun); no township data",
    "sweeps:run_progress": "one run's progress row, county business; SweepRun.objects.visible_to",
}
# The Django admin is for the admin role, which is county-wide; it registers no township data.
ALLOWED_UNSCOPED_NAMESPACES = {"admin"}


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", entry


def _is_scoped(callback) -> bool:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None and inspect.isclass(view_class) and issubclass(view_class, TownshipScopedApi):
        # A subclass that replaced get_queryset could bypass visible_to.
        return "get_queryset" not in view_class.__dict__
    return getattr(callback, "township_scoped", False) is True or getattr(
        view_class, "township_scoped", False
    )


def test_every_view_in_the_urlconf_is_township_scoped_or_allowed():
    unscoped = []
    for name, pattern in _walk(get_resolver().url_patterns):
        if name.split(":", 1)[0] in ALLOWED_UNSCOPED_NAMESPACES or name in ALLOWED_UNSCOPED:
            continue
        if not _is_scoped(pattern.callback):
            unscoped.append(f"{name or '(unnamed)'} → {pattern.pattern}")
    assert unscoped == [], (
        "views that neither scope by township nor appear in ALLOWED_UNSCOPED: " + ", ".join(unscoped)
    )


def test_the_walk_recognises_the_scoped_views_it_should():
    names = {name for name, pattern in _walk(get_resolver().url_patterns) if _is_scoped(pattern.callback)}
    assert {
        "enrollment:person_list",
        "enrollment:person_detail",
        "api-person-list",
        "api-person-detail",
    } <= names


def test_the_allow_list_names_only_routes_that_exist():
    names = {name for name, _ in _walk(get_resolver().url_patterns)}
    assert set(ALLOWED_UNSCOPED) <= names


def test_an_unscoped_view_would_be_caught():
    from django.http import HttpResponse

    def leaky_view(request):
        return HttpResponse(str(list(Person.objects.all())))

    assert _is_scoped(leaky_view) is False

    class LeakyApi(TownshipScopedApi):
        def get_queryset(self):
            return Person.objects.all()

    assert _is_scoped(LeakyApi.as_view()) is False


# --- Behaviour through both doors -----------------------------------------------------------------


def test_another_townships_person_is_404_in_the_api_and_on_the_page(client, api, cast, person_in_a):
    assert api.as_user(cast.outsider_eve).get(f"/api/persons/{person_in_a.pk}/").status_code == 404
    client.force_login(cast.outsider_eve)
    assert client.get(f"/persons/{person_in_a.pk}/").status_code == 404


def test_the_unassigned_clerk_lists_no_one_in_the_api(api, cast, person_in_a, person_in_b):
    response = api.as_user(cast.unassigned_joe).get("/api/persons/")
    assert response.status_code == 200
    assert response.json()["results"] == []
