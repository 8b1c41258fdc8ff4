"""The resident pension (城乡居民基本养老保险): who may receive it and how much (DOMAIN §1.4-§1.6).

    monthly = basic pension (national minimum + provincial top-up + county top-up, for the month)
            + personal-account balance / 139
            + long-contribution top-up (only where the county switched it on)

Each part is rounded to the fen by the region's rounding mode (DOMAIN §0.3) and the total is
their sum, so a roster line's split always adds up. Every figure is a policy parameter read for
the month's first day. resident_pension_rates_sql() gives the same parameters as a VALUES table,
and resident_pension_amount_sql() the same formula as SQL expressions, so a roster can compute
every line in one INSERT … SELECT and agree with resident_pension_amount() to the fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext_noop

from benefits.calculations.death import last_payable_month
from enrollment.choices import Scheme
from socialsec.core.calculations import (
    ROUNDING_MODE,
    BadParameter,
    Calculation,
    Decision,
    Refusal,
    SqlValues,
    add_months,
    age_on,
    check_rounding_mode,
    jsonable,
    lazy_message,
    make_snapshot,
    money_sql,
    month_start,
    values_sql,
)
from socialsec.core.parameters import param, parameter_trace, params_for
from socialsec.lib.money import round_money

_NATIONAL_MINIMUM = "resident_pension.basic_pension.national_minimum"
_PROVINCIAL_TOPUP = "resident_pension.basic_pension.provincial_topup"
_COUNTY_TOPUP = "resident_pension.basic_pension.county_topup"
_DIVISOR = "resident_pension.personal_account.payout_divisor"
_TOPUP_ENABLED = "resident_pension.long_contribution_topup.enabled"
_TOPUP_THRESHOLD = "resident_pension.long_contribution_topup.threshold_years"
_TOPUP_PER_YEAR = "resident_pension.long_contribution_topup.per_year"  # local; read only when enabled
_PENSION_AGE = "resident_pension.benefit.pension_age"
_START_MONTH_RULE = "resident_pension.benefit.start_month_rule"
_MINIMUM_YEARS = "resident_pension.benefit.minimum_contribution_years"
_SCHEME_START = "resident_pension.transition.scheme_start"
_YEARS_TO_GO = "resident_pension.transition.years_to_go_threshold"
_BACKPAY_CAP = "resident_pension.transition.backpay_cap_years"
_WITHOUT_CONTRIBUTION = "resident_pension.transition.pension_without_contribution_at_start"
_PROXY_REFUNDED = "resident_pension.dual_receipt.proxy_payment_refunded"

# DOMAIN §0.4: the first payable month (a parameter, since the practice is unconfirmed).
START_MONTH_RULES = ("month_after_pension_age", "month_of_pension_age", "month_after_approval")


# --- Amount (DOMAIN §1.4) -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResidentPensionRates:
    """The parameters of the monthly amount in one region for one month (DOMAIN §1.4)."""

    region: str
    month: dt.date
    national_minimum: Decimal
    provincial_topup: Decimal
    county_topup: Decimal
    divisor: Decimal
    rounding_mode: str
    topup_per_year: Decimal  # 0 where the long-contribution top-up is off
    topup_threshold_years: int
    parameters: list[dict[str, Any]]  # the rows read, with their values

    @property
    def basic_pension(self) -> Decimal:
        basic = self.national_minimum + self.provincial_topup + self.county_topup
        return round_money(basic, self.rounding_mode)

    def account_pension(self, account_balance: Decimal) -> Decimal:
        return round_money(account_balance / self.divisor, self.rounding_mode)

    def long_contribution_topup(self, contribution_years: int) -> Decimal:
        extra_years = max(0, contribution_years - self.topup_threshold_years)
        return round_money(self.topup_per_year * extra_years, self.rounding_mode)


def resident_pension_rates(*, region: str, month: dt.date) -> ResidentPensionRates:
    """Read the amount's parameters for `region` in force on the first day of `month`.

    One query, plus one for the top-up amount where the county switched the top-up on (a
    county that switches it on without giving the amount gets MissingParameter, 409).
    """
    on = month_start(month)
    with parameter_trace() as trace:
        values = params_for(
            [
                _NATIONAL_MINIMUM,
                _PROVINCIAL_TOPUP,
                _COUNTY_TOPUP,
                _DIVISOR,
                ROUNDING_MODE,
                _TOPUP_ENABLED,
                _TOPUP_THRESHOLD,
            ],
            region,
            on,
        )
        enabled = values[_TOPUP_ENABLED].flag()
        per_year = param(_TOPUP_PER_YEAR, region, on).decimal() if enabled else Decimal(0)
    divisor = values[_DIVISOR].decimal()
    if divisor <= 0:
        raise BadParameter(key=_DIVISOR, region=region, problem="the divisor must be positive")
    return ResidentPensionRates(
        region=region,
        month=on,
        national_minimum=values[_NATIONAL_MINIMUM].decimal(),
        provincial_topup=values[_PROVINCIAL_TOPUP].decimal(),
        county_topup=values[_COUNTY_TOPUP].decimal(),
        divisor=divisor,
        rounding_mode=check_rounding_mode(values[ROUNDING_MODE].text(), region),
        topup_per_year=per_year,
        topup_threshold_years=values[_TOPUP_THRESHOLD].integer(),
        parameters=trace.as_snapshot(),
    )


def resident_pension_amount(
    *, region: str, month: dt.date, account_balance: Decimal, contribution_years: int
) -> Calculation:
    """The monthly resident pension for `month` (DOMAIN §1.4, E1, E4).

    `account_balance` is the whole personal account (all components and interest, as
    PersonalAccount.balance); `contribution_years` the cumulative years, which only the
    long-contribution top-up reads. Components: basic_pension, account_pension,
    long_contribution_topup; amount is their sum.
    """
    if account_balance < 0:
        raise ValueError(f"a personal-account balance is not negative, got {account_balance}")
    rates = resident_pension_rates(region=region, month=month)
    components = {
        "basic_pension": rates.basic_pension,
        "account_pension": rates.account_pension(account_balance),
        "long_contribution_topup": rates.long_contribution_topup(contribution_years),
    }
    amount = sum(components.values(), Decimal(0))
    return Calculation(
        amount=amount,
        components=components,
        snapshot={
            "rule": "resident_pension.monthly_amount",
            "domain": "§1.4",
            "inputs": jsonable(
                {
                    "region": region,
                    "month": rates.month,
                    "account_balance": account_balance,
                    "contribution_years": contribution_years,
                }
            ),
            "result": jsonable({**components, "amount": amount}),
            "parameters": rates.parameters,
        },
    )


# --- Amount in SQL, for set-based rosters ----------------------------------------------------------

RATES_COLUMNS = (
    ("region_code", "varchar"),
    ("basic_pension", "numeric"),
    ("divisor", "numeric"),
    ("rounding_mode", "text"),
    ("topup_per_year", "numeric"),
    ("topup_threshold_years", "integer"),
)


def resident_pension_rates_sql(*, month: dt.date, regions: Iterable[str], alias: str = "rp") -> SqlValues:
    """The parameters of resident_pension_amount() for each region, as a VALUES table.

    Join it on the 6-digit pooling area: `JOIN {sql} ON rp.region_code = e.pooling_area`. The
    values come from resident_pension_rates(), the very function the Python amount uses.
    """
    rows = []
    parameters = {}
    for region in dict.fromkeys(regions):
        rates = resident_pension_rates(region=region, month=month)
        rows.append(
            [
                region,
                rates.basic_pension,
                rates.divisor,
                rates.rounding_mode,
                rates.topup_per_year,
                rates.topup_threshold_years,
            ]
        )
        parameters[region] = rates.parameters
    return values_sql(alias, RATES_COLUMNS, rows, parameters)


def resident_pension_amount_sql(
    *, account_balance: str, contribution_years: str = "0", alias: str = "rp"
) -> dict[str, str]:
    """SQL expressions of the amount's parts over the rates table `alias` (DOMAIN §1.4).

    `account_balance` and `contribution_years` are SQL expressions of the payee's row (e.g.
    "pa.personal + pa.collective + pa.government_subsidy + pa.proxy_payment + pa.interest").
    Keys: basic_pension, account_pension, long_contribution_topup, amount.
    """
    mode = f"{alias}.rounding_mode"
    basic = f"{alias}.basic_pension"
    account = money_sql(f"CAST({account_balance} AS numeric) / {alias}.divisor", mode)
    topup = money_sql(
        f"{alias}.topup_per_year * GREATEST(0, ({contribution_years}) - {alias}.topup_threshold_years)", mode
    )
    return {
        "basic_pension": basic,
        "account_pension": account,
        "long_contribution_topup": topup,
        "amount": f"({basic} + {account} + {topup})",
    }


# --- Eligibility (DOMAIN §1.5, §1.6, §0.4) -------------------------------------------------------


@dataclass(frozen=True)
class ResidentPensionEligibility(Decision):
    """Decision plus the facts a clerk needs: the first payable month and the transitional group."""

    first_payable_month: dt.date | None = None
    transitional_group: str = ""
    backpay_years_allowed: int = 0


def first_payable_month(
    *, birth_date: dt.date, pension_age: int, rule: str, approved_on: dt.date | None, region: str = ""
) -> dt.date | None:
    """DOMAIN §0.4 and E24: the month the pension starts; None while awaiting approval."""
    birthday_month = dt.date(birth_date.year + pension_age, birth_date.month, 1)
    if rule == "month_of_pension_age":
        return birthday_month
    if rule == "month_after_pension_age":
        return add_months(birthday_month, 1)
    if rule == "month_after_approval":
        if approved_on is None:
            return None
        # Never before the month after the birthday, however early the file was approved.
        return max(add_months(month_start(approved_on), 1), add_months(birthday_month, 1))
    raise BadParameter(
        key=_START_MONTH_RULE, region=region, problem=f"{rule!r} is not one of {', '.join(START_MONTH_RULES)}"
    )


def resident_pension_eligibility(
    *,
    region: str,
    month: dt.date,
    birth_date: dt.date,
    contribution_years: int,
    other_basic_pensions: Collection[str] = (),
    receiving_at_scheme_start: bool = False,
    approved_on: dt.date | None = None,
    death_date: dt.date | None = None,
) -> ResidentPensionEligibility:
    """May this person receive the resident pension for `month`? (DOMAIN §1.5, §1.6, §0.4, §5.4)

    All three conditions of §1.5: the pension age reached by the month (the first payable month
    follows the start-month rule, E24); at least the minimum contribution years (15), or a
    transitional rule by the person's age when the local scheme began (already receiving then;
    already at the pension age then, where the county allows it; fewer than 15 years to go then
    may back-pay up to the cap, E6); and no other basic pension (`other_basic_pensions` lists the
    schemes the person draws in that month, e.g. employee_pension or gov_inst_pension: §1.6 Art 8,
    E7). A death recorded before the month also refuses it (§5.4). Every unmet condition is a
    Refusal naming its rule.
    """
    on = month_start(month)
    refusals: list[Refusal] = []
    with parameter_trace() as trace:
        values = params_for([_PENSION_AGE, _START_MONTH_RULE, _MINIMUM_YEARS], region, on)
        pension_age = values[_PENSION_AGE].integer()
        start = first_payable_month(
            birth_date=birth_date,
            pension_age=pension_age,
            rule=values[_START_MONTH_RULE].text(),
            approved_on=approved_on,
            region=region,
        )
        if start is None:
            refusals.append(
                Refusal(
                    "resident_pension.awaiting_approval",
                    "§0.4",
                    lazy_message(
                        gettext_noop(
                            "The pension starts the month after approval, and it is not approved yet."
                        ),
                        {},
                    ),
                )
            )
        elif on < start:
            refusals.append(
                Refusal(
                    "resident_pension.pension_age",
                    "§1.5",
                    lazy_message(
                        gettext_noop(
                            "The resident pension is paid from age %(age)s; the first payable month "
                            "is %(first)s."
                        ),
                        {"age": pension_age, "first": f"{start:%Y-%m}"},
                    ),
                    {"pension_age": pension_age, "first_payable_month": start},
                )
            )
        group, backpay_allowed, years_refusal = _contribution_years(
            region=region,
            on=on,
            birth_date=birth_date,
            pension_age=pension_age,
            years=contribution_years,
            required=values[_MINIMUM_YEARS].integer(),
            receiving_at_scheme_start=receiving_at_scheme_start,
        )
        if years_refusal is not None:
            refusals.append(years_refusal)
        if other_basic_pensions:
            refusals.append(
                Refusal(
                    "resident_pension.no_dual_receipt",
                    "§1.6",
                    lazy_message(
                        gettext_noop(
                            "A person who receives another basic pension (%(schemes)s) cannot also "
                            "receive the resident pension."
                        ),
                        {"schemes": _scheme_labels(sorted(other_basic_pensions))},
                    ),
                    {"other_basic_pensions": sorted(other_basic_pensions)},
                )
            )
        if death_date is not None:
            last = last_payable_month(region=region, death_date=death_date)
            if on > last:
                refusals.append(_deceased(death_date, last))
    inputs = {
        "region": region,
        "month": on,
        "birth_date": birth_date,
        "contribution_years": contribution_years,
        "other_basic_pensions": sorted(other_basic_pensions),
        "receiving_at_scheme_start": receiving_at_scheme_start,
        "approved_on": approved_on,
        "death_date": death_date,
    }
    result = {
        "eligible": not refusals,
        "refusals": [refusal.as_snapshot() for refusal in refusals],
        "first_payable_month": start,
        "transitional_group": group,
        "backpay_years_allowed": backpay_allowed,
    }
    return ResidentPensionEligibility(
        refusals=tuple(refusals),
        snapshot=make_snapshot(
            rule="resident_pension.eligibility", section="§1.5", inputs=inputs, result=result, trace=trace
        ),
        first_payable_month=start,
        transitional_group=group,
        backpay_years_allowed=backpay_allowed,
    )


def _join_labels(schemes: list[str]) -> str:
    return ", ".join(str(Scheme(s).label) if s in Scheme.values else s for s in schemes)


# Joined when shown, so the scheme names speak the reader's language.
_scheme_labels = lazy(_join_labels, str)


def _deceased(death_date: dt.date, last: dt.date) -> Refusal:
    return Refusal(
        "benefit.deceased",
        "§5.4",
        lazy_message(
            gettext_noop("The person died on %(date)s; the last payable month is %(last)s."),
            {"date": death_date.isoformat(), "last": f"{last:%Y-%m}"},
        ),
        {"death_date": death_date, "last_payable_month": last},
    )


def _contribution_years(
    *,
    region: str,
    on: dt.date,
    birth_date: dt.date,
    pension_age: int,
    years: int,
    required: int,
    receiving_at_scheme_start: bool,
) -> tuple[str, int, Refusal | None]:
    """(transitional group, back-payable years, refusal or None): DOMAIN §1.5 "Transitional rules".

    The transitional parameters are read only for someone short of the required years.
    """
    if years >= required:
        return "", 0, None
    values = params_for([_SCHEME_START, _YEARS_TO_GO, _BACKPAY_CAP, _WITHOUT_CONTRIBUTION], region, on)
    scheme_start = dt.date(*values[_SCHEME_START].year_month(), 1)
    age_at_start = age_on(birth_date, scheme_start)
    if receiving_at_scheme_start:
        return "receiving_at_scheme_start", 0, None
    if age_at_start >= pension_age:
        if values[_WITHOUT_CONTRIBUTION].flag():
            return "pension_age_at_scheme_start", 0, None
        group = "pension_age_at_scheme_start"
        backpay_allowed = 0
    elif pension_age - age_at_start < values[_YEARS_TO_GO].integer():
        # Pay every year; back-payment allowed, the total not above the cap (E6: 12 paid → 3 more).
        group = "near_pension_age_at_scheme_start"
        backpay_allowed = max(0, min(required, values[_BACKPAY_CAP].integer()) - years)
    else:
        group = "standard"
        backpay_allowed = 0
    refusal = Refusal(
        "resident_pension.minimum_contribution_years",
        "§1.5",
        lazy_message(
            gettext_noop(
                "The resident pension needs %(required)s years of contributions; %(years)s are paid "
                "and up to %(backpay)s more may be back-paid."
            ),
            {"required": required, "years": years, "backpay": backpay_allowed},
        ),
        {
            "required_years": required,
            "contribution_years": years,
            "years_missing": required - years,
            "backpay_years_allowed": backpay_allowed,
            "transitional_group": group,
            "scheme_start": scheme_start,
            "age_at_scheme_start": age_at_start,
        },
    )
    return group, backpay_allowed, refusal


# --- Dual receipt (DOMAIN §1.6 Art 8, E7) -----------------------------------------------------------


@dataclass(frozen=True)
class AccountBalances:
    """A resident personal account by component (enrollment.PersonalAccount)."""

    personal: Decimal = Decimal(0)
    collective: Decimal = Decimal(0)
    government_subsidy: Decimal = Decimal(0)
    proxy_payment: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)


@dataclass(frozen=True)
class DualReceiptSettlement:
    """Closing a resident pension drawn beside another basic pension (§1.6 Art 8)."""

    recovery: Decimal  # the resident basic pension paid for months of the other pension
    recovered_months: tuple[dt.date, ...]
    refund: Decimal  # the account refunded to the person, without government subsidies
    snapshot: dict[str, Any]


def resident_pension_dual_receipt_settlement(
    *,
    region: str,
    on: dt.date,
    other_pension_from: dt.date,
    basic_pension_paid: Mapping[dt.date, Decimal],
    account: AccountBalances,
) -> DualReceiptSettlement:
    """DOMAIN §1.6 Art 8, E7: recover the basic pension paid while the other pension ran; refund
    the account less government subsidies (and less proxy payments unless the county refunds them).

    `basic_pension_paid` maps each paid month to its basic-pension part; months before
    `other_pension_from` were rightly paid and are kept.
    """
    first = month_start(other_pension_from)
    with parameter_trace() as trace:
        proxy_refunded = param(_PROXY_REFUNDED, region, on).flag()
        mode = check_rounding_mode(param(ROUNDING_MODE, region, on).text(), region)
    months = tuple(sorted(month_start(m) for m in basic_pension_paid if month_start(m) >= first))
    recovery = round_money(
        sum((basic_pension_paid[m] for m in basic_pension_paid if month_start(m) >= first), Decimal(0)), mode
    )
    refund = account.personal + account.collective + account.interest
    if proxy_refunded:
        refund += account.proxy_payment
    result = {"recovery": recovery, "recovered_months": list(months), "refund": round_money(refund, mode)}
    inputs = {
        "region": region,
        "on": on,
        "other_pension_from": first,
        "basic_pension_paid": {m: a for m, a in sorted(basic_pension_paid.items())},
        "account": account.__dict__,
    }
    return DualReceiptSettlement(
        recovery=recovery,
        recovered_months=months,
        refund=result["refund"],
        snapshot=make_snapshot(
            rule="resident_pension.dual_receipt_settlement",
            section="§1.6",
            inputs=inputs,
            result=result,
            trace=trace,
        ),
    )


__all__ = [
    "START_MONTH_RULES",
    "AccountBalances",
    "DualReceiptSettlement",
    "ResidentPensionEligibility",
    "ResidentPensionRates",
    "first_payable_month",
    "resident_pension_amount",
    "resident_pension_amount_sql",
    "resident_pension_dual_receipt_settlement",
    "resident_pension_eligibility",
    "resident_pension_rates",
    "resident_pension_rates_sql",
]
