"""Fee relief pages: a clerk files from the organization page, a section chief decides from the inbox.

The pages call fee_relief_file / fee_relief_approve / fee_relief_refuse; these tests check
the page side: scoping (404), roles (403), state (409), messages in the clerk's language,
htmx partials, and a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment import services
from enrollment.choices import FeeReliefKind, FeeReliefStatus
from enrollment.models import FeeReliefApplication, Organization
from socialsec.core.choices import Role
from tests.enrollment.factories import (
    FeeReliefApplicationFactory,
    FeeReliefPolicyFactory,
    OrganizationFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

INBOX_URL = "/persons/fee-relief/"


def file_url(organization: Organization) -> str:
    return f"/persons/organizations/{organization.pk}/fee-relief/"


def detail_url(application: FeeReliefApplication) -> str:
    return f"/persons/fee-relief/{application.pk}/"


def approve_url(application: FeeReliefApplication) -> str:
    return f"/persons/fee-relief/{application.pk}/approve/"


def refuse_url(application: FeeReliefApplication) -> str:
    return f"/persons/fee-relief/{application.pk}/refuse/"


def _html(response) -> str:
    return response.content.decode()


def _field_errors(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-errors">(.*?)</div></div>', html, re.S)
    assert found is not None, f"no errors shown next to {field}"
    return found.group(1)


@pytest.fixture
def exemption(db):
    return FeeReliefPolicyFactory(
        name="小微企业免征", kind=FeeReliefKind.EXEMPTION, size_classes=["small", "micro"], rate=Decimal("1")
    )


@pytest.fixture
def halving(db):
    return FeeReliefPolicyFactory(
        name="大型企业减半",
        kind=FeeReliefKind.REDUCTION,
        size_classes=["large", "medium"],
        rate=Decimal("0.5"),
    )


@pytest.fixture
def small_in_a(cast):
    return OrganizationFactory(township=cast.township_a, size_class="small", name="莲塘机械厂")


@pytest.fixture
def filed_in_a(cast, small_in_a, exemption):
    return services.fee_relief_file(
        organization_id=small_in_a.pk,
        policy_id=exemption.pk,
        period_from=dt.date(2020, 2, 1),
        period_to=dt.date(2020, 6, 1),
        by=cast.maker_ann,
    )


@pytest.fixture
def chief_in_b(cast):
    return UserFactory(username="chief_in_b", roles=[Role.SECTION_CHIEF], townships=[cast.township_b])


# --- Filing from the organization page -----------------------------------------------------------


def test_the_filing_form_offers_only_policies_that_cover_the_organizations_size_class(
    client, cast, small_in_a, exemption, halving
):
    client.force_login(cast.maker_ann)
    response = client.get(file_url(small_in_a))
    assert response.status_code == 200
    html = _html(response)
    assert f'<option value="{exemption.pk}">小微企业免征' in html
    assert "大型企业减半" not in html


def test_a_clerk_files_an_application_through_the_service(client, cast, small_in_a, exemption):
    client.force_login(cast.maker_ann)
    response = client.post(
        file_url(small_in_a), {"policy": exemption.pk, "period_from": "2020-03", "period_to": "2020-05"}
    )
    application = FeeReliefApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(application)
    assert (application.status, application.months, application.rate) == (
        FeeReliefStatus.FILED,
        3,
        Decimal("1"),
    )
    assert application.filed_by == cast.maker_ann


def test_a_section_chief_may_not_file(client, cast, small_in_a, exemption):
    client.force_login(cast.checker_ben)
    assert client.get(file_url(small_in_a)).status_code == 403
    data = {"policy": exemption.pk, "period_from": "2020-03", "period_to": "2020-05"}
    assert client.post(file_url(small_in_a), data).status_code == 403
    assert not FeeReliefApplication.objects.exists()


def test_filing_for_another_townships_organization_is_not_found(client, cast, small_in_a, exemption):
    client.force_login(cast.outsider_eve)
    assert client.get(file_url(small_in_a)).status_code == 404
    data = {"policy": exemption.pk, "period_from": "2020-03", "period_to": "2020-05"}
    assert client.post(file_url(small_in_a), data).status_code == 404
    assert not FeeReliefApplication.objects.exists()


def test_months_outside_the_policy_are_explained_next_to_the_field(client, cast, small_in_a, exemption):
    client.force_login(cast.maker_ann)
    data = {"policy": exemption.pk, "period_from": "2020-03", "period_to": "2021-03"}
    response = client.post(file_url(small_in_a), data)
    assert response.status_code == 400
    assert "2021-03" in _field_errors(_html(response), "period_to")
    assert not FeeReliefApplication.objects.exists()


def test_months_already_covered_are_a_conflict_naming_the_application(client, cast, small_in_a, exemption):
    earlier = FeeReliefApplicationFactory(organization=small_in_a, policy=exemption, filed_by=cast.maker_ann)
    client.force_login(cast.maker_ann)
    data = {"policy": exemption.pk, "period_from": "2020-03", "period_to": "2020-05"}
    response = client.post(file_url(small_in_a), data)
    assert response.status_code == 409
    assert str(earlier.pk) in _html(response)
    assert FeeReliefApplication.objects.count() == 1


# --- The section chief's inbox: the five cases ---------------------------------------------------


def test_the_inbox_lists_filed_applications_of_the_chiefs_townships_only(
    client, cast, filed_in_a, exemption, chief_in_b
):
    decided = FeeReliefApplicationFactory(
        organization=OrganizationFactory(township=cast.township_a, name="已审单位"),
        policy=exemption,
        filed_by=cast.maker_ann,
    )
    services.fee_relief_approve(application_id=decided.pk, by=cast.checker_ben)
    in_b = FeeReliefApplicationFactory(
        organization=OrganizationFactory(township=cast.township_b, name="向塘米业"),
        policy=exemption,
        filed_by=cast.outsider_eve,
    )
    client.force_login(cast.checker_ben)
    response = client.get(INBOX_URL)
    assert response.status_code == 200
    html = _html(response)
    assert "莲塘机械厂" in html
    assert f'hx-post="{approve_url(filed_in_a)}"' in html
    assert f'hx-post="{refuse_url(filed_in_a)}"' in html
    assert "已审单位" not in html
    assert "向塘米业" not in html
    client.force_login(chief_in_b)
    assert detail_url(in_b) in _html(client.get(INBOX_URL))
    assert "莲塘机械厂" not in _html(client.get(INBOX_URL))


def test_a_clerk_has_no_inbox(client, cast):
    client.force_login(cast.maker_ann)
    assert client.get(INBOX_URL).status_code == 403


def test_the_inbox_costs_the_same_queries_for_2_or_20_applications(
    client, cast, exemption, django_assert_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            FeeReliefApplicationFactory(
                organization=OrganizationFactory(township=cast.township_a),
                policy=exemption,
                filed_by=cast.maker_ann,
            )

    add(2)
    client.force_login(cast.checker_ben)
    client.get(INBOX_URL)  # warm per-process caches
    with CaptureQueriesContext(connection) as two:
        client.get(INBOX_URL)
    assert not any("COUNT(" in q["sql"].upper() for q in two.captured_queries)
    add(18)
    with django_assert_num_queries(len(two.captured_queries)):
        html = _html(client.get(INBOX_URL))
    assert html.count('data-action="approve"') == 20


def test_the_inbox_pages_by_id_oldest_first(client, cast, exemption):
    applications = [
        FeeReliefApplicationFactory(
            organization=OrganizationFactory(township=cast.township_a),
            policy=exemption,
            filed_by=cast.maker_ann,
        )
        for _ in range(51)
    ]
    client.force_login(cast.checker_ben)
    first = _html(client.get(INBOX_URL))
    assert f"?after={applications[49].pk}" in first
    assert detail_url(applications[50]) not in first
    second = _html(client.get(INBOX_URL, {"after": applications[49].pk}, HTTP_HX_REQUEST="true"))
    assert detail_url(applications[50]) in second
    assert "<html" not in second


def test_the_home_queue_of_a_section_chief_links_to_the_inbox(client, cast):
    client.force_login(cast.checker_ben)
    assert f'id="queue-fee-relief" href="{INBOX_URL}"' in _html(client.get("/"))


# --- Deciding: the five cases ---------------------------------------------------------------------


def test_a_section_chief_approves_in_place_and_the_decision_is_shown(client, cast, filed_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(approve_url(filed_in_a), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = _html(response)
    assert "<html" not in html  # the decision partial, swapped into #decision-<pk>
    assert 'data-status="approved"' in html
    assert "checker_ben" in html
    filed_in_a.refresh_from_db()
    assert (filed_in_a.status, filed_in_a.decided_by) == (FeeReliefStatus.APPROVED, cast.checker_ben)


def test_approving_without_htmx_returns_to_the_application_page(client, cast, filed_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(approve_url(filed_in_a))
    assert (response.status_code, response["Location"]) == (302, detail_url(filed_in_a))


def test_the_filer_sees_no_decide_buttons_and_a_forced_post_is_refused(client, cast, filed_in_a):
    client.force_login(cast.maker_ann)
    page = _html(client.get(detail_url(filed_in_a)))
    assert approve_url(filed_in_a) not in page
    assert refuse_url(filed_in_a) not in page
    partial = client.post(approve_url(filed_in_a), HTTP_HX_REQUEST="true")
    assert partial.status_code == 403
    assert "<html" not in _html(partial)
    assert "您的岗位无权审核减免缓申请" in _html(partial)
    whole = client.post(refuse_url(filed_in_a), {"reason": "自己驳回"})
    assert whole.status_code == 403
    assert "<html" in _html(whole)
    filed_in_a.refresh_from_db()
    assert filed_in_a.status == FeeReliefStatus.FILED


def test_a_chief_of_another_township_cannot_decide_or_see_it(client, cast, filed_in_a, chief_in_b):
    client.force_login(chief_in_b)
    assert client.get(detail_url(filed_in_a)).status_code == 404
    assert client.post(approve_url(filed_in_a), HTTP_HX_REQUEST="true").status_code == 404
    filed_in_a.refresh_from_db()
    assert filed_in_a.status == FeeReliefStatus.FILED


def test_deciding_an_application_already_decided_is_a_conflict(client, cast, filed_in_a):
    other_chief = UserFactory(username="chief_two", roles=[Role.SECTION_CHIEF], townships=[cast.township_a])
    services.fee_relief_approve(application_id=filed_in_a.pk, by=other_chief)
    client.force_login(cast.checker_ben)
    response = client.post(refuse_url(filed_in_a), {"reason": "材料不全"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert str(filed_in_a.pk) in _html(response)
    filed_in_a.refresh_from_db()
    assert (filed_in_a.status, filed_in_a.decided_by) == (FeeReliefStatus.APPROVED, other_chief)


def test_refusing_without_a_reason_is_explained_in_chinese(client, cast, filed_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(refuse_url(filed_in_a), {"reason": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "请填写驳回理由" in _field_errors(_html(response), f"reason-{filed_in_a.pk}")
    filed_in_a.refresh_from_db()
    assert filed_in_a.status == FeeReliefStatus.FILED


def test_refusing_without_a_reason_is_explained_in_english_with_the_language_cookie(client, cast, filed_in_a):
    client.force_login(cast.checker_ben)
    client.cookies["socialsec_language"] = "en"
    response = client.post(refuse_url(filed_in_a), {"reason": ""})
    assert response.status_code == 400
    assert "<html" in _html(response)
    assert "Give the reason for refusing." in _field_errors(_html(response), f"reason-{filed_in_a.pk}")


def test_a_refusal_shows_who_filed_who_decided_when_why_and_the_relief(client, cast, filed_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(refuse_url(filed_in_a), {"reason": "不属于受疫情影响行业"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    filed_in_a.refresh_from_db()
    assert filed_in_a.status == FeeReliefStatus.REFUSED
    client.cookies["socialsec_language"] = "en"  # the page's own labels, whatever the catalogue holds
    html = _html(client.get(detail_url(filed_in_a)))
    assert 'data-status="refused"' in html
    assert "不属于受疫情影响行业" in html
    assert re.search(r'id="filed-by">\s*maker_ann', html)
    assert f"by checker_ben on {timezone.localtime(filed_in_a.decided_at):%Y-%m-%d}" in html
    assert "months covered: 5" in html
    assert "100% of the employer contribution relieved" in html


def test_the_application_page_needs_the_view_permission(client, cast, filed_in_a):
    client.force_login(cast.leader_hua)
    assert client.get(detail_url(filed_in_a)).status_code == 403
    assert client.post(approve_url(filed_in_a)).status_code == 403


def test_deciding_is_a_post(client, cast, filed_in_a):
    client.force_login(cast.checker_ben)
    assert client.get(approve_url(filed_in_a)).status_code == 405
