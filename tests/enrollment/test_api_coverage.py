"""/api/coverage/: pension coverage (全民参保) per township and village and the not-yet-enrolled
(应保未保), read from the rollup as the pages read it (issue 3, "Coverage").

The rollup has no states, so the five endpoint cases are four here: success, wrong role 403,
another township 404, and the query count at two sizes. The figures themselves are tested
against a hand-computed county in test_coverage.py; these tests check what the API says.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from enrollment.choices import Scheme
from enrollment.coverage import coverage_refresh
from enrollment.models import Enrollment, Person
from socialsec.core.models import User
from socialsec.lib.resident_id import mask_resident_id
from tests.factories import PersonFactory, VillageFactory

pytestmark = pytest.mark.django_db


def fresh(api, user):
    return api.as_user(User.objects.get(pk=user.pk))


def enrol(person: Person, by) -> Enrollment:
    return Enrollment.objects.create(
        person=person,
        scheme=Scheme.RESIDENT_PENSION,
        pooling_area="360121",
        start_date=dt.date(2020, 1, 1),
        enrolled_by=by,
    )


def residents(village, count: int, enrolled: int, by) -> list[Person]:
    """`count` adults of the village, the first `enrolled` of them in the resident pension."""
    people = [PersonFactory(village=village) for _ in range(count)]
    for person in people[:enrolled]:
        enrol(person, by)
    return people


@pytest.fixture
def county(cast):
    """Township A: village_a 4 adults (3 enrolled) and a child; village a2 2 adults (none).
    Township B: village_b 2 adults (1 enrolled)."""
    a2 = VillageFactory(code="360121100202", name="南岭村委会", parent=cast.township_a)
    people = {
        "a": residents(cast.village_a, 4, 3, cast.maker_ann),
        "a2": residents(a2, 2, 0, cast.maker_ann),
        "b": residents(cast.village_b, 2, 1, cast.outsider_eve),
    }
    PersonFactory(village=cast.village_a, birth_date=timezone.localdate() - dt.timedelta(days=365 * 10))
    coverage_refresh(as_of=timezone.localdate())
    return {"village_a2": a2, **people}


def figures(row: dict) -> tuple:
    return row["residents"], row["enrolled"], row["not_enrolled"], row["rate"]


class TestCoverageOverviewApi:
    def test_a_clerk_reads_her_townships_figures_without_the_county_total(self, api, cast, county):
        response = api.as_user(cast.maker_ann).get("/api/coverage/")
        assert response.status_code == 200
        body = response.json()
        assert body["total"] is None  # the county row is for county-wide staff
        [row] = body["rows"]
        assert row["township"]["code"] == cast.township_a.code and row["village"] is None
        assert figures(row) == (6, 3, 3, "50.0")

    def test_county_wide_staff_read_every_township_and_the_county(self, api, cast, county):
        body = api.as_user(cast.auditor_gus).get("/api/coverage/").json()
        assert figures(body["total"]) == (8, 4, 4, "50.0")
        assert [row["township"]["code"] for row in body["rows"]] == [
            cast.township_a.code,
            cast.township_b.code,
        ]

    def test_a_county_leader_is_403(self, api, cast, county):
        assert api.as_user(cast.leader_hua).get("/api/coverage/").status_code == 403

    def test_one_query_beyond_authentication_whatever_the_number_of_townships(
        self, api, cast, county, django_assert_num_queries
    ):
        client = fresh(api, cast.auditor_gus)
        with django_assert_num_queries(3):  # permissions (user, groups) + the rollup rows
            client.get("/api/coverage/")
        for index in range(5):
            from tests.factories import TownshipFactory

            township = TownshipFactory(code=f"360121{110 + index:03d}000", parent=cast.county)
            residents(VillageFactory(parent=township), 2, 1, cast.maker_ann)
        coverage_refresh(as_of=timezone.localdate())
        client = fresh(api, cast.auditor_gus)
        with django_assert_num_queries(3):
            response = client.get("/api/coverage/")
        assert len(response.json()["rows"]) == 7


class TestCoverageTownshipApi:
    def url(self, township) -> str:
        return f"/api/coverage/townships/{township.pk}/"

    def test_a_clerk_reads_her_township_and_its_villages(self, api, cast, county):
        body = api.as_user(cast.maker_ann).get(self.url(cast.township_a)).json()
        assert figures(body["total"]) == (6, 3, 3, "50.0")
        assert [(row["village"]["code"], figures(row)) for row in body["rows"]] == [
            (cast.village_a.code, (4, 3, 1, "75.0")),
            (county["village_a2"].code, (2, 0, 2, "0.0")),
        ]

    def test_a_county_leader_is_403(self, api, cast, county):
        assert api.as_user(cast.leader_hua).get(self.url(cast.township_a)).status_code == 403

    def test_another_township_is_404_like_a_missing_one(self, api, cast, county):
        other = api.as_user(cast.maker_ann).get(self.url(cast.township_b))
        missing = api.as_user(cast.maker_ann).get(f"/api/coverage/townships/{cast.township_b.pk + 999}/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries_whatever_the_number_of_villages(
        self, api, cast, county, django_assert_num_queries
    ):
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):  # permissions (user, groups) + township ids + the rollup rows
            client.get(self.url(cast.township_a))
        for index in range(6):
            residents(
                VillageFactory(code=f"360121100{210 + index}", parent=cast.township_a), 1, 0, cast.maker_ann
            )
        coverage_refresh(as_of=timezone.localdate())
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):
            response = client.get(self.url(cast.township_a))
        assert len(response.json()["rows"]) == 8


class TestCoverageNotEnrolledApi:
    def test_a_clerk_lists_a_villages_not_enrolled_with_ids_masked(self, api, cast, county):
        missing = county["a"][3]
        response = api.as_user(cast.maker_ann).get(
            f"/api/coverage/villages/{cast.village_a.pk}/not-enrolled/"
        )
        assert response.status_code == 200
        [row] = response.json()["results"]
        assert (row["id"], row["id_number_masked"]) == (missing.pk, mask_resident_id(missing.id_number))
        assert missing.id_number not in response.content.decode()

    def test_a_townships_list_covers_its_villages(self, api, cast, county):
        response = api.as_user(cast.maker_ann).get(
            f"/api/coverage/townships/{cast.township_a.pk}/not-enrolled/"
        )
        expected = {county["a"][3].pk, *(p.pk for p in county["a2"])}
        assert {row["id"] for row in response.json()["results"]} == expected

    def test_a_county_leader_is_403(self, api, cast, county):
        url = f"/api/coverage/villages/{cast.village_a.pk}/not-enrolled/"
        assert api.as_user(cast.leader_hua).get(url).status_code == 403

    def test_another_townships_village_is_404(self, api, cast, county):
        url = f"/api/coverage/villages/{cast.village_b.pk}/not-enrolled/"
        assert api.as_user(cast.maker_ann).get(url).status_code == 404
        url = f"/api/coverage/townships/{cast.township_b.pk}/not-enrolled/"
        assert api.as_user(cast.maker_ann).get(url).status_code == 404

    def test_keyset_pages_without_counting_at_a_constant_number_of_queries(
        self, api, cast, county, django_assert_num_queries
    ):
        url = f"/api/coverage/townships/{cast.township_a.pk}/not-enrolled/"
        client = fresh(api, cast.maker_ann)
        # permissions (user, groups) + township ids + the township's figures + the page (villages joined)
        with django_assert_num_queries(5):
            first = client.get(url, {"page_size": 2}).json()
        assert "count" not in first and len(first["results"]) == 2
        residents(cast.village_a, 30, 0, cast.maker_ann)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(5):
            response = client.get(url, {"page_size": 20})
        assert len(response.json()["results"]) == 20
        rest = client.get(response.json()["next"]).json()
        assert len(rest["results"]) == 3 + 30 - 20
