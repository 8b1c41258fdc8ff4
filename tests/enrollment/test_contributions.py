"""Contribution records and personal accounts (issue 3).

DOMAIN §1.2 (grades, the government subsidy by grade, no subsidy for back-paid years, the
grade lock), §1.6 Art 7 (same-year overlap), §2.2 (employee months on a base), §8.1
ContributionRecord / PersonalAccount, worked examples E2, E5, E6 and E8. The subsidy comes
from the seeded national parameters (socialsec.core.parameter_seed), so these tests use the
default non-transactional database, which keeps the seeded rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from enrollment import selectors, services
from enrollment.choices import EnrollmentStatus, Payer, PeriodKind, Scheme, TerminationReason
from enrollment.models import ContributionRecord, Enrollment, PersonalAccount
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from socialsec.core.models import PolicyParameter, User
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english_messages")


SUBSIDY_KEYS = [
    "resident_pension.contribution_grades",
    "resident_pension.contribution_subsidy.minimum",
    "resident_pension.contribution_subsidy.higher_grade_threshold",
    "resident_pension.contribution_subsidy.higher_grade_minimum",
]


def make_enrollment(person, scheme=Scheme.RESIDENT_PENSION, status=EnrollmentStatus.ACTIVE, **fields):
    """A row in any state, with its personal account as enrollment_enroll opens it."""
    if status == EnrollmentStatus.TERMINATED:
        fields.setdefault("termination_reason", TerminationReason.DEATH)
    enrollment = Enrollment.objects.create(
        person=person,
        scheme=scheme,
        status=status,
        pooling_area=person.township.code[:6],
        start_date=fields.pop("start_date", dt.date(2010, 1, 1)),
        enrolled_by=UserFactory(),
        **fields,
    )
    PersonalAccount.objects.get_or_create(person=person, scheme=scheme)
    return enrollment


def pay_year(cast, enrollment, year, grade="500", paid_on=None, **kwargs):
    """A year paid in time (during the year) unless paid_on says otherwise."""
    return services.contribution_record(
        enrollment_id=enrollment.pk,
        period_start=dt.date(year, 1, 1),
        grade=Decimal(grade),
        paid_on=paid_on or dt.date(year, 3, 15),
        by=kwargs.pop("by", cast.maker_ann),
        **kwargs,
    )


def account_of(person, scheme=Scheme.RESIDENT_PENSION):
    return PersonalAccount.objects.get(person=person, scheme=scheme)


@pytest.fixture
def resident_in_a(cast, person_in_a):
    return make_enrollment(person_in_a)


@pytest.fixture
def resident_in_b(cast, person_in_b):
    return make_enrollment(person_in_b)


# --- DOMAIN §1.2: the government subsidy for the grade, from the parameters ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("grade", "subsidy"),
    [("100", "30"), ("400", "30"), ("500", "60"), ("2000", "60")],
)
def test_s1_2_the_subsidy_is_30_for_low_grades_and_60_from_grade_500(cast, resident_in_a, grade, subsidy):
    record = pay_year(cast, resident_in_a, 2024, grade=grade)
    assert (record.personal_amount, record.government_subsidy) == (Decimal(grade), Decimal(subsidy))
    assert (record.period_kind, record.is_backpay, record.payer) == (PeriodKind.YEAR, False, Payer.PERSON)


@pytest.mark.django_db
def test_the_subsidy_parameter_rows_are_stored_on_the_record(cast, resident_in_a):
    record = pay_year(cast, resident_in_a, 2024)
    assert [row["key"] for row in record.parameters_used] == SUBSIDY_KEYS
    seeded = PolicyParameter.objects.get(key="resident_pension.contribution_subsidy.higher_grade_minimum")
    used = record.parameters_used[3]
    assert (used["id"], used["region_code"], used["value"]) == (seeded.pk, "000000", "60")


@pytest.mark.django_db
def test_a_county_figure_overrides_the_national_one_and_the_trace_names_it(cast, resident_in_a):
    county_row = PolicyParameter.objects.create(
        region_code="360121",
        scheme="resident_pension",
        key="resident_pension.contribution_subsidy.higher_grade_minimum",
        kind="decimal",
        unit="yuan_per_year",
        value="80",
        effective_from=dt.date(2024, 1, 1),
        confidence="B",
    )
    record = pay_year(cast, resident_in_a, 2024)
    assert record.government_subsidy == Decimal("80")
    assert record.parameters_used[3]["id"] == county_row.pk
    # A year before the county row keeps the national figure.
    assert pay_year(cast, resident_in_a, 2023).government_subsidy == Decimal("60")


@pytest.mark.django_db
def test_a_grade_not_in_force_is_refused_listing_the_grades(cast, resident_in_a):
    with pytest.raises(InvalidInput, match="550 is not a contribution grade in force") as refused:
        pay_year(cast, resident_in_a, 2024, grade="550")
    assert refused.value.details == {"field": "grade", "rule": "resident_pension_grades"}
    assert not ContributionRecord.objects.exists()


@pytest.mark.django_db
def test_any_day_of_the_year_records_the_year(cast, resident_in_a):
    record = services.contribution_record(
        enrollment_id=resident_in_a.pk,
        period_start=dt.date(2024, 7, 9),
        grade=Decimal("300"),
        paid_on=dt.date(2024, 7, 9),
        by=cast.maker_ann,
    )
    assert record.period_start == dt.date(2024, 1, 1)


# --- DOMAIN §1.2 "Late back-payment": no subsidy -----------------------------------------------------


@pytest.mark.django_db
def test_s1_2_a_year_paid_after_it_ended_is_back_paid_and_gets_no_subsidy(cast, resident_in_a):
    record = pay_year(cast, resident_in_a, 2022, grade="500", paid_on=dt.date(2023, 2, 1))
    assert (record.is_backpay, record.government_subsidy, record.personal_amount) == (
        True,
        Decimal("0"),
        Decimal("500"),
    )
    account = account_of(resident_in_a.person)
    assert (account.personal, account.government_subsidy) == (Decimal("500"), Decimal("0"))


@pytest.mark.django_db
def test_the_database_refuses_a_subsidy_on_a_back_paid_year(cast, resident_in_a):
    record = pay_year(cast, resident_in_a, 2024)
    with pytest.raises(IntegrityError, match="contribution_backpay_without_subsidy"), transaction.atomic():
        ContributionRecord.objects.filter(pk=record.pk).update(is_backpay=True)


# --- DOMAIN §1.2 "Grade lock" ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_s1_2_a_paid_year_cannot_be_paid_again_at_another_grade(cast, resident_in_a):
    first = pay_year(cast, resident_in_a, 2024, grade="500")
    with pytest.raises(InvalidState, match="already paid") as refused:
        pay_year(cast, resident_in_a, 2024, grade="1000")
    assert refused.value.details == {
        "rule": "contribution_period_locked",
        "contribution_ids": [first.pk],
        "grade": "500.00",
    }
    assert account_of(resident_in_a.person).personal == Decimal("500")


@pytest.mark.django_db
def test_s1_2_the_database_refuses_changing_a_paid_years_grade_whatever_the_door(cast, resident_in_a):
    record = pay_year(cast, resident_in_a, 2024, grade="500")
    with pytest.raises(DatabaseError, match="contribution_record_period_locked"), transaction.atomic():
        ContributionRecord.objects.filter(pk=record.pk).update(grade=Decimal("1000"))
    record.refresh_from_db()
    assert record.grade == Decimal("500")


@pytest.mark.django_db
def test_the_database_refuses_a_second_record_of_the_same_period(cast, resident_in_a):
    record = pay_year(cast, resident_in_a, 2024)
    duplicate = ContributionRecord(
        enrollment=resident_in_a,
        period_kind=PeriodKind.YEAR,
        period_start=record.period_start,
        grade=Decimal("100"),
        personal_amount=Decimal("100"),
        payer=Payer.PERSON,
        paid_on=dt.date(2024, 5, 1),
        recorded_by=cast.maker_ann,
    )
    with pytest.raises(IntegrityError, match="contribution_one_per_period"), transaction.atomic():
        duplicate.save()


# --- The worked examples ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_e5_grade_500_for_15_years_builds_an_account_of_8400(cast, resident_in_a):
    # Fifteen years from 2014, when the seeded national grades came into force, each paid in time.
    for year in range(2014, 2029):
        pay_year(cast, resident_in_a, year, grade="500")
    account = account_of(resident_in_a.person)
    # Principal (500 + 60) × 15 = 8,400, its parts kept apart (DOMAIN §8.1).
    assert (account.personal, account.government_subsidy, account.collective, account.proxy_payment) == (
        Decimal("7500"),
        Decimal("900"),
        Decimal("0"),
        Decimal("0"),
    )
    assert account.balance == Decimal("8400")
    [summary] = selectors.personal_account_for(person_id=resident_in_a.person_id, user=cast.maker_ann)
    assert summary.contribution_years == 15
    # The monthly account pension (8400 / 139 = 60.43) is the benefits issue's (issue 4).


@pytest.mark.django_db
def test_e6_back_paid_years_reach_15_years_without_subsidy(cast, person_in_a):
    # 12 years paid in time (2017–2028), then at 60 back-pays 2014–2016 in 2029 (seeded grades from 2014).
    # Only the contribution part of E6 is here: eligibility once 15 years are reached is issue 4's.
    enrollment = make_enrollment(person_in_a)
    for year in range(2017, 2029):
        pay_year(cast, enrollment, year, grade="300")
    back_paid = [
        pay_year(cast, enrollment, year, grade="300", paid_on=dt.date(2029, 4, 1))
        for year in (2014, 2015, 2016)
    ]
    assert all(record.is_backpay and record.government_subsidy == 0 for record in back_paid)
    account = account_of(person_in_a)
    assert (account.personal, account.government_subsidy) == (Decimal("4500"), Decimal("360"))
    [summary] = selectors.personal_account_for(person_id=person_in_a.pk, user=cast.maker_ann)
    assert summary.contribution_years == 15


@pytest.mark.django_db
def test_e2_a_proxy_paid_minimum_grade_adds_100_plus_the_30_subsidy(cast, person_in_a):
    enrollment = make_enrollment(person_in_a)
    record = pay_year(
        cast,
        enrollment,
        2024,
        grade="100",
        proxy_payment_amount=Decimal("100"),
        proxy_payment_source="县财政",
        payer=Payer.GOVERNMENT,
    )
    assert (record.personal_amount, record.proxy_payment_amount, record.government_subsidy) == (
        Decimal("0"),
        Decimal("100"),
        Decimal("30"),
    )
    account = account_of(person_in_a)
    assert (account.proxy_payment, account.government_subsidy, account.balance) == (
        Decimal("100"),
        Decimal("30"),
        Decimal("130"),
    )


@pytest.mark.django_db
def test_e8_a_year_paid_to_both_schemes_refunds_250_of_a_grade_300(cast, person_in_a):
    resident = make_enrollment(person_in_a, start_date=dt.date(2015, 1, 1))
    pay_year(cast, resident, 2023, grade="300", paid_on=dt.date(2023, 1, 20))
    employee = make_enrollment(person_in_a, scheme=Scheme.EMPLOYEE_PENSION, start_date=dt.date(2023, 3, 1))
    for month in range(3, 13):  # March to December: both records are accepted (§1.6 Art 7)
        services.contribution_record(
            enrollment_id=employee.pk,
            period_start=dt.date(2023, month, 1),
            base=Decimal("4000"),
            personal_amount=Decimal("320"),
            payer=Payer.EMPLOYER,
            paid_on=dt.date(2023, month, 15),
            by=cast.maker_ann,
        )
    overlap = selectors.same_year_overlap(person_id=person_in_a.pk, year=2023, user=cast.maker_ann)
    assert overlap is not None
    # 300 × 10/12 = 250, no collective subsidy here (pro-rating by month is unconfirmed).
    assert (overlap.overlapping_months, overlap.refund) == (10, Decimal("250.00"))
    assert selectors.same_year_overlap(person_id=person_in_a.pk, year=2022, user=cast.maker_ann) is None


# --- Employee schemes: a month on a base (DOMAIN §2.2) ----------------------------------------------------


@pytest.mark.django_db
def test_an_employee_month_credits_the_personal_part_to_the_employee_account(cast, person_in_a):
    enrollment = make_enrollment(person_in_a, scheme=Scheme.EMPLOYEE_PENSION)
    record = services.contribution_record(
        enrollment_id=enrollment.pk,
        period_start=dt.date(2024, 5, 20),
        base=Decimal("5000"),
        personal_amount=Decimal("400"),
        payer=Payer.EMPLOYER,
        paid_on=dt.date(2024, 6, 10),
        by=cast.maker_ann,
    )
    assert (record.period_kind, record.period_start, record.government_subsidy) == (
        PeriodKind.MONTH,
        dt.date(2024, 5, 1),
        Decimal("0"),
    )
    assert record.parameters_used == []
    assert account_of(person_in_a, Scheme.EMPLOYEE_PENSION).personal == Decimal("400")


@pytest.mark.django_db
def test_an_employee_month_needs_a_base_and_a_personal_part_within_it(cast, person_in_a):
    enrollment = make_enrollment(person_in_a, scheme=Scheme.EMPLOYEE_PENSION)
    with pytest.raises(InvalidInput) as refused:
        services.contribution_record(
            enrollment_id=enrollment.pk,
            period_start=dt.date(2024, 5, 1),
            base=Decimal("5000"),
            personal_amount=Decimal("6000"),
            by=cast.maker_ann,
        )
    assert refused.value.details == {"field": "personal_amount"}


# --- Who and when ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [EnrollmentStatus.SUSPENDED_CONTRIB, EnrollmentStatus.RECEIVING, EnrollmentStatus.TERMINATED]
)
def test_only_a_contributing_enrollment_takes_contributions(cast, person_in_a, status):
    enrollment = make_enrollment(person_in_a, status=status)
    with pytest.raises(InvalidState) as refused:
        pay_year(cast, enrollment, 2024)
    assert refused.value.details == {"enrollment_ids": [enrollment.pk], "status": status}


@pytest.mark.django_db
def test_a_section_chief_may_not_record_contributions(cast, resident_in_a):
    with pytest.raises(NotPermitted):
        pay_year(cast, resident_in_a, 2024, by=cast.checker_ben)


@pytest.mark.django_db
def test_a_clerk_may_not_record_for_another_township(cast, resident_in_b):
    with pytest.raises(NotVisible):
        pay_year(cast, resident_in_b, 2024)


@pytest.mark.django_db
def test_a_contribution_and_its_credit_are_audited_with_who(cast, resident_in_a):
    record = pay_year(cast, resident_in_a, 2024)
    assert record.events.get().pgh_context.metadata["action"] == "contribution_record"
    assert account_of(resident_in_a.person).events.count() == 2  # opened, credited


# --- API: five cases per endpoint (STYLE §22) ---------------------------------------------------------


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


def paid_people(count: int, village, year: int = 2024) -> None:
    for _ in range(count):
        enrollment = make_enrollment(PersonFactory(village=village))
        ContributionRecord.objects.create(
            enrollment=enrollment,
            period_kind=PeriodKind.YEAR,
            period_start=dt.date(year, 1, 1),
            grade=Decimal("200"),
            personal_amount=Decimal("200"),
            government_subsidy=Decimal("30"),
            payer=Payer.PERSON,
            paid_on=dt.date(year, 2, 1),
            recorded_by=UserFactory(),
        )


@pytest.mark.django_db
class TestContributionListApi:
    def test_a_clerk_lists_her_townships_records_and_filters_by_year(
        self, api, cast, resident_in_a, resident_in_b
    ):
        mine = pay_year(cast, resident_in_a, 2024)
        pay_year(cast, resident_in_b, 2024, by=cast.outsider_eve)
        client = api.as_user(cast.maker_ann)
        rows = client.get("/api/contributions/").json()["results"]
        assert [row["id"] for row in rows] == [mine.pk]
        assert (rows[0]["grade"], rows[0]["government_subsidy"], rows[0]["scheme"]) == (
            "500.00",
            "60.00",
            "resident_pension",
        )
        assert client.get("/api/contributions/", {"year": 2023}).json()["results"] == []
        by_person = client.get("/api/contributions/", {"person": resident_in_a.person_id}).json()["results"]
        by_enrollment = client.get("/api/contributions/", {"enrollment": resident_in_a.pk}).json()["results"]
        assert [row["id"] for row in by_person] == [row["id"] for row in by_enrollment] == [mine.pk]

    def test_a_role_without_the_permission_is_403(self, api, cast):
        assert api.as_user(cast.leader_hua).get("/api/contributions/").status_code == 403

    def test_the_number_of_queries_does_not_grow_with_the_page(self, api, cast, django_assert_num_queries):
        paid_people(2, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):  # permissions (2) + township ids + the page, joined
            client.get("/api/contributions/")
        paid_people(18, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(4):
            response = client.get("/api/contributions/")
        assert len(response.json()["results"]) == 20


@pytest.mark.django_db
class TestContributionRecordApi:
    def payload(self, enrollment, **change):
        return {
            "enrollment_id": enrollment.pk,
            "period_start": "2024-01-01",
            "grade": "500",
            "paid_on": "2024-03-01",
            **change,
        }

    def test_a_clerk_records_a_year_and_gets_the_subsidy(self, api, cast, resident_in_a):
        response = api.as_user(cast.maker_ann).post(
            "/api/contributions/", self.payload(resident_in_a), format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["government_subsidy"], body["is_backpay"], len(body["parameters_used"])) == (
            "60.00",
            False,
            4,
        )

    def test_a_section_chief_is_403(self, api, cast, resident_in_a):
        response = api.as_user(cast.checker_ben).post(
            "/api/contributions/", self.payload(resident_in_a), format="json"
        )
        assert response.status_code == 403

    def test_another_townships_enrollment_is_404(self, api, cast, resident_in_b):
        response = api.as_user(cast.maker_ann).post(
            "/api/contributions/", self.payload(resident_in_b), format="json"
        )
        assert response.status_code == 404
        assert not ContributionRecord.objects.exists()

    def test_a_paid_year_is_409_naming_the_record(self, api, cast, resident_in_a):
        first = pay_year(cast, resident_in_a, 2024)
        response = api.as_user(cast.maker_ann).post(
            "/api/contributions/", self.payload(resident_in_a, grade="1000"), format="json"
        )
        assert response.status_code == 409
        assert (response.json()["contribution_ids"], response.json()["rule"]) == (
            [first.pk],
            "contribution_period_locked",
        )

    def test_a_grade_not_in_force_is_400_naming_the_field(self, api, cast, resident_in_a):
        response = api.as_user(cast.maker_ann).post(
            "/api/contributions/", self.payload(resident_in_a, grade="550"), format="json"
        )
        assert response.status_code == 400
        assert response.json()["field"] == "grade"

    def test_the_number_of_queries_does_not_grow_with_the_records(
        self, api, cast, person_in_a, resident_in_a, django_assert_num_queries
    ):
        paid_people(3, cast.village_a)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(QUERIES_TO_RECORD):
            assert (
                client.post("/api/contributions/", self.payload(resident_in_a), format="json").status_code
                == 201
            )
        paid_people(20, cast.village_a, year=2025)
        client = fresh(api, cast.maker_ann)
        with django_assert_num_queries(QUERIES_TO_RECORD):
            response = client.post(
                "/api/contributions/", self.payload(resident_in_a, period_start="2025-01-01"), format="json"
            )
        assert response.status_code == 201


# permissions (2) + savepoint, township ids, the locked enrollment, the parameters (one query), the
# period check, savepoint, insert, release, the account's set-based UPDATE, release
QUERIES_TO_RECORD = 12


@pytest.mark.django_db
class TestPersonAccountApi:
    def test_a_clerk_reads_the_account_with_its_parts(self, api, cast, resident_in_a):
        pay_year(cast, resident_in_a, 2024, grade="500")
        response = api.as_user(cast.maker_ann).get(f"/api/persons/{resident_in_a.person_id}/account/")
        assert response.status_code == 200
        assert response.json() == [
            {
                "scheme": "resident_pension",
                "personal": "500.00",
                "collective": "0.00",
                "government_subsidy": "60.00",
                "proxy_payment": "0.00",
                "interest": "0.00",
                "balance": "560.00",
                "contribution_years": "1.00",
            }
        ]

    def test_wrong_role_is_403(self, api, cast, resident_in_a):
        assert (
            api.as_user(cast.leader_hua).get(f"/api/persons/{resident_in_a.person_id}/account/").status_code
            == 403
        )

    def test_another_townships_person_is_404_like_a_missing_one(self, api, cast, resident_in_b):
        other = api.as_user(cast.maker_ann).get(f"/api/persons/{resident_in_b.person_id}/account/")
        missing = api.as_user(cast.maker_ann).get(f"/api/persons/{resident_in_b.person_id + 999}/account/")
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()

    def test_constant_queries(self, api, cast, resident_in_a, django_assert_num_queries):
        for year in (2022, 2023, 2024):
            pay_year(cast, resident_in_a, year)
        make_enrollment(
            resident_in_a.person, scheme=Scheme.EMPLOYEE_PENSION, status=EnrollmentStatus.TERMINATED
        )
        client = fresh(api, cast.maker_ann)
        # permissions (2) + township ids + the person + periods by scheme + the accounts
        with django_assert_num_queries(6):
            assert client.get(f"/api/persons/{resident_in_a.person_id}/account/").status_code == 200
