"""Statutory retirement month and minimum contribution years after the 2024 reform.

DOMAIN §2.3 [S19] and worked example E21. Framework-free: every figure (original
ages, reform start cohorts, steps, maximum delays, the minimum-years schedule)
arrives in a RetirementRules built by the caller from policy parameters
(socialsec.core.parameters.retirement_rules).

The reference formula of DOMAIN §2.3, for a birth month b:

    k = months from the category's first reform cohort to b   (negative: no delay)
    delay = 0 if k < 0 else min(max_delay, k // step + first_cohort_delay)
    retirement month = b + original_age * 12 + delay

`first_cohort_delay` is 1 in the reference formula; whether the first cohort
(e.g. men born Jan-Apr 1965) gets that month is unconfirmed (DOMAIN §10 item 5),
so it is a parameter too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Category = Literal["male", "female55", "female50"]
CATEGORIES: tuple[Category, ...] = ("male", "female55", "female50")

YearMonth = tuple[int, int]


@dataclass(frozen=True)
class CohortRule:
    """The reform as it applies to one category of person."""

    original_age_years: int  # 60, 55 or 50
    first_reform_cohort: YearMonth  # the first birth month whose age rises
    step_months: int  # one month of delay per this many months of birth cohort
    max_delay_months: int


@dataclass(frozen=True)
class RetirementRules:
    cohorts: Mapping[Category, CohortRule]
    first_cohort_delay_months: int
    min_contribution_base_years: Decimal  # before the rise starts
    min_contribution_rise_start_year: int  # the first retirement year with a higher minimum
    min_contribution_rise_per_year: Decimal
    min_contribution_cap_years: Decimal


def _month_index(year: int, month: int) -> int:
    return year * 12 + (month - 1)


def retirement_delay_months(birth: dt.date, category: Category, rules: RetirementRules) -> int:
    """Months added to the original retirement age for this birth month."""
    cohort = rules.cohorts[category]
    k = _month_index(birth.year, birth.month) - _month_index(*cohort.first_reform_cohort)
    if k < 0:
        return 0
    return min(cohort.max_delay_months, k // cohort.step_months + rules.first_cohort_delay_months)


def retirement_age_months(birth: dt.date, category: Category, rules: RetirementRules) -> int:
    """The statutory retirement age in months, e.g. 737 for 61 years 5 months."""
    original = rules.cohorts[category].original_age_years * 12
    return original + retirement_delay_months(birth, category, rules)


def retirement_month(birth: dt.date, category: Category, rules: RetirementRules) -> YearMonth:
    """(year, month) in which the person reaches the statutory retirement age."""
    index = _month_index(birth.year, birth.month) + retirement_age_months(birth, category, rules)
    return index // 12, index % 12 + 1


def minimum_contribution_years(retirement_year: int, rules: RetirementRules) -> Decimal:
    """Minimum years of contributions for a pension, by the year of retirement."""
    if retirement_year < rules.min_contribution_rise_start_year:
        return rules.min_contribution_base_years
    # The start year itself already carries one step (2030 -> 15.5).
    steps = retirement_year - rules.min_contribution_rise_start_year + 1
    return min(
        rules.min_contribution_cap_years,
        rules.min_contribution_base_years + rules.min_contribution_rise_per_year * steps,
    )
