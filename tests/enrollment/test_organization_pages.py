"""The organization pages: list, page, registration form; scoped, role-checked, constant in queries."""

from __future__ import annotations

import re

import pytest

from enrollment.models import Organization
from tests.enrollment.factories import FeeReliefApplicationFactory, OrganizationFactory, build_credit_code

pytestmark = pytest.mark.django_db

LIST_URL = "/persons/organizations/"
REGISTER_URL = "/persons/organizations/new/"
GOOD_CODE = "91110000600037341L"


def detail_url(organization: Organization) -> str:
    return f"/persons/organizations/{organization.pk}/"


def _html(response) -> str:
    return response.content.decode()


def _listed(html: str) -> list[str]:
    return re.findall(r'<a href="/persons/organizations/\d+/">([^<]+)</a>', html)


@pytest.fixture
def org_in_a(cast):
    return OrganizationFactory(township=cast.township_a, name="莲塘机械厂", size_class="small")


@pytest.fixture
def org_in_b(cast):
    return OrganizationFactory(township=cast.township_b, name="向塘米业", size_class="large")


def _registration(cast, **overrides) -> dict:
    return {
        "credit_code": GOOD_CODE,
        "name": "莲塘农机合作社",
        "size_class": "micro",
        "size_class_year": "2020",
        "township": str(cast.township_a.pk),
        "industry": "农业",
        **overrides,
    }


# --- The organization page: the five cases ------------------------------------------------------


def test_a_clerk_sees_an_organization_of_their_township_with_its_applications(client, cast, org_in_a):
    application = FeeReliefApplicationFactory(organization=org_in_a, filed_by=cast.maker_ann)
    client.force_login(cast.maker_ann)
    response = client.get(detail_url(org_in_a))
    assert response.status_code == 200
    html = _html(response)
    assert "莲塘机械厂" in html
    assert org_in_a.credit_code in html
    assert f"/persons/fee-relief/{application.pk}/" in html
    assert f"/persons/organizations/{org_in_a.pk}/fee-relief/" in html  # the clerk may file


def test_a_role_without_view_organization_is_refused(client, cast, org_in_a):
    client.force_login(cast.leader_hua)  # county-wide, but reads statistics, not employers
    assert client.get(detail_url(org_in_a)).status_code == 403
    assert client.get(LIST_URL).status_code == 403


def test_an_organization_of_another_township_is_not_found(client, cast, org_in_a):
    client.force_login(cast.outsider_eve)
    response = client.get(detail_url(org_in_a))
    assert response.status_code == 404
    assert "莲塘机械厂" not in _html(response)


def test_the_organization_page_costs_the_same_queries_for_2_or_20_applications(
    client, cast, org_in_a, django_assert_num_queries
):
    from tests.enrollment.factories import FeeReliefPolicyFactory

    policy = FeeReliefPolicyFactory()
    import datetime as dt

    def add(count: int, start: int) -> None:
        for year in range(start, start + count):
            FeeReliefApplicationFactory(
                organization=org_in_a,
                policy=policy,
                filed_by=cast.maker_ann,
                period_from=dt.date(2000 + year, 1, 1),
                period_to=dt.date(2000 + year, 2, 1),
            )

    add(2, 0)
    client.force_login(cast.maker_ann)
    client.get(detail_url(org_in_a))  # warm per-process caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        client.get(detail_url(org_in_a))
    add(18, 2)
    with django_assert_num_queries(len(two.captured_queries)):
        html = _html(client.get(detail_url(org_in_a)))
    assert html.count("/persons/fee-relief/") == 20


def test_the_organization_page_offers_no_filing_to_a_section_chief(client, cast, org_in_a):
    client.force_login(cast.checker_ben)
    assert f"/persons/organizations/{org_in_a.pk}/fee-relief/" not in _html(client.get(detail_url(org_in_a)))


# --- The list: search, filter, pages, queries ---------------------------------------------------


def test_the_list_shows_only_the_users_township(client, cast, org_in_a, org_in_b):
    client.force_login(cast.maker_ann)
    assert _listed(_html(client.get(LIST_URL))) == ["莲塘机械厂"]


