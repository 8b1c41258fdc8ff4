"""Unemployment benefit as an entitlement (issue 4 "Benefits"; DOMAIN §3.1–3.4, E11–E15): the clerk
applies through the service (or the API), the three conditions refuse with their rules, the
duration and amount come from the parameters, rosters pay only the months granted, and the monthly
sweep stops the benefit when the months run out or a basic pension starts (E14).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from benefits import services, sweep_services
from benefits.calculations import unemployment_benefit_amount
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus, StopReason
from benefits.models import PayoutLine
from socialsec.core.exceptions import InvalidInput, InvalidState
from tests.benefits.entitlement_factories import (
    local_unemployment_figures,
    review_and_approve,
    unemployment_apply,
    unemployment_insured,
)
from tests.benefits.test_calculations_parameters import set_parameter
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

UB = BenefitProgramme.UNEMPLOYMENT_BENEFIT
COUNTY = "360121"
JAN_2025 = dt.date(2025, 1, 1)


@pytest.fixture(autouse=True)
def nanchang_wages():
    local_unemployment_figures()


def test_e11_seven_years_laid_off_and_registered_get_18_months_at_the_regions_amount(cast):
    """DOMAIN §3.1 (all three conditions met), §3.2 (7 years: 18 months, national table), §3.3 (90% of
    the minimum wage, not below the urban 低保 standard), E11."""
    entitlement = unemployment_apply(cast, unemployment_insured(cast, months=7 * 12))

    expected = unemployment_benefit_amount(region=COUNTY, month=JAN_2025)
    assert (entitlement.status, entitlement.duration_months) == (EntitlementStatus.APPLIED, 18)
    # §3.3: 90% of the minimum wage (1,665), not below the urban 低保 standard (900).
    assert entitlement.basic == expected.amount == Decimal("1665.00")
    assert entitlement.snapshot["duration"]["result"]["months"] == 18
    assert {"eligibility", "duration", "amount"} <= set(entitlement.snapshot)


@pytest.mark.parametrize(
    ("months", "involuntary", "registered", "rule"),
    [
        (11, True, True, "unemployment_benefit.minimum_contribution"),  # E12
        (7 * 12, False, True, "unemployment_benefit.involuntary_separation"),  # E13
        (7 * 12, True, False, "unemployment_benefit.unemployment_registration"),
    ],
)
def test_e12_e13_an_unmet_condition_is_refused_naming_its_rule(cast, months, involuntary, registered, rule):
    """DOMAIN §3.1: each of the three conditions is required; the refusal names the unmet one's rule
    (E12: under a year of contributions; E13: left voluntarily; not registered as unemployed)."""
    person = unemployment_insured(cast, months=months)
    with pytest.raises(InvalidState) as refused:
        unemployment_apply(cast, person, involuntary=involuntary, registered=registered)
    assert rule in refused.value.details["rules"]
    assert not BenefitEntitlement.objects.filter(person=person).exists()


def test_e15_months_left_of_an_earlier_claim_are_added_to_the_new_ones(cast):
    # E15: 2 new years give 12 months nationally; 8 left over → 20 (under the 24 maximum).
    entitlement = unemployment_apply(cast, unemployment_insured(cast, months=24), carried_over=8)
    assert entitlement.duration_months == 20


def test_a_person_never_insured_or_drawing_a_pension_is_refused(cast):
    stranger = PersonFactory(village=cast.village_a)
    with pytest.raises(InvalidState) as refused:
        unemployment_apply(cast, stranger)
    assert refused.value.details["rule"] == "unemployment_benefit.insured"

    pensioner = unemployment_insured(cast, months=7 * 12)
    BenefitEntitlement.objects.create(
        person=pensioner,
        programme=BenefitProgramme.EMPLOYEE_PENSION,
        status=EntitlementStatus.PAYING,
        region=COUNTY,
        basic=Decimal(2000),
        start_month=dt.date(2024, 6, 1),
    )
    with pytest.raises(InvalidState) as refused:
        unemployment_apply(cast, pensioner)
    assert refused.value.details["rule"] == "unemployment_benefit.pension_started"


def test_carried_over_months_are_never_negative(cast):
    with pytest.raises(InvalidInput):
        unemployment_apply(cast, unemployment_insured(cast, months=7 * 12), carried_over=-1)


def test_rosters_pay_the_granted_months_and_the_sweep_stops_it_when_they_run_out(cast):
    """DOMAIN §3.2, §3.4 (duration exhausted): 24 months of contributions grant 12 months from
    January 2025; December 2025 is on the roster, January 2026 is not, and the January sweep stops
    the benefit from January 2026 (duration_exhausted)."""
    person = unemployment_insured(cast, months=24)  # 12 months nationally
    entitlement = review_and_approve(cast, unemployment_apply(cast, person))
    assert entitlement.duration_months == 12

    for month, paid in ((dt.date(2025, 12, 1), True), (dt.date(2026, 1, 1), False)):
        roster = services.roster_generate(
            programme=UB, month=month, township_id=cast.township_a.pk, by=cast.maker_ann
        )
        assert PayoutLine.objects.filter(roster=roster, person=person).exists() is paid

    run = sweep_services.sweep_run(
        sweep_services.sweep_start(month=dt.date(2026, 1, 1), by=None, schedule=False).pk
    )
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_month, entitlement.stop_reason) == (
        EntitlementStatus.STOPPED,
        dt.date(2026, 1, 1),
        StopReason.DURATION_EXHAUSTED,
    )
    assert run.counts["unemployment_stop"] == 1


def test_e14_a_pension_start_stops_unemployment_benefit_from_the_pensions_first_month(cast):
    """DOMAIN §3.4, §1.6 "Unemployment and pension", §5.4 UI_AND_PENSION, E14: an employee pension
    from April 2025 stops the benefit from April; May's roster pays the pension, not the benefit."""
    person = unemployment_insured(cast, months=7 * 12)
    entitlement = review_and_approve(cast, unemployment_apply(cast, person))
    services.roster_generate(
        programme=UB, month=dt.date(2025, 3, 1), township_id=cast.township_a.pk, by=cast.maker_ann
    )
    # The province's list: an employee pension from April 2025.
    BenefitEntitlement.objects.create(
        person=person,
        programme=BenefitProgramme.EMPLOYEE_PENSION,
        status=EntitlementStatus.PAYING,
        region=COUNTY,
        basic=Decimal(2100),
        start_month=dt.date(2025, 4, 1),
    )

    sweep_services.sweep_run(
        sweep_services.sweep_start(month=dt.date(2025, 5, 1), by=None, schedule=False).pk
    )

    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_month, entitlement.stop_reason) == (
        EntitlementStatus.STOPPED,
        dt.date(2025, 4, 1),
        StopReason.PENSION_START,
    )
    # The sweep's May roster for the township pays the pension, not the benefit.
    assert not PayoutLine.objects.filter(person=person, programme=UB, period=dt.date(2025, 5, 1)).exists()


