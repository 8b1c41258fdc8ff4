"""Resident-pension payees for the entitlement and roster-generation tests, made through the services.

`pensioner()` registers a person with a bank account, an open resident-pension enrollment, one
contribution record per year and a personal account; `paying()` takes them through apply
(maker_ann) → review → approve (checker_ben), which starts paying when the start month has come.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from benefits import services
from benefits.choices import BenefitProgramme
from enrollment.choices import EnrollmentStatus, Payer, PeriodKind, Scheme
from enrollment.models import ContributionRecord, Enrollment, PersonalAccount
from tests.factories import PersonFactory

COUNTY = "360121"
MAY_2025 = dt.date(2025, 5, 1)
_accounts = iter(range(1, 10_000_000))


def pensioner(
    cast,
    *,
    village=None,
    birth_date: dt.date = dt.date(1964, 3, 15),
    years: int = 15,
    balance: str = "3000.00",
):
    """A person of the resident pension with `years` contribution years and `balance` in the account."""
    by = cast.maker_ann
    person = PersonFactory(
        village=village or cast.village_a,
        birth_date=birth_date,
        bank_account_number=f"6217{next(_accounts):015d}",
        bank_name="农商银行",
    )
    enrollment = Enrollment.objects.create(
        person=person,
        scheme=Scheme.RESIDENT_PENSION,
        status=EnrollmentStatus.ACTIVE,
        pooling_area=COUNTY,
        start_date=dt.date(2000, 1, 1),
        enrolled_by=by,
    )
    ContributionRecord.objects.bulk_create(
        ContributionRecord(
            enrollment=enrollment,
            period_kind=PeriodKind.YEAR,
            period_start=dt.date(2000 + year, 1, 1),
            grade=Decimal(200),
            personal_amount=Decimal(200),
            payer=Payer.PERSON,
            paid_on=dt.date(2000 + year, 3, 1),
            recorded_by=by,
        )
        for year in range(years)
    )
    PersonalAccount.objects.create(person=person, scheme=Scheme.RESIDENT_PENSION, personal=Decimal(balance))
    return person


def paying(cast, person, *, start_month: dt.date = MAY_2025, chief=None):
    """Apply, review and approve: a PAYING resident-pension entitlement from `start_month`.

    Township B's payees need a section chief of Township B (`chief`).
    """
    applicant = cast.maker_ann if person.township_id == cast.township_a.pk else cast.outsider_eve
    entitlement = services.entitlement_apply(
        person_id=person.pk,
        programme=BenefitProgramme.RESIDENT_PENSION,
        start_month=start_month,
        by=applicant,
    )
    chief = chief or cast.checker_ben
    services.entitlement_review(entitlement_id=entitlement.pk, by=chief)
    return services.entitlement_approve(entitlement_id=entitlement.pk, by=chief)
