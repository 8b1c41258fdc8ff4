"""Resident-pension payees for the entitlement and roster-generation tests, made through the services.

`pensioner()` registers a person with a bank account, an open resident-pension enrollment, one
contribution record per year and a personal account; `paying()` takes them through apply
(maker_ann) → review → approve (checker_ben), which starts paying when the start month has come.
`unemployment_insured()` is a person with months of unemployment insurance up to December 2024,
for `unemployment_apply()` once `local_unemployment_figures()` are set.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from benefits import services
from benefits.choices import BenefitProgramme
from enrollment.choices import EnrollmentStatus, Payer, PeriodKind, Scheme
from enrollment.models import ContributionRecord, Enrollment, PersonalAccount
from tests.benefits.test_calculations_parameters import set_parameter
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


# --- Unemployment benefit (DOMAIN §3) ------------------------------------------------------------


def local_unemployment_figures() -> None:
    """The local figures DOMAIN §3.3 leaves to the province (fixtures, not policy)."""
    set_parameter("general.minimum_wage.monthly", "360100", "1850", unit="yuan_per_month")
    set_parameter("minimum_living_allowance.standard.urban", "360100", "900", unit="yuan_per_month")


def unemployment_insured(cast, *, months: int, village=None, pooling_area: str = COUNTY):
    """A person of the unemployment insurance with `months` monthly contributions up to 2024-12."""
    person = PersonFactory(village=village or cast.village_a, bank_account_number="6217000011112222333")
    enrollment = Enrollment.objects.create(
        person=person,
        scheme=Scheme.UNEMPLOYMENT,
        status=EnrollmentStatus.SUSPENDED_CONTRIB,
        pooling_area=pooling_area,
        start_date=dt.date(2010, 1, 1),
        enrolled_by=cast.maker_ann,
    )
    ContributionRecord.objects.bulk_create(
        ContributionRecord(
            enrollment=enrollment,
            period_kind=PeriodKind.MONTH,
            period_start=_months_before_2025(n),
            base=Decimal(3000),
            personal_amount=Decimal(15),
            payer=Payer.EMPLOYER,
            paid_on=dt.date(2024, 12, 20),
            recorded_by=cast.maker_ann,
        )
        for n in range(months)
    )
    return person


def _months_before_2025(n: int) -> dt.date:
    """The n-th month counted back from December 2024 (0: December 2024)."""
    year, month = divmod(2024 * 12 + 11 - n, 12)
    return dt.date(year, month + 1, 1)


def unemployment_apply(
    cast, person, *, involuntary=True, registered=True, carried_over=0, start=dt.date(2025, 1, 1)
):
    """The clerk (maker_ann) applies for the unemployment benefit (DOMAIN §3.1)."""
    return services.entitlement_apply(
        person_id=person.pk,
        programme=BenefitProgramme.UNEMPLOYMENT_BENEFIT,
        start_month=start,
        left_involuntarily=involuntary,
        registered_unemployed=registered,
        carried_over_months=carried_over,
        by=cast.maker_ann,
    )


def review_and_approve(cast, entitlement):
    """The section chief (checker_ben) reviews and approves an application."""
    services.entitlement_review(entitlement_id=entitlement.pk, by=cast.checker_ben)
    return services.entitlement_approve(entitlement_id=entitlement.pk, by=cast.checker_ben)
