"""Resident pension: eligibility and monthly amount (DOMAIN §1.4-§1.6, §0.3, §0.4; E1, E4, E6, E7, E24).

Figures are DOMAIN's: the seeded national minimum basic pension (123 in 2024, 143 in 2025) and
the divisor 139. Where a test adds a county's own rows, the figures are fixtures.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from benefits.calculations import (
    AccountBalances,
    BadParameter,
    resident_pension_amount,
    resident_pension_amount_sql,
    resident_pension_dual_receipt_settlement,
    resident_pension_eligibility,
    resident_pension_rates_sql,
)
from socialsec.core.exceptions import InvalidState, http_status
from socialsec.core.models import PolicyParameter
from socialsec.core.parameters import MissingParameter, parameter_trace
from tests.benefits.test_calculations_parameters import set_parameter

pytestmark = pytest.mark.django_db

COUNTY = "360121"
MAY_2025 = dt.date(2025, 5, 1)


def amount(balance: str, month: dt.date = MAY_2025, years: int = 15, region: str = COUNTY):
    return resident_pension_amount(
        region=region, month=month, account_balance=Decimal(balance), contribution_years=years
    )


def eligibility(**inputs):
    defaults = {
        "region": COUNTY,
        "month": MAY_2025,
        "birth_date": dt.date(1964, 3, 15),
        "contribution_years": 15,
    }
    return resident_pension_eligibility(**{**defaults, **inputs})


# --- Amount (DOMAIN §1.4) ------------------------------------------------------------------------


def test_e1_a_61_year_old_on_3000_gets_the_basic_pension_plus_21_58():
    # DOMAIN E1: BP + 3000/139 = BP + 21.58; with the 2025 national minimum of 143: 164.58.
    result = amount("3000")
    assert result.components == {
        "basic_pension": Decimal("143.00"),
        "account_pension": Decimal("21.58"),
        "long_contribution_topup": Decimal("0.00"),
    }
    assert result.amount == Decimal("164.58")


def test_e4_50000_in_the_account_in_2024_pays_482_71():
    # DOMAIN E4 [S25]: 50000/139 = 359.71; with the 2024 minimum of 123 (never 143 in 2024, §0.5).
    result = amount("50000", month=dt.date(2024, 6, 1))
    assert result.components["account_pension"] == Decimal("359.71")
    assert result.components["basic_pension"] == Decimal("123.00")
    assert result.amount == Decimal("482.71")


def test_the_basic_pension_adds_the_provincial_and_county_top_ups_of_the_month():
    # DOMAIN §1.4: local basic pension = national minimum + provincial top-up + county top-up.
    set_parameter(
        "resident_pension.basic_pension.provincial_topup", "360000", "12.5", since=dt.date(2025, 1, 1)
    )
    set_parameter("resident_pension.basic_pension.county_topup", COUNTY, "20", since=dt.date(2025, 5, 1))
    assert amount("0", month=dt.date(2025, 4, 1)).components["basic_pension"] == Decimal("155.50")
    assert amount("0", month=MAY_2025).components["basic_pension"] == Decimal("175.50")
    assert amount("0", month=MAY_2025, region="360122").components["basic_pension"] == Decimal("155.50")


def test_the_long_contribution_top_up_counts_years_above_the_threshold_once_a_county_switches_it_on():
    # DOMAIN §1.4 [S16]: more than 15 years may earn a local top-up (configurable, off by default).
    assert amount("0", years=25).components["long_contribution_topup"] == Decimal("0.00")
    set_parameter("resident_pension.long_contribution_topup.enabled", COUNTY, True, kind="boolean")
    set_parameter("resident_pension.long_contribution_topup.per_year", COUNTY, "2", unit="yuan_per_month")
    assert amount("0", years=25).components["long_contribution_topup"] == Decimal("20.00")
    assert amount("0", years=15).components["long_contribution_topup"] == Decimal("0.00")
    assert amount("0", years=25).amount == Decimal("163.00")


def test_a_county_that_switches_the_top_up_on_without_an_amount_is_told_which_key_is_missing():
    set_parameter("resident_pension.long_contribution_topup.enabled", COUNTY, True, kind="boolean")
    with pytest.raises(MissingParameter) as error:
        amount("1000")
    assert error.value.details["key"] == "resident_pension.long_contribution_topup.per_year"
    assert http_status(error.value) == 409


@pytest.mark.parametrize(
    ("mode", "account_pension"),
    [("half_up", "0.03"), ("half_even", "0.02"), ("down", "0.02")],
)
def test_the_account_pension_is_rounded_by_the_regions_rounding_mode(mode, account_pension):
    # DOMAIN §0.3: half-up by default; the official practice is unconfirmed, so it is a parameter.
    # A fixture divisor of 8 makes 0.20 an exact half fen (0.025).
    set_parameter("resident_pension.personal_account.payout_divisor", COUNTY, "8")
    set_parameter("general.money.rounding_mode", COUNTY, mode, kind="text")
    assert amount("0.20").components["account_pension"] == Decimal(account_pension)


def test_the_snapshot_keeps_inputs_result_and_every_parameter_row_with_its_value():
    # DOMAIN §8.1 BenefitEntitlement: "calculation snapshot (the inputs and parameter versions used)".
    result = amount("3000")
    snapshot = json.loads(json.dumps(result.snapshot))
    assert snapshot["inputs"] == {
        "region": COUNTY,
        "month": "2025-05-01",
        "account_balance": "3000",
        "contribution_years": 15,
    }
    assert snapshot["result"]["amount"] == "164.58"
    used = {row["key"]: row for row in snapshot["parameters"]}
    basic = PolicyParameter.objects.get(
        key="resident_pension.basic_pension.national_minimum", effective_from=dt.date(2025, 1, 1)
    )
    assert used["resident_pension.basic_pension.national_minimum"]["id"] == basic.pk
    assert used["resident_pension.basic_pension.national_minimum"]["value"] == "143"
    assert used["resident_pension.personal_account.payout_divisor"]["value"] == "139"
    assert "resident_pension.long_contribution_topup.per_year" not in used  # off: never read


def test_an_outer_trace_sees_the_rows_the_amount_read(django_assert_num_queries):
    with parameter_trace() as trace, django_assert_num_queries(1):
        result = amount("3000")
    assert [row.id for row in trace.rows] == [row["id"] for row in result.snapshot["parameters"]]


# --- Amount in SQL (set-based rosters) ------------------------------------------------------------


def test_sql_and_python_agree_to_the_fen_on_a_set_of_persons_in_three_regions():
    # DOMAIN §1.4 and §0.3, in one INSERT … SELECT-able query: three counties with different
    # top-ups, divisors, rounding modes and top-up rules; balances include exact half fen.
    set_parameter(
        "resident_pension.basic_pension.provincial_topup", "360000", "15", since=dt.date(2025, 1, 1)
    )
    set_parameter("resident_pension.basic_pension.county_topup", "360122", "7.5")
    set_parameter("resident_pension.personal_account.payout_divisor", "360122", "8")
    set_parameter("general.money.rounding_mode", "360122", "half_even", kind="text")
    set_parameter("general.money.rounding_mode", "360123", "down", kind="text")
    set_parameter("resident_pension.long_contribution_topup.enabled", "360123", True, kind="boolean")
    set_parameter("resident_pension.long_contribution_topup.per_year", "360123", "1.5")
    regions = [COUNTY, "360122", "360123"]
    rng = random.Random(4)
    persons = [
        (
            i,
            regions[i % 3],
            # every fourth balance is a multiple of 0.04: an exact half fen under the divisor 8
            Decimal(rng.randrange(0, 5_000_000)) * Decimal("0.04")
            if i % 4 == 0
            else Decimal(rng.randrange(0, 20_000_000)) / 100,
            rng.randrange(0, 40),
        )
        for i in range(240)
    ]
    rates = resident_pension_rates_sql(month=MAY_2025, regions=regions, alias="rp")
    parts = resident_pension_amount_sql(account_balance="t.balance", contribution_years="t.years", alias="rp")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE payee (id int, region varchar(6), balance numeric(12, 2), years int)"
        )
        cursor.executemany("INSERT INTO payee VALUES (%s, %s, %s, %s)", persons)
        cursor.execute(
            f"""SELECT t.id, {parts["basic_pension"]}, {parts["account_pension"]},
                       {parts["long_contribution_topup"]}, {parts["amount"]}
                  FROM payee t JOIN {rates.sql} ON rp.region_code = t.region ORDER BY t.id""",
            rates.params,
        )
        from_sql = cursor.fetchall()
    from_python = []
    for i, region, balance, years in persons:
        result = amount(str(balance), years=years, region=region)
        c = result.components
        from_python.append(
            (i, c["basic_pension"], c["account_pension"], c["long_contribution_topup"], result.amount)
        )
    assert from_sql == from_python
    assert len({row[2] for row in from_sql}) > 200  # the amounts really vary
    assert rates.parameters[COUNTY] and set(rates.parameters) == set(regions)


def test_the_rates_table_refuses_an_unknown_rounding_mode_before_it_reaches_sql():
    set_parameter("general.money.rounding_mode", COUNTY, "bankers", kind="text")
    with pytest.raises(BadParameter) as error:
        resident_pension_rates_sql(month=MAY_2025, regions=[COUNTY])
    assert error.value.details["key"] == "general.money.rounding_mode"
    assert http_status(error.value) == 409


# --- Eligibility (DOMAIN §1.5, §1.6, §0.4) --------------------------------------------------------


def test_e1_a_61_year_old_with_15_years_and_no_other_pension_is_eligible():
    # DOMAIN E1: aged 61, 15 contribution years (8 proxy-paid: they count like any other).
    decision = eligibility(birth_date=dt.date(1964, 3, 15), contribution_years=15)
    assert decision.eligible
    assert decision.refusals == ()
    assert decision.snapshot["result"]["eligible"] is True


def test_e24_the_first_payable_month_is_the_month_after_the_60th_birthday():
    # DOMAIN E24, §0.4: turns 60 on 2025-07-15 → first payable month 2025-08 (cfg, unconfirmed).
    born = dt.date(1965, 7, 15)
    july = eligibility(birth_date=born, month=dt.date(2025, 7, 1))
    assert not july.eligible
    assert july.rules == ["resident_pension.pension_age"]
    assert july.first_payable_month == dt.date(2025, 8, 1)
    assert eligibility(birth_date=born, month=dt.date(2025, 8, 1)).eligible


def test_e24_a_county_paying_from_the_birthday_month_pays_july():
    set_parameter("resident_pension.benefit.start_month_rule", COUNTY, "month_of_pension_age", kind="text")
    decision = eligibility(birth_date=dt.date(1965, 7, 15), month=dt.date(2025, 7, 1))
    assert decision.eligible
    assert decision.first_payable_month == dt.date(2025, 7, 1)


def test_a_county_paying_from_the_month_after_approval_waits_for_the_approval():
    # DOMAIN §0.4: "the month after reaching 60, or after approval".
    set_parameter("resident_pension.benefit.start_month_rule", COUNTY, "month_after_approval", kind="text")
    born = dt.date(1965, 7, 15)
    waiting = eligibility(birth_date=born, month=dt.date(2025, 9, 1))
    assert waiting.rules == ["resident_pension.awaiting_approval"]
    approved = eligibility(birth_date=born, month=dt.date(2025, 9, 1), approved_on=dt.date(2025, 9, 3))
    assert approved.rules == ["resident_pension.pension_age"]
    assert approved.first_payable_month == dt.date(2025, 10, 1)


def test_e6_twelve_years_and_under_15_to_go_at_the_scheme_start_may_back_pay_three():
    # DOMAIN E6, §1.5: over 45 when the local scheme began (2011-07, a county fixture) → not yet
    # eligible; may back-pay up to 3 years (total not above 15), with no subsidy on them.
    set_parameter("resident_pension.transition.scheme_start", COUNTY, "2011-07", kind="year_month")
    decision = eligibility(birth_date=dt.date(1965, 3, 10), contribution_years=12)
    assert decision.rules == ["resident_pension.minimum_contribution_years"]
    refusal = decision.refusals[0]
    assert refusal.details["transitional_group"] == "near_pension_age_at_scheme_start"
    assert refusal.details["age_at_scheme_start"] == 46
    assert (refusal.details["years_missing"], decision.backpay_years_allowed) == (3, 3)
    # Once 15 years are reached: eligible.
    assert eligibility(birth_date=dt.date(1965, 3, 10), contribution_years=15).eligible


@pytest.mark.usefixtures("english_messages")
def test_e6_the_refusal_names_the_rule_and_says_what_may_be_back_paid():
    set_parameter("resident_pension.transition.scheme_start", COUNTY, "2011-07", kind="year_month")
    decision = eligibility(birth_date=dt.date(1965, 3, 10), contribution_years=12)
    with pytest.raises(InvalidState) as error:
        decision.raise_if_refused(person_id=7)
    assert error.value.details["rule"] == "resident_pension.minimum_contribution_years"
    assert error.value.details["person_id"] == 7
    with translation.override("en"):
        assert str(error.value.message) == (
            "The resident pension needs 15 years of contributions; 12 are paid and up to 3 more "
            "may be back-paid."
        )


def test_a_person_far_from_60_at_the_scheme_start_needs_15_years_without_a_back_payment_allowance():
    # DOMAIN §1.5: more than 15 years to go when the scheme began → at least 15 years. The seeded
    # national start (2009-01): born 1965-03-10, aged 43 then, 17 years to go.
    decision = eligibility(birth_date=dt.date(1965, 3, 10), contribution_years=12)
    assert decision.rules == ["resident_pension.minimum_contribution_years"]
    assert decision.refusals[0].details["transitional_group"] == "standard"
    assert (decision.refusals[0].details["years_missing"], decision.backpay_years_allowed) == (3, 0)


def test_already_60_at_the_scheme_start_receives_the_basic_pension_without_contributing():
    # DOMAIN §1.5 (unconfirmed details, a parameter): already 60 and no other basic pension.
    decision = eligibility(birth_date=dt.date(1945, 1, 1), contribution_years=0)
    assert decision.eligible
    assert decision.transitional_group == "pension_age_at_scheme_start"
    set_parameter(
        "resident_pension.transition.pension_without_contribution_at_start", COUNTY, False, kind="boolean"
    )
    assert eligibility(birth_date=dt.date(1945, 1, 1), contribution_years=0).rules == [
        "resident_pension.minimum_contribution_years"
    ]


def test_already_receiving_when_the_scheme_began_keeps_receiving():
    # DOMAIN §1.5 transitional rule.
    decision = eligibility(
        birth_date=dt.date(1950, 1, 1), contribution_years=0, receiving_at_scheme_start=True
    )
    assert decision.eligible
    assert decision.transitional_group == "receiving_at_scheme_start"


def test_e7_a_person_drawing_the_employee_pension_cannot_receive_the_resident_pension():
    # DOMAIN E7, §1.6 Art 8 [S18]: no dual receipt; §1.5 third condition.
    decision = eligibility(other_basic_pensions={"employee_pension"})
    assert decision.rules == ["resident_pension.no_dual_receipt"]
    assert decision.refusals[0].details == {"other_basic_pensions": ["employee_pension"]}
    with translation.override("en"):
        assert str(decision.refusals[0].message) == (
            "A person who receives another basic pension (Employee pension) cannot also receive "
            "the resident pension."
        )


def test_every_unmet_condition_is_listed_in_the_order_of_domain_1_5():
    decision = eligibility(
        birth_date=dt.date(1970, 1, 1), contribution_years=3, other_basic_pensions={"gov_inst_pension"}
    )
    assert decision.rules == [
        "resident_pension.pension_age",
        "resident_pension.minimum_contribution_years",
        "resident_pension.no_dual_receipt",
    ]
    assert [r["rule"] for r in decision.snapshot["result"]["refusals"]] == decision.rules


def test_no_pension_is_due_for_a_month_after_the_death_month():
    # DOMAIN §5.4 with the seeded rule "death month payable" (E9).
    died = dt.date(2025, 3, 10)
    assert eligibility(month=dt.date(2025, 3, 1), death_date=died).eligible
    assert eligibility(month=dt.date(2025, 4, 1), death_date=died).rules == ["benefit.deceased"]


def test_e7_dual_receipt_recovers_the_1430_of_basic_pension_and_refunds_the_account_without_subsidies():
    # DOMAIN E7, §1.6 Art 8: employee pension since 2024-01; resident pension paid 10 months at 143.
    paid = {dt.date(2025, month, 1): Decimal("143") for month in range(1, 11)}
    account = AccountBalances(
        personal=Decimal("3000"),
        collective=Decimal("200"),
        government_subsidy=Decimal("450"),
        proxy_payment=Decimal("800"),
        interest=Decimal("120.50"),
    )
    settlement = resident_pension_dual_receipt_settlement(
        region=COUNTY,
        on=dt.date(2025, 11, 1),
        other_pension_from=dt.date(2024, 1, 1),
        basic_pension_paid=paid,
        account=account,
    )
    assert settlement.recovery == Decimal("1430.00")
    assert len(settlement.recovered_months) == 10
    assert settlement.refund == Decimal("3320.50")  # 3000 + 200 + 120.50: no subsidy, no 代缴 (cfg)
    set_parameter("resident_pension.dual_receipt.proxy_payment_refunded", COUNTY, True, kind="boolean")
    again = resident_pension_dual_receipt_settlement(
        region=COUNTY,
        on=dt.date(2025, 11, 1),
        other_pension_from=dt.date(2025, 6, 1),
        basic_pension_paid=paid,
        account=account,
    )
    assert (again.recovery, again.refund) == (Decimal("715.00"), Decimal("4120.50"))  # June-October
