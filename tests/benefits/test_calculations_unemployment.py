"""Unemployment benefit and unemployment subsidy (DOMAIN §3.1-§3.5; E11-E15).

Seeded data: the national duration table [S3 Art17], Guangdong's table and 90% [S6 Art17, Art19],
the national 90% target [S28], Jinan's subsidy amounts [S29]. Minimum wages and 低保 standards
are local and not seeded: E11 gives a minimum wage of 2,000, used here as the fixture; the 低保
standards are fixtures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from benefits.calculations import (
    StopEvent,
    StopReason,
    unemployment_benefit_amount,
    unemployment_benefit_duration,
    unemployment_benefit_eligibility,
    unemployment_benefit_stop,
    unemployment_subsidy_decision,
)
from socialsec.core.parameters import MissingParameter
from tests.benefits.test_calculations_parameters import set_parameter

pytestmark = pytest.mark.django_db

JIANGXI_COUNTY = "360121"  # the national table applies
GUANGZHOU_DISTRICT = "440183"  # 增城区: Guangdong's table and ratio, Guangzhou's minimum wage
JINAN_DISTRICT = "370102"  # 历下区: Jinan's subsidy amounts
MINIMUM_WAGE = "general.minimum_wage.monthly"
URBAN_STANDARD = "minimum_living_allowance.standard.urban"


@pytest.fixture
def guangzhou_wages():
    # DOMAIN E11: minimum wage 2,000 (the example's figure); urban 低保 standard a fixture below it.
    set_parameter(MINIMUM_WAGE, "440100", "2000", unit="yuan_per_month")
    set_parameter(URBAN_STANDARD, "440100", "1100", unit="yuan_per_month")


@pytest.fixture
def jinan_wages():
    set_parameter(MINIMUM_WAGE, "370100", "2000", unit="yuan_per_month")
    set_parameter(URBAN_STANDARD, "370100", "1000", unit="yuan_per_month")


def eligibility(months: int, *, involuntary: bool = True, registered: bool = True, region=GUANGZHOU_DISTRICT):
    return unemployment_benefit_eligibility(
        region=region,
        on=dt.date(2023, 3, 6),
        contribution_months=months,
        left_involuntarily=involuntary,
        registered_unemployed=registered,
    )


def duration(months: int, region: str, remaining: int = 0) -> int:
    return unemployment_benefit_duration(
        region=region, on=dt.date(2023, 3, 6), contribution_months=months, remaining_months=remaining
    ).months


# --- E11: granted -------------------------------------------------------------------------------


def test_e11_seven_years_laid_off_and_registered_is_eligible():
    # DOMAIN E11, §3.1 [S2 Art45, S3 Art14]: all three conditions met.
    assert eligibility(7 * 12).eligible


def test_e11_seven_years_give_18_months_nationally_and_10_in_guangdong():
    # DOMAIN E11, §3.2: national table [S3 Art17]; Guangdong 4 + (3 years ÷ 0.5) [S6 Art17].
    assert duration(7 * 12, JIANGXI_COUNTY) == 18
    assert duration(7 * 12, GUANGZHOU_DISTRICT) == 10


def test_e11_the_amount_is_90_percent_of_the_minimum_wage_1800(guangzhou_wages):
    # DOMAIN E11, §3.3 [S6 Art19]: 90% × 2,000 = 1,800, at least the urban 低保 standard.
    result = unemployment_benefit_amount(region=GUANGZHOU_DISTRICT, month=dt.date(2023, 3, 1))
    assert result.amount == Decimal("1800.00")
    used = {row["key"]: row["region_code"] for row in result.snapshot["parameters"]}
    assert used["unemployment_benefit.minimum_wage_ratio"] == "440000"
    assert used[MINIMUM_WAGE] == "440100"


def test_the_amount_is_never_below_the_urban_minimum_living_allowance_standard(guangzhou_wages):
    # DOMAIN §3.3 [S2 Art47]: not below the urban 低保 standard.
    set_parameter(URBAN_STANDARD, GUANGZHOU_DISTRICT, "1900", unit="yuan_per_month")
    result = unemployment_benefit_amount(region=GUANGZHOU_DISTRICT, month=dt.date(2023, 3, 1))
    assert (result.components["by_minimum_wage"], result.amount) == (Decimal("1800.00"), Decimal("1900.00"))


def test_a_region_without_its_minimum_wage_is_told_which_key_is_missing():
    with pytest.raises(MissingParameter) as error:
        unemployment_benefit_amount(region=GUANGZHOU_DISTRICT, month=dt.date(2023, 3, 1))
    assert error.value.details["key"] == MINIMUM_WAGE


@pytest.mark.parametrize(
    ("months", "national", "guangdong"),
    [
        # DOMAIN §3.2: the table's boundaries, national [S2 Art46, S3 Art17] and Guangdong [S6 Art17].
        (11, 0, 0),
        (12, 12, 1),
        (23, 12, 1),
        (24, 12, 2),
        (47, 12, 3),
        (48, 12, 4),
        (53, 12, 4),
        (54, 12, 5),
        (59, 12, 5),
        (60, 18, 6),
        (119, 18, 15),
        (120, 24, 16),
        (167, 24, 23),
        (168, 24, 24),
        (300, 24, 24),
    ],
)
def test_the_duration_tables_by_contribution_months(months, national, guangdong):
    assert (duration(months, JIANGXI_COUNTY), duration(months, GUANGZHOU_DISTRICT)) == (national, guangdong)


# --- E12, E13: refused; the subsidy considered ---------------------------------------------------


def test_e12_eleven_months_is_not_eligible_for_unemployment_benefit():
    # DOMAIN E12, §3.1: less than 1 year of contributions.
    decision = eligibility(11, region=JINAN_DISTRICT)
    assert decision.rules == ["unemployment_benefit.minimum_contribution"]
    assert decision.refusals[0].details == {"minimum_months": 12, "contribution_months": 11}


def test_e12_with_a_subsidy_policy_in_force_it_is_500_for_up_to_6_months_in_jinan(jinan_wages):
    # DOMAIN E12, §3.5 [S29]: Jinan 500 (contributions < 1 year), up to 6 months.
    decision = unemployment_subsidy_decision(
        region=JINAN_DISTRICT,
        month=dt.date(2022, 9, 1),
        contribution_months=11,
        left_involuntarily=True,
        registered_unemployed=True,
    )
    assert decision.eligible
    assert (decision.situation, decision.amount, decision.max_months) == (
        "short_contribution",
        Decimal("500.00"),
        6,
    )


@pytest.mark.parametrize("month", [dt.date(2019, 12, 1), dt.date(2023, 6, 1)])
def test_e12_without_a_policy_in_force_there_is_nothing(month):
    # DOMAIN E12 "Otherwise nothing"; §3.5: a temporary policy (2020; after 2022 unconfirmed).
    decision = unemployment_subsidy_decision(
        region=JINAN_DISTRICT,
        month=month,
        contribution_months=11,
        left_involuntarily=True,
        registered_unemployed=True,
    )
    assert decision.rules == ["unemployment_subsidy.not_in_force"]
    assert decision.amount == Decimal(0)


def test_a_county_whose_policy_runs_on_adds_its_own_rows(jinan_wages):
    # DOMAIN §3.5: "Model it as a TemporaryPolicy with explicit effective_from / effective_to".
    set_parameter(
        "unemployment_subsidy.in_force",
        "370100",
        True,
        kind="boolean",
        since=dt.date(2023, 1, 1),
        until=dt.date(2023, 12, 31),
    )
    decision = unemployment_subsidy_decision(
        region=JINAN_DISTRICT,
        month=dt.date(2023, 6, 1),
        contribution_months=11,
        left_involuntarily=True,
        registered_unemployed=True,
    )
    assert decision.amount == Decimal("500.00")


def test_e13_a_voluntary_resignation_is_not_eligible_for_unemployment_benefit():
    # DOMAIN E13, §3.1 condition 2 [S28]: voluntary resignation does not qualify.
    decision = eligibility(36, involuntary=False, region=JINAN_DISTRICT)
    assert decision.rules == ["unemployment_benefit.involuntary_separation"]


@pytest.mark.usefixtures("english_messages")
def test_e13_the_refusal_message_names_the_condition():
    decision = eligibility(36, involuntary=False, registered=False, region=JINAN_DISTRICT)
    with translation.override("en"):
        assert [str(refusal.message) for refusal in decision.refusals] == [
            "Unemployment benefit is for employment ended against the person's will.",
            "Unemployment benefit needs unemployment registration.",
        ]


def test_e13_under_the_2020_policy_a_voluntary_leaver_gets_the_subsidy_of_800_in_jinan(jinan_wages):
    # DOMAIN E13, §3.5 [S29]: Jinan 800 (>= 1 year of contributions, left voluntarily).
    decision = unemployment_subsidy_decision(
        region=JINAN_DISTRICT,
        month=dt.date(2022, 9, 1),
        contribution_months=36,
        left_involuntarily=False,
        registered_unemployed=True,
    )
    assert (decision.situation, decision.amount) == ("left_voluntarily", Decimal("800.00"))


def test_a_person_whose_benefit_ran_out_gets_the_subsidy(jinan_wages):
    # DOMAIN §3.5: "people whose unemployment benefit ran out and who are still unemployed".
    decision = unemployment_subsidy_decision(
        region=JINAN_DISTRICT,
        month=dt.date(2022, 9, 1),
        contribution_months=84,
        left_involuntarily=True,
        registered_unemployed=True,
        benefit_exhausted=True,
    )
    assert (decision.situation, decision.amount) == ("benefit_exhausted", Decimal("500.00"))


def test_the_subsidy_is_refused_to_who_qualifies_for_the_benefit_receives_it_or_had_it_before(jinan_wages):
    # DOMAIN §3.5: not beside unemployment benefit; paid once (Baoding rule, a parameter).
    common = {
        "region": JINAN_DISTRICT,
        "month": dt.date(2022, 9, 1),
        "registered_unemployed": True,
    }
    qualifies = unemployment_subsidy_decision(contribution_months=84, left_involuntarily=True, **common)
    assert qualifies.rules == ["unemployment_subsidy.eligible_for_benefit"]
    twice = unemployment_subsidy_decision(
        contribution_months=11,
        left_involuntarily=True,
        received_subsidy_before=True,
        receiving_unemployment_benefit=True,
        **common,
    )
    assert twice.rules == ["unemployment_subsidy.receiving_benefit", "unemployment_subsidy.once_only"]
    assert (twice.amount, twice.max_months) == (Decimal(0), 0)


def test_the_subsidy_is_capped_at_its_share_of_the_local_benefit(jinan_wages):
    # DOMAIN §3.5: "≤80% of the unemployment-benefit standard" (unconfirmed; a parameter).
    set_parameter(
        "unemployment_subsidy.amount_tiers",
        JINAN_DISTRICT,
        [
            {"situations": ["left_voluntarily"], "amount": "1600"},
            {"situations": ["short_contribution"], "min_contribution_months": 6, "ratio_of_benefit": "0.4"},
        ],
        kind="table",
    )
    common = {
        "region": JINAN_DISTRICT,
        "month": dt.date(2022, 9, 1),
        "registered_unemployed": True,
    }
    capped = unemployment_subsidy_decision(contribution_months=36, left_involuntarily=False, **common)
    assert capped.amount == Decimal("1440.00")  # 0.8 × (0.9 × 2,000)
    share = unemployment_subsidy_decision(contribution_months=8, left_involuntarily=True, **common)
    assert share.amount == Decimal("720.00")  # 0.4 × 1,800
    none = unemployment_subsidy_decision(contribution_months=5, left_involuntarily=True, **common)
    assert none.rules == ["unemployment_subsidy.no_local_amount"]


# --- E14, E15: stop and unemployed again --------------------------------------------------------


def test_e14_a_pension_starting_next_month_stops_the_benefit_from_that_month():
    # DOMAIN E14 [S2 Art51(4)]: receiving, month 5 of 12; the basic pension starts next month.
    stop = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2025, 1, 1),
        duration_months=12,
        events=[StopEvent(StopReason.PENSION_STARTED, dt.date(2025, 6, 1))],
    )
    assert (stop.stop_month, stop.reason, stop.months_paid) == (dt.date(2025, 6, 1), "pension_started", 5)


def test_e15_unemployed_again_adds_the_new_months_to_the_remainder_20():
    # DOMAIN E15 [S2 Art46]: 12 granted, 4 used; 2 new years → 12 + 8 = 20 (≤ 24).
    result = unemployment_benefit_duration(
        region=JIANGXI_COUNTY, on=dt.date(2025, 3, 1), contribution_months=24, remaining_months=12 - 4
    )
    assert (result.new_months, result.carried_over_months, result.months) == (12, 8, 20)


def test_e15_the_sum_never_exceeds_24_months():
    assert duration(10 * 12, JIANGXI_COUNTY, remaining=8) == 24
    assert duration(2 * 12, GUANGZHOU_DISTRICT, remaining=8) == 10  # Guangdong: 2 + 8


@pytest.mark.parametrize(
    ("reason", "on", "stop_month"),
    [
        # DOMAIN §3.4: the first unpaid month is the month after the event (a parameter, unconfirmed).
        (StopReason.REEMPLOYED, dt.date(2025, 3, 10), dt.date(2025, 4, 1)),
        (StopReason.CONSCRIPTED, dt.date(2025, 3, 10), dt.date(2025, 4, 1)),
        (StopReason.EMIGRATED, dt.date(2025, 3, 10), dt.date(2025, 4, 1)),
        (StopReason.IMPRISONED, dt.date(2025, 3, 10), dt.date(2025, 4, 1)),
        (StopReason.REFUSED_WORK_OR_TRAINING, dt.date(2025, 3, 10), dt.date(2025, 4, 1)),
    ],
)
def test_each_stop_condition_of_domain_3_4_stops_the_benefit(reason, on, stop_month):
    stop = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2025, 1, 1),
        duration_months=12,
        events=[StopEvent(reason, on)],
    )
    assert (stop.stop_month, stop.reason, stop.months_paid) == (stop_month, reason, 3)


def test_a_county_stopping_from_the_event_month_stops_a_month_earlier():
    set_parameter("unemployment_benefit.stop_month_rule", JIANGXI_COUNTY, "event_month", kind="text")
    stop = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2025, 1, 1),
        duration_months=12,
        events=[StopEvent(StopReason.REEMPLOYED, dt.date(2025, 3, 10))],
    )
    assert stop.stop_month == dt.date(2025, 3, 1)


def test_the_benefit_ends_when_its_months_run_out_and_the_earliest_cause_wins():
    alone = unemployment_benefit_stop(
        region=JIANGXI_COUNTY, start_month=dt.date(2025, 1, 1), duration_months=12
    )
    assert (alone.stop_month, alone.reason, alone.months_paid) == (
        dt.date(2026, 1, 1),
        "duration_exhausted",
        12,
    )
    both = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2025, 1, 1),
        duration_months=12,
        events=[
            StopEvent(StopReason.REEMPLOYED, dt.date(2025, 9, 2)),
            StopEvent(StopReason.PENSION_STARTED, dt.date(2025, 7, 1)),
        ],
        death_date=dt.date(2025, 11, 5),
    )
    assert (both.stop_month, both.reason) == (dt.date(2025, 7, 1), "pension_started")


def test_death_during_the_benefit_stops_it_by_the_death_month_rule():
    # DOMAIN §3.4 [S2 Art49] and §5.4: the death month is payable by the seeded (unconfirmed) rule.
    stop = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2025, 1, 1),
        duration_months=12,
        death_date=dt.date(2025, 3, 10),
    )
    assert (stop.stop_month, stop.reason) == (dt.date(2025, 4, 1), "died")


def test_in_guangdong_two_missed_check_ins_in_a_row_count_as_re_employment():
    # DOMAIN §3.4 [S6]: missing the check-in two months running counts as re-employment.
    missed = [dt.date(2023, 5, 1), dt.date(2023, 6, 1)]
    stop = unemployment_benefit_stop(
        region=GUANGZHOU_DISTRICT,
        start_month=dt.date(2023, 1, 1),
        duration_months=10,
        missed_checkin_months=missed,
    )
    assert (stop.stop_month, stop.reason) == (dt.date(2023, 7, 1), "missed_checkins")
    apart = unemployment_benefit_stop(
        region=GUANGZHOU_DISTRICT,
        start_month=dt.date(2023, 1, 1),
        duration_months=10,
        missed_checkin_months=[dt.date(2023, 3, 1), dt.date(2023, 5, 1)],
    )
    assert apart.reason == "duration_exhausted"
    nationally = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2023, 1, 1),
        duration_months=10,
        missed_checkin_months=missed,
    )
    assert nationally.reason == "duration_exhausted"  # no such rule outside Guangdong


def test_the_stop_snapshot_records_the_events_and_the_rule_rows():
    stop = unemployment_benefit_stop(
        region=JIANGXI_COUNTY,
        start_month=dt.date(2025, 1, 1),
        duration_months=12,
        events=[StopEvent(StopReason.PENSION_STARTED, dt.date(2025, 6, 1))],
    )
    assert stop.snapshot["inputs"]["events"] == [{"reason": "pension_started", "on": "2025-06-01"}]
    assert {row["key"] for row in stop.snapshot["parameters"]} == {
        "unemployment_benefit.stop_month_rule",
        "unemployment_benefit.missed_checkins_as_reemployment",
    }
