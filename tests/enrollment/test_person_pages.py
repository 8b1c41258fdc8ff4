"""The person search and person pages: scoped, role-checked, masked, audited, constant in queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.models import Person
from socialsec.core.choices import Role
from socialsec.lib.resident_id import mask_resident_id
from tests.factories import HouseholdFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/persons/"


def detail_url(person: Person) -> str:
    return f"/persons/{person.pk}/"


def unmask_url(person: Person) -> str:
    return f"/persons/{person.pk}/unmask/"


def _html(response) -> str:
    return response.content.decode()


def _main(html: str) -> str:
    """The page body without the layout, whose forms carry a fresh CSRF token each time."""
    return html[html.index("<main") : html.index("</main>")]


def _listed_names(html: str) -> list[str]:
    return re.findall(r'<a href="/persons/\d+/">([^<]+)</a>', html)


# --- The person page: the five cases ----------------------------------------------------------


def test_a_clerk_sees_a_person_of_their_township_with_the_id_masked(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    response = client.get(detail_url(person_in_a))
    assert response.status_code == 200
    html = _html(response)
    assert "李明" in html
    assert mask_resident_id(person_in_a.id_number) in html
    assert person_in_a.id_number not in html
    assert "莲塘镇" in html
    assert "东山村委会" in html


def test_a_role_without_view_person_is_refused(client, cast, person_in_a):
    client.force_login(cast.leader_hua)  # county-wide, but a county leader reads statistics, not persons
    assert client.get(detail_url(person_in_a)).status_code == 403
    assert client.get(LIST_URL).status_code == 403


def test_a_person_of_another_township_is_not_found(client, cast, person_in_a):
    client.force_login(cast.outsider_eve)
    response = client.get(detail_url(person_in_a))
    assert response.status_code == 404
    assert "李明" not in _html(response)


def test_a_missing_person_and_another_townships_person_look_the_same(client, cast, person_in_a):
    client.force_login(cast.outsider_eve)
    other = client.get(detail_url(person_in_a))
    missing = client.get(f"/persons/{person_in_a.pk + 10_000}/")
    assert other.status_code == missing.status_code == 404
    assert _main(_html(other)) == _main(_html(missing))


def test_an_anonymous_visitor_is_sent_to_log_in(client, person_in_a):
    response = client.get(detail_url(person_in_a))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_person_page_shows_age_household_members_masked_and_the_date_of_death(client, cast):
    household = HouseholdFactory(village=cast.village_a, number="H20240001")
    head = PersonFactory(village=cast.village_a, household=household, relationship="head", name="赵大")
    wife = PersonFactory(
        village=cast.village_a, household=household, relationship="spouse", name="钱二", sex="female"
    )
    Person.objects.filter(pk=head.pk).update(death_date="2023-05-01", death_source="民政死亡数据")
    client.force_login(cast.maker_ann)
    html = _html(client.get(detail_url(head)))
    assert "H20240001" in html
    assert "钱二" in html
    assert mask_resident_id(wife.id_number) in html
    assert wife.id_number not in html
    assert "2023-05-01" in html
    assert "63 岁" in html  # born 1960-03-15, died 2023-05-01


def test_the_person_page_shows_who_changed_the_record(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    html = _html(client.get(detail_url(person_in_a)))
    assert "登记" in html  # the insert event written by the factory
    # A change made through a page is recorded with the user who made it.
    import pghistory

    with pghistory.context(user=cast.maker_ann.pk):
        Person.objects.filter(pk=person_in_a.pk).update(name="李明明")
    html = _html(client.get(detail_url(person_in_a)))
    assert "maker_ann" in html
    assert "姓名" in html  # the changed field, with its old and new value (ID-like numbers masked)
    assert "李明明" in html


# --- Unmasking the ID number ------------------------------------------------------------------


def test_unmasking_without_the_permission_is_refused_and_records_nothing(client, cast, person_in_a):
    client.force_login(cast.maker_ann)  # a clerk may see persons, not their full ID numbers
    response = client.post(unmask_url(person_in_a), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert person_in_a.id_number not in _html(response)
    assert not person_in_a.events.filter(pgh_label="unmask_id_number").exists()


def test_the_unmask_button_is_shown_only_to_users_with_the_permission(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    assert unmask_url(person_in_a) not in _html(client.get(detail_url(person_in_a)))
    client.force_login(cast.checker_ben)
    assert f'hx-post="{unmask_url(person_in_a)}"' in _html(client.get(detail_url(person_in_a)))


def test_a_section_chief_unmasks_the_id_number_and_one_audit_event_names_them(client, cast, person_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(unmask_url(person_in_a), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = _html(response)
    assert person_in_a.id_number in html
    assert "<html" not in html  # the htmx partial, swapped into the ID cell
    events = list(person_in_a.events.filter(pgh_label="unmask_id_number").select_related("pgh_context"))
    assert len(events) == 1
    assert events[0].pgh_context.metadata["user"] == cast.checker_ben.pk
    assert events[0].pgh_context.metadata["action"] == "unmask"


def test_unmasking_without_htmx_shows_the_whole_page_with_the_number(client, cast, person_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(unmask_url(person_in_a))
    assert response.status_code == 200
    assert "<html" in _html(response)
    assert person_in_a.id_number in _html(response)


def test_unmasking_is_a_post(client, cast, person_in_a):
    client.force_login(cast.checker_ben)
    assert client.get(unmask_url(person_in_a)).status_code == 405


def test_unmasking_another_townships_person_is_not_found_and_records_nothing(client, cast, person_in_a):
    chief_b = UserFactory(username="chief_in_b", roles=[Role.SECTION_CHIEF], townships=[cast.township_b])
    client.force_login(chief_b)
    assert client.post(unmask_url(person_in_a), HTTP_HX_REQUEST="true").status_code == 404
    assert not person_in_a.events.filter(pgh_label="unmask_id_number").exists()


# --- The person list: search, pages, queries --------------------------------------------------------


def test_the_list_shows_only_the_users_township_with_ids_masked(client, cast, person_in_a, person_in_b):
    client.force_login(cast.maker_ann)
    html = _html(client.get(LIST_URL))
    assert _listed_names(html) == ["李明"]
    assert mask_resident_id(person_in_a.id_number) in html
    assert person_in_a.id_number not in html


def test_search_by_the_start_of_a_name(client, cast, person_in_a):
    PersonFactory(village=cast.village_a, name="王五")
    client.force_login(cast.maker_ann)
    assert _listed_names(_html(client.get(LIST_URL, {"q": "李"}))) == ["李明"]


def test_search_by_the_full_resident_id_number(client, cast, person_in_a):
    PersonFactory(village=cast.village_a, name="王五")
    client.force_login(cast.maker_ann)
    assert _listed_names(_html(client.get(LIST_URL, {"q": person_in_a.id_number}))) == ["李明"]


def test_search_by_the_last_four_digits(client, cast, person_in_a):
    PersonFactory(village=cast.village_a, name="王五")
    client.force_login(cast.maker_ann)
    html = _html(client.get(LIST_URL, {"q": person_in_a.id_number[-4:]}))
    assert "李明" in _listed_names(html)
    assert "王五" not in _listed_names(html)


def test_search_never_finds_another_townships_person(client, cast, person_in_b):
    client.force_login(cast.maker_ann)
    html = _html(client.get(LIST_URL, {"q": person_in_b.id_number}))
    assert _listed_names(html) == []
    assert "没有符合" in html


def test_an_htmx_search_returns_only_the_table_rows(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    response = client.get(LIST_URL, {"q": "李"}, HTTP_HX_REQUEST="true")
    html = _html(response)
    assert "<html" not in html
    assert "<tr>" in html
    assert _listed_names(html) == ["李明"]
    assert "HX-Request" in response["Vary"]


def test_pages_of_fifty_follow_each_other_by_id(client, cast):
    persons = [PersonFactory(village=cast.village_a) for _ in range(60)]
    newest_first = sorted(persons, key=lambda p: p.pk, reverse=True)
    client.force_login(cast.maker_ann)

    first = _html(client.get(LIST_URL))
    assert _listed_names(first) == [p.name for p in newest_first[:50]]
    after = newest_first[49].pk
    assert f"/persons/?after={after}" in first

    second = client.get(LIST_URL, {"after": after}, HTTP_HX_REQUEST="true")
    assert _listed_names(_html(second)) == [p.name for p in newest_first[50:]]
    assert "after=" not in _html(second)  # the last page offers no next


def test_the_next_link_keeps_the_search(client, cast):
    for _ in range(51):
        PersonFactory(village=cast.village_a)
    client.force_login(cast.maker_ann)
    assert re.search(r"\?q=%E5%BC%A0&amp;after=\d+", _html(client.get(LIST_URL, {"q": "张"})))


def test_a_bad_after_value_shows_the_first_page(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    assert _listed_names(_html(client.get(LIST_URL, {"after": "x"}))) == ["李明"]


def _queries_for(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_list_page_costs_the_same_queries_for_3_or_60_persons_and_never_counts(
    client, cast, django_assert_num_queries
):
    for _ in range(3):
        PersonFactory(village=cast.village_a)
    client.force_login(cast.maker_ann)
    client.get(LIST_URL)  # warm per-process caches (content types)
    with_three = _queries_for(client, LIST_URL)
    assert not any("COUNT(" in sql.upper() for sql in with_three)

    for _ in range(57):
        PersonFactory(village=cast.village_a)
    with django_assert_num_queries(len(with_three)):
        response = client.get(LIST_URL)
    assert len(_listed_names(_html(response))) == 50
