"""Enrollment: who may enrol in which scheme, one open enrollment per scheme, the lifecycle (issue 3).

DOMAIN §1.1 (resident pension from 16, not while in the employee scheme), §1.6 (mutual
exclusion: Art 7 same-year overlap allowed, Art 8 no dual receipt), §8.1 Enrollment,
§8.2 the Enrollment state machine.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django_fsm import can_proceed

from enrollment import services
from enrollment.choices import EnrollmentStatus, Scheme, TerminationReason
from enrollment.models import Enrollment, PersonalAccount
from socialsec.core.choices import Role
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from socialsec.core.models import User
from tests.enrollment.factories import OrganizationFactory
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english_messages")


TODAY = dt.date(2025, 6, 1)


def make_enrollment(person, scheme=Scheme.RESIDENT_PENSION, status=EnrollmentStatus.ACTIVE, **fields):
    """A row as an import would leave it, in any state (the protected status is set on creation)."""
    if status == EnrollmentStatus.TERMINATED:
        fields.setdefault("termination_reason", TerminationReason.DEATH)
    return Enrollment.objects.create(
        person=person,
        scheme=scheme,
        status=status,
        pooling_area=person.township.code[:6],
        start_date=fields.pop("start_date", dt.date(2015, 1, 1)),
        enrolled_by=fields.pop("enrolled_by", None) or UserFactory(),
        **fields,
    )


def enrol(cast, person, scheme=Scheme.RESIDENT_PENSION, start_date=TODAY, by=None, **kwargs):
    return services.enrollment_enroll(
        person_id=person.pk, scheme=scheme, start_date=start_date, by=by or cast.maker_ann, **kwargs
    )


@pytest.fixture
def clerk_and_chief_lee(cast):
    """Holds both posts in Township A, so one actor can take every step of the table."""
    return UserFactory(
        username="clerk_chief_lee", roles=[Role.CLERK, Role.SECTION_CHIEF], townships=[cast.township_a]
    )


@pytest.fixture
def turning_16(cast):
    """Born 2009-06-10: 16 on 2025-06-10."""
    return PersonFactory(village=cast.village_a, birth_date=dt.date(2009, 6, 10), name="赵小")


# --- Enrolling: DOMAIN §1.1 -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clerk_enrols_a_person_in_the_resident_pension_and_the_account_opens(cast, person_in_a):
    enrollment = enrol(cast, person_in_a)
    assert (enrollment.status, enrollment.scheme, enrollment.pooling_area) == (
        EnrollmentStatus.ACTIVE,
        Scheme.RESIDENT_PENSION,
        "360121",
    )
    account = PersonalAccount.objects.get(person=person_in_a, scheme=Scheme.RESIDENT_PENSION)
    assert account.balance == 0
    assert enrollment.events.get().pgh_context.metadata["action"] == "enrollment_enroll"


@pytest.mark.django_db
def test_s1_1_the_resident_pension_is_refused_the_day_before_the_16th_birthday(cast, turning_16):
    with pytest.raises(InvalidInput, match="starts at age 16") as refused:
        enrol(cast, turning_16, start_date=dt.date(2025, 6, 9))
    assert refused.value.details == {"field": "start_date", "rule": "resident_pension_min_age"}
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
def test_s1_1_the_resident_pension_is_open_on_the_16th_birthday(cast, turning_16):
    assert enrol(cast, turning_16, start_date=dt.date(2025, 6, 10)).status == EnrollmentStatus.ACTIVE


@pytest.mark.django_db
def test_s1_1_the_minimum_age_is_a_policy_parameter_a_county_may_set(cast, turning_16):
    # DOMAIN §0.2: a county row beats the national 16 (a hypothetical local rule of 17).
    from socialsec.core.models import PolicyParameter

    national = PolicyParameter.objects.get(key="resident_pension.enrollment.min_age", region_code="000000")
    PolicyParameter.objects.create(
        region_code="360121",
        scheme=national.scheme,
        key=national.key,
        kind=national.kind,
        unit=national.unit,
        value=17,
        effective_from=dt.date(2020, 1, 1),
        confidence="unconfirmed",
    )
    with pytest.raises(InvalidInput, match="starts at age 17"):
        enrol(cast, turning_16, start_date=dt.date(2025, 6, 10))


@pytest.mark.django_db
def test_the_age_limit_is_the_resident_pensions_only(cast, turning_16):
    # The 16-year rule is §1.1's; a 15-year-old's resident medical insurance is not refused.
    enrollment = enrol(cast, turning_16, scheme=Scheme.RESIDENT_MEDICAL, start_date=dt.date(2025, 6, 9))
    assert enrollment.scheme == Scheme.RESIDENT_MEDICAL


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", [Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION])
@pytest.mark.parametrize(
    "status", [EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED_CONTRIB, EnrollmentStatus.RECEIVING]
)
def test_s1_6_the_resident_pension_is_refused_while_in_an_employment_pension_naming_it(
    cast, person_in_a, scheme, status
):
    employee = make_enrollment(person_in_a, scheme=scheme, status=status)
    with pytest.raises(InvalidState) as refused:
        enrol(cast, person_in_a)
    assert refused.value.details == {
        "rule": "resident_pension_excluded_by_employment_pension",
        "enrollment_ids": [employee.pk],
        "statuses": [status],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", [EnrollmentStatus.TERMINATED, EnrollmentStatus.TRANSFERRED_OUT])
def test_s1_6_art6_a_closed_employee_pension_lets_the_person_enrol_as_a_resident(cast, person_in_a, status):
    make_enrollment(
        person_in_a, scheme=Scheme.EMPLOYEE_PENSION, status=status, end_date=dt.date(2024, 12, 31)
    )
    assert enrol(cast, person_in_a).status == EnrollmentStatus.ACTIVE


@pytest.mark.django_db
def test_s1_6_art7_an_employee_enrollment_while_the_resident_one_is_open_is_allowed(cast, person_in_a):
    # E8: both schemes in the same year; the overlap is settled by a refund, not a refusal.
    resident = enrol(cast, person_in_a, start_date=dt.date(2023, 1, 1))
    employer = OrganizationFactory(township=cast.township_a)
    employee = enrol(
        cast,
        person_in_a,
        scheme=Scheme.EMPLOYEE_PENSION,
        start_date=dt.date(2023, 3, 1),
        organization_id=employer.pk,
    )
    assert {resident.status, employee.status} == {EnrollmentStatus.ACTIVE}
    assert employee.organization == employer


@pytest.mark.django_db
def test_a_person_who_has_died_is_refused_with_the_date(cast):
    died = PersonFactory(village=cast.village_a, death_date=dt.date(2025, 3, 10))
    with pytest.raises(InvalidState, match="died on 2025-03-10") as refused:
        enrol(cast, died)
    assert refused.value.details["rule"] == "person_deceased"
    assert refused.value.details["death_date"] == "2025-03-10"


@pytest.mark.django_db
def test_a_resident_scheme_takes_no_employer(cast, person_in_a):
    employer = OrganizationFactory(township=cast.township_a)
    with pytest.raises(InvalidInput) as refused:
        enrol(cast, person_in_a, organization_id=employer.pk)
    assert refused.value.details["field"] == "organization_id"


@pytest.mark.django_db
def test_an_unknown_scheme_is_refused_naming_the_field(cast, person_in_a):
    with pytest.raises(InvalidInput) as refused:
        enrol(cast, person_in_a, scheme="private_pension")
    assert refused.value.details == {"field": "scheme"}


@pytest.mark.django_db
def test_a_section_chief_may_not_enrol(cast, person_in_a):
    with pytest.raises(NotPermitted):
        enrol(cast, person_in_a, by=cast.checker_ben)


@pytest.mark.django_db
def test_a_clerk_may_not_enrol_another_townships_person(cast, person_in_b):
    with pytest.raises(NotVisible):
        enrol(cast, person_in_b)


# --- One open enrollment per person and scheme ---------------------------------------------------------


@pytest.mark.django_db
def test_a_second_open_enrollment_in_the_same_scheme_is_a_conflict_naming_the_first(cast, person_in_a):
    first = enrol(cast, person_in_a)
    with pytest.raises(InvalidState) as refused:
        enrol(cast, person_in_a, start_date=dt.date(2025, 7, 1))
    assert refused.value.details == {
        "rule": "one_open_enrollment_per_scheme",
        "enrollment_ids": [first.pk],
        "statuses": [EnrollmentStatus.ACTIVE],
    }


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_enrollment_whatever_the_door(cast, person_in_a):
    first = make_enrollment(person_in_a)
    with (
        pytest.raises(IntegrityError, match="enrollment_one_open_per_scheme"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO enrollment_enrollment (person_id, scheme, status, pooling_area, start_date,"
            " termination_reason, enrolled_by_id, created_at, updated_at)"
            " VALUES (%s, 'resident_pension', 'suspended_contrib', '360121', '2025-01-01', '', %s,"
            " now(), now())",
            [person_in_a.pk, first.enrolled_by_id],
        )


@pytest.mark.django_db
def test_after_a_termination_the_person_may_enrol_again(cast, person_in_a):
    make_enrollment(person_in_a, status=EnrollmentStatus.TERMINATED, end_date=dt.date(2020, 1, 1))
    make_enrollment(person_in_a, status=EnrollmentStatus.TRANSFERRED_OUT, end_date=dt.date(2022, 1, 1))
    assert enrol(cast, person_in_a).status == EnrollmentStatus.ACTIVE


@pytest.mark.django_db
def test_the_database_refuses_a_termination_without_a_reason(cast, person_in_a):
    enrollment = make_enrollment(person_in_a)
    with pytest.raises(IntegrityError, match="enrollment_termination_reason"), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.TERMINATED)


# --- The lifecycle: DOMAIN §8.2 ----------------------------------------------------------------------

A, S, T, R, X = (
    EnrollmentStatus.ACTIVE,
    EnrollmentStatus.SUSPENDED_CONTRIB,
    EnrollmentStatus.TRANSFERRED_OUT,
    EnrollmentStatus.RECEIVING,
    EnrollmentStatus.TERMINATED,
)
# status × step → the status after it, or None for "not from here" (409).
LIFECYCLE = {
    (A, "suspend"): S,
    (S, "suspend"): S,  # the same step again is a no-op
    (T, "suspend"): None,
    (R, "suspend"): None,
    (X, "suspend"): None,
    (A, "resume"): A,  # already contributing: the same state again is a no-op
    (S, "resume"): A,
    (T, "resume"): None,
    (R, "resume"): None,
    (X, "resume"): None,
    (A, "terminate"): X,
    (S, "terminate"): X,
    (R, "terminate"): X,
    (T, "terminate"): None,  # the relationship lives on in the new pooling area
    (X, "terminate"): None,  # already ended for another reason (death): a conflict
}


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "step"), list(LIFECYCLE))
def test_which_step_each_status_allows(cast, clerk_and_chief_lee, person_in_a, status, step):
    enrollment = make_enrollment(person_in_a, status=status)
    extra = {"reason": TerminationReason.DUAL_SCHEME} if step == "terminate" else {}
    service = getattr(services, f"enrollment_{step}")
    expected = LIFECYCLE[(status, step)]
    if expected is None:
        with pytest.raises(InvalidState) as refused:
            service(enrollment_id=enrollment.pk, by=clerk_and_chief_lee, **extra)
        assert refused.value.details == {"enrollment_ids": [enrollment.pk], "status": status, "step": step}
    else:
        assert service(enrollment_id=enrollment.pk, by=clerk_and_chief_lee, **extra).status == expected
    enrollment.refresh_from_db()
    assert enrollment.status == (expected or status)


@pytest.mark.parametrize(
    ("status", "step", "allowed"),
    [
        (A, "transfer_out", True),
        (S, "transfer_out", True),
        (R, "transfer_out", False),  # only if not yet receiving [S1 Art12]
        (X, "transfer_out", False),
        (A, "start_receiving", True),
        (S, "start_receiving", False),
        (R, "start_receiving", False),
        (T, "start_receiving", False),
    ],
)
def test_the_model_declares_transfer_and_receiving_per_s8_2(status, step, allowed):
    enrollment = Enrollment(status=status, scheme=Scheme.RESIDENT_PENSION)
    assert can_proceed(getattr(enrollment, step)) is allowed


@pytest.mark.django_db
def test_the_status_cannot_be_assigned_past_the_lifecycle(cast, person_in_a):
    enrollment = make_enrollment(person_in_a)
    with pytest.raises(AttributeError):
        enrollment.status = EnrollmentStatus.RECEIVING


@pytest.mark.django_db
def test_a_termination_records_reason_end_date_and_who(cast, person_in_a):
    enrollment = enrol(cast, person_in_a, start_date=dt.date(2015, 1, 1))
    ended = services.enrollment_terminate(
        enrollment_id=enrollment.pk,
        reason=TerminationReason.DEATH,
        on=dt.date(2025, 3, 10),
        by=cast.checker_ben,
        note="公安注销",
    )
    assert (ended.status, ended.termination_reason, ended.end_date) == (X, "death", dt.date(2025, 3, 10))
    event = ended.events.order_by("pgh_id").last()
    assert event.pgh_context.metadata == {
        "user": cast.checker_ben.pk,
        "action": "enrollment_terminate",
        "note": "公安注销",
    }


@pytest.mark.django_db
def test_terminating_again_for_the_same_reason_changes_nothing(cast, person_in_a):
    enrollment = make_enrollment(person_in_a, status=X, termination_reason=TerminationReason.DUAL_SCHEME)
    again = services.enrollment_terminate(
        enrollment_id=enrollment.pk, reason=TerminationReason.DUAL_SCHEME, by=cast.checker_ben
    )
    assert again.status == X
    assert enrollment.events.count() == 1  # the insert only


@pytest.mark.django_db
def test_a_termination_needs_a_known_reason(cast, person_in_a):
    enrollment = make_enrollment(person_in_a)
    with pytest.raises(InvalidInput) as refused:
        services.enrollment_terminate(enrollment_id=enrollment.pk, reason="moved", by=cast.checker_ben)
    assert refused.value.details == {"field": "reason"}


@pytest.mark.django_db
def test_an_enrollment_cannot_end_before_it_started(cast, person_in_a):
    enrollment = make_enrollment(person_in_a, start_date=dt.date(2020, 1, 1))
    with pytest.raises(InvalidInput, match="before it started on 2020-01-01") as refused:
        services.enrollment_terminate(
            enrollment_id=enrollment.pk,
            reason=TerminationReason.DEATH,
            on=dt.date(2019, 12, 31),
            by=cast.checker_ben,
        )
    assert refused.value.details == {"field": "on"}


@pytest.mark.django_db
def test_a_clerk_may_suspend_but_not_terminate(cast, person_in_a):
    enrollment = make_enrollment(person_in_a)
    with pytest.raises(NotPermitted):
        services.enrollment_terminate(
            enrollment_id=enrollment.pk, reason=TerminationReason.DEATH, by=cast.maker_ann
        )
    assert services.enrollment_suspend(enrollment_id=enrollment.pk, by=cast.maker_ann).status == S


@pytest.mark.django_db
def test_a_clerk_may_not_suspend_another_townships_enrollment(cast, person_in_b):
    enrollment = make_enrollment(person_in_b)
    with pytest.raises(NotVisible):
        services.enrollment_suspend(enrollment_id=enrollment.pk, by=cast.maker_ann)


# --- API: five cases per endpoint (STYLE §22) ---------------------------------------------------------


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


def make_people_enrolled(count: int, village) -> list[Enrollment]:
    return [make_enrollment(PersonFactory(village=village)) for _ in range(count)]


@pytest.mark.django_db
class TestEnrollmentListApi:
    def test_a_clerk_lists_her_townships_enrollments_with_masked_ids(
        self, api, cast, person_in_a, person_in_b
    ):
        mine = make_enrollment(person_in_a)
        make_enrollment(person_in_b)
        response = api.as_user(cast.maker_ann).get("/api/enrollments/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [mine.pk]
        assert rows[0]["scheme"] == "resident_pension" and rows[0]["status"] == "active"
        assert "*" in rows[0]["person"]["id_number_masked"]

    def test_filters_by_person_scheme_and_status(self, api, cast, person_in_a):
        make_enrollment(person_in_a, status=X)
        open_one = make_enrollment(person_in_a)
        client = api.as_user(cast.auditor_gus)
        rows = client.get("/api/enrollments/", {"person": person_in_a.pk, "status": "active"}).json()[
            "results"
        ]
        assert [row["id"] for row in rows] == [open_one.pk]
        assert client.get("/api/enrollments/", {"scheme": "employee_pension"}).json()["results"] == []

    def test_a_role_without_the_permission_is_403(self, api, cast):
        assert api.as_user(cast.leader_hua).get("/api/enrollments/").status_code == 403

    def test_the_number_of_queries_does_not_grow_with_the_page(self, api, cast, django_assert_num_queries):
        make_people_enrolled(2, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):  # permissions (2) + township ids + the page, person joined
            client.get("/api/enrollments/")
        make_people_enrolled(18, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):
            response = client.get("/api/enrollments/")
        assert len(response.json()["results"]) == 20


@pytest.mark.django_db
class TestEnrollmentEnrollApi:
    def payload(self, person, **change):
        return {"person_id": person.pk, "scheme": "resident_pension", "start_date": "2025-06-01", **change}

    def test_a_clerk_enrols(self, api, cast, person_in_a):
        response = api.as_user(cast.maker_ann).post(
            "/api/enrollments/", self.payload(person_in_a), format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "active"
        assert response.json()["enrolled_by"] == "maker_ann"

    def test_a_section_chief_is_403(self, api, cast, person_in_a):
        response = api.as_user(cast.checker_ben).post(
            "/api/enrollments/", self.payload(person_in_a), format="json"
        )
        assert response.status_code == 403

    def test_another_townships_person_is_404(self, api, cast, person_in_b):
        response = api.as_user(cast.maker_ann).post(
            "/api/enrollments/", self.payload(person_in_b), format="json"
        )
        assert response.status_code == 404
        assert not Enrollment.objects.exists()

    def test_a_conflict_is_409_naming_the_rule_and_the_enrollment(self, api, cast, person_in_a):
        employee = make_enrollment(person_in_a, scheme=Scheme.EMPLOYEE_PENSION)
        response = api.as_user(cast.maker_ann).post(
            "/api/enrollments/", self.payload(person_in_a), format="json"
        )
        assert response.status_code == 409
        body = response.json()
        assert body["rule"] == "resident_pension_excluded_by_employment_pension"
        assert body["enrollment_ids"] == [employee.pk]

    def test_under_16_is_400_naming_the_rule(self, api, cast, turning_16):
        response = api.as_user(cast.maker_ann).post(
            "/api/enrollments/", self.payload(turning_16), format="json"
        )
        assert response.status_code == 400
        assert (response.json()["field"], response.json()["rule"]) == (
            "start_date",
            "resident_pension_min_age",
        )

    def test_the_number_of_queries_does_not_grow_with_the_enrollments(
        self, api, cast, person_in_a, django_assert_num_queries
    ):
        make_people_enrolled(3, cast.village_a)
        # permissions (2) + savepoint, township ids, the locked person with township, the minimum-age
        # parameter, open enrollments in the scheme and in the employment pensions, insert, the
        # account's get-or-create (select, savepoint, insert, release), release: 14 whatever the
        # county holds
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(14):
            response = client.post("/api/enrollments/", self.payload(person_in_a), format="json")
        assert response.status_code == 201
        other = PersonFactory(village=cast.village_a)
        make_people_enrolled(20, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(14):
            client.post("/api/enrollments/", self.payload(other), format="json")


@pytest.mark.django_db
class TestEnrollmentDetailApi:
    def test_a_clerk_reads_one(self, api, cast, person_in_a):
        enrollment = make_enrollment(person_in_a)
        response = api.as_user(cast.maker_ann).get(f"/api/enrollments/{enrollment.pk}/")
        assert response.status_code == 200
        assert response.json()["id"] == enrollment.pk

    def test_wrong_role_is_403(self, api, cast, person_in_a):
        enrollment = make_enrollment(person_in_a)
        assert api.as_user(cast.leader_hua).get(f"/api/enrollments/{enrollment.pk}/").status_code == 403

    def test_another_townships_enrollment_is_404_like_a_missing_one(self, api, cast, person_in_b):
        enrollment = make_enrollment(person_in_b)
        other = api.as_user(cast.maker_ann).get(f"/api/enrollments/{enrollment.pk}/")
        missing = api.as_user(cast.maker_ann).get(f"/api/enrollments/{enrollment.pk + 999}/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries(self, api, cast, person_in_a, django_assert_num_queries):
        enrollment = make_enrollment(person_in_a)
        make_people_enrolled(10, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):  # permissions (2) + township ids + the enrollment, joined
            assert client.get(f"/api/enrollments/{enrollment.pk}/").status_code == 200


@pytest.mark.django_db
class TestEnrollmentStepApis:
    @pytest.mark.parametrize(
        ("step", "start", "actor", "payload", "after"),
        [
            ("suspend", A, "maker_ann", {}, "suspended_contrib"),
            ("resume", S, "maker_ann", {}, "active"),
            ("terminate", A, "checker_ben", {"reason": "dual_scheme", "on": "2025-05-31"}, "terminated"),
        ],
    )
    def test_the_step_is_taken(self, api, cast, person_in_a, step, start, actor, payload, after):
        enrollment = make_enrollment(person_in_a, status=start)
        response = api.as_user(getattr(cast, actor)).post(
            f"/api/enrollments/{enrollment.pk}/{step}/", payload, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == after

    @pytest.mark.parametrize(
        ("step", "actor"), [("suspend", "checker_ben"), ("resume", "auditor_gus"), ("terminate", "maker_ann")]
    )
    def test_wrong_role_is_403(self, api, cast, person_in_a, step, actor):
        enrollment = make_enrollment(person_in_a, status=S if step == "resume" else A)
        response = api.as_user(getattr(cast, actor)).post(
            f"/api/enrollments/{enrollment.pk}/{step}/", {"reason": "death"}, format="json"
        )
        assert response.status_code == 403

    @pytest.mark.parametrize("step", ["suspend", "resume", "terminate"])
    def test_another_townships_enrollment_is_404(self, api, cast, person_in_b, clerk_and_chief_lee, step):
        enrollment = make_enrollment(person_in_b, status=S if step == "resume" else A)
        response = api.as_user(clerk_and_chief_lee).post(
            f"/api/enrollments/{enrollment.pk}/{step}/", {"reason": "death"}, format="json"
        )
        assert response.status_code == 404
        enrollment.refresh_from_db()
        assert enrollment.status == (S if step == "resume" else A)

    @pytest.mark.parametrize("step", ["suspend", "resume", "terminate"])
    def test_a_wrong_state_is_409_naming_the_enrollment(
        self, api, cast, person_in_a, clerk_and_chief_lee, step
    ):
        enrollment = make_enrollment(person_in_a, status=T, end_date=dt.date(2024, 1, 1))
        response = api.as_user(clerk_and_chief_lee).post(
            f"/api/enrollments/{enrollment.pk}/{step}/", {"reason": "death"}, format="json"
        )
        assert response.status_code == 409
        body = response.json()
        assert (body["enrollment_ids"], body["status"], body["step"]) == (
            [enrollment.pk],
            "transferred_out",
            step,
        )

    def test_constant_queries(self, api, cast, person_in_a, django_assert_num_queries):
        enrollment = make_enrollment(person_in_a)
        make_people_enrolled(10, cast.village_a)
        client = fresh(api, cast.maker_ann)
        # permissions (2) + savepoint, township ids, the locked enrollment, update (its trigger writes
        # the history row), release, the answer
        with django_assert_num_queries(8):
            response = client.post(f"/api/enrollments/{enrollment.pk}/suspend/")
        assert response.status_code == 200
