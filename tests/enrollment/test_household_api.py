"""/api/households/: households with their members and relationships (issue 3, "Registry"; DOMAIN
§8.1 Household), scoped, masked, filtered, at a constant number of queries.

Households have no states, so the five endpoint cases are four here: success, wrong role 403,
another township 404 (or never listed), and the query count at two sizes.
"""

from __future__ import annotations

import pytest

from enrollment.choices import Relationship, Sex
from socialsec.core.models import User
from socialsec.lib.resident_id import mask_resident_id
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db


def fresh(api, user):
    """A new user object per request, as in production: no warm permission cache."""
    return api.as_user(User.objects.get(pk=user.pk))


def family(village, number: str, size: int = 3):
    """A head, a spouse and children, registered in the order child, spouse, head."""
    household = HouseholdFactory(village=village, number=number)
    children = [
        PersonFactory(village=village, household=household, relationship=Relationship.CHILD, name=f"子{i}")
        for i in range(size - 2)
    ]
    spouse = PersonFactory(
        village=village, household=household, relationship=Relationship.SPOUSE, name="妻", sex=Sex.FEMALE
    )
    head = PersonFactory(village=village, household=household, relationship=Relationship.HEAD, name="户主")
    return household, [head, spouse, *children]


@pytest.fixture
def household_in_a(cast):
    return family(cast.village_a, "H3601211001")


@pytest.fixture
def household_in_b(cast):
    return family(cast.village_b, "H3601211011")


class TestHouseholdListApi:
    def test_a_clerk_lists_her_townships_households_with_members_head_first_ids_masked(
        self, api, cast, household_in_a, household_in_b
    ):
        household, members = household_in_a
        response = api.as_user(cast.maker_ann).get("/api/households/")
        assert response.status_code == 200
        [row] = response.json()["results"]
        assert (row["id"], row["number"], row["township"]["code"]) == (
            household.pk,
            "H3601211001",
            cast.township_a.code,
        )
        assert [(m["name"], m["relationship"]) for m in row["members"]] == [
            ("户主", "head"),
            ("妻", "spouse"),
            ("子0", "child"),
        ]
        assert row["members"][0]["id_number_masked"] == mask_resident_id(members[0].id_number)
        for member in members:
            assert member.id_number not in response.content.decode()

    def test_a_county_leader_is_403(self, api, cast, household_in_a):
        assert api.as_user(cast.leader_hua).get("/api/households/").status_code == 403

    def test_an_unassigned_clerk_lists_nothing(self, api, cast, household_in_a, household_in_b):
        assert api.as_user(cast.unassigned_joe).get("/api/households/").json()["results"] == []

    def test_county_wide_staff_filter_by_township_village_number_type_and_member(
        self, api, cast, household_in_a, household_in_b
    ):
        (a, a_members), (b, _) = household_in_a, household_in_b
        client = api.as_user(cast.auditor_gus)

        def ids(**query) -> list[int]:
            response = client.get("/api/households/", query)
            assert response.status_code == 200, response.json()
            return [row["id"] for row in response.json()["results"]]

        assert ids() == [b.pk, a.pk]
        assert ids(township=cast.township_b.code) == [b.pk]
        assert ids(village=cast.village_a.code) == [a.pk]
        assert ids(number="H3601211011") == [b.pk]
        assert ids(member=a_members[1].pk) == [a.pk]
        assert ids(registration_type="urban") == []

    def test_an_unknown_registration_type_is_400_naming_the_field(self, api, cast):
        response = api.as_user(cast.maker_ann).get("/api/households/", {"registration_type": "x"})
        assert response.status_code == 400
        assert "registration_type" in response.json()["fields"]

    def test_a_member_registered_in_another_township_is_not_shown(self, api, cast, household_in_a):
        household, _ = household_in_a
        PersonFactory(
            village=cast.village_b, household=household, relationship=Relationship.PARENT, name="外"
        )
        [row] = api.as_user(cast.maker_ann).get("/api/households/").json()["results"]
        assert "外" not in [m["name"] for m in row["members"]]

    def test_the_number_of_queries_does_not_grow_with_households_or_members(
        self, api, cast, django_assert_num_queries
    ):
        family(cast.village_a, "H1", size=2)
        client = fresh(api, cast.maker_ann)
        # permissions (user, groups) + township ids + the page + the page's members
        with django_assert_num_queries(5):
            client.get("/api/households/")
        for index in range(12):
            family(cast.village_a, f"H{index + 2}", size=5)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(5):
            response = client.get("/api/households/")
        assert len(response.json()["results"]) == 13
        assert sum(len(row["members"]) for row in response.json()["results"]) == 2 + 12 * 5


class TestHouseholdDetailApi:
    def test_a_clerk_reads_a_household_with_its_members(self, api, cast, household_in_a):
        household, members = household_in_a
        response = api.as_user(cast.maker_ann).get(f"/api/households/{household.pk}/")
        assert response.status_code == 200
        assert [m["id"] for m in response.json()["members"]] == [m.pk for m in members]

    def test_a_county_leader_is_403(self, api, cast, household_in_a):
        household, _ = household_in_a
        assert api.as_user(cast.leader_hua).get(f"/api/households/{household.pk}/").status_code == 403

    def test_another_townships_household_is_404_like_a_missing_one(self, api, cast, household_in_b):
        household, _ = household_in_b
        other = api.as_user(cast.maker_ann).get(f"/api/households/{household.pk}/")
        missing = api.as_user(cast.maker_ann).get(f"/api/households/{household.pk + 999}/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries_whatever_the_size_of_the_household(self, api, cast, django_assert_num_queries):
        small, _ = family(cast.village_a, "H-small", size=2)
        large, _ = family(cast.village_a, "H-large", size=9)
        for household in (small, large):
            client = fresh(api, cast.maker_ann)
            # permissions (user, groups) + township ids + the household + its members
            with django_assert_num_queries(5):
                assert client.get(f"/api/households/{household.pk}/").status_code == 200
