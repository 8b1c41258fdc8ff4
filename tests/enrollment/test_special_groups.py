"""Special-group memberships (DOMAIN glossary, §8.1 PersonCategory; §4.3 for the disability grade):
effective dates, source department, several groups at once, never two overlapping of one group."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from enrollment import services
from enrollment.choices import CategorySource, SpecialGroup
from enrollment.models import PersonCategory
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from tests.factories import PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


D = dt.date


def add(person, by, category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE, **kwargs) -> PersonCategory:
    kwargs.setdefault("source", CategorySource.CIVIL_AFFAIRS)
    kwargs.setdefault("effective_from", D(2024, 1, 1))
    return services.person_category_add(person_id=person.pk, category=category, by=by, **kwargs)


# --- The database ----------------------------------------------------------------------------------


def _raw_insert(person, recorded_by, category: str, start: str, end: str | None, grade: int | None = None):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO enrollment_personcategory (person_id, category, disability_grade, source,"
            " effective_from, effective_to, recorded_by_id, created_at, updated_at)"
            " VALUES (%s, %s, %s, 'civil_affairs', %s, %s, %s, now(), now())",
            [person.pk, category, grade, start, end, recorded_by.pk],
        )


def test_the_database_refuses_an_overlapping_membership_of_the_same_group_from_raw_sql(cast, person_in_a):
    _raw_insert(person_in_a, cast.maker_ann, "minimum_living_allowance", "2024-01-01", None)
    with pytest.raises(IntegrityError, match="already holds minimum_living_allowance"), transaction.atomic():
        _raw_insert(person_in_a, cast.maker_ann, "minimum_living_allowance", "2025-06-01", "2025-12-31")


def test_the_database_accepts_adjacent_memberships_and_other_groups_at_once(cast, person_in_a):
    _raw_insert(person_in_a, cast.maker_ann, "minimum_living_allowance", "2023-01-01", "2023-12-31")
    _raw_insert(person_in_a, cast.maker_ann, "minimum_living_allowance", "2024-01-01", None)
    _raw_insert(person_in_a, cast.maker_ann, "low_income", "2023-06-01", None)
    assert PersonCategory.objects.filter(person=person_in_a).count() == 3


def test_the_database_refuses_an_update_that_makes_two_memberships_overlap(cast, person_in_a):
    _raw_insert(person_in_a, cast.maker_ann, "orphan", "2020-01-01", "2020-12-31")
    _raw_insert(person_in_a, cast.maker_ann, "orphan", "2021-01-01", None)
    with pytest.raises(IntegrityError, match="already holds"), transaction.atomic():
        PersonCategory.objects.filter(effective_to=D(2020, 12, 31)).update(effective_to=D(2021, 3, 1))


@pytest.mark.parametrize(
    ("category", "grade", "constraint"),
    [
        ("severe_disability", None, "person_category_severe_disability_grade"),
        ("severe_disability", 3, "person_category_severe_disability_grade"),
        ("low_income", 5, "person_category_grade_1_to_4"),
        ("homeless", None, "person_category_category_valid"),
    ],
)
def test_the_database_checks_the_group_and_grade(cast, person_in_a, category, grade, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        _raw_insert(person_in_a, cast.maker_ann, category, "2024-01-01", None, grade)


def test_the_database_refuses_dates_out_of_order(cast, person_in_a):
    with pytest.raises(IntegrityError, match="person_category_dates_ordered"), transaction.atomic():
        _raw_insert(person_in_a, cast.maker_ann, "orphan", "2024-01-01", "2023-01-01")


# --- Queryset vocabulary ---------------------------------------------------------------------------


def test_in_force_includes_the_first_and_last_days_and_open_ends(cast, person_in_a):
    closed = add(person_in_a, cast.maker_ann, effective_from=D(2023, 1, 1), effective_to=D(2023, 12, 31))
    open_ = add(person_in_a, cast.maker_ann, SpecialGroup.ORPHAN, effective_from=D(2024, 1, 1))
    in_force = PersonCategory.objects.in_force

    assert set(in_force(D(2023, 1, 1))) == {closed}
    assert set(in_force(D(2023, 12, 31))) == {closed}
    assert set(in_force(D(2030, 1, 1))) == {open_}
    assert not in_force(D(2022, 12, 31)).exists()


# --- Services --------------------------------------------------------------------------------------


def test_a_clerk_records_a_membership_with_source_dates_evidence_and_an_audit_event(cast, person_in_a):
    membership = add(person_in_a, cast.maker_ann, evidence="民发〔2024〕3号 名单第12行")
    assert membership.recorded_by == cast.maker_ann
    assert membership.source == CategorySource.CIVIL_AFFAIRS
    event = membership.events.get(pgh_label="insert")
    assert event.pgh_context.metadata == {"user": cast.maker_ann.pk, "action": "person_category_add"}


def test_a_person_may_hold_several_groups_at_once(cast, person_in_a):
    add(person_in_a, cast.maker_ann, SpecialGroup.MINIMUM_LIVING_ALLOWANCE)
    add(
        person_in_a,
        cast.maker_ann,
        SpecialGroup.SEVERE_DISABILITY,
        source=CategorySource.DISABILITY_FEDERATION,
        disability_grade=1,
    )
    add(person_in_a, cast.maker_ann, SpecialGroup.LIFTED_OUT_OF_POVERTY, source="rural_revitalization")
    assert PersonCategory.objects.filter(person=person_in_a).in_force(D(2024, 6, 1)).count() == 3


def test_an_overlapping_membership_of_the_same_group_is_refused_naming_it(cast, person_in_a):
    first = add(person_in_a, cast.maker_ann, effective_from=D(2024, 1, 1))
    with pytest.raises(InvalidState, match=f"membership {first.pk}") as refused:
        add(person_in_a, cast.maker_ann, effective_from=D(2025, 1, 1), effective_to=D(2025, 6, 30))
    assert refused.value.details["membership_ids"] == [first.pk]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"category": "homeless"}, "category"),
        ({"source": "police"}, "source"),
        ({"effective_from": D(2024, 5, 1), "effective_to": D(2024, 4, 30)}, "effective_to"),
        ({"effective_from": D(1900, 1, 1)}, "effective_from"),
        ({"category": SpecialGroup.SEVERE_DISABILITY}, "disability_grade"),
        ({"category": SpecialGroup.SEVERE_DISABILITY, "disability_grade": 3}, "disability_grade"),
        ({"disability_grade": 0}, "disability_grade"),
    ],
)
def test_bad_input_is_refused_naming_the_field(cast, person_in_a, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        add(person_in_a, cast.maker_ann, **kwargs)
    assert refused.value.details["field"] == field
    assert not PersonCategory.objects.exists()


def test_a_membership_cannot_start_after_death(cast):
    dead = PersonFactory(village=cast.village_a, death_date=D(2023, 5, 1))
    with pytest.raises(InvalidInput, match="after the date of death"):
        add(dead, cast.maker_ann, effective_from=D(2024, 1, 1))


@pytest.mark.parametrize("actor", ["checker_ben", "auditor_gus", "leader_hua"])
def test_only_a_clerk_records_memberships(cast, person_in_a, actor):
    with pytest.raises(NotPermitted):
        add(person_in_a, getattr(cast, actor))


def test_a_clerk_cannot_record_for_another_township(cast, person_in_b):
    with pytest.raises(NotVisible):
        add(person_in_b, cast.maker_ann)


def test_ending_closes_an_open_membership_and_repeating_it_is_a_no_op(cast, person_in_a):
    membership = add(person_in_a, cast.maker_ann)
    services.person_category_end(membership_id=membership.pk, effective_to=D(2024, 12, 31), by=cast.maker_ann)
    again = services.person_category_end(
        membership_id=membership.pk, effective_to=D(2024, 12, 31), by=cast.maker_ann
    )
    assert again.effective_to == D(2024, 12, 31)
    assert membership.events.filter(pgh_label="update").count() == 1


def test_ending_before_the_start_is_refused(cast, person_in_a):
    membership = add(person_in_a, cast.maker_ann)
    with pytest.raises(InvalidInput) as refused:
        services.person_category_end(
            membership_id=membership.pk, effective_to=D(2023, 12, 31), by=cast.maker_ann
        )
    assert refused.value.details["field"] == "effective_to"


# --- API: GET and POST /api/persons/{id}/categories/ -----------------------------------------------


class TestPersonCategoriesApi:
    def url(self, person) -> str:
        return f"/api/persons/{person.pk}/categories/"

    payload = {
        "category": "minimum_living_allowance",
        "source": "civil_affairs",
        "effective_from": "2024-01-01",
    }

    def test_a_clerk_records_a_membership(self, api, cast, person_in_a):
        response = api.as_user(cast.maker_ann).post(
            self.url(person_in_a), {**self.payload, "evidence": "名单第3行"}, format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["category"] == "minimum_living_allowance" and body["effective_to"] is None
        assert body["recorded_by"] == "maker_ann"
        assert person_in_a.id_number not in response.content.decode()

    def test_a_clerk_lists_a_persons_memberships_newest_first(self, api, cast, person_in_a):
        old = add(person_in_a, cast.maker_ann, effective_from=D(2020, 1, 1), effective_to=D(2020, 12, 31))
        new = add(person_in_a, cast.maker_ann, SpecialGroup.ORPHAN, effective_from=D(2022, 1, 1))
        response = api.as_user(cast.maker_ann).get(self.url(person_in_a))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == [new.pk, old.pk]

    def test_a_section_chief_may_read_but_not_record(self, api, cast, person_in_a):
        client = api.as_user(cast.checker_ben)
        assert client.get(self.url(person_in_a)).status_code == 200
        assert client.post(self.url(person_in_a), self.payload, format="json").status_code == 403

    def test_a_role_without_registry_permissions_is_403(self, api, cast, person_in_a):
        assert api.as_user(cast.leader_hua).get(self.url(person_in_a)).status_code == 403

    def test_another_townships_person_is_404_for_reading_and_recording(self, api, cast, person_in_b):
        client = api.as_user(cast.maker_ann)
        assert client.get(self.url(person_in_b)).status_code == 404
        assert client.post(self.url(person_in_b), self.payload, format="json").status_code == 404

    def test_an_overlap_is_409_naming_the_membership(self, api, cast, person_in_a):
        first = add(person_in_a, cast.maker_ann, effective_from=D(2023, 1, 1))
        response = api.as_user(cast.maker_ann).post(self.url(person_in_a), self.payload, format="json")
        assert response.status_code == 409
        assert response.json()["membership_ids"] == [first.pk]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"category": "homeless"}, "category"),
            ({"category": "severe_disability", "source": "disability_federation"}, "disability_grade"),
            ({"effective_to": "2023-01-01"}, "effective_to"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, api, cast, person_in_a, change, field):
        response = api.as_user(cast.maker_ann).post(
            self.url(person_in_a), {**self.payload, **change}, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert field in body.get("fields", {}) or body.get("field") == field

    def test_constant_queries(self, api, cast, person_in_a, django_assert_num_queries):
        from socialsec.core.models import User

        add(person_in_a, cast.maker_ann)

        def count_for_a_fresh_user() -> int:
            from django.test.utils import CaptureQueriesContext

            client = api.as_user(User.objects.get(pk=cast.maker_ann.pk))
            with CaptureQueriesContext(connection) as captured:
                assert client.get(self.url(person_in_a)).status_code == 200
            return len(captured)

        with_one = count_for_a_fresh_user()
        for year in range(2000, 2010):
            add(
                person_in_a,
                cast.maker_ann,
                SpecialGroup.ORPHAN,
                effective_from=D(year, 1, 1),
                effective_to=D(year, 12, 31),
            )
        assert count_for_a_fresh_user() == with_one


# --- API: POST /api/person-categories/{id}/end/ ----------------------------------------------------


class TestPersonCategoryEndApi:
    def url(self, membership) -> str:
        return f"/api/person-categories/{membership.pk}/end/"

    def test_a_clerk_ends_a_membership(self, api, cast, person_in_a):
        membership = add(person_in_a, cast.maker_ann)
        response = api.as_user(cast.maker_ann).post(self.url(membership), {"effective_to": "2024-06-30"})
        assert response.status_code == 200
        assert response.json()["effective_to"] == "2024-06-30"

    def test_a_section_chief_is_403(self, api, cast, person_in_a):
        membership = add(person_in_a, cast.maker_ann)
        response = api.as_user(cast.checker_ben).post(self.url(membership), {"effective_to": "2024-06-30"})
        assert response.status_code == 403

    def test_another_townships_membership_is_404(self, api, cast, person_in_b):
        membership = add(person_in_b, cast.outsider_eve)
        response = api.as_user(cast.maker_ann).post(self.url(membership), {"effective_to": "2024-06-30"})
        assert response.status_code == 404

    def test_a_membership_already_ended_is_409_naming_it_and_its_last_day(self, api, cast, person_in_a):
        membership = add(person_in_a, cast.maker_ann, effective_to=D(2024, 3, 31))
        response = api.as_user(cast.maker_ann).post(self.url(membership), {"effective_to": "2024-06-30"})
        assert response.status_code == 409
        assert response.json()["membership_ids"] == [membership.pk]
        assert response.json()["effective_to"] == "2024-03-31"

    def test_constant_queries(self, api, cast, person_in_a, django_assert_max_num_queries):
        membership = add(person_in_a, cast.maker_ann)
        # permissions + township ids + locked read + context + update (the row is returned as loaded)
        with django_assert_max_num_queries(10):
            api.as_user(cast.maker_ann).post(self.url(membership), {"effective_to": "2024-06-30"})


# --- API: GET /api/person-categories/ --------------------------------------------------------------


class TestPersonCategoryListApi:
    url = "/api/person-categories/"

    def test_lists_the_townships_memberships_filtered_by_group_and_day(
        self, api, cast, person_in_a, person_in_b
    ):
        in_force = add(person_in_a, cast.maker_ann, effective_from=D(2024, 1, 1))
        ended = add(person_in_a, cast.maker_ann, SpecialGroup.ORPHAN, effective_to=D(2024, 3, 31))
        add(person_in_b, cast.outsider_eve)
        client = api.as_user(cast.maker_ann)

        def ids(**params) -> list[int]:
            response = client.get(self.url, params)
            assert response.status_code == 200
            return [row["id"] for row in response.json()["results"]]

        assert ids() == [ended.pk, in_force.pk]
        assert ids(category="orphan") == [ended.pk]
        assert ids(in_force_on="2024-06-01") == [in_force.pk]
        assert ids(in_force_on="2024-02-01", category="minimum_living_allowance") == [in_force.pk]

    def test_county_wide_staff_filter_by_township(self, api, cast, person_in_a, person_in_b):
        add(person_in_a, cast.maker_ann)
        in_b = add(person_in_b, cast.outsider_eve)
        response = api.as_user(cast.auditor_gus).get(self.url, {"township": cast.township_b.code})
        assert [row["id"] for row in response.json()["results"]] == [in_b.pk]

    def test_a_role_without_registry_permissions_is_403(self, api, cast):
        assert api.as_user(cast.leader_hua).get(self.url).status_code == 403

    def test_another_townships_memberships_are_never_listed(self, api, cast, person_in_b):
        add(person_in_b, cast.outsider_eve)
        response = api.as_user(cast.maker_ann).get(self.url, {"township": cast.township_b.code})
        assert response.json()["results"] == []  # a list has no 404: the rows are simply not there

    def test_pages_by_keyset_without_counting(self, api, cast, person_in_a):
        for year in range(2000, 2007):
            add(person_in_a, cast.maker_ann, effective_from=D(year, 1, 1), effective_to=D(year, 12, 31))
        first = api.as_user(cast.maker_ann).get(self.url, {"page_size": 5}).json()
        assert "count" not in first and len(first["results"]) == 5
        assert len(api.get(first["next"]).json()["results"]) == 2

    def test_the_number_of_queries_does_not_grow_with_the_page(self, api, cast, django_assert_num_queries):
        from socialsec.core.models import User

        persons = PersonFactory.create_batch(3, village=cast.village_a)
        for person in persons:
            add(person, cast.maker_ann)
        # permissions (user, groups) + her township ids + one page with persons and recorders joined
        client = api.as_user(User.objects.get(pk=cast.maker_ann.pk))
        with django_assert_num_queries(4):
            client.get(self.url)
        for person in PersonFactory.create_batch(20, village=cast.village_a):
            add(person, cast.maker_ann)
        client = api.as_user(User.objects.get(pk=cast.maker_ann.pk))
        with django_assert_num_queries(4):
            response = client.get(self.url)
        assert len(response.json()["results"]) == 23


# --- The person: API output and page ---------------------------------------------------------------


def test_the_person_api_lists_the_groups_in_force_today(api, cast, person_in_a):
    today = timezone.localdate()
    in_force = add(person_in_a, cast.maker_ann, effective_from=today - dt.timedelta(days=30))
    add(
        person_in_a,
        cast.maker_ann,
        SpecialGroup.ORPHAN,
        effective_from=D(2000, 1, 1),
        effective_to=D(2001, 1, 1),
    )
    body = api.as_user(cast.maker_ann).get(f"/api/persons/{person_in_a.pk}/").json()
    assert [row["id"] for row in body["categories_in_force"]] == [in_force.pk]
    assert body["categories_in_force"][0]["category"] == "minimum_living_allowance"


def test_the_person_page_shows_groups_in_force_and_ended(client, cast, person_in_a):
    add(
        person_in_a,
        cast.maker_ann,
        SpecialGroup.SEVERE_DISABILITY,
        source=CategorySource.DISABILITY_FEDERATION,
        disability_grade=2,
        effective_from=D(2020, 1, 1),
    )
    add(
        person_in_a,
        cast.maker_ann,
        SpecialGroup.ORPHAN,
        effective_from=D(2000, 1, 1),
        effective_to=D(2001, 1, 1),
    )
    client.force_login(cast.maker_ann)
    html = client.get(f"/persons/{person_in_a.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    in_force = html[html.index("In force") : html.index("Ended")]
    assert "Severe disability" in in_force and "grade 2" in in_force
    assert "Orphan" in html[html.index("Ended") :]


def test_the_person_page_costs_the_same_queries_with_one_or_many_groups(client, cast, person_in_a):
    from django.test.utils import CaptureQueriesContext

    add(person_in_a, cast.maker_ann)
    client.force_login(cast.maker_ann)
    client.get(f"/persons/{person_in_a.pk}/")  # warm per-process caches
    with CaptureQueriesContext(connection) as one:
        client.get(f"/persons/{person_in_a.pk}/")
    for year in range(2000, 2010):
        add(
            person_in_a,
            cast.maker_ann,
            SpecialGroup.ORPHAN,
            effective_from=D(year, 1, 1),
            effective_to=D(year, 12, 31),
        )
    with CaptureQueriesContext(connection) as many:
        client.get(f"/persons/{person_in_a.pk}/")
    assert len(many) == len(one)