def test_the_api_takes_the_unemployment_conditions(api, cast):
    person = unemployment_insured(cast, months=7 * 12)
    api.force_authenticate(cast.maker_ann)
    answer = api.post(
        "/api/entitlements/",
        {
            "person": person.pk,
            "programme": UB,
            "start_month": "2025-01",
            "left_involuntarily": True,
            "registered_unemployed": True,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert (answer.data["programme"], answer.data["basic"]) == (UB, "1665.00")

    answer = api.post(
        "/api/entitlements/",
        {"person": unemployment_insured(cast, months=7 * 12).pk, "programme": UB, "start_month": "2025-01"},
        format="json",
    )
    assert answer.status_code == 409


# --- The temporary unemployment subsidy (DOMAIN §3.5, E12, E13) ------------------------------------

US = BenefitProgramme.UNEMPLOYMENT_SUBSIDY
JINAN_DISTRICT = "370102"  # Jinan's subsidy tiers are seeded as local rows (DOMAIN §3.5 [S29])
SEPT_2022 = dt.date(2022, 9, 1)


@pytest.fixture
def jinan_wages():
    set_parameter("general.minimum_wage.monthly", "370100", "2000", unit="yuan_per_month")
    set_parameter("minimum_living_allowance.standard.urban", "370100", "1000", unit="yuan_per_month")


def apply_subsidy(cast, person, *, involuntary=True, start=SEPT_2022):
    return services.entitlement_apply(
        person_id=person.pk,
        programme=US,
        start_month=start,
        left_involuntarily=involuntary,
        registered_unemployed=True,
        by=cast.maker_ann,
    )


@pytest.mark.usefixtures("jinan_wages")
@pytest.mark.parametrize(
    ("months", "involuntary", "amount"),
    [(11, True, Decimal("500.00")), (36, False, Decimal("800.00"))],  # E12, E13 in Jinan
)
def test_e12_e13_the_subsidy_while_a_policy_is_in_force_at_the_local_tier(cast, months, involuntary, amount):
    person = unemployment_insured(cast, months=months, pooling_area=JINAN_DISTRICT)
    entitlement = apply_subsidy(cast, person, involuntary=involuntary)
    assert (entitlement.programme, entitlement.basic, entitlement.duration_months) == (US, amount, 6)
    assert entitlement.snapshot["decision"]["result"]["eligible"] is True


@pytest.mark.usefixtures("jinan_wages")
def test_no_subsidy_outside_the_policys_dates_and_never_twice(cast):
    """DOMAIN §3.5: no subsidy for a month the temporary policy does not cover, and the subsidy is
    paid only once (a stopped one still counts as received)."""
    person = unemployment_insured(cast, months=11, pooling_area=JINAN_DISTRICT)
    with pytest.raises(InvalidState) as refused:
        apply_subsidy(cast, person, start=dt.date(2023, 6, 1))
    assert refused.value.details["rule"] == "unemployment_subsidy.not_in_force"

    first = apply_subsidy(cast, person)
    services.entitlement_review(entitlement_id=first.pk, by=cast.checker_ben)
    services.entitlement_approve(entitlement_id=first.pk, by=cast.checker_ben)
    # Stopped (the months ran out), it still counts as received: the subsidy is paid once.
    BenefitEntitlement.objects.filter(pk=first.pk).update(
        status=EntitlementStatus.STOPPED,
        stop_month=dt.date(2023, 3, 1),
        stop_reason=StopReason.DURATION_EXHAUSTED,
    )
    with pytest.raises(InvalidState) as refused:
        apply_subsidy(cast, person, start=dt.date(2022, 12, 1))
    assert "unemployment_subsidy.once_only" in refused.value.details["rules"]


def test_an_employee_pension_is_not_applied_for(cast):
    with pytest.raises(InvalidInput):
        services.entitlement_apply(
            person_id=unemployment_insured(cast, months=12).pk,
            programme=BenefitProgramme.EMPLOYEE_PENSION,
            by=cast.maker_ann,
        )


def unemployment_benefit(person, *, status: str) -> BenefitEntitlement:
    """A Jinan unemployment benefit from 2021-01 for 12 months: PAYING, or STOPPED when they ran out."""
    benefit = BenefitEntitlement.objects.create(
        person=person,
        programme=UB,
        status=EntitlementStatus.PAYING,
        region=JINAN_DISTRICT,
        basic=Decimal(1800),
        start_month=dt.date(2021, 1, 1),
        duration_months=12,
    )
    if status == EntitlementStatus.STOPPED:
        BenefitEntitlement.objects.filter(pk=benefit.pk).update(
            status=EntitlementStatus.STOPPED,
            stop_month=dt.date(2022, 1, 1),
            stop_reason=StopReason.DURATION_EXHAUSTED,
        )
    return benefit


@pytest.mark.usefixtures("jinan_wages")
def test_no_subsidy_beside_an_unemployment_benefit_being_received(cast):
    """DOMAIN §3.5 "Rules during the subsidy": the subsidy is not paid beside unemployment benefit;
    the registry's open benefit is what the service reads."""
    person = unemployment_insured(cast, months=36, pooling_area=JINAN_DISTRICT)
    unemployment_benefit(person, status=EntitlementStatus.PAYING)
    with pytest.raises(InvalidState) as refused:
        apply_subsidy(cast, person)
    assert "unemployment_subsidy.receiving_benefit" in refused.value.details["rules"]
    assert not BenefitEntitlement.objects.filter(person=person, programme=US).exists()


@pytest.mark.usefixtures("jinan_wages")
def test_a_benefit_used_up_gives_the_subsidy_of_the_exhausted_tier(cast):
    """DOMAIN §3.5 "Who": people whose unemployment benefit ran out (stopped, duration exhausted)
    and are still unemployed; Jinan pays them 500 a month, up to 6 months."""
    person = unemployment_insured(cast, months=36, pooling_area=JINAN_DISTRICT)
    unemployment_benefit(person, status=EntitlementStatus.STOPPED)
    subsidy = apply_subsidy(cast, person)  # laid off after 3 years: only the benefit used up qualifies
    assert (subsidy.basic, subsidy.duration_months) == (Decimal("500.00"), 6)
    assert subsidy.snapshot["decision"]["inputs"]["benefit_exhausted"] is True
