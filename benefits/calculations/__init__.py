"""Benefit rules as pure functions over inputs and policy parameters (DOMAIN §1.4-§1.6, §3, §5.4).

Each function returns its answer with a snapshot (inputs, result, the parameter rows read with
their values) for the entitlement to keep. Eligibility answers are Decisions listing every
unmet condition as a Refusal naming its rule and DOMAIN section. Where a roster is generated
set-based, a *_sql builder gives the same parameters as a VALUES table and the same formula as
SQL, built from the very functions the Python rule uses. What they share with the registry's
proxy-payment rule (enrollment.calculations) is in socialsec.core.calculations.

- resident_pension: eligibility (§1.5, §1.6, §0.4), monthly amount (§1.4), dual receipt (§1.6 Art 8)
- unemployment: benefit eligibility, duration, amount, stop (§3.1-§3.4); the subsidy (§3.5)
- death: the death-month stop rule and the overpaid months (§5.4)
"""

from benefits.calculations.death import (
    DeathStop,
    death_stop,
    death_stop_month_sql,
    death_stop_sql,
    last_payable_month,
)
from benefits.calculations.resident_pension import (
    AccountBalances,
    ResidentPensionEligibility,
    ResidentPensionRates,
    resident_pension_amount,
    resident_pension_amount_sql,
    resident_pension_dual_receipt_settlement,
    resident_pension_eligibility,
    resident_pension_rates,
    resident_pension_rates_sql,
)
from benefits.calculations.unemployment import (
    Duration,
    StopEvent,
    StopReason,
    SubsidyDecision,
    UnemploymentStop,
    unemployment_benefit_amount,
    unemployment_benefit_duration,
    unemployment_benefit_eligibility,
    unemployment_benefit_stop,
    unemployment_subsidy_decision,
)
from socialsec.core.calculations import (
    BadParameter,
    Calculation,
    Decision,
    Refusal,
    SqlValues,
    money_sql,
)

__all__ = [
    "AccountBalances",
    "BadParameter",
    "Calculation",
    "DeathStop",
    "Decision",
    "Duration",
    "Refusal",
    "ResidentPensionEligibility",
    "ResidentPensionRates",
    "SqlValues",
    "StopEvent",
    "StopReason",
    "SubsidyDecision",
    "UnemploymentStop",
    "death_stop",
    "death_stop_month_sql",
    "death_stop_sql",
    "last_payable_month",
    "money_sql",
    "resident_pension_amount",
    "resident_pension_amount_sql",
    "resident_pension_dual_receipt_settlement",
    "resident_pension_eligibility",
    "resident_pension_rates",
    "resident_pension_rates_sql",
    "unemployment_benefit_amount",
    "unemployment_benefit_duration",
    "unemployment_benefit_eligibility",
    "unemployment_benefit_stop",
    "unemployment_subsidy_decision",
]