def test_county_wide_staff_see_every_township(client, cast, org_in_a, org_in_b):
    client.force_login(cast.auditor_gus)
    assert set(_listed(_html(client.get(LIST_URL)))) == {"莲塘机械厂", "向塘米业"}


def test_search_by_the_start_of_the_name(client, cast, org_in_a):
    OrganizationFactory(township=cast.township_a, name="东山米厂")
    client.force_login(cast.maker_ann)
    assert _listed(_html(client.get(LIST_URL, {"q": "莲塘"}))) == ["莲塘机械厂"]


def test_search_by_the_credit_code_whole_or_its_start(client, cast, org_in_a):
    other = OrganizationFactory(
        township=cast.township_a, name="东山米厂", credit_code=build_credit_code("93", "MA9999999")
    )
    client.force_login(cast.maker_ann)
    assert _listed(_html(client.get(LIST_URL, {"q": org_in_a.credit_code}))) == ["莲塘机械厂"]
    assert _listed(_html(client.get(LIST_URL, {"q": other.credit_code[:6].lower()}))) == ["东山米厂"]


def test_filter_by_size_class(client, cast, org_in_a):
    OrganizationFactory(township=cast.township_a, name="莲塘钢铁", size_class="large")
    client.force_login(cast.maker_ann)
    assert _listed(_html(client.get(LIST_URL, {"size_class": "large"}))) == ["莲塘钢铁"]
    assert _listed(_html(client.get(LIST_URL, {"q": "莲塘", "size_class": "small"}))) == ["莲塘机械厂"]
    # An unknown size class is ignored, not an error.
    assert len(_listed(_html(client.get(LIST_URL, {"size_class": "huge"})))) == 2


def test_an_htmx_search_returns_only_the_rows(client, cast, org_in_a):
    client.force_login(cast.maker_ann)
    response = client.get(LIST_URL, {"q": "莲"}, HTTP_HX_REQUEST="true")
    assert "<html" not in _html(response)
    assert _listed(_html(response)) == ["莲塘机械厂"]
    assert "HX-Request" in response["Vary"]


def test_pages_of_fifty_follow_each_other_by_id_and_keep_the_filter(client, cast):
    organizations = [OrganizationFactory(township=cast.township_a, size_class="micro") for _ in range(55)]
    newest_first = sorted(organizations, key=lambda o: o.pk, reverse=True)
    client.force_login(cast.maker_ann)
    first = _html(client.get(LIST_URL, {"size_class": "micro"}))
    assert _listed(first) == [o.name for o in newest_first[:50]]
    after = newest_first[49].pk
    assert f"?size_class=micro&amp;after={after}" in first
    second = client.get(LIST_URL, {"size_class": "micro", "after": after}, HTTP_HX_REQUEST="true")
    assert _listed(_html(second)) == [o.name for o in newest_first[50:]]
    assert "after=" not in _html(second)


