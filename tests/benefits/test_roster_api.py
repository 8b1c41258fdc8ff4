"""The payout-roster API (issue 4 "Screens and API"): each endpoint's success, 403, 404, 409 and
query count; segregation of duties through the API (DOMAIN §8.2, E22).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.rosters.choices import RosterStatus
from tests.factories import UserFactory
from tests.rosters.factories import NOVEMBER, OCTOBER, draft_roster, roster_in

pytestmark = pytest.mark.django_db


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return len(captured)


# --- GET /api/rosters/ -------------------------------------------------------------------------------


def test_the_list_shows_the_callers_townships_rosters_with_their_totals_and_next_steps(api, cast):
    submitted = roster_in(RosterStatus.SUBMITTED, cast)
    draft_roster(cast, township=cast.township_b, by=cast.outsider_eve)
    body = fresh(api, cast.checker_ben).get("/api/rosters/").json()
    assert [row["number"] for row in body["results"]] == [submitted.number]
    row = body["results"][0]
    assert row["status"] == "submitted"
    assert (row["total_persons"], row["total_amount"], row["period"]) == (3, "493.74", "2025-10")
    assert row["digest"] == submitted.digest
    assert row["actions"] == ["check", "return"]
    assert [post["post"] for post in row["posts"]] == [
        "maker",
        "checker",
        "approver",
        "accountant",
        "cashier",
    ]
    assert row["posts"][0]["by"]["username"] == "maker_ann"
    assert row["posts"][1]["by"] is None


def test_the_list_filters_by_status_and_month(api, cast):
    october = roster_in(RosterStatus.SUBMITTED, cast)
    november = draft_roster(cast, period=NOVEMBER)
    client = fresh(api, cast.maker_ann)
    assert [r["id"] for r in client.get("/api/rosters/?status=draft").json()["results"]] == [november.pk]
    assert [r["id"] for r in client.get("/api/rosters/?period=2025-10").json()["results"]] == [october.pk]


def test_the_list_is_403_without_the_view_permission_and_empty_for_another_township(api, cast):
    draft_roster(cast)
    assert fresh(api, cast.leader_hua).get("/api/rosters/").status_code == 403
    response = fresh(api, cast.outsider_eve).get("/api/rosters/")
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_county_wide_staff_see_every_roster_including_the_countys(api, cast):
    county_clerk = UserFactory(username="county_clerk", roles=[Role.CLERK], county_wide=True)
    a = draft_roster(cast)
    county = draft_roster(cast, period=NOVEMBER, township=None, by=county_clerk, count=1)
    ids = {row["id"] for row in fresh(api, cast.auditor_gus).get("/api/rosters/").json()["results"]}
    assert ids == {a.pk, county.pk}
    assert county.pk not in {
        r["id"] for r in fresh(api, cast.maker_ann).get("/api/rosters/").json()["results"]
    }


def test_the_list_runs_the_same_queries_for_two_and_for_twelve_rosters(api, cast):
    def make(count: int, year: int) -> None:
        for month in range(1, count + 1):
            roster_in(RosterStatus.CHECKED, cast, period=OCTOBER.replace(year=year, month=month), count=1)

    make(2, 2024)
    small = queries(lambda: fresh(api, cast.approver_cai).get("/api/rosters/"))
    make(10, 2025)
    large = queries(lambda: fresh(api, cast.approver_cai).get("/api/rosters/"))
    assert small == large <= 6


# --- GET /api/rosters/{id}/ --------------------------------------------------------------------------


def test_the_detail_has_status_totals_digest_timeline_and_the_callers_actions(api, cast):
    roster = roster_in("prepared", cast)
    body = fresh(api, cast.cashier_fay).get(f"/api/rosters/{roster.pk}/").json()
    assert (body["status"], body["number"], body["digest"]) == ("approved", roster.number, roster.digest)
    assert body["bank_batch"] == roster.bank_batch
    assert body["actions"] == ["pay"]
    assert [(e["step"], e["by"], e["status"]) for e in body["timeline"]] == [
        ("generate", "maker_ann", "draft"),
        ("submit", "maker_ann", "submitted"),
        ("check", "checker_ben", "checked"),
        ("approve", "approver_cai", "approved"),
        ("prepare-payment", "accountant_dan", "approved"),
    ]
    assert fresh(api, cast.maker_ann).get(f"/api/rosters/{roster.pk}/").json()["actions"] == []


def test_the_detail_is_403_without_the_view_permission_and_404_in_another_township(api, cast):
    roster = draft_roster(cast)
    assert fresh(api, cast.leader_hua).get(f"/api/rosters/{roster.pk}/").status_code == 403
    assert fresh(api, cast.outsider_eve).get(f"/api/rosters/{roster.pk}/").status_code == 404
    assert fresh(api, cast.maker_ann).get(f"/api/rosters/{roster.pk + 1000}/").status_code == 404


def test_the_detail_runs_the_same_queries_whatever_the_length_of_its_timeline(api, cast):
    short = draft_roster(cast)
    long = roster_in(RosterStatus.PAID, cast, period=NOVEMBER)
    assert queries(lambda: fresh(api, cast.auditor_gus).get(f"/api/rosters/{short.pk}/")) == queries(
        lambda: fresh(api, cast.auditor_gus).get(f"/api/rosters/{long.pk}/")
    )


# --- GET /api/rosters/{id}/lines/ ----------------------------------------------------------------------


def test_the_lines_come_in_line_order_with_ids_and_accounts_masked(api, cast):
    roster = draft_roster(cast)
    body = fresh(api, cast.maker_ann).get(f"/api/rosters/{roster.pk}/lines/").json()
    rows = body["results"]
    assert [row["seq"] for row in rows] == [1, 2, 3]
    first = roster.lines.get(seq=1)
    assert rows[0]["account_number_masked"] == "*" * 15 + first.account_number[-4:]
    assert first.account_number not in str(body)
    assert first.person.id_number not in str(body)
    assert rows[0]["person"]["id_number_masked"].endswith(first.person.id_number[-4:])
    assert (rows[0]["net"], rows[0]["bank_status"], rows[0]["period"]) == ("164.58", "pending", "2025-10")


def test_the_lines_are_403_without_the_view_permission_and_404_in_another_township(api, cast):
    roster = draft_roster(cast)
    assert fresh(api, cast.leader_hua).get(f"/api/rosters/{roster.pk}/lines/").status_code == 403
    assert fresh(api, cast.outsider_eve).get(f"/api/rosters/{roster.pk}/lines/").status_code == 404


def test_the_lines_run_the_same_queries_for_three_and_for_sixty_lines(api, cast):
    small = draft_roster(cast, count=3)
    large = draft_roster(cast, count=60, period=NOVEMBER)
    assert queries(lambda: fresh(api, cast.maker_ann).get(f"/api/rosters/{small.pk}/lines/")) == queries(
        lambda: fresh(api, cast.maker_ann).get(f"/api/rosters/{large.pk}/lines/")
    )
    page = fresh(api, cast.maker_ann).get(f"/api/rosters/{large.pk}/lines/?page_size=50").json()
    assert len(page["results"]) == 50
    assert page["next"]
    rest = fresh(api, cast.maker_ann).get(page["next"]).json()["results"]
    assert [row["seq"] for row in rest] == list(range(51, 61))


# --- POST /api/rosters/{id}/<step>/ -------------------------------------------------------------------

# step, the state it starts from, who takes it, someone whose role does not allow it, the state after.
STEP_CASES = [
    ("submit", RosterStatus.DRAFT, "maker_ann", "checker_ben", RosterStatus.SUBMITTED),
    ("check", RosterStatus.SUBMITTED, "checker_ben", "maker_ann", RosterStatus.CHECKED),
    ("approve", RosterStatus.CHECKED, "approver_cai", "checker_ben", RosterStatus.APPROVED),
    ("prepare-payment", RosterStatus.APPROVED, "accountant_dan", "cashier_fay", RosterStatus.APPROVED),
    ("pay", "prepared", "cashier_fay", "accountant_dan", RosterStatus.PAYING),
    ("return", RosterStatus.SUBMITTED, "checker_ben", "maker_ann", RosterStatus.DRAFT),
    ("cancel", RosterStatus.DRAFT, "maker_ann", "approver_cai", RosterStatus.CANCELLED),
]
_BODY = {"return": {"reason": "第2行账号有误"}, "cancel": {"reason": "重复生成"}}


@pytest.mark.parametrize(("step", "start", "actor", "_wrong", "after"), STEP_CASES)
def test_a_step_through_the_api_succeeds_and_answers_the_roster(api, cast, step, start, actor, _wrong, after):
    roster = roster_in(start, cast)
    response = fresh(api, getattr(cast, actor)).post(f"/api/rosters/{roster.pk}/{step}/", _BODY.get(step, {}))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == after
    assert response.json()["timeline"][-1]["step"] == step
    assert response.json()["timeline"][-1]["by"] == actor


@pytest.mark.parametrize(("step", "start", "_actor", "wrong", "_after"), STEP_CASES)
def test_a_step_is_403_for_a_role_without_it(api, cast, step, start, _actor, wrong, _after):
    roster = roster_in(start, cast)
    response = fresh(api, getattr(cast, wrong)).post(f"/api/rosters/{roster.pk}/{step}/", _BODY.get(step, {}))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(("step", "start", "_actor", "_wrong", "_after"), STEP_CASES)
def test_a_step_is_404_for_another_townships_roster(api, cast, step, start, _actor, _wrong, _after):
    roster = roster_in(start, cast)
    # The same post in Township B.
    roles = {
        "submit": Role.CLERK,
        "cancel": Role.CLERK,
        "check": Role.SECTION_CHIEF,
        "return": Role.SECTION_CHIEF,
        "approve": Role.LEADER_IN_CHARGE,
        "prepare-payment": Role.ACCOUNTANT,
        "pay": Role.CASHIER,
    }
    outsider = UserFactory(
        username="outsider", roles=[roles[step], Role.FINANCE], townships=[cast.township_b]
    )
    response = fresh(api, outsider).post(f"/api/rosters/{roster.pk}/{step}/", _BODY.get(step, {}))
    assert response.status_code == 404


@pytest.mark.parametrize(("step", "_start", "actor", "_wrong", "_after"), STEP_CASES)
def test_a_step_is_409_naming_the_roster_and_its_state(api, cast, step, _start, actor, _wrong, _after):
    roster = roster_in(RosterStatus.PAID, cast)
    response = fresh(api, getattr(cast, actor)).post(f"/api/rosters/{roster.pk}/{step}/", _BODY.get(step, {}))
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["number"], body["status"]) == ("invalid_state", roster.number, "paid")
    assert roster.number in body["detail"]


@pytest.mark.parametrize(("step", "start", "actor", "_wrong", "_after"), STEP_CASES)
def test_a_step_runs_the_same_queries_for_a_small_and_a_large_roster(
    api, cast, step, start, actor, _wrong, _after
):
    small = roster_in(start, cast, count=2)
    large = roster_in(start, cast, count=40, period=NOVEMBER)
    body = _BODY.get(step, {})
    counts = [
        queries(
            lambda roster=roster: fresh(api, getattr(cast, actor)).post(
                f"/api/rosters/{roster.pk}/{step}/", body
            )
        )
        for roster in (small, large)
    ]
    assert counts[0] == counts[1]


def test_a_return_without_a_reason_is_400(api, cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    response = fresh(api, cast.checker_ben).post(f"/api/rosters/{roster.pk}/return/", {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_segregation_of_duties_through_the_api_names_the_rule(api, cast):
    """E22: the cashier is not the accountant, even for a user who holds both posts by mistake."""
    mo = UserFactory(
        username="mo", roles=[Role.FINANCE, Role.ACCOUNTANT, Role.CASHIER], townships=[cast.township_a]
    )
    roster = roster_in(RosterStatus.APPROVED, cast)
    assert fresh(api, mo).post(f"/api/rosters/{roster.pk}/prepare-payment/").status_code == 200
    response = fresh(api, mo).post(f"/api/rosters/{roster.pk}/pay/")
    assert response.status_code == 403
    assert (response.json()["error"], response.json()["rule"]) == (
        "segregation_of_duties",
        "cashier_is_accountant",
    )
    assert fresh(api, mo).get(f"/api/rosters/{roster.pk}/").json()["actions"] == []


def test_the_roster_endpoints_are_in_the_schema(api, cast):
    schema = fresh(api, cast.maker_ann).get("/api/schema/?format=json").json()
    paths = set(schema["paths"])
    assert {
        "/api/rosters/",
        "/api/rosters/{id}/",
        "/api/rosters/{id}/lines/",
        "/api/rosters/{id}/approve/",
    } <= paths
