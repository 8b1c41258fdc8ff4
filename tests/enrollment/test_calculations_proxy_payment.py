"""Proxy payment (代缴): who the government pays for and how much (DOMAIN §1.3, §0.5; E1, E2, E3).

The Python rule and the set-based query are checked against each other on a small county.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection

from benefits.calculations import resident_pension_amount
from enrollment.calculations.proxy_payment import proxy_payment_candidates_sql, proxy_payment_decision
from enrollment.choices import CategorySource, EnrollmentStatus, Payer, PeriodKind, Scheme, SpecialGroup
from enrollment.models import ContributionRecord, Enrollment, PersonCategory
from socialsec.core.calculations import BadParameter
from tests.benefits.test_calculations_parameters import set_parameter
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

COUNTY = "360121"
YEAR = 2025
RULES = "resident_pension.proxy_payment.rules"


@dataclass
class Membership:
    category: str
    effective_from: dt.date = dt.date(2020, 1, 1)
    effective_to: dt.date | None = None


def decide(*categories: str, born: dt.date = dt.date(1980, 6, 1), **inputs):
    defaults = {
        "year": YEAR,
        "region": COUNTY,
        "birth_date": born,
        "enrollment_status": EnrollmentStatus.ACTIVE,
        "memberships": [Membership(category) for category in categories],
    }
    return proxy_payment_decision(**{**defaults, **inputs})


def test_e2_a_45_year_old_in_extreme_poverty_support_is_proxy_paid_the_full_grade_of_100():
    # DOMAIN E2 [S13]: full minimum grade 100/year; with the 30 subsidy (flag) the account grows 130.
    decision = decide(SpecialGroup.EXTREME_POVERTY_SUPPORT, born=dt.date(1980, 4, 2))
    assert decision.eligible
    assert (decision.category, decision.share) == ("extreme_poverty_support", "full")
    assert (decision.grade, decision.proxy_payment_amount, decision.government_subsidy) == (
        Decimal(100),
        Decimal(100),
        Decimal(30),
    )
    assert decision.proxy_payment_amount + decision.government_subsidy == Decimal(130)


def test_e2_fifteen_such_years_give_an_account_pension_of_14_03():
    # DOMAIN E2: 15 × 130 = 1,950 of principal → 1950/139 = 14.03 a month (no interest).
    yearly = decide(SpecialGroup.EXTREME_POVERTY_SUPPORT)
    principal = 15 * (yearly.proxy_payment_amount + yearly.government_subsidy)
    assert principal == Decimal(1950)
    pension = resident_pension_amount(
        region=COUNTY, month=dt.date(2040, 1, 1), account_balance=principal, contribution_years=15
    )
    assert pension.components["account_pension"] == Decimal("14.03")


def test_e2_without_the_subsidy_flag_only_the_100_is_credited():
    # DOMAIN §1.3 "Subsidy on top of 代缴": unconfirmed nationally, a flag.
    set_parameter("resident_pension.proxy_payment.with_contribution_subsidy", COUNTY, False, kind="boolean")
    decision = decide(SpecialGroup.EXTREME_POVERTY_SUPPORT)
    assert (decision.proxy_payment_amount, decision.government_subsidy) == (Decimal(100), Decimal(0))


def test_e3_a_35_year_old_with_a_grade_1_disability_not_in_minimum_living_allowance_is_proxy_paid():
    # DOMAIN E3 [S12]: "part or all of the minimum grade"; the county rule sets it, e.g. FULL 100.
    decision = decide(SpecialGroup.SEVERE_DISABILITY, born=dt.date(1990, 2, 1))
    assert (decision.category, decision.share, decision.proxy_payment_amount) == (
        "severe_disability",
        "full",
        Decimal(100),
    )


def test_e3_a_county_paying_part_of_the_grade_pays_its_partial_amount():
    # DOMAIN §1.3: ProxyPaymentRule(share = PARTIAL, partial_amount), e.g. 50 (unconfirmed, local).
    set_parameter(
        RULES,
        COUNTY,
        [{"category": "severe_disability", "share": "partial", "partial_amount": "50"}],
        kind="table",
    )
    decision = decide(SpecialGroup.SEVERE_DISABILITY, born=dt.date(1990, 2, 1))
    assert (decision.share, decision.proxy_payment_amount, decision.grade) == (
        "partial",
        Decimal(50),
        Decimal(100),
    )


def test_e1_a_61_year_old_in_minimum_living_allowance_is_not_proxy_paid():
    # DOMAIN E1, §0.5: at 60 and over the person receives a pension rather than contributing.
    decision = decide(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, born=dt.date(1964, 3, 15))
    assert decision.rules == ["resident_pension.proxy_payment.age_range"]
    receiving = decide(
        SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
        born=dt.date(1964, 3, 15),
        enrollment_status=EnrollmentStatus.RECEIVING,
    )
    assert receiving.rules == [
        "resident_pension.proxy_payment.not_contributing",
        "resident_pension.proxy_payment.age_range",
    ]


@pytest.mark.parametrize(
    ("born", "basis", "in_range"),
    [
        # DOMAIN §0.5 "aged 16–59": how the age in the year is read is a parameter (unconfirmed).
        (dt.date(1966, 12, 31), "age_reached_in_year", True),  # turns 59 in 2025
        (dt.date(1965, 1, 1), "age_reached_in_year", False),  # turns 60 in 2025
        (dt.date(2009, 12, 31), "age_reached_in_year", True),  # turns 16 in 2025
        (dt.date(2010, 1, 1), "age_reached_in_year", False),  # turns 15
        (dt.date(1965, 1, 2), "age_on_january_1", True),  # 59 on 2025-01-01
        (dt.date(1965, 1, 1), "age_on_january_1", False),  # 60 on 2025-01-01
        (dt.date(2009, 1, 1), "age_on_january_1", True),  # 16 on 2025-01-01
        (dt.date(2009, 1, 2), "age_on_january_1", False),  # 15 on 2025-01-01
    ],
)
def test_the_age_range_16_to_59_in_the_year_by_the_regions_age_basis(born, basis, in_range):
    set_parameter("resident_pension.proxy_payment.age_basis", COUNTY, basis, kind="text")
    decision = decide(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, born=born)
    assert decision.eligible is in_range
    assert ("resident_pension.proxy_payment.age_range" in decision.rules) is not in_range


def test_a_person_in_several_groups_is_proxy_paid_once_by_the_highest_amount():
    # DOMAIN §1.3 "Overlapping categories": once per year; full beats partial by default (cfg).
    set_parameter(
        RULES,
        COUNTY,
        [
            {"category": "low_income", "share": "partial", "partial_amount": "50"},
            {"category": "minimum_living_allowance", "share": "full"},
        ],
        kind="table",
    )
    both = decide(SpecialGroup.LOW_INCOME, SpecialGroup.MINIMUM_LIVING_ALLOWANCE)
    assert (both.category, both.proxy_payment_amount) == ("minimum_living_allowance", Decimal(100))
    set_parameter("resident_pension.proxy_payment.precedence", COUNTY, "table_order", kind="text")
    by_order = decide(SpecialGroup.LOW_INCOME, SpecialGroup.MINIMUM_LIVING_ALLOWANCE)
    assert (by_order.category, by_order.proxy_payment_amount) == ("low_income", Decimal(50))


def test_a_group_counts_when_its_membership_is_in_force_on_some_day_of_the_year():
    ended = Membership(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, dt.date(2020, 1, 1), dt.date(2024, 12, 31))
    assert decide(memberships=[ended]).rules == ["resident_pension.proxy_payment.no_category"]
    late = Membership(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, dt.date(2025, 12, 31))
    assert decide(memberships=[late]).eligible


def test_groups_outside_the_rules_are_not_proxy_paid():
    # DOMAIN §1.3: 已脱贫 keep the old minimum grade, but are not in the seeded 代缴 list.
    decision = decide(SpecialGroup.LIFTED_OUT_OF_POVERTY, SpecialGroup.ORPHAN)
    assert decision.rules == ["resident_pension.proxy_payment.no_category"]
    assert decision.snapshot["inputs"]["categories_in_year"] == ["lifted_out_of_poverty", "orphan"]


def test_not_enrolled_dead_or_already_recorded_are_refused_naming_the_rule():
    assert decide(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, enrollment_status=None).rules == [
        "resident_pension.proxy_payment.not_enrolled"
    ]
    assert decide(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, death_date=dt.date(2025, 2, 1)).rules == [
        "resident_pension.proxy_payment.deceased"
    ]
    assert decide(SpecialGroup.MINIMUM_LIVING_ALLOWANCE, year_already_recorded=True).rules == [
        "resident_pension.proxy_payment.year_already_recorded"
    ]


def test_the_snapshot_keeps_the_rule_rows_with_their_values():
    decision = decide(SpecialGroup.EXTREME_POVERTY_SUPPORT)
    used = {row["key"]: row["value"] for row in decision.snapshot["parameters"]}
    assert used["resident_pension.proxy_payment.grade_amount"] == "100"
    assert used["resident_pension.proxy_payment.min_age"] == 16
    assert used["resident_pension.proxy_payment.max_age"] == 59
    assert decision.snapshot["result"]["proxy_payment_amount"] == "100"


@pytest.mark.parametrize(
    "rules",
    [
        [{"category": "pensioner", "share": "full"}],
        [{"category": "low_income", "share": "partial"}],
        [{"category": "low_income", "share": "partial", "partial_amount": "150"}],
        [{"category": "low_income", "share": "full"}, {"category": "low_income", "share": "full"}],
    ],
)
def test_a_rules_row_the_rule_cannot_use_is_a_409_naming_the_key(rules):
    set_parameter(RULES, COUNTY, rules, kind="table")
    with pytest.raises(BadParameter) as error:
        decide(SpecialGroup.LOW_INCOME)
    assert error.value.details["key"] == RULES


# --- The set-based query agrees with the rule on a small county ------------------------------------


def member(person, category, since=dt.date(2020, 1, 1), until=None, by=None):
    grade = 1 if category == SpecialGroup.SEVERE_DISABILITY else None
    return PersonCategory.objects.create(
        person=person,
        category=category,
        disability_grade=grade,
        source=CategorySource.CIVIL_AFFAIRS,
        effective_from=since,
        effective_to=until,
        recorded_by=by,
    )


def enrol(person, by, status=EnrollmentStatus.ACTIVE, pooling_area=COUNTY):
    return Enrollment.objects.create(
        person=person,
        scheme=Scheme.RESIDENT_PENSION,
        status=status,
        pooling_area=pooling_area,
        start_date=dt.date(2015, 1, 1),
        enrolled_by=by,
    )


@pytest.fixture
def small_county(cast):
    """Twenty-odd persons in two pooling areas, covering each condition of DOMAIN §1.3."""
    by = cast.maker_ann
    # A neighbouring pooling area pays severe disability in part and also covers low income.
    set_parameter(
        RULES,
        "360122",
        [
            {"category": "minimum_living_allowance", "share": "full"},
            {"category": "severe_disability", "share": "partial", "partial_amount": "60"},
            {"category": "low_income", "share": "partial", "partial_amount": "40"},
        ],
        kind="table",
    )
    specs = [
        # (birth date, groups [(group, from, to)], enrollment status, pooling area, dead, year recorded)
        (dt.date(1980, 4, 2), [("extreme_poverty_support",)], EnrollmentStatus.ACTIVE, COUNTY, False, False),
        (dt.date(1990, 2, 1), [("severe_disability",)], EnrollmentStatus.ACTIVE, COUNTY, False, False),
        (dt.date(1990, 2, 1), [("severe_disability",)], EnrollmentStatus.ACTIVE, "360122", False, False),
        (
            dt.date(1964, 3, 15),
            [("minimum_living_allowance",)],
            EnrollmentStatus.ACTIVE,
            COUNTY,
            False,
            False,
        ),
        (
            dt.date(1964, 3, 15),
            [("minimum_living_allowance",)],
            EnrollmentStatus.RECEIVING,
            COUNTY,
            False,
            False,
        ),
        (dt.date(1966, 12, 31), [("returned_to_poverty",)], EnrollmentStatus.ACTIVE, COUNTY, False, False),
        (dt.date(1965, 1, 1), [("returned_to_poverty",)], EnrollmentStatus.ACTIVE, COUNTY, False, False),
        (
            dt.date(2009, 12, 31),
            [("minimum_living_allowance",)],
            EnrollmentStatus.ACTIVE,
            COUNTY,
            False,
            False,
        ),
        (dt.date(1985, 5, 5), [("low_income",)], EnrollmentStatus.ACTIVE, COUNTY, False, False),
        (dt.date(1985, 5, 5), [("low_income",)], EnrollmentStatus.ACTIVE, "360122", False, False),
        (
            dt.date(1985, 5, 5),
            [("low_income",), ("minimum_living_allowance",)],
            EnrollmentStatus.ACTIVE,
            "360122",
            False,
            False,
        ),
        (
            dt.date(1975, 7, 7),
            [("minimum_living_allowance", dt.date(2019, 1, 1), dt.date(2024, 12, 31))],
            EnrollmentStatus.ACTIVE,
            COUNTY,
            False,
            False,
        ),
        (
            dt.date(1975, 7, 7),
            [("minimum_living_allowance", dt.date(2025, 12, 31), None)],
            EnrollmentStatus.ACTIVE,
            COUNTY,
            False,
            False,
        ),
        (
            dt.date(1975, 7, 7),
            [("minimum_living_allowance", dt.date(2019, 1, 1), dt.date(2022, 12, 31)), ("orphan",)],
            EnrollmentStatus.ACTIVE,
            COUNTY,
            False,
            False,
        ),
        (dt.date(1978, 8, 8), [("extreme_poverty_support",)], EnrollmentStatus.ACTIVE, COUNTY, True, False),
        (dt.date(1978, 8, 8), [("extreme_poverty_support",)], EnrollmentStatus.ACTIVE, COUNTY, False, True),
        (
            dt.date(1978, 8, 8),
            [("extreme_poverty_support",)],
            EnrollmentStatus.SUSPENDED_CONTRIB,
            COUNTY,
            False,
            False,
        ),
        (
            dt.date(1978, 8, 8),
            [("extreme_poverty_support",), ("severe_disability",)],
            EnrollmentStatus.ACTIVE,
            COUNTY,
            False,
            False,
        ),
        (dt.date(1995, 9, 9), [("lifted_out_of_poverty",)], EnrollmentStatus.ACTIVE, COUNTY, False, False),
        (dt.date(1995, 9, 9), [], EnrollmentStatus.ACTIVE, COUNTY, False, False),
    ]
    for born, groups, status, area, dead, recorded in specs:
        person = PersonFactory(
            village=cast.village_a, birth_date=born, death_date=dt.date(2025, 2, 1) if dead else None
        )
        for group in groups:
            member(person, group[0], *group[1:], by=by)
        enrollment = enrol(person, by, status=status, pooling_area=area)
        if recorded:
            ContributionRecord.objects.create(
                enrollment=enrollment,
                period_kind=PeriodKind.YEAR,
                period_start=dt.date(YEAR, 1, 1),
                grade=Decimal(200),
                personal_amount=Decimal(200),
                payer=Payer.PERSON,
                paid_on=dt.date(YEAR, 3, 1),
                recorded_by=by,
            )
    # Enrolled in another scheme only: never a resident-pension proxy payment.
    other = PersonFactory(village=cast.village_a, birth_date=dt.date(1980, 1, 1))
    member(other, "minimum_living_allowance", by=by)
    Enrollment.objects.create(
        person=other,
        scheme=Scheme.EMPLOYEE_PENSION,
        pooling_area=COUNTY,
        start_date=dt.date(2015, 1, 1),
        enrolled_by=by,
    )
    return len(specs)


def python_rule(year: int) -> list[tuple]:
    """The Python rule applied enrollment by enrollment, as an entitlement service would."""
    paid = []
    enrollments = Enrollment.objects.filter(scheme=Scheme.RESIDENT_PENSION).select_related("person")
    for enrollment in enrollments.order_by("id"):
        person = enrollment.person
        decision = proxy_payment_decision(
            year=year,
            region=enrollment.pooling_area,
            birth_date=person.birth_date,
            enrollment_status=enrollment.status,
            memberships=list(person.categories.all()),
            death_date=person.death_date,
            year_already_recorded=ContributionRecord.objects.filter(
                enrollment=enrollment, period_start=dt.date(year, 1, 1)
            ).exists(),
        )
        if decision.eligible:
            paid.append(
                (
                    enrollment.pk,
                    person.pk,
                    enrollment.pooling_area,
                    decision.category,
                    decision.share,
                    decision.proxy_payment_amount,
                    decision.grade,
                    decision.government_subsidy,
                )
            )
    return paid


def sql_rule(year: int) -> list[tuple]:
    query = proxy_payment_candidates_sql(year=year, regions=[COUNTY, "360122"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({query.sql}) candidates ORDER BY enrollment_id", query.params)
        return cursor.fetchall()


def test_the_set_based_query_and_the_python_rule_choose_the_same_persons_and_amounts(small_county):
    # DOMAIN §1.3: the roster's INSERT … SELECT and the entitlement's rule cannot disagree.
    from_python = python_rule(YEAR)
    assert sql_rule(YEAR) == from_python
    amounts = sorted((row[3], row[5]) for row in from_python)
    assert amounts == sorted(
        [
            ("extreme_poverty_support", Decimal(100)),  # E2
            ("severe_disability", Decimal(100)),  # E3, full here
            ("severe_disability", Decimal(60)),  # partial in 360122
            ("returned_to_poverty", Decimal(100)),  # turns 59 in 2025
            ("minimum_living_allowance", Decimal(100)),  # turns 16 in 2025
            ("low_income", Decimal(40)),  # covered in 360122 only
            ("minimum_living_allowance", Decimal(100)),  # both groups in 360122: full beats partial
            ("minimum_living_allowance", Decimal(100)),  # membership from 2025-12-31
            ("extreme_poverty_support", Decimal(100)),  # in two groups: paid once
        ]
    )


def test_the_query_and_the_rule_still_agree_under_the_other_age_basis_and_in_another_year(small_county):
    set_parameter("resident_pension.proxy_payment.age_basis", COUNTY, "age_on_january_1", kind="text")
    set_parameter("resident_pension.proxy_payment.precedence", "360122", "table_order", kind="text")
    for year in (2024, 2025, 2026):
        assert sql_rule(year) == python_rule(year), year
    assert sql_rule(2025) != []


def test_the_query_keeps_the_parameter_rows_per_region(small_county):
    query = proxy_payment_candidates_sql(year=YEAR, regions=[COUNTY, "360122"])
    keys = {row["key"] for row in query.parameters["360122"]}
    assert RULES in keys and "resident_pension.proxy_payment.grade_amount" in keys
    rules_row = next(row for row in query.parameters["360122"] if row["key"] == RULES)
    assert rules_row["region_code"] == "360122"
