"""Statutory retirement ages and minimum contribution years: DOMAIN §2.3 [S19] and worked example E21.

The rules are built here from the figures of DOMAIN §2.3; in the application they come from
policy parameters (socialsec.core.parameters.retirement_rules).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from socialsec.lib.retirement import (
    CohortRule,
    RetirementRules,
    minimum_contribution_years,
    retirement_age_months,
    retirement_month,
)

RULES = RetirementRules(
    cohorts={
        "male": CohortRule(
            original_age_years=60, first_reform_cohort=(1965, 1), step_months=4, max_delay_months=36
        ),
        "female55": CohortRule(
            original_age_years=55, first_reform_cohort=(1970, 1), step_months=4, max_delay_months=36
        ),
        "female50": CohortRule(
            original_age_years=50, first_reform_cohort=(1975, 1), step_months=2, max_delay_months=60
        ),
    },
    first_cohort_delay_months=1,  # the reference formula; unconfirmed (DOMAIN §10 item 5)
    min_contribution_base_years=Decimal(15),
    min_contribution_rise_start_year=2030,
    min_contribution_rise_per_year=Decimal("0.5"),
    min_contribution_cap_years=Decimal(20),
)


def years_months(months: int) -> tuple[int, int]:
    return divmod(months, 12)


def test_e21_a_man_born_1964_12_retires_at_60_in_2024_12():
    birth = dt.date(1964, 12, 15)
    assert years_months(retirement_age_months(birth, "male", RULES)) == (60, 0)
    assert retirement_month(birth, "male", RULES) == (2024, 12)


def test_e21_a_man_born_1965_03_retires_at_60_years_1_month_in_2025_04():
    birth = dt.date(1965, 3, 31)
    assert years_months(retirement_age_months(birth, "male", RULES)) == (60, 1)
    assert retirement_month(birth, "male", RULES) == (2025, 4)


def test_e21_a_man_born_1970_06_retires_at_61_years_5_months_in_2031_11():
    birth = dt.date(1970, 6, 1)
    assert years_months(retirement_age_months(birth, "male", RULES)) == (61, 5)
    assert retirement_month(birth, "male", RULES) == (2031, 11)


def test_e21_a_man_born_1976_09_retires_at_63_in_2039_09():
    birth = dt.date(1976, 9, 10)
    assert years_months(retirement_age_months(birth, "male", RULES)) == (63, 0)
    assert retirement_month(birth, "male", RULES) == (2039, 9)


def test_e21_a_woman_worker_born_1980_05_retires_at_52_years_9_months_in_2033_02():
    birth = dt.date(1980, 5, 20)
    assert years_months(retirement_age_months(birth, "female50", RULES)) == (52, 9)
    assert retirement_month(birth, "female50", RULES) == (2033, 2)


def test_e21_a_woman_worker_born_1984_11_retires_at_55_in_2039_11():
    birth = dt.date(1984, 11, 2)
    assert years_months(retirement_age_months(birth, "female50", RULES)) == (55, 0)
    assert retirement_month(birth, "female50", RULES) == (2039, 11)


def test_the_delay_stops_at_the_maximum_for_later_cohorts():
    # DOMAIN §2.3: men 60 -> 63, women cadres 55 -> 58, women workers 50 -> 55, at most.
    assert years_months(retirement_age_months(dt.date(1990, 1, 1), "male", RULES)) == (63, 0)
    assert years_months(retirement_age_months(dt.date(1990, 1, 1), "female55", RULES)) == (58, 0)
    assert years_months(retirement_age_months(dt.date(1990, 1, 1), "female50", RULES)) == (55, 0)


def test_a_woman_cadre_born_before_1970_keeps_the_original_age_of_55():
    assert retirement_month(dt.date(1969, 12, 31), "female55", RULES) == (2024, 12)


def test_the_first_cohort_of_men_gets_one_month_under_the_reference_formula_which_is_unconfirmed():
    # DOMAIN §2.3 and §10 item 5: the reference formula gives men born Jan-Apr 1965 one month;
    # one public reading of the official tables gives them none. Unconfirmed: it is a parameter.
    for month in (1, 2, 3, 4):
        assert retirement_age_months(dt.date(1965, month, 1), "male", RULES) == 60 * 12 + 1
    assert retirement_age_months(dt.date(1965, 5, 1), "male", RULES) == 60 * 12 + 2


def test_the_first_cohort_delay_is_a_parameter_that_can_be_set_to_zero():
    no_first_month = dataclasses.replace(RULES, first_cohort_delay_months=0)
    assert retirement_age_months(dt.date(1965, 1, 1), "male", no_first_month) == 60 * 12


@pytest.mark.parametrize(
    ("retirement_year", "years"),
    [(2025, "15"), (2029, "15"), (2030, "15.5"), (2035, "18"), (2038, "19.5"), (2039, "20"), (2050, "20")],
)
def test_e21_minimum_contribution_years_rise_by_half_a_year_from_2030_to_20(retirement_year, years):
    # DOMAIN §2.3 and E21: 2029 -> 15; 2030 -> 15.5; 2035 -> 18; 2039 and later -> 20.
    assert minimum_contribution_years(retirement_year, RULES) == Decimal(years)
