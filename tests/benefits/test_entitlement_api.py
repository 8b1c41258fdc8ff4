"""/api/entitlements/ (issue 4 "Screens and API"; DOMAIN §8.2): list and detail, apply, the steps;
each with success, 403, 404, 409 and a query count at two sizes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits import services
from benefits.choices import BenefitProgramme
from socialsec.core.models import User
from tests.benefits.entitlement_factories import paying, pensioner

pytestmark = pytest.mark.django_db
RP = BenefitProgramme.RESIDENT_PENSION


def fresh(api, user):
    return api.as_user(User.objects.get(pk=user.pk))


def test_the_list_shows_the_callers_townships_entitlements_filtered_by_status(api, cast):
    entitlement = paying(cast, pensioner(cast))
    applied = services.entitlement_apply(person_id=pensioner(cast).pk, programme=RP, by=cast.maker_ann)
    body = fresh(api, cast.maker_ann).get("/api/entitlements/?status=paying").json()
    assert [row["id"] for row in body["results"]] == [entitlement.pk]
    assert body["results"][0]["monthly_amount"] == "164.58"
    assert "*" in body["results"][0]["person"]["id_number_masked"]
    everything = fresh(api, cast.maker_ann).get("/api/entitlements/").json()["results"]
    assert {row["id"] for row in everything} == {entitlement.pk, applied.pk}


def test_the_list_is_403_without_the_permission_and_empty_for_another_township(api, cast):
    paying(cast, pensioner(cast))
    assert fresh(api, cast.leader_hua).get("/api/entitlements/").status_code == 403
    response = fresh(api, cast.outsider_eve).get("/api/entitlements/")
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_the_list_and_the_detail_run_the_same_queries_for_1_and_6_entitlements(api, cast):
    def count(path: str) -> int:
        client = fresh(api, cast.checker_ben)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    first = paying(cast, pensioner(cast))
    small = count("/api/entitlements/"), count(f"/api/entitlements/{first.pk}/")
    for _ in range(5):
        paying(cast, pensioner(cast))
    assert (count("/api/entitlements/"), count(f"/api/entitlements/{first.pk}/")) == small


def test_detail_of_another_townships_entitlement_is_404(api, cast):
    entitlement = paying(cast, pensioner(cast))
    body = fresh(api, cast.auditor_gus).get(f"/api/entitlements/{entitlement.pk}/").json()
    assert body["snapshot"]["amount"]["rule"] == "resident_pension.monthly_amount"
    assert fresh(api, cast.outsider_eve).get(f"/api/entitlements/{entitlement.pk}/").status_code == 404


# --- POST /api/entitlements/ (apply) ------------------------------------------------------------------


def apply(api, user, person, **body):
    data = {"person": person.pk, "programme": RP, "start_month": "2025-05", **body}
    return fresh(api, user).post("/api/entitlements/", data, format="json")


def test_apply_201_and_the_refusals_name_the_rule(api, cast):
    response = apply(api, cast.maker_ann, pensioner(cast))
    assert (response.status_code, response.json()["status"]) == (201, "applied")
    too_young = pensioner(cast, birth_date=dt.date(1965, 7, 15))
    refused = apply(api, cast.maker_ann, too_young, start_month="2025-07")
    assert (refused.status_code, refused.json()["rule"]) == (409, "resident_pension.pension_age")


def test_apply_400_403_404(api, cast):
    person = pensioner(cast)
    assert apply(api, cast.maker_ann, person, start_month="May").status_code == 400
    assert apply(api, cast.maker_ann, person, programme=BenefitProgramme.EMPLOYEE_PENSION).status_code == 400
    assert apply(api, cast.checker_ben, person).status_code == 403
    assert apply(api, cast.outsider_eve, person).status_code == 404


# --- POST /api/entitlements/{id}/{step}/ ---------------------------------------------------------------


def step(api, user, entitlement, name, **body):
    return fresh(api, user).post(f"/api/entitlements/{entitlement.pk}/{name}/", body, format="json")


def test_steps_review_approve_suspend_restore_stop_through_the_api(api, cast):
    entitlement = services.entitlement_apply(
        person_id=pensioner(cast).pk, programme=RP, start_month=dt.date(2025, 5, 1), by=cast.maker_ann
    )
    assert step(api, cast.checker_ben, entitlement, "review").json()["status"] == "under_review"
    assert step(api, cast.checker_ben, entitlement, "approve").json()["status"] == "paying"
    body = step(
        api, cast.checker_ben, entitlement, "suspend", reason="certification_missed", month="2025-07"
    ).json()
    assert (body["status"], body["suspended_from"]) == ("suspended", "2025-07")
    body = step(api, cast.checker_ben, entitlement, "restore", month="2025-09").json()
    assert (body["status"], body["backpay_months"]) == ("paying", ["2025-07-01", "2025-08-01"])
    body = step(api, cast.checker_ben, entitlement, "stop", reason="lost_eligibility", month="2025-12").json()
    assert (body["status"], body["stop_month"]) == ("stopped", "2025-12")


def test_a_step_is_403_for_the_wrong_role(api, cast):
    entitlement = services.entitlement_apply(person_id=pensioner(cast).pk, programme=RP, by=cast.maker_ann)
    assert step(api, cast.maker_ann, entitlement, "review").status_code == 403
    assert step(api, cast.approver_cai, entitlement, "approve").status_code == 403


def test_a_step_on_another_townships_entitlement_is_404(api, cast):
    entitlement = services.entitlement_apply(person_id=pensioner(cast).pk, programme=RP, by=cast.maker_ann)
    from socialsec.core.choices import Role
    from tests.factories import UserFactory

    chief_b = UserFactory(username="chief_b", roles=[Role.SECTION_CHIEF], townships=[cast.township_b])
    assert step(api, chief_b, entitlement, "review").status_code == 404


def test_a_step_in_the_wrong_state_is_409_naming_the_entitlement(api, cast):
    entitlement = services.entitlement_apply(person_id=pensioner(cast).pk, programme=RP, by=cast.maker_ann)
    response = step(api, cast.checker_ben, entitlement, "approve")
    assert (response.status_code, response.json()["entitlement_ids"]) == (409, [entitlement.pk])
    assert step(api, cast.checker_ben, entitlement, "reject").status_code == 400  # no reason given


def test_a_step_runs_the_same_queries_whatever_the_number_of_entitlements(api, cast):
    def count() -> int:
        target = services.entitlement_apply(person_id=pensioner(cast).pk, programme=RP, by=cast.maker_ann)
        client = fresh(api, cast.checker_ben)
        with CaptureQueriesContext(connection) as captured:
            assert step(api, cast.checker_ben, target, "review").status_code == 200
        del client
        return len(captured)

    small = count()
    for _ in range(5):
        paying(cast, pensioner(cast))
    assert count() == small
