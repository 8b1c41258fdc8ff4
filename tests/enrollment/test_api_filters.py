"""django-filter filters of the registry's list endpoints (issue 3, "API"): each filter narrows the
scoped list and never widens it; a bad value is 400 naming the filter.

DOMAIN §1.2 (a back-paid period), §8.1 (ContributionRecord, Enrollment and its employer), §8.2
(open and closed enrollments).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enrollment.choices import EnrollmentStatus, Payer, PeriodKind, Relationship, Scheme, TerminationReason
from enrollment.models import ContributionRecord, Enrollment
from tests.enrollment.factories import OrganizationFactory
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db


def enrollment(person, by, scheme=Scheme.RESIDENT_PENSION, status=EnrollmentStatus.ACTIVE, **fields):
    if status == EnrollmentStatus.TERMINATED:
        fields.setdefault("termination_reason", TerminationReason.DEATH)
    return Enrollment.objects.create(
        person=person,
        scheme=scheme,
        status=status,
        pooling_area="360121",
        start_date=fields.pop("start_date", dt.date(2015, 1, 1)),
        enrolled_by=by,
        **fields,
    )


def month(enrollment_, year: int, month_: int, *, backpay: bool = False, payer=Payer.EMPLOYER):
    return ContributionRecord.objects.create(
        enrollment=enrollment_,
        period_kind=PeriodKind.MONTH,
        period_start=dt.date(year, month_, 1),
        base=Decimal("4000"),
        personal_amount=Decimal("320"),
        payer=payer,
        is_backpay=backpay,
        paid_on=dt.date(year + (1 if backpay else 0), month_, 15),
        recorded_by=enrollment_.enrolled_by,
    )


def ids(client, url: str, **query) -> list[int]:
    response = client.get(url, query)
    assert response.status_code == 200, response.json()
    return sorted(row["id"] for row in response.json()["results"])


def test_enrollments_filter_by_open_employer_township_and_start(api, cast, person_in_a, person_in_b):
    employer = OrganizationFactory(township=cast.township_a)
    employee = enrollment(
        person_in_a,
        cast.maker_ann,
        Scheme.EMPLOYEE_PENSION,
        organization=employer,
        start_date=dt.date(2010, 3, 1),
    )
    closed = enrollment(person_in_a, cast.maker_ann, Scheme.RESIDENT_PENSION, EnrollmentStatus.TERMINATED)
    in_b = enrollment(person_in_b, cast.outsider_eve, Scheme.RESIDENT_PENSION)
    client = api.as_user(cast.auditor_gus)
    url = "/api/enrollments/"

    assert ids(client, url, open="true") == sorted([employee.pk, in_b.pk])
    assert ids(client, url, open="false") == [closed.pk]
    assert ids(client, url, organization=employer.pk) == [employee.pk]
    assert ids(client, url, township=cast.township_b.code) == [in_b.pk]
    assert ids(client, url, started_to="2012-12-31") == [employee.pk]
    assert ids(client, url, started_from="2015-01-01", scheme="resident_pension") == sorted(
        [closed.pk, in_b.pk]
    )
    # A filter narrows the clerk's own townships; it never shows another township's rows.
    assert ids(api.as_user(cast.maker_ann), url, township=cast.township_b.code) == []


def test_contributions_filter_by_scheme_township_backpay_and_payer(api, cast, person_in_a, person_in_b):
    employee = enrollment(person_in_a, cast.maker_ann, Scheme.EMPLOYEE_PENSION)
    unemployment = enrollment(person_in_a, cast.maker_ann, Scheme.UNEMPLOYMENT)
    in_time = month(employee, 2024, 1)
    backpaid = month(employee, 2024, 2, backpay=True)
    other_scheme = month(unemployment, 2024, 1, payer=Payer.PERSON)
    in_b = month(enrollment(person_in_b, cast.outsider_eve, Scheme.EMPLOYEE_PENSION), 2024, 1)
    client = api.as_user(cast.auditor_gus)
    url = "/api/contributions/"

    assert ids(client, url, scheme="employee_pension") == sorted([in_time.pk, backpaid.pk, in_b.pk])
    assert ids(client, url, township=cast.township_a.code) == sorted(
        [in_time.pk, backpaid.pk, other_scheme.pk]
    )
    assert ids(client, url, is_backpay="true") == [backpaid.pk]
    assert ids(client, url, payer="person") == [other_scheme.pk]
    assert ids(api.as_user(cast.maker_ann), url, township=cast.township_b.code) == []


def test_persons_filter_by_village_and_household(api, cast):
    household = HouseholdFactory(village=cast.village_a)
    head = PersonFactory(village=cast.village_a, household=household, relationship=Relationship.HEAD)
    PersonFactory(village=cast.village_a)
    in_b = PersonFactory(village=cast.village_b)
    client = api.as_user(cast.auditor_gus)
    assert ids(client, "/api/persons/", household=household.pk) == [head.pk]
    assert ids(client, "/api/persons/", village=cast.village_b.code) == [in_b.pk]


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/enrollments/", {"scheme": "pension"}, "scheme"),
        ("/api/enrollments/", {"started_from": "not a date"}, "started_from"),
        ("/api/contributions/", {"payer": "uncle"}, "payer"),
        ("/api/contributions/", {"scheme": "x"}, "scheme"),
    ],
)
def test_a_bad_filter_value_is_400_naming_it(api, cast, url, query, field):
    response = api.as_user(cast.maker_ann).get(url, query)
    assert response.status_code == 400
    assert field in response.json()["fields"]
