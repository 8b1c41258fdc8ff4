"""Organizations (employers): credit codes through the §6.2 wrapper, scoping, the API (issue 3)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from enrollment import services
from enrollment.models import Organization
from socialsec.core.exceptions import InvalidInput, NotPermitted, NotVisible
from socialsec.core.models import User
from tests.enrollment.factories import OrganizationFactory, build_credit_code

pytestmark = pytest.mark.django_db


def register(cast, by=None, **overrides):
    fields = {
        "credit_code": "91110000600037341L",
        "name": "莲塘机械厂",
        "size_class": "small",
        "size_class_year": 2019,
        "township_id": cast.township_a.pk,
        "industry": "制造业",
    }
    return services.organization_register(by=by or cast.maker_ann, **{**fields, **overrides})


@pytest.fixture
def org_in_a(cast):
    return OrganizationFactory(township=cast.township_a, name="莲塘机械厂", size_class="small")


@pytest.fixture
def org_in_b(cast):
    return OrganizationFactory(township=cast.township_b, name="向塘米业", size_class="large")


# --- E20 through the service (DOMAIN §6.2) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "authority", "entity_type"),
    [
        ("91110000600037341L", "9", "1"),  # 工商, enterprise
        ("93371083MA00000018", "9", "3"),  # farmers' co-operative
        ("N2371083MF00000018", "N", "2"),  # village collective: python-stdnum refuses it, we accept
    ],
)
def test_e20_a_clerk_registers_organizations_whose_codes_the_wrapper_accepts(
    cast, code, authority, entity_type
):
    organization = register(cast, credit_code=code)
    organization.refresh_from_db()
    assert organization.credit_code == code
    assert (organization.registration_authority, organization.entity_type) == (authority, entity_type)


def test_e20_a_village_collective_code_is_one_python_stdnum_refuses():
    from stdnum.cn import uscc
    from stdnum.exceptions import InvalidFormat

    with pytest.raises(InvalidFormat):
        uscc.validate("N2371083MF00000018")


def test_the_code_is_stored_normalized(cast):
    organization = register(cast, credit_code=" 9111 0000 6000 3734 1l ")
    assert organization.credit_code == "91110000600037341L"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "has a wrong check character"), ("zh-hans", "校验码不正确")],
)
def test_e20_a_wrong_check_character_is_refused_in_the_clerks_language(cast, language, expected):
    with translation.override(language), pytest.raises(InvalidInput) as refused:
        register(cast, credit_code="91110000600037341M")
    assert expected in str(refused.value.message)
    assert "91110000600037341M" in str(refused.value.message)
    assert refused.value.details == {"field": "credit_code", "reason": "bad_checksum"}
    assert not Organization.objects.exists()


def test_a_registered_code_is_refused_naming_the_organization_that_holds_it(cast, org_in_b):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        register(cast, credit_code=org_in_b.credit_code.lower())
    assert refused.value.details["organization_id"] == org_in_b.pk
    assert "向塘米业" in str(refused.value.message)


def test_a_section_chief_may_not_register_organizations(cast):
    with pytest.raises(NotPermitted):
        register(cast, by=cast.checker_ben)


def test_a_clerk_may_not_register_an_organization_in_another_township(cast):
    with pytest.raises(NotVisible):
        register(cast, by=cast.outsider_eve)


def test_registering_is_audited_with_the_clerk(cast):
    organization = register(cast)
    event = organization.events.get(pgh_label="insert")
    assert event.pgh_context.metadata["user"] == cast.maker_ann.pk


def test_the_database_refuses_a_credit_code_of_the_wrong_shape(cast, org_in_a):
    # DOMAIN §6.2: 18 characters of the 31-symbol alphabet; S is not one of them.
    with (
        pytest.raises(IntegrityError, match="organization_credit_code_format"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE enrollment_organization SET credit_code = %s, registration_authority = 'S' WHERE id = %s",
            ["S1110000600037341L", org_in_a.pk],
        )


def test_the_database_keeps_the_stored_positions_equal_to_the_code(cast, org_in_a):
    with pytest.raises(IntegrityError, match="organization_code_positions_stored"), transaction.atomic():
        Organization.objects.filter(pk=org_in_a.pk).update(entity_type="3")


# --- The API: /api/organizations/ ----------------------------------------------------------------------


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


class TestOrganizationListApi:
    def test_a_clerk_lists_their_townships_organizations(self, api, cast, org_in_a, org_in_b):
        response = api.as_user(cast.maker_ann).get("/api/organizations/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [org_in_a.pk]
        assert rows[0]["credit_code"] == org_in_a.credit_code
        assert rows[0]["township"]["code"] == cast.township_a.code

    def test_a_role_without_the_permission_is_403(self, api, cast):
        assert api.as_user(cast.leader_hua).get("/api/organizations/").status_code == 403

    def test_filters_by_township_size_class_name_prefix_and_credit_code(self, api, cast, org_in_a, org_in_b):
        client = api.as_user(cast.auditor_gus)

        def ids(**params) -> list[int]:
            return [row["id"] for row in client.get("/api/organizations/", params).json()["results"]]

        assert ids(township=cast.township_b.code) == [org_in_b.pk]
        assert ids(size_class="large") == [org_in_b.pk]
        assert ids(q="莲塘") == [org_in_a.pk]
        assert ids(q=org_in_b.credit_code.lower()) == [org_in_b.pk]
        assert ids(q=org_in_a.credit_code[:8]) == sorted([org_in_a.pk, org_in_b.pk], reverse=True)

    def test_an_unknown_size_class_is_400(self, api, cast):
        response = api.as_user(cast.maker_ann).get("/api/organizations/", {"size_class": "huge"})
        assert response.status_code == 400
        assert "size_class" in response.json()["fields"]

    def test_the_number_of_queries_does_not_grow_with_the_page(self, api, cast, django_assert_num_queries):
        OrganizationFactory.create_batch(2, township=cast.township_a)
        client = fresh(api, cast.maker_ann)
        # permissions (user, groups) + her township ids + one page with townships joined
        with django_assert_num_queries(4):
            client.get("/api/organizations/")
        OrganizationFactory.create_batch(18, township=cast.township_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):
            response = client.get("/api/organizations/")
        assert len(response.json()["results"]) == 20


class TestOrganizationRegisterApi:
    payload = {
        "credit_code": "N2371083MF00000018",
        "name": "东山村股份经济合作社",
        "size_class": "micro",
        "size_class_year": 2020,
        "industry": "农业",
    }

    def test_a_clerk_registers_a_village_collective(self, api, cast):
        response = api.as_user(cast.maker_ann).post(
            "/api/organizations/", {**self.payload, "township_id": cast.township_a.pk}, format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["registration_authority"], body["entity_type"]) == ("N", "2")
        assert body["township"]["id"] == cast.township_a.pk

    def test_a_section_chief_is_403(self, api, cast):
        response = api.as_user(cast.checker_ben).post(
            "/api/organizations/", {**self.payload, "township_id": cast.township_a.pk}, format="json"
        )
        assert response.status_code == 403
        assert not Organization.objects.exists()

    def test_another_township_is_404(self, api, cast):
        response = api.as_user(cast.outsider_eve).post(
            "/api/organizations/", {**self.payload, "township_id": cast.township_a.pk}, format="json"
        )
        assert response.status_code == 404
        assert not Organization.objects.exists()

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"credit_code": "91110000600037341M"}, "credit_code"),
            ({"credit_code": "N2371083MF0000001"}, "credit_code"),
            ({"name": ""}, "name"),
            ({"size_class": "huge"}, "size_class"),
            ({"size_class_year": 2999}, "size_class_year"),
            ({"township_id": "x"}, "township_id"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, api, cast, change, field):
        payload = {**self.payload, "township_id": cast.township_a.pk, **change}
        response = api.as_user(cast.maker_ann).post("/api/organizations/", payload, format="json")
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid_input"
        assert field in body.get("fields", {}) or body.get("field") == field
        assert not Organization.objects.exists()

    def test_a_wrong_check_character_is_explained_in_chinese(self, api, cast):
        payload = {**self.payload, "credit_code": "91110000600037341M", "township_id": cast.township_a.pk}
        response = api.as_user(cast.maker_ann).post(
            "/api/organizations/", payload, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        assert "校验码不正确" in response.json()["detail"]

    def test_the_number_of_queries_does_not_grow_with_the_registry(
        self, api, cast, django_assert_num_queries
    ):
        def post(client, n: int):
            code = build_credit_code("91", f"QC{n:07d}")
            return client.post(
                "/api/organizations/",
                {**self.payload, "credit_code": code, "township_id": cast.township_a.pk},
                format="json",
            )

        OrganizationFactory.create_batch(2, township=cast.township_a)
        client = fresh(api, cast.maker_ann)
        # permissions (2) + savepoint, her townships, the township, the duplicate check,
        # savepoint, insert, release, release
        with django_assert_num_queries(10):
            assert post(client, 1).status_code == 201
        OrganizationFactory.create_batch(18, township=cast.township_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(10):
            assert post(client, 2).status_code == 201


class TestOrganizationDetailApi:
    def test_a_clerk_reads_an_organization_of_their_township(self, api, cast, org_in_a):
        response = api.as_user(cast.maker_ann).get(f"/api/organizations/{org_in_a.pk}/")
        assert response.status_code == 200
        assert response.json()["name"] == "莲塘机械厂"

    def test_wrong_role_is_403(self, api, cast, org_in_a):
        assert api.as_user(cast.leader_hua).get(f"/api/organizations/{org_in_a.pk}/").status_code == 403

    def test_another_townships_organization_is_404_like_a_missing_one(self, api, cast, org_in_b):
        other = api.as_user(cast.maker_ann).get(f"/api/organizations/{org_in_b.pk}/")
        missing = api.as_user(cast.maker_ann).get(f"/api/organizations/{org_in_b.pk + 999}/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries(self, api, cast, org_in_a, django_assert_num_queries):
        OrganizationFactory.create_batch(20, township=cast.township_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):  # permissions (2) + township ids + the organization
            assert client.get(f"/api/organizations/{org_in_a.pk}/").status_code == 200
