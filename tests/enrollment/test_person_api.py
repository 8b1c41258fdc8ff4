"""/api/persons/: the five endpoint cases, filters, masking, audit (foundation issue)."""

from __future__ import annotations

import datetime as dt

import pytest

from enrollment.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


class TestPersonListApi:
    def test_a_clerk_lists_their_townships_persons_with_masked_ids(self, api, cast, person_in_a, person_in_b):
        response = api.as_user(cast.maker_ann).get("/api/persons/")
        assert response.status_code == 200
        body = response.json()
        assert [row["id"] for row in body["results"]] == [person_in_a.pk]
        row = body["results"][0]
        assert row["id_number_masked"] == f"{person_in_a.id_number[:6]}********{person_in_a.id_number[-4:]}"
        assert person_in_a.id_number not in response.content.decode()
        assert row["township"]["code"] == cast.township_a.code

    def test_a_role_without_the_registry_permission_is_refused(self, api, cast, person_in_a):
        response = api.as_user(cast.leader_hua).get("/api/persons/")
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"

    def test_anonymous_callers_must_authenticate(self, api):
        response = api.get("/api/persons/")
        assert response.status_code in (401, 403)
        assert response.json()["error"] in ("not_authenticated", "forbidden")

    def test_searches_by_name_prefix_full_id_and_last_digits(self, api, cast, person_in_a):
        other = PersonFactory(village=cast.village_a, name="赵强")
        client = api.as_user(cast.maker_ann)

        def ids(query: str) -> list[int]:
            return [row["id"] for row in client.get("/api/persons/", {"q": query}).json()["results"]]

        assert ids("李") == [person_in_a.pk]
        assert ids(person_in_a.id_number) == [person_in_a.pk]
        assert ids(person_in_a.id_number.lower()) == [person_in_a.pk]
        assert ids(other.id_number[-6:]) == [other.pk]

    def test_filters_by_township_code_and_living(self, api, cast, person_in_a, person_in_b):
        dead = PersonFactory(village=cast.village_b, death_date=dt.date(2024, 5, 1))
        client = api.as_user(cast.auditor_gus)
        by_township = client.get("/api/persons/", {"township": cast.township_b.code}).json()["results"]
        assert {row["id"] for row in by_township} == {person_in_b.pk, dead.pk}
        living = client.get("/api/persons/", {"alive": "true"}).json()["results"]
        assert dead.pk not in {row["id"] for row in living}

    def test_pages_by_keyset_without_counting(self, api, cast):
        PersonFactory.create_batch(7, village=cast.village_a)
        client = api.as_user(cast.maker_ann)
        first = client.get("/api/persons/", {"page_size": 5}).json()
        assert "count" not in first and len(first["results"]) == 5
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 2
        assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}

    def test_the_number_of_queries_does_not_grow_with_the_page(self, api, cast, django_assert_num_queries):
        from socialsec.core.models import User

        def fresh_client():  # a new user object per request, as in production: no warm permission cache
            return api.as_user(User.objects.get(pk=cast.maker_ann.pk))

        PersonFactory.create_batch(2, village=cast.village_a)
        # permissions (user, groups) + her township ids + one page of persons with their divisions joined
        # + one prefetch of the page's special-group memberships (categories_in_force), whatever its length
        client = fresh_client()
        with django_assert_num_queries(5):
            client.get("/api/persons/")
        PersonFactory.create_batch(40, village=cast.village_a)
        client = fresh_client()
        with django_assert_num_queries(5):
            response = client.get("/api/persons/")
        assert len(response.json()["results"]) == 42


