"""The proxy-payment (代缴) roster API, /api/proxy-payment-rosters/ (issue 4 "Screens and API"; DOMAIN §1.3,
E2, E3, E22): each endpoint's success, 403, 404, 409 and query count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.choices import SpecialGroup
from enrollment.models import ContributionRecord
from enrollment.proxy_payment import ProxyPaymentRoster
from enrollment.proxy_payment_services import proxy_payment_roster_record_bank_receipt
from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.rosters.choices import RosterStatus
from tests.enrollment.test_proxy_payment import YEAR, generate, make_county, person, receipt
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/proxy-payment-rosters/"


@pytest.fixture
def county(cast):
    return make_county(cast)


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return len(captured)


# --- POST /api/proxy-payment-rosters/ ------------------------------------------------------------------


def test_e2_e3_a_clerk_generates_the_years_roster_of_her_township(api, cast, county):
    response = fresh(api, cast.maker_ann).post(
        URL, {"year": YEAR, "township": cast.township_a.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    roster = body["roster"]
    assert (roster["status"], roster["year"], roster["period"]) == ("draft", YEAR, f"{YEAR}-01")
    assert (roster["total_persons"], roster["total_amount"], roster["programme"]) == (
        2,
        "200.00",
        "proxy_payment",
    )
    assert roster["actions"] == ["submit", "cancel"]
    assert [entry["step"] for entry in roster["timeline"]] == ["generate"]
    assert (body["without_account"], body["without_account_person_ids"]) == (0, [])


def test_generating_is_403_for_another_role_and_404_for_another_township(api, cast, county):
    assert fresh(api, cast.checker_ben).post(URL, {"year": YEAR}, format="json").status_code == 403
    response = fresh(api, cast.maker_ann).post(
        URL, {"year": YEAR, "township": cast.township_b.pk}, format="json"
    )
    assert response.status_code == 404
    assert fresh(api, cast.maker_ann).post(URL, {"year": "x"}, format="json").status_code == 400
    assert not ProxyPaymentRoster.objects.exists()


def test_a_second_generation_for_the_year_is_409_naming_the_roster(api, cast, county):
    client = fresh(api, cast.maker_ann)
    first = client.post(URL, {"year": YEAR, "township": cast.township_a.pk}, format="json").json()["roster"]
    response = client.post(URL, {"year": YEAR, "township": cast.township_a.pk}, format="json")
    assert response.status_code == 409
    assert first["number"] in response.json()["detail"]


def test_generating_runs_the_same_queries_for_two_and_for_twelve_persons(api, cast, county):
    small = queries(
        lambda: fresh(api, cast.maker_ann).post(
            URL, {"year": YEAR, "township": cast.township_a.pk}, format="json"
        )
    )
    for _ in range(10):
        person(cast, age=30, groups=[SpecialGroup.RETURNED_TO_POVERTY])
    large = queries(
        lambda: fresh(api, cast.maker_ann).post(
            URL, {"year": YEAR - 1, "township": cast.township_a.pk}, format="json"
        )
    )
    assert small == large


# --- GET list, detail, lines ----------------------------------------------------------------------------


def test_the_list_shows_the_callers_townships_rosters_and_is_403_without_the_permission(api, cast, county):
    roster = generate(cast).roster
    generate(cast, township="b", by=cast.outsider_eve)
    rows = fresh(api, cast.checker_ben).get(URL).json()["results"]
    assert [(row["number"], row["year"]) for row in rows] == [(roster.number, YEAR)]
    assert fresh(api, cast.unassigned_joe).get(URL).json()["results"] == []
    assert fresh(api, cast.admin_ivy).get(URL).status_code == 403


def test_the_list_runs_the_same_queries_for_two_and_for_twelve_rosters(api, cast, county):
    def make(years) -> None:
        for year in years:
            generate(cast, year=year)

    make([YEAR, YEAR - 1])
    small = queries(lambda: fresh(api, cast.auditor_gus).get(URL))
    make(range(YEAR - 11, YEAR - 1))
    large = queries(lambda: fresh(api, cast.auditor_gus).get(URL))
    assert small == large


def test_the_detail_is_the_roster_and_404_in_another_township(api, cast, county):
    roster = generate(cast).roster
    body = fresh(api, cast.maker_ann).get(f"{URL}{roster.pk}/").json()
    assert (body["number"], body["year"], body["actions"]) == (roster.number, YEAR, ["submit", "cancel"])
    assert fresh(api, cast.outsider_eve).get(f"{URL}{roster.pk}/").status_code == 404
    assert fresh(api, cast.admin_ivy).get(f"{URL}{roster.pk}/").status_code == 403
    short = queries(lambda: fresh(api, cast.auditor_gus).get(f"{URL}{roster.pk}/"))
    for step, actor in (("submit", cast.maker_ann), ("check", cast.checker_ben)):
        fresh(api, actor).post(f"{URL}{roster.pk}/{step}/", {}, format="json")
    assert queries(lambda: fresh(api, cast.auditor_gus).get(f"{URL}{roster.pk}/")) == short


def test_the_lines_show_group_share_grade_and_amount_masked(api, cast, county):
    roster = generate(cast).roster
    rows = fresh(api, cast.maker_ann).get(f"{URL}{roster.pk}/lines/").json()["results"]
    by_person = {row["person"]["id"]: row for row in rows}
    e2 = by_person[county["e2"].pk]
    assert (
        e2["category"],
        e2["share"],
        e2["grade"],
        e2["proxy_payment_amount"],
        e2["government_subsidy"],
    ) == (
        "extreme_poverty_support",
        "full",
        "100.00",
        "100.00",
        "30.00",
    )
    assert e2["period"] == f"{YEAR}-01"
    assert county["e2"].bank_account_number not in str(rows)
    assert county["e2"].id_number not in str(rows)
    assert fresh(api, cast.outsider_eve).get(f"{URL}{roster.pk}/lines/").status_code == 404
    assert fresh(api, cast.admin_ivy).get(f"{URL}{roster.pk}/lines/").status_code == 403


def test_the_lines_run_the_same_queries_for_two_and_for_twelve_lines(api, cast, county):
    small = generate(cast).roster
    for _ in range(10):
        person(cast, age=30, groups=[SpecialGroup.RETURNED_TO_POVERTY])
    large = generate(cast, year=YEAR - 1).roster
    assert large.total_persons == 12
    assert queries(lambda: fresh(api, cast.maker_ann).get(f"{URL}{small.pk}/lines/")) == queries(
        lambda: fresh(api, cast.maker_ann).get(f"{URL}{large.pk}/lines/")
    )


# --- POST /api/proxy-payment-rosters/{id}/<step>/ -------------------------------------------------------


def test_e22_five_people_take_the_roster_to_paid_and_the_records_follow(api, cast, county):
    roster = generate(cast).roster
    for step, actor, status in (
        ("submit", cast.maker_ann, "submitted"),
        ("check", cast.checker_ben, "checked"),
        ("approve", cast.approver_cai, "approved"),
        ("prepare-payment", cast.accountant_dan, "approved"),
        ("pay", cast.cashier_fay, "paying"),
    ):
        response = fresh(api, actor).post(f"{URL}{roster.pk}/{step}/", {}, format="json")
        assert (response.status_code, response.json()["status"]) == (200, status), response.content
    roster.refresh_from_db()
    proxy_payment_roster_record_bank_receipt(
        roster_id=roster.pk, results=receipt(roster), by=cast.accountant_dan
    )
    body = fresh(api, cast.auditor_gus).get(f"{URL}{roster.pk}/").json()
    assert (body["status"], body["paid_persons"], body["paid_amount"]) == ("paid", 2, "200.00")
    assert [post["by"]["username"] for post in body["posts"]] == [
        "maker_ann",
        "checker_ben",
        "approver_cai",
        "accountant_dan",
        "cashier_fay",
    ]
    assert ContributionRecord.objects.filter(period_start=dt.date(YEAR, 1, 1)).count() == 2


def test_a_step_is_403_for_the_wrong_role_and_404_in_another_township(api, cast, county):
    roster = generate(cast).roster
    assert (
        fresh(api, cast.checker_ben).post(f"{URL}{roster.pk}/submit/", {}, format="json").status_code == 403
    )
    assert (
        fresh(api, cast.outsider_eve).post(f"{URL}{roster.pk}/submit/", {}, format="json").status_code == 404
    )
    fresh(api, cast.maker_ann).post(f"{URL}{roster.pk}/submit/", {}, format="json")
    assert (
        fresh(api, cast.approver_cai).post(f"{URL}{roster.pk}/check/", {}, format="json").status_code == 403
    )


def test_segregation_of_duties_the_maker_may_not_check_even_holding_the_chiefs_role(api, cast, county):
    # DOMAIN §8.2, E22: the checker is not the maker; a 403 naming the rule.
    both = UserFactory(
        username="ann_and_chief", roles=[Role.CLERK, Role.SECTION_CHIEF], townships=[cast.township_a]
    )
    roster = generate(cast, by=both).roster
    fresh(api, both).post(f"{URL}{roster.pk}/submit/", {}, format="json")
    response = fresh(api, both).post(f"{URL}{roster.pk}/check/", {}, format="json")
    assert (response.status_code, response.json()["rule"]) == (403, "checker_is_maker")


def test_a_step_in_the_wrong_state_is_409(api, cast, county):
    roster = generate(cast).roster
    response = fresh(api, cast.approver_cai).post(f"{URL}{roster.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert roster.number in response.json()["detail"]
    returned = fresh(api, cast.checker_ben).post(f"{URL}{roster.pk}/return/", {"reason": "x"}, format="json")
    assert returned.status_code == 409


def test_cancelling_needs_a_reason_and_frees_the_year(api, cast, county):
    roster = generate(cast).roster
    client = fresh(api, cast.maker_ann)
    assert client.post(f"{URL}{roster.pk}/cancel/", {}, format="json").status_code == 400
    response = client.post(f"{URL}{roster.pk}/cancel/", {"reason": "名单有误"}, format="json")
    assert response.json()["status"] == RosterStatus.CANCELLED
    again = fresh(api, cast.maker_ann).post(
        URL, {"year": YEAR, "township": cast.township_a.pk}, format="json"
    )
    assert again.status_code == 201


def test_a_step_runs_the_same_queries_for_two_and_for_twelve_lines(api, cast, county):
    small = generate(cast).roster
    for _ in range(10):
        person(cast, age=30, groups=[SpecialGroup.RETURNED_TO_POVERTY])
    large = generate(cast, year=YEAR - 1).roster
    assert queries(
        lambda: fresh(api, cast.maker_ann).post(f"{URL}{small.pk}/submit/", {}, format="json")
    ) == (queries(lambda: fresh(api, cast.maker_ann).post(f"{URL}{large.pk}/submit/", {}, format="json")))
