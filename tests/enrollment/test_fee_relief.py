"""Fee relief (减免缓): policies as data, E23's outcomes, the decision, segregation of duties (issue 3).

DOMAIN §8.1 (FeeReliefPolicy / FeeReliefApplication), §8.2 (segregation of duties), E23 [S43].
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django_fsm import has_transition_perm

from enrollment import services
from enrollment.choices import FeeReliefKind, FeeReliefScheme, FeeReliefStatus
from enrollment.models import FeeReliefApplication
from socialsec.core.choices import Role
from socialsec.core.exceptions import (
    InvalidInput,
    InvalidState,
    NotPermitted,
    NotVisible,
    SegregationOfDutiesViolation,
)
from socialsec.core.models import User
from tests.enrollment.factories import (
    FeeReliefApplicationFactory,
    OrganizationFactory,
    seed_2020_policies,
)
from tests.factories import UserFactory

FEB, JUN, JUL, DEC = (dt.date(2020, month, 1) for month in (2, 6, 7, 12))


@pytest.fixture
def policies(db):
    return seed_2020_policies()


@pytest.fixture
def small_in_a(cast):
    return OrganizationFactory(township=cast.township_a, size_class="small", name="莲塘机械厂")


@pytest.fixture
def large_in_a(cast):
    return OrganizationFactory(township=cast.township_a, size_class="large", name="莲塘钢铁")


@pytest.fixture
def small_in_b(cast):
    return OrganizationFactory(township=cast.township_b, size_class="small", name="向塘米业")


@pytest.fixture
def chief_in_b(cast):
    return UserFactory(username="chief_kim", roles=[Role.SECTION_CHIEF], townships=[cast.township_b])


@pytest.fixture
def clerk_and_chief_lee(cast):
    """Holds both posts in Township A: may file and may decide, but never both on one case."""
    return UserFactory(
        username="clerk_chief_lee", roles=[Role.CLERK, Role.SECTION_CHIEF], townships=[cast.township_a]
    )


def file_exemption(cast, policies, organization, by=None, period_from=FEB, period_to=DEC):
    return services.fee_relief_file(
        organization_id=organization.pk,
        policy_id=policies[FeeReliefKind.EXEMPTION].pk,
        period_from=period_from,
        period_to=period_to,
        by=by or cast.maker_ann,
    )


@pytest.fixture
def filed_in_a(cast, policies, small_in_a):
    return file_exemption(cast, policies, small_in_a)


@pytest.fixture
def filed_in_b(cast, policies, small_in_b):
    return file_exemption(cast, policies, small_in_b, by=cast.outsider_eve)


# --- The seeded policies and E23's three outcomes ------------------------------------------------------


@pytest.mark.django_db
def test_the_2020_policies_are_seeded_as_data_with_source_and_confidence(policies):
    assert set(policies) == {FeeReliefKind.EXEMPTION, FeeReliefKind.REDUCTION, FeeReliefKind.DEFERRAL}
    for policy in policies.values():
        assert policy.source == "S43" and policy.confidence in ("B", "unconfirmed")
        assert set(policy.schemes) == set(FeeReliefScheme.values)
        assert policy.region_code == "000000"


@pytest.mark.django_db
def test_e23_a_small_enterprise_is_exempt_from_february_to_december_2020(cast, policies, small_in_a):
    application = file_exemption(cast, policies, small_in_a)
    assert application.kind == FeeReliefKind.EXEMPTION
    assert application.rate == Decimal("1")
    assert application.months == 11
    assert application.status == FeeReliefStatus.FILED
    assert set(application.policy.schemes) == {"employee_pension", "unemployment", "work_injury"}


@pytest.mark.django_db
def test_e23_a_large_enterprise_pays_half_from_february_to_june_2020(cast, policies, large_in_a):
    application = services.fee_relief_file(
        organization_id=large_in_a.pk,
        policy_id=policies[FeeReliefKind.REDUCTION].pk,
        period_from=FEB,
        period_to=JUN,
        by=cast.maker_ann,
    )
    assert (application.kind, application.rate, application.months) == ("reduction", Decimal("0.5"), 5)


@pytest.mark.django_db
def test_e23_a_large_enterprise_has_no_half_rate_in_july_2020(cast, policies, large_in_a):
    with pytest.raises(InvalidInput) as refused:
        services.fee_relief_file(
            organization_id=large_in_a.pk,
            policy_id=policies[FeeReliefKind.REDUCTION].pk,
            period_from=FEB,
            period_to=JUL,
            by=cast.maker_ann,
        )
    assert refused.value.details == {"field": "period_to"}


@pytest.mark.django_db
def test_e23_a_large_enterprise_is_not_covered_by_the_small_enterprise_exemption(cast, policies, large_in_a):
    with pytest.raises(InvalidInput) as refused:
        file_exemption(cast, policies, large_in_a)
    assert refused.value.details == {"field": "policy_id"}


@pytest.mark.django_db
def test_e23_a_hardship_deferral_of_six_months_carries_no_late_fee(cast, policies, large_in_a):
    application = services.fee_relief_file(
        organization_id=large_in_a.pk,
        policy_id=policies[FeeReliefKind.DEFERRAL].pk,
        period_from=dt.date(2020, 3, 1),
        period_to=dt.date(2020, 8, 1),
        by=cast.maker_ann,
    )
    assert (application.kind, application.months, application.rate) == ("deferral", 6, None)
    assert application.waives_late_fee is True


@pytest.mark.django_db
def test_e23_a_deferral_longer_than_six_months_is_refused(cast, policies, large_in_a):
    with pytest.raises(InvalidInput) as refused:
        services.fee_relief_file(
            organization_id=large_in_a.pk,
            policy_id=policies[FeeReliefKind.DEFERRAL].pk,
            period_from=dt.date(2020, 3, 1),
            period_to=dt.date(2020, 9, 1),
            by=cast.maker_ann,
        )
    assert refused.value.details == {"field": "period_to"}


# --- Filing ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_overlapping_open_application_is_a_conflict_naming_it(cast, policies, small_in_a, filed_in_a):
    with pytest.raises(InvalidState) as conflict:
        file_exemption(cast, policies, small_in_a, period_from=JUN, period_to=JUL)
    assert conflict.value.details == {"application_ids": [filed_in_a.pk], "statuses": ["filed"]}


@pytest.mark.django_db
def test_a_refused_application_does_not_block_a_new_one(cast, policies, small_in_a, filed_in_a):
    services.fee_relief_refuse(application_id=filed_in_a.pk, by=cast.checker_ben, reason="材料不全")
    again = file_exemption(cast, policies, small_in_a)
    assert again.pk != filed_in_a.pk


@pytest.mark.django_db
def test_a_section_chief_may_not_file(cast, policies, small_in_a):
    with pytest.raises(NotPermitted):
        file_exemption(cast, policies, small_in_a, by=cast.checker_ben)


@pytest.mark.django_db
def test_a_clerk_may_not_file_for_another_townships_organization(cast, policies, small_in_b):
    with pytest.raises(NotVisible):
        file_exemption(cast, policies, small_in_b)


@pytest.mark.django_db
def test_months_outside_the_policy_are_refused_naming_the_field(cast, policies, small_in_a):
    with pytest.raises(InvalidInput) as refused:
        file_exemption(cast, policies, small_in_a, period_from=dt.date(2020, 1, 1))
    assert refused.value.details == {"field": "period_from"}


# --- Deciding, segregation of duties (DOMAIN §8.2) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "step", "actor", "allowed"),
    [
        (FeeReliefStatus.FILED, "approve", "checker_ben", True),
        (FeeReliefStatus.FILED, "refuse", "checker_ben", True),
        (FeeReliefStatus.FILED, "approve", "maker_ann", False),  # a clerk files, never decides
        (FeeReliefStatus.FILED, "approve", "auditor_gus", False),  # the auditor reads only
        (FeeReliefStatus.FILED, "approve", "clerk_and_chief_lee", False),  # she filed it
        (FeeReliefStatus.APPROVED, "refuse", "checker_ben", False),  # decided is final
        (FeeReliefStatus.REFUSED, "approve", "checker_ben", False),
    ],
)
@pytest.mark.django_db
def test_who_may_decide_in_each_status(cast, clerk_and_chief_lee, status, step, actor, allowed):
    application = FeeReliefApplicationFactory.build(status=status, filed_by=clerk_and_chief_lee)
    user = clerk_and_chief_lee if actor == "clerk_and_chief_lee" else getattr(cast, actor)
    assert has_transition_perm(getattr(application, step), user) is allowed


@pytest.mark.django_db
def test_a_section_chief_approves_and_the_step_is_audited_with_who(cast, filed_in_a):
    application = services.fee_relief_approve(
        application_id=filed_in_a.pk, by=cast.checker_ben, note="符合条件"
    )
    assert application.status == FeeReliefStatus.APPROVED
    assert application.decided_by == cast.checker_ben and application.decided_at is not None
    filed, approved = application.events.order_by("pgh_id")
    assert (filed.status, filed.pgh_context.metadata["user"]) == ("filed", cast.maker_ann.pk)
    assert (approved.status, approved.pgh_context.metadata["user"]) == ("approved", cast.checker_ben.pk)
    assert approved.pgh_context.metadata["action"] == "fee_relief_approve"


@pytest.mark.django_db
def test_a_refusal_needs_a_reason_and_records_it_with_who(cast, filed_in_a):
    with pytest.raises(InvalidInput) as refused:
        services.fee_relief_refuse(application_id=filed_in_a.pk, by=cast.checker_ben, reason="  ")
    assert refused.value.details == {"field": "reason"}
    application = services.fee_relief_refuse(
        application_id=filed_in_a.pk, by=cast.checker_ben, reason="未受疫情影响"
    )
    assert (application.status, application.decision_reason) == ("refused", "未受疫情影响")
    event = application.events.latest("pgh_id")
    assert (event.status, event.pgh_context.metadata["user"]) == ("refused", cast.checker_ben.pk)


@pytest.mark.django_db
def test_the_filer_may_not_decide_their_own_application_even_holding_both_posts(
    cast, policies, small_in_a, clerk_and_chief_lee
):
    application = file_exemption(cast, policies, small_in_a, by=clerk_and_chief_lee)
    with pytest.raises(SegregationOfDutiesViolation):
        services.fee_relief_approve(application_id=application.pk, by=clerk_and_chief_lee)
    application.refresh_from_db()
    assert application.status == FeeReliefStatus.FILED


@pytest.mark.django_db
def test_the_database_refuses_a_filer_as_decider_whatever_the_door(cast, filed_in_a):
    with (
        pytest.raises(IntegrityError, match="fee_relief_decider_is_not_filer"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE enrollment_feereliefapplication "
            "SET status = 'approved', decided_by_id = filed_by_id, decided_at = now() WHERE id = %s",
            [filed_in_a.pk],
        )
    filed_in_a.refresh_from_db()
    assert filed_in_a.status == FeeReliefStatus.FILED


@pytest.mark.django_db
def test_the_database_refuses_a_refusal_without_a_reason(cast, filed_in_a):
    with (
        pytest.raises(IntegrityError, match="fee_relief_decision_recorded"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE enrollment_feereliefapplication "
            "SET status = 'refused', decided_by_id = %s, decided_at = now() WHERE id = %s",
            [cast.checker_ben.pk, filed_in_a.pk],
        )


@pytest.mark.django_db
def test_the_same_chief_repeating_the_same_decision_changes_nothing(cast, filed_in_a):
    first = services.fee_relief_approve(application_id=filed_in_a.pk, by=cast.checker_ben)
    again = services.fee_relief_approve(application_id=filed_in_a.pk, by=cast.checker_ben)
    assert again.decided_at == first.decided_at
    assert filed_in_a.events.filter(status=FeeReliefStatus.APPROVED).count() == 1


@pytest.mark.django_db
def test_a_different_decision_after_a_decision_is_a_conflict_naming_the_application(cast, filed_in_a):
    services.fee_relief_approve(application_id=filed_in_a.pk, by=cast.checker_ben)
    with pytest.raises(InvalidState) as conflict:
        services.fee_relief_refuse(application_id=filed_in_a.pk, by=cast.checker_ben, reason="改变主意")
    assert conflict.value.details == {"application_ids": [filed_in_a.pk], "status": "approved"}


@pytest.mark.django_db
def test_a_clerk_may_not_decide(cast, filed_in_a):
    with pytest.raises(NotPermitted):
        services.fee_relief_approve(application_id=filed_in_a.pk, by=cast.maker_ann)


@pytest.mark.django_db
def test_a_chief_may_not_decide_another_townships_application(cast, filed_in_b):
    with pytest.raises(NotVisible):
        services.fee_relief_approve(application_id=filed_in_b.pk, by=cast.checker_ben)


@pytest.mark.django_db(transaction=True)  # real commits: row locks only matter across connections
def test_two_chiefs_approving_at_once_record_one_approval(cast):
    policies = seed_2020_policies()
    organization = OrganizationFactory(township=cast.township_a, size_class="small")
    application = file_exemption(cast, policies, organization)
    chief_two = UserFactory(username="chief_mei", roles=[Role.SECTION_CHIEF], townships=[cast.township_a])
    start = threading.Barrier(2)

    def approve(chief_id: int) -> str:
        try:
            chief = User.objects.get(pk=chief_id)
            start.wait()
            try:
                services.fee_relief_approve(application_id=application.pk, by=chief)
            except InvalidState:
                return "conflict"
            return "approved"
        finally:
            connection.close()  # each thread opened its own connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(approve, user.pk) for user in (cast.checker_ben, chief_two)]
    outcomes = sorted(future.result() for future in futures)  # surfaces errors raised in threads
    assert outcomes == ["approved", "conflict"]
    application.refresh_from_db()
    assert application.status == FeeReliefStatus.APPROVED
    approvals = application.events.filter(pgh_label="update", status=FeeReliefStatus.APPROVED)
    assert approvals.count() == 1
    assert approvals.get().pgh_context.metadata["user"] == application.decided_by_id


# --- The API -----------------------------------------------------------------------------------------------


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


def make_applications(count: int, township, policy) -> None:
    for month in range(count):
        FeeReliefApplicationFactory(
            organization=OrganizationFactory(township=township),
            policy=policy,
            period_from=dt.date(2020, 2 + month % 10, 1),
            period_to=dt.date(2020, 2 + month % 10, 1),
        )


@pytest.mark.django_db
class TestFeeReliefListApi:
    def test_a_clerk_lists_their_townships_applications(self, api, cast, filed_in_a, filed_in_b):
        response = api.as_user(cast.maker_ann).get("/api/fee-relief/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [filed_in_a.pk]
        assert rows[0]["period_from"] == "2020-02" and rows[0]["period_to"] == "2020-12"
        assert rows[0]["organization"]["name"] == "莲塘机械厂" and rows[0]["filed_by"] == "maker_ann"

    def test_the_auditor_reads_every_township_and_filters(self, api, cast, filed_in_a, filed_in_b):
        client = api.as_user(cast.auditor_gus)
        rows = client.get("/api/fee-relief/", {"township": cast.township_b.code}).json()["results"]
        assert [row["id"] for row in rows] == [filed_in_b.pk]
        assert client.get("/api/fee-relief/", {"status": "approved"}).json()["results"] == []

    def test_a_role_without_the_permission_is_403(self, api, cast):
        assert api.as_user(cast.leader_hua).get("/api/fee-relief/").status_code == 403

    def test_the_number_of_queries_does_not_grow_with_the_page(
        self, api, cast, policies, django_assert_num_queries
    ):
        make_applications(2, cast.township_a, policies[FeeReliefKind.EXEMPTION])
        client = fresh(api, cast.maker_ann)
        # permissions (2) + her township ids + one page with organization, policy and users joined
        with django_assert_num_queries(4):
            client.get("/api/fee-relief/")
        make_applications(18, cast.township_a, policies[FeeReliefKind.EXEMPTION])
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):
            response = client.get("/api/fee-relief/")
        assert len(response.json()["results"]) == 20


@pytest.mark.django_db
class TestFeeReliefFileApi:
    def payload(self, organization, policy, **change):
        return {
            "organization_id": organization.pk,
            "policy_id": policy.pk,
            "period_from": "2020-02",
            "period_to": "2020-12",
            **change,
        }

    def test_a_clerk_files_and_gets_the_computed_relief(self, api, cast, policies, small_in_a):
        response = api.as_user(cast.maker_ann).post(
            "/api/fee-relief/", self.payload(small_in_a, policies["exemption"]), format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["status"], body["kind"], body["months"], Decimal(body["rate"])) == (
            "filed",
            "exemption",
            11,
            Decimal("1"),
        )

    def test_a_section_chief_is_403(self, api, cast, policies, small_in_a):
        response = api.as_user(cast.checker_ben).post(
            "/api/fee-relief/", self.payload(small_in_a, policies["exemption"]), format="json"
        )
        assert response.status_code == 403

    def test_another_townships_organization_is_404(self, api, cast, policies, small_in_a):
        response = api.as_user(cast.outsider_eve).post(
            "/api/fee-relief/", self.payload(small_in_a, policies["exemption"]), format="json"
        )
        assert response.status_code == 404
        assert not FeeReliefApplication.objects.exists()

    def test_an_overlapping_open_application_is_409_naming_it(
        self, api, cast, policies, small_in_a, filed_in_a
    ):
        response = api.as_user(cast.maker_ann).post(
            "/api/fee-relief/",
            self.payload(small_in_a, policies["exemption"], period_from="2020-05", period_to="2020-05"),
            format="json",
        )
        assert response.status_code == 409
        assert response.json()["application_ids"] == [filed_in_a.pk]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"period_from": "2020-13"}, "period_from"),
            ({"period_to": "December"}, "period_to"),
            ({"period_from": "2020-01"}, "period_from"),  # before the policy
            ({"period_from": "2020-06", "period_to": "2020-03"}, "period_to"),
            ({"policy_id": 0}, "policy_id"),
            ({"organization_id": None}, "organization_id"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, api, cast, policies, small_in_a, change, field):
        response = api.as_user(cast.maker_ann).post(
            "/api/fee-relief/", self.payload(small_in_a, policies["exemption"], **change), format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "invalid_input"
        assert field in body.get("fields", {}) or body.get("field") == field
        assert not FeeReliefApplication.objects.exists()

    def test_a_policy_that_does_not_cover_the_size_class_is_400(self, api, cast, policies, large_in_a):
        response = api.as_user(cast.maker_ann).post(
            "/api/fee-relief/", self.payload(large_in_a, policies["exemption"]), format="json"
        )
        assert response.status_code == 400
        assert response.json()["field"] == "policy_id"

    def test_the_number_of_queries_does_not_grow_with_the_applications(
        self, api, cast, policies, small_in_a, django_assert_num_queries
    ):
        policy = policies["exemption"]
        make_applications(2, cast.township_a, policy)
        client = fresh(api, cast.maker_ann)
        # permissions (2) + savepoint, township ids, the locked organization, the policy,
        # the overlap check, insert, release
        with django_assert_num_queries(9):
            assert (
                client.post("/api/fee-relief/", self.payload(small_in_a, policy), format="json").status_code
                == 201
            )
        FeeReliefApplication.objects.all().delete()
        make_applications(20, cast.township_a, policy)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(9):
            assert (
                client.post("/api/fee-relief/", self.payload(small_in_a, policy), format="json").status_code
                == 201
            )


@pytest.mark.django_db
class TestFeeReliefDetailApi:
    def test_a_chief_reads_an_application_of_their_township(self, api, cast, filed_in_a):
        response = api.as_user(cast.checker_ben).get(f"/api/fee-relief/{filed_in_a.pk}/")
        assert response.status_code == 200
        assert response.json()["status"] == "filed"

    def test_wrong_role_is_403(self, api, cast, filed_in_a):
        assert api.as_user(cast.leader_hua).get(f"/api/fee-relief/{filed_in_a.pk}/").status_code == 403

    def test_another_townships_application_is_404_like_a_missing_one(self, api, cast, filed_in_b):
        other = api.as_user(cast.maker_ann).get(f"/api/fee-relief/{filed_in_b.pk}/")
        missing = api.as_user(cast.maker_ann).get(f"/api/fee-relief/{filed_in_b.pk + 999}/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries(self, api, cast, policies, filed_in_a, django_assert_num_queries):
        make_applications(20, cast.township_a, policies["exemption"])
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):  # permissions (2) + township ids + the application, joined
            assert client.get(f"/api/fee-relief/{filed_in_a.pk}/").status_code == 200


@pytest.mark.django_db
class TestFeeReliefDecisionApi:
    def test_a_section_chief_approves(self, api, cast, filed_in_a):
        response = api.as_user(cast.checker_ben).post(
            f"/api/fee-relief/{filed_in_a.pk}/approve/", {"note": "符合条件"}, format="json"
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["status"], body["decided_by"], body["decision_reason"]) == (
            "approved",
            "checker_ben",
            "符合条件",
        )

    def test_a_section_chief_refuses_with_a_reason(self, api, cast, filed_in_a):
        response = api.as_user(cast.checker_ben).post(
            f"/api/fee-relief/{filed_in_a.pk}/refuse/", {"reason": "未受疫情影响"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "refused"

    @pytest.mark.parametrize("step", ["approve", "refuse"])
    def test_a_clerk_is_403(self, api, cast, filed_in_a, step):
        response = api.as_user(cast.maker_ann).post(
            f"/api/fee-relief/{filed_in_a.pk}/{step}/", {"reason": "x"}, format="json"
        )
        assert response.status_code == 403

    @pytest.mark.parametrize("step", ["approve", "refuse"])
    def test_the_filer_holding_both_posts_is_403_for_segregation_of_duties(
        self, api, cast, policies, small_in_a, clerk_and_chief_lee, step
    ):
        application = file_exemption(cast, policies, small_in_a, by=clerk_and_chief_lee)
        response = api.as_user(clerk_and_chief_lee).post(
            f"/api/fee-relief/{application.pk}/{step}/", {"reason": "自己审批"}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["error"] == "segregation_of_duties"
        assert response.json()["application_id"] == application.pk

    @pytest.mark.parametrize("step", ["approve", "refuse"])
    def test_another_townships_application_is_404(self, api, cast, filed_in_b, step):
        response = api.as_user(cast.checker_ben).post(
            f"/api/fee-relief/{filed_in_b.pk}/{step}/", {"reason": "x"}, format="json"
        )
        assert response.status_code == 404

    @pytest.mark.parametrize(("first", "then"), [("refuse", "approve"), ("approve", "refuse")])
    def test_a_decided_application_is_409_naming_it_and_its_status(
        self, api, cast, filed_in_a, chief_in_b, first, then
    ):
        client = api.as_user(cast.checker_ben)
        assert (
            client.post(
                f"/api/fee-relief/{filed_in_a.pk}/{first}/", {"reason": "第一次"}, format="json"
            ).status_code
            == 200
        )
        response = client.post(
            f"/api/fee-relief/{filed_in_a.pk}/{then}/", {"reason": "第二次"}, format="json"
        )
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "invalid_state"
        assert body["application_ids"] == [filed_in_a.pk]
        assert body["status"] == {"approve": "approved", "refuse": "refused"}[first]

    def test_a_refusal_without_a_reason_is_400_naming_the_field(self, api, cast, filed_in_a):
        for payload in ({}, {"reason": "   "}):
            response = api.as_user(cast.checker_ben).post(
                f"/api/fee-relief/{filed_in_a.pk}/refuse/", payload, format="json"
            )
            assert response.status_code == 400
            body = response.json()
            assert "reason" in body.get("fields", {}) or body.get("field") == "reason"

    @pytest.mark.parametrize(("step", "payload"), [("approve", {}), ("refuse", {"reason": "材料不全"})])
    def test_constant_queries(self, api, cast, policies, step, payload, django_assert_num_queries):
        policy = policies["exemption"]
        for batch in (2, 20):
            make_applications(batch, cast.township_a, policy)
            application = FeeReliefApplication.objects.filter(status="filed").latest("id")
            client = fresh(api, cast.checker_ben)
            # permissions (2) + savepoint, township ids, the locked row, update, release,
            # and the application read back with its organization, policy and users joined
            with django_assert_num_queries(8):
                response = client.post(f"/api/fee-relief/{application.pk}/{step}/", payload, format="json")
            assert response.status_code == 200


@pytest.mark.django_db
class TestFeeReliefPolicyListApi:
    def test_a_clerk_lists_the_policies(self, api, cast, policies):
        response = api.as_user(cast.maker_ann).get("/api/fee-relief-policies/")
        assert response.status_code == 200
        kinds = {row["kind"] for row in response.json()["results"]}
        assert kinds == {"exemption", "reduction", "deferral"}

    def test_filters_by_size_class(self, api, cast, policies):
        rows = (
            api.as_user(cast.maker_ann)
            .get("/api/fee-relief-policies/", {"size_class": "large"})
            .json()["results"]
        )
        assert {row["kind"] for row in rows} == {"reduction", "deferral"}

    def test_a_role_without_the_permission_is_403(self, api, cast, policies):
        assert api.as_user(cast.leader_hua).get("/api/fee-relief-policies/").status_code == 403

    def test_constant_queries(self, api, cast, policies, django_assert_num_queries):
        from tests.enrollment.factories import FeeReliefPolicyFactory

        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(3):  # permissions (2) + one page
            client.get("/api/fee-relief-policies/")
        FeeReliefPolicyFactory.create_batch(20)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(3):
            assert len(client.get("/api/fee-relief-policies/").json()["results"]) == 23


@pytest.mark.django_db
def test_the_admin_role_corrects_fee_relief_policies_in_the_admin(client, cast, policies):
    # DOMAIN §0.2: policies are data, corrected per region without a code change.
    client.force_login(cast.admin_ivy)
    assert client.get("/admin/enrollment/feereliefpolicy/").status_code == 200
    client.force_login(cast.maker_ann)
    assert client.get("/admin/enrollment/feereliefpolicy/").status_code == 302  # not staff
