"""DOMAIN rules of issue 4 that the monthly sweep's statements carry and no other test reaches.

- §5.4 DEATH, E9: the overpaid amount is the sum of *payments* after the death month: a month
  whose line the bank refused, or whose roster was never released, paid nothing.
- §3.4, §5.4 UI_AND_PENSION, E14: a basic pension begun before the unemployment benefit's first
  month stops the benefit from that first month (the benefit never runs beside a pension), and the
  stop reason says so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from benefits import services, sweep_services
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus, StopReason
from benefits.models import PayoutLine
from benefits.sweeps import SweepRun, SweepStep, WorkItem, WorkItemKind
from enrollment.models import Person
from socialsec.rosters.choices import BankResult, RosterStatus
from tests.benefits.entitlement_factories import (
    COUNTY,
    local_unemployment_figures,
    paying,
    pensioner,
    review_and_approve,
    unemployment_apply,
    unemployment_insured,
)
from tests.rosters.factories import advance, settle

RP = BenefitProgramme.RESIDENT_PENSION
UB = BenefitProgramme.UNEMPLOYMENT_BENEFIT


def sweep(month: dt.date) -> SweepRun:
    return sweep_services.sweep_run(sweep_services.sweep_start(month=month, by=None, schedule=False).pk)


def township_roster(cast, programme: str, month: dt.date):
    return services.roster_generate(
        programme=programme, month=month, township_id=cast.township_a.pk, by=cast.maker_ann
    )


def test_e9_months_the_bank_refused_or_never_released_are_not_counted_as_paid_after_death(cast):
    """DOMAIN §5.4 DEATH, E9: died 2025-03-10 (death month payable) → stopped from April. April was
    paid; May's roster stopped at CHECKED (never released); June's line failed at the bank. Only
    April is overpaid, with April's net as the sum."""
    person = pensioner(cast)
    entitlement = paying(cast, person, start_month=dt.date(2025, 1, 1))
    nets = {}
    for month in range(1, 7):
        period = dt.date(2025, month, 1)
        roster = township_roster(cast, RP, period)
        nets[period] = PayoutLine.objects.get(roster=roster, person=person).net
        if month == 5:
            advance(roster, cast, RosterStatus.CHECKED)
            continue
        settle(advance(roster, cast, RosterStatus.PAYING), cast, failed=1 if month == 6 else 0)
    assert PayoutLine.objects.get(person=person, period=dt.date(2025, 6, 1)).bank_status == BankResult.FAILED
    Person.objects.filter(pk=person.pk).update(death_date=dt.date(2025, 3, 10))

    run = sweep(dt.date(2025, 7, 1))

    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_month, entitlement.stop_reason) == (
        EntitlementStatus.STOPPED,
        dt.date(2025, 4, 1),
        StopReason.DEATH,
    )
    item = WorkItem.objects.get(kind=WorkItemKind.DEATH_OVERPAID)
    assert (item.entitlement_id, item.overpaid_months) == (entitlement.pk, [dt.date(2025, 4, 1)])
    assert item.overpaid_amount == nets[dt.date(2025, 4, 1)] > Decimal(0)
    assert run.counts[SweepStep.OVERPAID] == 1


def test_e14_a_pension_begun_before_the_benefit_stops_it_from_the_benefits_own_first_month(cast):
    """DOMAIN §3.4 (stop on a basic pension), §5.4 UI_AND_PENSION, E14: the province's list brings,
    after the benefit was granted from January 2025, an employee pension paid since October 2024.
    The sweep stops the benefit from January 2025, its own first month (never before it), for the
    pension start, not for its months running out."""
    local_unemployment_figures()
    person = unemployment_insured(cast, months=7 * 12)  # laid off and registered (E11)
    entitlement = review_and_approve(cast, unemployment_apply(cast, person))
    assert entitlement.duration_months == 18  # far from running out by May 2025
    BenefitEntitlement.objects.create(
        person=person,
        programme=BenefitProgramme.EMPLOYEE_PENSION,
        status=EntitlementStatus.PAYING,
        region=COUNTY,
        basic=Decimal(2100),
        start_month=dt.date(2024, 10, 1),
    )

    run = sweep(dt.date(2025, 5, 1))

    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_month, entitlement.stop_reason) == (
        EntitlementStatus.STOPPED,
        dt.date(2025, 1, 1),
        StopReason.PENSION_START,
    )
    assert run.counts[SweepStep.UNEMPLOYMENT_STOP] == 1
    assert not PayoutLine.objects.filter(person=person, programme=UB).exists()
