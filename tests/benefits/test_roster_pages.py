"""The payout-roster pages (issue 4 "Screens and API"; DOMAIN §8.2, E22): the list with its filters
and inboxes, the roster page, the step forms, the generate form and the home work queues.

Each page gets its five cases: success, 403 for a wrong role, 404 for another township, 409 for a
wrong state (the steps), and a constant number of queries at two sizes. zh-hans is the default
language, so the pages answer in Chinese unless a test asks otherwise.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits import services, views
from benefits.choices import BenefitProgramme
from benefits.models import PayoutRoster
from socialsec.core.models import User
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.selectors import available_steps
from tests.benefits.entitlement_factories import paying, pensioner
from tests.rosters.factories import NOVEMBER, OCTOBER, draft_roster, roster_in

pytestmark = pytest.mark.django_db

LIST = "/rosters/"


def detail(roster: PayoutRoster) -> str:
    return f"/rosters/{roster.pk}/"


def step_url(roster: PayoutRoster, step: str) -> str:
    return f"/rosters/{roster.pk}/{step}/"


def as_user(client, user: User):
    client.force_login(user)
    return client


def count_queries(client, url: str, method: str = "get", **data) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data)
    assert response.status_code < 400, response.content.decode()[:2000]
    return len(captured)


def actions_on(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z-]+)"', html)


# --- The list: /rosters/ ---------------------------------------------------------------------------------


def test_the_list_shows_the_users_townships_rosters_with_the_status_in_chinese(client, cast):
    mine = roster_in(RosterStatus.SUBMITTED, cast)
    theirs = draft_roster(cast, township=cast.township_b, by=cast.outsider_eve)
    response = as_user(client, cast.checker_ben).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert mine.number in html and theirs.number not in html
    assert '<span class="badge text-bg-info" data-status="submitted">待审核</span>' in html
    assert str(mine.get_programme_display()) in html


def test_the_list_is_403_for_a_role_without_the_roster_view_permission(client, cast):
    draft_roster(cast)
    assert as_user(client, cast.leader_hua).get(LIST).status_code == 403


def test_the_list_of_another_townships_clerk_shows_none_of_township_a_rosters(client, cast):
    roster = draft_roster(cast)
    response = as_user(client, cast.outsider_eve).get(LIST)
    assert response.status_code == 200
    assert roster.number not in response.content.decode()


def test_the_list_filters_by_state_programme_and_month(client, cast):
    october = roster_in(RosterStatus.SUBMITTED, cast)
    november = draft_roster(cast, period=NOVEMBER, count=1)
    unemployment = draft_roster(cast, programme=BenefitProgramme.UNEMPLOYMENT_BENEFIT, count=1)
    client = as_user(client, cast.maker_ann)

    def shown(query: str) -> set[str]:
        html = client.get(f"{LIST}?{query}").content.decode()
        return {r.number for r in (october, november, unemployment) if r.number in html}

    assert shown("status=draft") == {november.number, unemployment.number}
    assert shown("month=2025-10") == {october.number, unemployment.number}
    assert shown("programme=unemployment_benefit") == {unemployment.number}
    assert shown("status=draft&month=2025-11") == {november.number}
    # An unknown value is ignored rather than an error.
    assert shown("status=nonsense&month=13-2025") == {october.number, november.number, unemployment.number}


def test_the_list_pages_by_keyset_and_the_next_page_keeps_the_filters(client, cast, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    rosters = [draft_roster(cast, period=OCTOBER.replace(month=month), count=1) for month in (7, 8, 9)]
    client = as_user(client, cast.maker_ann)
    first = client.get(f"{LIST}?status=draft").content.decode()
    assert rosters[2].number in first and rosters[1].number in first and rosters[0].number not in first
    assert f"status=draft&amp;after={rosters[1].pk}" in first
    rest = client.get(f"{LIST}?status=draft&after={rosters[1].pk}", headers={"HX-Request": "true"})
    html = rest.content.decode()
    assert rosters[0].number in html and rosters[1].number not in html
    assert "<nav" not in html  # the rows only, for htmx to swap in


def test_the_list_runs_the_same_number_of_queries_for_one_roster_and_for_five(client, cast):
    draft_roster(cast, count=1)
    few = count_queries(as_user(client, User.objects.get(pk=cast.maker_ann.pk)), LIST)
    for month in (5, 6, 7, 8):
        roster_in(RosterStatus.SUBMITTED, cast, period=OCTOBER.replace(month=month), count=1)
    many = count_queries(as_user(client, User.objects.get(pk=cast.maker_ann.pk)), LIST)
    assert few == many


# --- Inboxes per post ----------------------------------------------------------------------------------


def test_the_clerks_inbox_lists_drafts_and_returned_rosters_with_the_reason(client, cast):
    returned = roster_in(RosterStatus.SUBMITTED, cast)
    services.payout_roster_return(roster_id=returned.pk, by=cast.checker_ben, reason="第3行金额有误")
    submitted = roster_in(RosterStatus.SUBMITTED, cast, period=NOVEMBER)
    html = as_user(client, cast.maker_ann).get(f"{LIST}?inbox=prepare").content.decode()
    assert returned.number in html and submitted.number not in html
    assert "第3行金额有误" in html
    assert 'data-inbox="prepare"' in html


@pytest.mark.parametrize(
    ("username", "inbox", "shown_status"),
    [
        ("checker_ben", "check", RosterStatus.SUBMITTED),
        ("approver_cai", "approve", RosterStatus.CHECKED),
        ("accountant_dan", "prepare-payment", RosterStatus.APPROVED),
        ("cashier_fay", "release", "prepared"),
        ("cashier_fay", "receipt", RosterStatus.PAYING),
    ],
)
def test_each_posts_inbox_lists_exactly_the_rosters_waiting_for_it(
    client, cast, username, inbox, shown_status
):
    months = {
        RosterStatus.SUBMITTED: 4,
        RosterStatus.CHECKED: 5,
        RosterStatus.APPROVED: 6,
        "prepared": 7,
        RosterStatus.PAYING: 8,
    }
    rosters = {
        status: roster_in(status, cast, period=OCTOBER.replace(month=m), count=1)
        for status, m in months.items()
    }
    html = as_user(client, getattr(cast, username)).get(f"{LIST}?inbox={inbox}").content.decode()
    assert {status for status, roster in rosters.items() if roster.number in html} == {shown_status}
    assert f'data-inbox="{inbox}"' in html  # the user's inboxes are offered as tabs


# --- The roster page: /rosters/{id}/ -------------------------------------------------------------------


def test_the_roster_page_shows_header_totals_digest_signatures_timeline_and_masked_lines(client, cast):
    roster = roster_in(RosterStatus.CHECKED, cast, count=2)
    person = roster.lines.select_related("person").order_by("seq").first().person
    response = as_user(client, cast.approver_cai).get(detail(roster))
    html = response.content.decode()
    assert response.status_code == 200
    assert roster.number in html and "2025-10" in html and cast.township_a.name in html
    assert 'data-status="checked">已审核<' in html
    assert 'id="total-persons">2<' in html and str(roster.total_amount) in html
    assert roster.digest in html
    # The signature block: maker and checker filled, the other three posts empty.
    assert re.search(
        r'data-post="maker">\s*<th[^>]*>制表人</th>\s*<td class="signature-name">maker_ann<', html
    )
    assert re.search(
        r'data-post="checker">\s*<th[^>]*>审核人</th>\s*<td class="signature-name">checker_ben<', html
    )
    assert re.search(r'data-post="approver">\s*<th[^>]*>审批人</th>\s*<td class="signature-name"><span', html)
    # The timeline: who did what, from the audit trail.
    assert re.findall(r'<li class="list-group-item" data-step="([a-z-]+)"', html) == [
        "generate",
        "submit",
        "check",
    ]
    # The ID number is masked, never shown whole.
    assert person.id_number not in html
    assert f"{person.id_number[:6]}********{person.id_number[-4:]}" in html


def test_the_roster_page_is_403_for_a_role_without_the_view_permission(client, cast):
    roster = draft_roster(cast)
    assert as_user(client, cast.leader_hua).get(detail(roster)).status_code == 403


def test_another_townships_roster_page_is_404_like_a_missing_one(client, cast):
    roster = draft_roster(cast)
    client = as_user(client, cast.outsider_eve)
    assert client.get(detail(roster)).status_code == 404
    assert client.get("/rosters/999999/").status_code == 404


def test_the_roster_page_runs_the_same_number_of_queries_for_two_lines_and_for_twelve(client, cast):
    small = roster_in(RosterStatus.CHECKED, cast, count=2)
    large = roster_in(RosterStatus.CHECKED, cast, count=12, period=NOVEMBER)
    few = count_queries(as_user(client, User.objects.get(pk=cast.approver_cai.pk)), detail(small))
    many = count_queries(as_user(client, User.objects.get(pk=cast.approver_cai.pk)), detail(large))
    assert few == many


def test_the_lines_come_in_keyset_pages_and_htmx_gets_the_next_rows_only(client, cast, monkeypatch):
    monkeypatch.setattr(views, "LINE_PAGE_SIZE", 2)
    roster = draft_roster(cast, count=5)
    client = as_user(client, cast.maker_ann)
    html = client.get(detail(roster)).content.decode()
    assert re.findall(r'<tr data-seq="(\d+)"', html) == ["1", "2"]
    rest = client.get(
        f"{detail(roster)}?after=2", headers={"HX-Request": "true", "HX-Target": "next-lines"}
    ).content.decode()
    assert re.findall(r'<tr data-seq="(\d+)"', rest) == ["3", "4"]
    assert "?after=4" in rest and "<nav" not in rest


# --- The buttons: exactly the steps this user may take now ---------------------------------------------


@pytest.mark.parametrize(
    ("status", "username", "expected"),
    [
        (RosterStatus.DRAFT, "maker_ann", ["submit", "cancel"]),
        (RosterStatus.DRAFT, "checker_ben", []),
        (RosterStatus.SUBMITTED, "checker_ben", ["check", "return"]),
        (RosterStatus.SUBMITTED, "maker_ann", []),
        (RosterStatus.SUBMITTED, "approver_cai", []),
        (RosterStatus.CHECKED, "approver_cai", ["approve", "return"]),
        (RosterStatus.CHECKED, "checker_ben", []),
        (RosterStatus.APPROVED, "accountant_dan", ["prepare-payment"]),
        (RosterStatus.APPROVED, "cashier_fay", []),
        ("prepared", "cashier_fay", ["pay"]),
        ("prepared", "accountant_dan", []),
        (RosterStatus.PAYING, "cashier_fay", []),
        (RosterStatus.PAYING, "accountant_dan", []),
        (RosterStatus.SUBMITTED, "auditor_gus", []),
    ],
)
def test_the_page_offers_exactly_the_steps_the_api_offers(client, cast, status, username, expected):
    """DOMAIN §8.2, E22: the buttons come from the same available_steps as the API's `actions`.

    The bank receipt (PAYING, finance) is a file upload, not a button: the upload form shows
    exactly when the API offers the step "bank-receipt".
    """
    roster = roster_in(status, cast)
    user = User.objects.get(pk=getattr(cast, username).pk)
    html = as_user(client, user).get(detail(roster)).content.decode()
    assert actions_on(html) == expected
    api_actions = available_steps(roster, User.objects.get(pk=user.pk))
    assert expected == [step for step in api_actions if step != "bank-receipt"]
    records_receipt = "bank-receipt" in api_actions
    assert ('id="receipt-form"' in html) is records_receipt
    assert records_receipt is (
        status == RosterStatus.PAYING and username in ("accountant_dan", "cashier_fay")
    )
    if not expected and not records_receipt:
        assert 'id="no-actions"' in html


# --- The steps: POST /rosters/{id}/{step}/ -------------------------------------------------------------


def test_the_checker_checks_a_submitted_roster_and_comes_back_to_its_page(client, cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    response = as_user(client, cast.checker_ben).post(step_url(roster, "check"), {"check-note": "已核对"})
    assert (response.status_code, response["Location"]) == (302, detail(roster))
    roster.refresh_from_db()
    assert (roster.status, roster.checked_by) == (RosterStatus.CHECKED, cast.checker_ben)
    html = client.get(detail(roster)).content.decode()
    assert "已核对" in html  # the note is on the timeline


def test_a_clerk_may_not_approve_and_gets_the_403_page_naming_the_step(client, cast):
    roster = roster_in(RosterStatus.CHECKED, cast)
    response = as_user(client, cast.maker_ann).post(step_url(roster, "approve"))
    assert response.status_code == 403
    assert "您的角色不能对花名册执行“审批”。" in response.content.decode()
    roster.refresh_from_db()
    assert roster.status == RosterStatus.CHECKED


def test_the_checker_who_also_made_the_roster_is_refused_by_segregation_of_duties(client, cast):
    """E22: the checker is not the maker, even when one person holds both roles."""
    from socialsec.core.choices import Role
    from tests.factories import UserFactory

    both = UserFactory(
        username="both_kim", roles=[Role.CLERK, Role.SECTION_CHIEF], townships=[cast.township_a]
    )
    roster = draft_roster(cast, by=both)
    services.payout_roster_submit(roster_id=roster.pk, by=both)
    response = as_user(client, both).post(step_url(roster, "check"))
    assert response.status_code == 403
    assert 'data-error-code="segregation_of_duties"' in response.content.decode()


def test_a_step_on_another_townships_roster_is_404(client, cast):
    roster = draft_roster(cast)
    assert as_user(client, cast.outsider_eve).post(step_url(roster, "submit")).status_code == 404
    roster.refresh_from_db()
    assert roster.status == RosterStatus.DRAFT


def test_checking_a_draft_is_409_naming_the_roster_and_its_state(client, cast):
    roster = draft_roster(cast)
    response = as_user(client, cast.checker_ben).post(step_url(roster, "check"))
    html = response.content.decode()
    assert response.status_code == 409
    assert roster.number in html and "草稿" in html
    assert 'data-error-code="invalid_state"' in html


def test_a_step_that_is_not_a_button_is_404(client, cast):
    roster = draft_roster(cast)
    client = as_user(client, cast.maker_ann)
    assert client.post(step_url(roster, "generate")).status_code == 404
    assert client.post(step_url(roster, "nonsense")).status_code == 404


def test_returning_without_a_reason_shows_the_error_in_chinese_next_to_the_form(client, cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    response = as_user(client, cast.checker_ben).post(step_url(roster, "return"), {"return-note": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写退回花名册的原因。" in html and "is-invalid" in html
    roster.refresh_from_db()
    assert roster.status == RosterStatus.SUBMITTED


def test_a_user_who_chose_english_reads_the_refusal_in_english(client, cast, settings):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    client = as_user(client, cast.checker_ben)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(step_url(roster, "return"), {"return-note": ""})
    assert "Give the reason for returning the roster." in response.content.decode()


def test_the_leader_returns_a_checked_roster_with_a_reason_and_the_clerk_sees_it(client, cast):
    roster = roster_in(RosterStatus.CHECKED, cast)
    response = as_user(client, cast.approver_cai).post(
        step_url(roster, "return"), {"return-note": "人数不符"}
    )
    assert response.status_code == 302
    roster.refresh_from_db()
    assert (roster.status, roster.return_reason) == (RosterStatus.DRAFT, "人数不符")
    html = as_user(client, cast.maker_ann).get(detail(roster)).content.decode()
    assert "人数不符" in html and actions_on(html) == ["submit", "cancel"]


def test_cancelling_needs_a_reason_and_then_cancels_the_draft(client, cast):
    roster = draft_roster(cast)
    client = as_user(client, cast.maker_ann)
    assert client.post(step_url(roster, "cancel"), {"cancel-note": ""}).status_code == 400
    assert client.post(step_url(roster, "cancel"), {"cancel-note": "重复生成"}).status_code == 302
    roster.refresh_from_db()
    assert (roster.status, roster.cancel_reason) == (RosterStatus.CANCELLED, "重复生成")
    assert 'data-status="cancelled">已作废<' in client.get(detail(roster)).content.decode()


def test_a_step_runs_the_same_number_of_queries_for_two_lines_and_for_twelve(client, cast):
    small = roster_in(RosterStatus.SUBMITTED, cast, count=2)
    large = roster_in(RosterStatus.SUBMITTED, cast, count=12, period=NOVEMBER)
    few = count_queries(
        as_user(client, User.objects.get(pk=cast.checker_ben.pk)), step_url(small, "check"), "post"
    )
    many = count_queries(
        as_user(client, User.objects.get(pk=cast.checker_ben.pk)), step_url(large, "check"), "post"
    )
    assert few == many


# --- Generating a roster -------------------------------------------------------------------------------


def generate_form(cast, month: str = "2025-10", township=None) -> dict[str, str]:
    township = township or cast.township_a
    return {"programme": "resident_pension", "month": month, "township": str(township.pk)}


def test_a_clerk_generates_the_months_roster_from_the_paying_entitlements_and_lands_on_the_draft(
    client, cast
):
    """DOMAIN §1.4, E1: one line per paying entitlement, its amount from the month's parameters
    (3,000 in the account, 15 years: 164.58 in 2025); an application not yet approved is left out."""
    payees = [pensioner(cast) for _ in range(2)]
    entitlements = [paying(cast, person) for person in payees]
    services.entitlement_apply(
        person_id=pensioner(cast).pk, programme=BenefitProgramme.RESIDENT_PENSION, by=cast.maker_ann
    )
    client = as_user(client, cast.maker_ann)
    assert 'id="generate-roster"' in client.get(LIST).content.decode()
    response = client.post("/rosters/generate/", generate_form(cast))
    roster = PayoutRoster.objects.get()
    assert (response.status_code, response["Location"]) == (302, detail(roster))
    assert (roster.status, roster.created_by, roster.township) == (
        RosterStatus.DRAFT,
        cast.maker_ann,
        cast.township_a,
    )
    assert (roster.period, roster.total_persons, roster.total_amount) == (OCTOBER, 2, Decimal("329.16"))
    lines = roster.lines.order_by("seq")
    assert {(line.person_id, line.entitlement_id, line.net) for line in lines} == {
        (person.pk, entitlement.pk, Decimal("164.58"))
        for person, entitlement in zip(payees, entitlements, strict=True)
    }
    html = client.get(response["Location"]).content.decode()
    assert roster.number in html and 'data-status="draft">草稿<' in html
    assert re.findall(r'<tr data-seq="(\d+)"', html) == ["1", "2"]


def test_a_section_chief_has_no_generate_button_and_the_form_is_403(client, cast):
    assert 'id="generate-roster"' not in as_user(client, cast.checker_ben).get(LIST).content.decode()
    assert client.get("/rosters/generate/").status_code == 403
    assert client.post("/rosters/generate/", generate_form(cast)).status_code == 403
    assert not PayoutRoster.objects.exists()


def test_the_form_offers_only_the_clerks_townships_and_refuses_another(client, cast):
    paying(cast, pensioner(cast))
    html = as_user(client, cast.maker_ann).get("/rosters/generate/").content.decode()
    assert cast.township_a.name in html and cast.township_b.name not in html
    assert '<option value="">' not in html  # the whole county is for county-wide staff only
    response = client.post("/rosters/generate/", generate_form(cast, township=cast.township_b))
    assert response.status_code == 400  # not one of the choices: the form refuses it
    assert not PayoutRoster.objects.exists()


@pytest.mark.usefixtures("english_messages")
def test_a_month_that_is_not_yyyy_mm_is_400_with_the_error_next_to_the_field(client, cast, settings):
    client = as_user(client, cast.maker_ann)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/rosters/generate/", generate_form(cast, month="2025-13"))
    assert response.status_code == 400
    assert "Enter the month as YYYY-MM, e.g. 2025-10." in response.content.decode()
    assert 'id="month-errors"' in response.content.decode()
    assert not PayoutRoster.objects.exists()


def test_generating_a_month_that_has_a_roster_is_409_naming_the_existing_one(client, cast):
    paying(cast, pensioner(cast))
    client = as_user(client, cast.maker_ann)
    assert client.post("/rosters/generate/", generate_form(cast)).status_code == 302
    existing = PayoutRoster.objects.get()
    response = client.post("/rosters/generate/", generate_form(cast))
    assert response.status_code == 409
    assert existing.number in response.content.decode()
    assert PayoutRoster.objects.count() == 1


def test_generating_runs_the_same_number_of_queries_for_two_payees_and_for_ten(client, cast):
    """The lines are written by one INSERT … SELECT, whatever their number."""
    for _ in range(2):
        paying(cast, pensioner(cast))
    few = count_queries(
        as_user(client, User.objects.get(pk=cast.maker_ann.pk)),
        "/rosters/generate/",
        "post",
        **generate_form(cast, month="2025-10"),
    )
    for _ in range(8):
        paying(cast, pensioner(cast))
    many = count_queries(
        as_user(client, User.objects.get(pk=cast.maker_ann.pk)),
        "/rosters/generate/",
        "post",
        **generate_form(cast, month="2025-11"),
    )
    assert few == many
    assert list(PayoutRoster.objects.order_by("period").values_list("total_persons", flat=True)) == [2, 10]


# --- The home work queues ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "waiting", "not_waiting"),
    [
        ("maker_ann", RosterStatus.DRAFT, RosterStatus.SUBMITTED),
        ("checker_ben", RosterStatus.SUBMITTED, RosterStatus.CHECKED),
        ("approver_cai", RosterStatus.CHECKED, RosterStatus.SUBMITTED),
        ("accountant_dan", RosterStatus.APPROVED, "prepared"),
        ("cashier_fay", "prepared", RosterStatus.APPROVED),
    ],
)
def test_the_home_work_queue_lists_the_rosters_waiting_for_the_users_post(
    client, cast, username, waiting, not_waiting
):
    shown = roster_in(waiting, cast, count=1)
    hidden = roster_in(not_waiting, cast, count=1, period=NOVEMBER)
    html = as_user(client, getattr(cast, username)).get("/").content.decode()
    assert f'data-roster="{shown.pk}"' in html
    assert f'data-roster="{hidden.pk}"' not in html


def test_the_home_work_queue_runs_the_same_number_of_queries_for_one_roster_and_for_four(client, cast):
    roster_in(RosterStatus.SUBMITTED, cast, count=1)
    few = count_queries(as_user(client, User.objects.get(pk=cast.checker_ben.pk)), "/")
    for month in (6, 7, 8):
        roster_in(RosterStatus.SUBMITTED, cast, count=1, period=OCTOBER.replace(month=month))
    many = count_queries(as_user(client, User.objects.get(pk=cast.checker_ben.pk)), "/")
    assert few == many


def test_the_navigation_offers_payout_rosters_to_roles_that_may_view_them(client, cast):
    assert 'href="/rosters/"' in as_user(client, cast.maker_ann).get("/").content.decode()
    assert 'href="/rosters/"' not in as_user(client, cast.leader_hua).get("/").content.decode()