def test_the_list_costs_the_same_queries_for_2_or_20_organizations_and_never_counts(
    client, cast, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        OrganizationFactory(township=cast.township_a)
    client.force_login(cast.maker_ann)
    client.get(LIST_URL)  # warm per-process caches
    with CaptureQueriesContext(connection) as two:
        client.get(LIST_URL)
    assert not any("COUNT(" in q["sql"].upper() for q in two.captured_queries)
    for _ in range(18):
        OrganizationFactory(township=cast.township_a)
    with django_assert_num_queries(len(two.captured_queries)):
        response = client.get(LIST_URL)
    assert len(_listed(_html(response))) == 20


# --- Registering ---------------------------------------------------------------------------------


def test_a_clerk_registers_an_organization_through_the_service(client, cast):
    client.force_login(cast.maker_ann)
    assert client.get(REGISTER_URL).status_code == 200
    response = client.post(REGISTER_URL, _registration(cast, credit_code=" 9111 0000 6000 3734 1l "))
    organization = Organization.objects.get(credit_code=GOOD_CODE)  # normalized by the service
    assert response.status_code == 302
    assert response["Location"] == detail_url(organization)
    assert (organization.name, organization.size_class, organization.township) == (
        "莲塘农机合作社",
        "micro",
        cast.township_a,
    )
    assert (organization.registration_authority, organization.entity_type) == ("9", "1")


def test_a_section_chief_may_not_register(client, cast):
    client.force_login(cast.checker_ben)
    assert client.get(REGISTER_URL).status_code == 403
    assert client.post(REGISTER_URL, _registration(cast)).status_code == 403
    assert not Organization.objects.exists()


def test_a_clerk_may_not_register_in_another_township(client, cast):
    client.force_login(cast.maker_ann)
    response = client.post(REGISTER_URL, _registration(cast, township=str(cast.township_b.pk)))
    assert response.status_code == 400  # not among the form's choices
    assert not Organization.objects.exists()


def test_a_bad_credit_code_is_explained_next_to_the_field_in_chinese(client, cast):
    client.force_login(cast.maker_ann)
    response = client.post(REGISTER_URL, _registration(cast, credit_code="91110000600037341M"))
    assert response.status_code == 400
    html = _html(response)
    errors = re.search(r'id="credit_code-errors">(.*?)</div></div>', html, re.S)
    assert errors is not None
    assert "校验码不正确" in errors.group(1)
    assert 'aria-describedby="credit_code-errors"' in html
    assert not Organization.objects.exists()


def test_a_bad_credit_code_is_explained_in_english_with_the_language_cookie(client, cast):
    client.force_login(cast.maker_ann)
    client.cookies["socialsec_language"] = "en"
    response = client.post(REGISTER_URL, _registration(cast, credit_code="91110000600037341M"))
    assert response.status_code == 400
    assert "has a wrong check character" in _html(response)


def test_a_duplicate_code_names_the_organization_that_holds_it_even_in_another_township(
    client, cast, org_in_b
):
    client.force_login(cast.maker_ann)
    response = client.post(REGISTER_URL, _registration(cast, credit_code=org_in_b.credit_code))
    assert response.status_code == 400
    errors = re.search(r'id="credit_code-errors">(.*?)</div></div>', _html(response), re.S)
    assert errors is not None
    assert "向塘米业" in errors.group(1)
    assert str(org_in_b.pk) in errors.group(1)
    assert Organization.objects.count() == 1


def test_an_empty_name_shows_the_services_message(client, cast):
    client.force_login(cast.maker_ann)
    response = client.post(REGISTER_URL, _registration(cast, name="  "))
    assert response.status_code == 400
    assert re.search(r'id="name-errors">', _html(response))


# --- The person search also takes a social-security card number (kept here: this pages) ---


def test_the_person_search_finds_a_person_by_card_number_in_any_case_and_spacing(client, cast, person_in_a):
    from enrollment.models import Person
    from tests.factories import PersonFactory

    Person.objects.filter(pk=person_in_a.pk).update(card_number="A36012145", card_status="active")
    PersonFactory(village=cast.village_a, name="王五")
    client.force_login(cast.maker_ann)
    for query in ("A36012145", " a3601 2145 "):
        html = _html(client.get("/persons/", {"q": query}))
        assert re.findall(r'<a href="/persons/\d+/">([^<]+)</a>', html) == ["李明"], query


def test_the_card_number_search_never_finds_another_townships_person(client, cast, person_in_b):
    from enrollment.models import Person

    Person.objects.filter(pk=person_in_b.pk).update(card_number="B12345678", card_status="active")
    client.force_login(cast.maker_ann)
    html = _html(client.get("/persons/", {"q": "B12345678"}))
    assert re.findall(r'<a href="/persons/\d+/">([^<]+)</a>', html) == []


def test_the_card_number_search_is_one_query_on_the_card_number(client, cast, person_in_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.maker_ann)
    client.get("/persons/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/persons/", {"q": "A36012145"})
    person_queries = [q["sql"] for q in captured.captured_queries if '"enrollment_person"' in q["sql"]]
    assert len(person_queries) == 1
    assert '"enrollment_person"."card_number" = ' in person_queries[0]