class TestPersonDetailApi:
    def test_a_clerk_reads_a_person_of_their_township(self, api, cast, person_in_a):
        response = api.as_user(cast.maker_ann).get(f"/api/persons/{person_in_a.pk}/")
        assert response.status_code == 200
        assert response.json()["name"] == "李明"
        assert response.json()["birth_date"] == person_in_a.birth_date.isoformat()

    def test_wrong_role_is_403(self, api, cast, person_in_a):
        assert api.as_user(cast.leader_hua).get(f"/api/persons/{person_in_a.pk}/").status_code == 403

    def test_another_townships_person_is_404_like_a_missing_one(self, api, cast, person_in_b):
        other = api.as_user(cast.maker_ann).get(f"/api/persons/{person_in_b.pk}/")
        missing = api.as_user(cast.maker_ann).get(f"/api/persons/{person_in_b.pk + 999}/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries(self, api, cast, person_in_a, django_assert_max_num_queries):
        # 4 as before, + 1 prefetch of the person's special-group memberships (categories_in_force)
        with django_assert_max_num_queries(5):
            api.as_user(cast.maker_ann).get(f"/api/persons/{person_in_a.pk}/")


class TestPersonUnmaskApi:
    def test_a_section_chief_unmasks_and_the_unmasking_is_audited(self, api, cast, person_in_a):
        response = api.as_user(cast.checker_ben).post(f"/api/persons/{person_in_a.pk}/unmask/")
        assert response.status_code == 200
        assert response.json()["id_number"] == person_in_a.id_number
        events = person_in_a.events.filter(pgh_label="unmask_id_number")
        assert events.count() == 1
        assert events.get().pgh_context.metadata["user"] == cast.checker_ben.pk

    def test_a_clerk_may_not_unmask(self, api, cast, person_in_a):
        response = api.as_user(cast.maker_ann).post(f"/api/persons/{person_in_a.pk}/unmask/")
        assert response.status_code == 403
        assert not person_in_a.events.filter(pgh_label="unmask_id_number").exists()

    def test_unmasking_another_townships_person_is_404(self, api, cast, person_in_b):
        chief_b_less = api.as_user(cast.checker_ben).post(f"/api/persons/{person_in_b.pk}/unmask/")
        assert chief_b_less.status_code == 404
        assert not Person.objects.get(pk=person_in_b.pk).events.filter(pgh_label="unmask_id_number").exists()


class TestRecordDeathApi:
    url = "/api/persons/{}/death/"

    def test_a_clerk_records_a_death_and_the_change_is_audited_with_who_and_where(
        self, api, cast, person_in_a
    ):
        response = api.as_user(cast.maker_ann).post(
            self.url.format(person_in_a.pk),
            {"death_date": "2025-03-02", "source": "civil_affairs"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        person_in_a.refresh_from_db()
        assert person_in_a.death_date == dt.date(2025, 3, 2)
        event = person_in_a.events.filter(pgh_label="update").latest("pgh_created_at")
        assert event.death_date == dt.date(2025, 3, 2)
        assert event.pgh_context.metadata["user"] == cast.maker_ann.pk
        assert event.pgh_context.metadata["url"] == self.url.format(person_in_a.pk)
        assert event.pgh_context.metadata["ip"] == "127.0.0.1"

    def test_a_section_chief_may_not_record_deaths(self, api, cast, person_in_a):
        response = api.as_user(cast.checker_ben).post(
            self.url.format(person_in_a.pk),
            {"death_date": "2025-03-02", "source": "civil_affairs"},
            format="json",
        )
        assert response.status_code == 403

    def test_another_townships_person_is_404(self, api, cast, person_in_b):
        response = api.as_user(cast.maker_ann).post(
            self.url.format(person_in_b.pk),
            {"death_date": "2025-03-02", "source": "civil_affairs"},
            format="json",
        )
        assert response.status_code == 404

    def test_a_death_already_recorded_is_409_naming_the_person_and_date(self, api, cast):
        dead = PersonFactory(village=cast.village_a, death_date=dt.date(2024, 1, 9))
        response = api.as_user(cast.maker_ann).post(
            self.url.format(dead.pk), {"death_date": "2025-03-02", "source": "civil_affairs"}, format="json"
        )
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "invalid_state"
        assert body["person_id"] == dead.pk and body["death_date"] == "2024-01-09"
        dead.refresh_from_db()
        assert dead.death_date == dt.date(2024, 1, 9)

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"death_date": "2999-01-01", "source": "civil_affairs"}, "death_date"),
            ({"death_date": "1900-01-01", "source": "civil_affairs"}, "death_date"),
            ({"death_date": "not a date", "source": "civil_affairs"}, "death_date"),
            ({"death_date": "2025-03-02"}, "source"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_changes_nothing(
        self, api, cast, person_in_a, payload, field
    ):
        response = api.as_user(cast.maker_ann).post(self.url.format(person_in_a.pk), payload, format="json")
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid_input"
        assert field in body.get("fields", {}) or body.get("field") == field
        person_in_a.refresh_from_db()
        assert person_in_a.death_date is None

    def test_the_error_is_in_the_callers_language(self, api, cast, person_in_a):
        payload = {"death_date": "2999-01-01", "source": "civil_affairs"}
        zh = api.as_user(cast.maker_ann).post(
            self.url.format(person_in_a.pk), payload, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        en = api.as_user(cast.maker_ann).post(
            self.url.format(person_in_a.pk), payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert zh.json()["detail"] != en.json()["detail"]
        assert "future" in en.json()["detail"]


def _fresh(api, user):
    """A new user object per request, as in production: no warm permission cache."""
    from socialsec.core.models import User

    return api.as_user(User.objects.get(pk=user.pk))


class TestPersonUnmaskApiQueries:
    def test_constant_queries(self, api, cast, person_in_a, django_assert_max_num_queries):
        client = _fresh(api, cast.checker_ben)
        # permissions (user, groups) + savepoint, township ids, the person, the event write, release
        with django_assert_max_num_queries(7):
            assert client.post(f"/api/persons/{person_in_a.pk}/unmask/").status_code == 200


class TestRecordDeathApiQueries:
    def test_constant_queries_whatever_the_registry_size(self, api, cast, django_assert_num_queries):
        payload = {"death_date": "2025-03-02", "source": "civil_affairs"}
        # permissions (user, groups) + savepoint, township ids, the locked person, the update,
        # release + the person read back with its special-group memberships
        first = PersonFactory(village=cast.village_a)
        client = _fresh(api, cast.maker_ann)
        with django_assert_num_queries(9):
            assert client.post(f"/api/persons/{first.pk}/death/", payload, format="json").status_code == 200
        PersonFactory.create_batch(30, village=cast.village_a)
        second = PersonFactory(village=cast.village_a)
        client = _fresh(api, cast.maker_ann)
        with django_assert_num_queries(9):
            assert client.post(f"/api/persons/{second.pk}/death/", payload, format="json").status_code == 200


# --- /api/persons/<id>/timeline/: the person page's history ---------------------------------------


class TestPersonTimelineApi:
    url = "/api/persons/{}/timeline/"

    def test_a_clerk_reads_who_changed_what_newest_first_with_numbers_masked(self, api, cast, person_in_a):
        import pghistory

        with pghistory.context(user=cast.maker_ann.pk, url="/persons/x/", method="POST"):
            Person.objects.filter(pk=person_in_a.pk).update(bank_account_number="6217001234567891234")
        response = api.as_user(cast.maker_ann).get(self.url.format(person_in_a.pk), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        body = response.json()
        assert (body["page"], body["has_previous"], body["has_next"]) == (1, False, False)
        [change, registration] = body["results"]
        assert (change["subject"], change["event"], change["by"]) == ("person", "update", "maker_ann")
        assert change["changed"] == [
            {"field": "Bank account number", "old": None, "new": "***************1234"}
        ]
        assert change["via"] == [{"kind": "request", "text": "POST /persons/x/", "import_batch_id": None}]
        assert registration["event"] == "insert" and registration["label"] == "Registered"
        content = response.content.decode()
        assert "6217001234567891234" not in content and person_in_a.id_number not in content

    def test_a_county_leader_is_403(self, api, cast, person_in_a):
        assert api.as_user(cast.leader_hua).get(self.url.format(person_in_a.pk)).status_code == 403

    def test_another_townships_person_is_404_like_a_missing_one(self, api, cast, person_in_b):
        other = api.as_user(cast.maker_ann).get(self.url.format(person_in_b.pk))
        missing = api.as_user(cast.maker_ann).get(self.url.format(person_in_b.pk + 999))
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_a_finance_user_sees_the_registry_history_without_enrollments(self, api, cast, person_in_a):
        from tests.enrollment.test_person_record import a_life

        a_life(cast, person_in_a, resident_years=1)
        subjects = {
            entry["subject"]
            for entry in api.as_user(cast.accountant_dan)
            .get(self.url.format(person_in_a.pk))
            .json()["results"]
        }
        assert subjects == {"person", "household", "special_group"}
        subjects = {
            entry["subject"]
            for entry in api.as_user(cast.maker_ann).get(self.url.format(person_in_a.pk)).json()["results"]
        }
        assert subjects == {"person", "household", "special_group", "enrollment", "contribution", "account"}

    def test_pages_of_fifty(self, api, cast, person_in_a):
        import pghistory

        for index in range(52):
            with pghistory.context(user=cast.maker_ann.pk):
                Person.objects.filter(pk=person_in_a.pk).update(phone=f"1390000{index:04d}")
        client = api.as_user(cast.maker_ann)
        first = client.get(self.url.format(person_in_a.pk)).json()
        second = client.get(self.url.format(person_in_a.pk), {"page": 2}).json()
        assert (len(first["results"]), first["has_next"]) == (50, True)
        assert (len(second["results"]), second["has_next"], second["has_previous"]) == (3, False, True)
        assert second["results"][-1]["event"] == "insert"
        assert client.get(self.url.format(person_in_a.pk), {"page": "x"}).json()["page"] == 1

    def test_constant_queries_for_a_short_or_a_long_history(self, api, cast, django_assert_num_queries):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tests.enrollment.test_person_record import a_life

        short = PersonFactory(village=cast.village_a)
        a_life(cast, short, resident_years=1)
        long = PersonFactory(village=cast.village_a)
        a_life(cast, long, resident_years=8, employers=3)
        client = _fresh(api, cast.maker_ann)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(self.url.format(short.pk)).status_code == 200
        # permissions (user, groups) + township ids + the person + the timeline + the names it points to
        assert len(captured.captured_queries) == 6
        client = _fresh(api, cast.maker_ann)
        with django_assert_num_queries(6):
            response = client.get(self.url.format(long.pk))
        assert len(response.json()["results"]) == 50
