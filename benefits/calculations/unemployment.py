"""Unemployment benefit (失业保险金) and the temporary unemployment subsidy (失业补助金), DOMAIN §3.

- Eligibility (§3.1 [S2 Art45, S3 Art14]): contributions for at least the minimum years,
  employment ended against the person's will, and unemployment registration (E11-E13).
- Duration (§3.2): the region's table of contribution years → months (national and Guangdong
  tables are data); after re-employment the new months are added to the unused remainder, up
  to the maximum (E11, E15).
- Amount (§3.3): the region's share of the local minimum wage, never below the urban 低保
  standard [S2 Art47] (E11).
- Stop (§3.4): the first unpaid month, from a pension start (that very month, E14), death
  (§5.4 rule), re-employment and the other events (a parameter says which month), Guangdong's
  missed check-ins, or the duration running out.
- Subsidy (§3.5): a temporary policy in force on the policy's dates, paid at local amounts for
  up to 6 months to the insured unemployed who do not qualify, or whose benefit ran out (E12, E13).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from benefits.calculations.death import last_payable_month
from socialsec.core.calculations import (
    ROUNDING_MODE,
    BadParameter,
    Calculation,
    Decision,
    Refusal,
    add_months,
    check_rounding_mode,
    lazy_message,
    make_snapshot,
    month_start,
    months_from,
)
from socialsec.core.parameters import param, parameter_trace, params_for
from socialsec.lib.money import round_money

_MINIMUM_YEARS = "unemployment_benefit.minimum_contribution_years"
_DURATION_TABLE = "unemployment_benefit.duration_table"
_MAX_TOTAL_MONTHS = "unemployment_benefit.max_total_months"
_WAGE_RATIO = "unemployment_benefit.minimum_wage_ratio"
_MINIMUM_WAGE = "general.minimum_wage.monthly"  # local, not seeded
_URBAN_STANDARD = "minimum_living_allowance.standard.urban"  # local, not seeded
_STOP_MONTH_RULE = "unemployment_benefit.stop_month_rule"
_MISSED_CHECKINS = "unemployment_benefit.missed_checkins_as_reemployment"
_SUBSIDY_IN_FORCE = "unemployment_subsidy.in_force"
_SUBSIDY_TIERS = "unemployment_subsidy.amount_tiers"  # local, not seeded nationally
_SUBSIDY_MAX_MONTHS = "unemployment_subsidy.max_months"
_SUBSIDY_CAP = "unemployment_subsidy.benefit_ratio_cap"
_SUBSIDY_ONCE = "unemployment_subsidy.once_only"

STOP_MONTH_RULES = ("month_after_event", "event_month")


# --- Eligibility (DOMAIN §3.1) ----------------------------------------------------------------------


def unemployment_benefit_eligibility(
    *,
    region: str,
    on: dt.date,
    contribution_months: int,
    left_involuntarily: bool,
    registered_unemployed: bool,
) -> Decision:
    """All three conditions of DOMAIN §3.1 [S2 Art45, S3 Art14]; each unmet one is a Refusal.

    `contribution_months`: cumulative months the employer and the person paid unemployment
    insurance before the unemployment. `on`: the unemployment registration day (the benefit runs
    from it, §0.4). E11 eligible; E12 (11 months) and E13 (resigned) refused.
    """
    with parameter_trace() as trace:
        minimum_years = param(_MINIMUM_YEARS, region, on).integer()
    refusals = []
    if contribution_months < minimum_years * 12:
        refusals.append(
            Refusal(
                "unemployment_benefit.minimum_contribution",
                "§3.1",
                lazy_message(
                    gettext_noop(
                        "Unemployment benefit needs %(years)s year(s) of contributions; %(months)s "
                        "month(s) are paid."
                    ),
                    {"years": minimum_years, "months": contribution_months},
                ),
                {"minimum_months": minimum_years * 12, "contribution_months": contribution_months},
            )
        )
    if not left_involuntarily:
        refusals.append(
            Refusal(
                "unemployment_benefit.involuntary_separation",
                "§3.1",
                lazy_message(
                    gettext_noop("Unemployment benefit is for employment ended against the person's will."),
                    {},
                ),
            )
        )
    if not registered_unemployed:
        refusals.append(
            Refusal(
                "unemployment_benefit.unemployment_registration",
                "§3.1",
                lazy_message(gettext_noop("Unemployment benefit needs unemployment registration."), {}),
            )
        )
    inputs = {
        "region": region,
        "on": on,
        "contribution_months": contribution_months,
        "left_involuntarily": left_involuntarily,
        "registered_unemployed": registered_unemployed,
    }
    result = {"eligible": not refusals, "refusals": [r.as_snapshot() for r in refusals]}
    return Decision(
        refusals=tuple(refusals),
        snapshot=make_snapshot(
            rule="unemployment_benefit.eligibility", section="§3.1", inputs=inputs, result=result, trace=trace
        ),
    )


# --- Duration (DOMAIN §3.2) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    months: int  # the entitlement: new months plus the carried-over remainder, at most the maximum
    new_months: int  # from this claim's contributions
    carried_over_months: int  # the unused remainder of an earlier claim
    snapshot: dict[str, Any]


def months_for_contribution(table: Any, contribution_months: int, *, region: str = "") -> int:
    """Months of benefit for cumulative contribution months, by a duration table (DOMAIN §3.2).

    Each row: from `min_years` of contributions, `max_months`, plus one month per full
    `plus_one_month_per_months` beyond min_years when the row has it (Guangdong). The last row
    reached applies; below the first row there is no benefit.
    """
    if not isinstance(table, list) or not table:
        problem = "the table is a non-empty list of rows"
        raise BadParameter(key=_DURATION_TABLE, region=region, problem=problem)
    reached = None
    for row in sorted(table, key=lambda row: Decimal(str(row["min_years"]))):
        from_months = Decimal(str(row["min_years"])) * 12
        if from_months != from_months.to_integral_value():
            raise BadParameter(key=_DURATION_TABLE, region=region, problem="min_years must be whole months")
        if contribution_months >= from_months:
            reached = (row, int(from_months))
    if reached is None:
        return 0
    row, from_months = reached
    months = int(row["max_months"])
    if row.get("plus_one_month_per_months"):
        months += (contribution_months - from_months) // int(row["plus_one_month_per_months"])
    return months


def unemployment_benefit_duration(
    *, region: str, on: dt.date, contribution_months: int, remaining_months: int = 0
) -> Duration:
    """DOMAIN §3.2: months of benefit from cumulative contributions, by the region's table.

    After re-employment the contribution time restarts, and the new months are added to the
    `remaining_months` of the earlier claim, up to unemployment_benefit.max_total_months (24).
    E11: 7 years → 18 months (national) or 10 (Guangdong). E15: 2 new years and 8 left → 20.
    """
    if remaining_months < 0 or contribution_months < 0:
        raise ValueError("months are not negative")
    with parameter_trace() as trace:
        values = params_for([_DURATION_TABLE, _MAX_TOTAL_MONTHS], region, on)
    new_months = months_for_contribution(values[_DURATION_TABLE].table(), contribution_months, region=region)
    months = min(new_months + remaining_months, values[_MAX_TOTAL_MONTHS].integer())
    return Duration(
        months=months,
        new_months=new_months,
        carried_over_months=remaining_months,
        snapshot=make_snapshot(
            rule="unemployment_benefit.duration",
            section="§3.2",
            inputs={
                "region": region,
                "on": on,
                "contribution_months": contribution_months,
                "remaining_months": remaining_months,
            },
            result={"months": months, "new_months": new_months, "carried_over_months": remaining_months},
            trace=trace,
        ),
    )


# --- Amount (DOMAIN §3.3) ----------------------------------------------------------------------


def unemployment_benefit_amount(*, region: str, month: dt.date) -> Calculation:
    """DOMAIN §3.3: the region's share of the minimum wage where the benefit is received, rounded,
    and never below the urban 低保 standard [S2 Art47]. E11: 90% × 2,000 = 1,800.

    Components: by_minimum_wage (the share), floor (the 低保 standard); amount is the larger.
    """
    on = month_start(month)
    with parameter_trace() as trace:
        values = params_for([_WAGE_RATIO, _MINIMUM_WAGE, _URBAN_STANDARD, ROUNDING_MODE], region, on)
    mode = check_rounding_mode(values[ROUNDING_MODE].text(), region)
    by_wage = round_money(values[_WAGE_RATIO].decimal() * values[_MINIMUM_WAGE].decimal(), mode)
    floor = round_money(values[_URBAN_STANDARD].decimal(), mode)
    amount = max(by_wage, floor)
    components = {"by_minimum_wage": by_wage, "floor": floor}
    return Calculation(
        amount=amount,
        components=components,
        snapshot=make_snapshot(
            rule="unemployment_benefit.monthly_amount",
            section="§3.3",
            inputs={"region": region, "month": on},
            result={**components, "amount": amount},
            trace=trace,
        ),
    )


# --- Stop (DOMAIN §3.4) -----------------------------------------------------------------------------


class StopReason(models.TextChoices):
    """Why unemployment benefit stops (DOMAIN §3.4 [S2 Art51, S3 Art15], §5.4, §3.2)."""

    REEMPLOYED = "reemployed", _("Re-employed")
    CONSCRIPTED = "conscripted", _("Conscripted")
    EMIGRATED = "emigrated", _("Emigrated")
    PENSION_STARTED = "pension_started", _("Started receiving a basic pension")
    IMPRISONED = "imprisoned", _("Imprisoned")
    REFUSED_WORK_OR_TRAINING = "refused_work_or_training", _("Refused suitable work or training")
    MISSED_CHECKINS = "missed_checkins", _("Missed check-ins (counted as re-employment)")
    DIED = "died", _("Died")
    DURATION_EXHAUSTED = "duration_exhausted", _("Entitlement period used up")


@dataclass(frozen=True)
class StopEvent:
    reason: str  # a StopReason other than MISSED_CHECKINS, DIED, DURATION_EXHAUSTED
    on: dt.date  # the day; for PENSION_STARTED any day of the pension's first month


@dataclass(frozen=True)
class UnemploymentStop:
    stop_month: dt.date  # the first month not paid
    reason: str
    months_paid: int  # months from the start month up to the stop month
    snapshot: dict[str, Any]


_EVENT_REASONS = frozenset(StopReason.values) - {
    StopReason.MISSED_CHECKINS,
    StopReason.DIED,
    StopReason.DURATION_EXHAUSTED,
}


def unemployment_benefit_stop(
    *,
    region: str,
    start_month: dt.date,
    duration_months: int,
    events: Iterable[StopEvent] = (),
    missed_checkin_months: Iterable[dt.date] = (),
    death_date: dt.date | None = None,
) -> UnemploymentStop:
    """The first month not paid, and why (DOMAIN §3.4); the earliest cause wins.

    A pension start stops it from the pension's first month [S2 Art51(4)] (E14); death from the
    §5.4 death-month rule; re-employment, conscription, emigration, imprisonment and refusing
    suitable work or training from the month the stop_month_rule parameter says; where the
    region counts N missed check-ins in a row as re-employment (Guangdong: 2), from the Nth; and
    at the latest when the `duration_months` from `start_month` run out.
    """
    start = month_start(start_month)
    exhausted = add_months(start, duration_months)
    candidates: list[tuple[dt.date, str]] = [(exhausted, StopReason.DURATION_EXHAUSTED)]
    with parameter_trace() as trace:
        values = params_for([_STOP_MONTH_RULE, _MISSED_CHECKINS], region, start)
        rule = values[_STOP_MONTH_RULE].text()
        if rule not in STOP_MONTH_RULES:
            problem = f"{rule!r} is not one of {', '.join(STOP_MONTH_RULES)}"
            raise BadParameter(key=_STOP_MONTH_RULE, region=region, problem=problem)
        lag = 1 if rule == "month_after_event" else 0
        for event in events:
            if event.reason not in _EVENT_REASONS:
                raise ValueError(f"not a stop event: {event.reason!r}")
            month = month_start(event.on)
            if event.reason == StopReason.PENSION_STARTED:
                candidates.append((month, StopReason.PENSION_STARTED))
            else:
                candidates.append((add_months(month, lag), event.reason))
        run_length = values[_MISSED_CHECKINS].integer()
        if run_length > 0:
            run_end = _first_run(sorted({month_start(m) for m in missed_checkin_months}), run_length)
            if run_end is not None:
                candidates.append((add_months(run_end, lag), StopReason.MISSED_CHECKINS))
        if death_date is not None:
            candidates.append(
                (add_months(last_payable_month(region=region, death_date=death_date), 1), StopReason.DIED)
            )
    # The earliest month wins; on a tie, the order above (the entitlement's own end first).
    stop_month, reason = min(candidates, key=lambda candidate: candidate[0])
    months_paid = max(0, months_from(start, stop_month))
    return UnemploymentStop(
        stop_month=stop_month,
        reason=str(reason),
        months_paid=months_paid,
        snapshot=make_snapshot(
            rule="unemployment_benefit.stop",
            section="§3.4",
            inputs={
                "region": region,
                "start_month": start,
                "duration_months": duration_months,
                "events": [{"reason": str(e.reason), "on": e.on} for e in events],
                "missed_checkin_months": sorted({month_start(m) for m in missed_checkin_months}),
                "death_date": death_date,
            },
            result={"stop_month": stop_month, "reason": str(reason), "months_paid": months_paid},
            trace=trace,
        ),
    )


def _first_run(months: list[dt.date], length: int) -> dt.date | None:
    """The month completing the first run of `length` consecutive months, if any."""
    run = 0
    previous = None
    for month in months:
        run = run + 1 if previous is not None and add_months(previous, 1) == month else 1
        if run >= length:
            return month
        previous = month
    return None


# --- Unemployment subsidy (DOMAIN §3.5) ------------------------------------------------------------

# Who the subsidy is for (DOMAIN §3.5), the vocabulary of unemployment_subsidy.amount_tiers.
BENEFIT_EXHAUSTED = "benefit_exhausted"  # the benefit ran out and the person is still unemployed
SHORT_CONTRIBUTION = "short_contribution"  # insured, but under the minimum contribution
LEFT_VOLUNTARILY = "left_voluntarily"  # contributed long enough, but left of their own will
SITUATIONS = (BENEFIT_EXHAUSTED, SHORT_CONTRIBUTION, LEFT_VOLUNTARILY)


@dataclass(frozen=True)
class SubsidyDecision(Decision):
    situation: str = ""
    amount: Decimal = Decimal(0)
    max_months: int = 0


def unemployment_subsidy_decision(
    *,
    region: str,
    month: dt.date,
    contribution_months: int,
    left_involuntarily: bool,
    registered_unemployed: bool,
    benefit_exhausted: bool = False,
    receiving_unemployment_benefit: bool = False,
    received_subsidy_before: bool = False,
) -> SubsidyDecision:
    """DOMAIN §3.5: the temporary unemployment subsidy for `month`, if a policy is in force then.

    For the registered, insured unemployed who receive no unemployment benefit and either used
    it up, or do not qualify for it (contributions under the minimum: E12; left voluntarily:
    E13). The amount is the first local tier matching the situation (a fixed amount or a share
    of the local unemployment-benefit amount), capped at benefit_ratio_cap × that amount; paid
    for up to max_months, once where the region says so. No policy in force → refused.
    """
    on = month_start(month)
    refusals: list[Refusal] = []
    situation = ""
    amount = Decimal(0)
    max_months = 0
    with parameter_trace() as trace:
        if not param(_SUBSIDY_IN_FORCE, region, on).flag():
            refusals.append(
                _subsidy_refusal(
                    "unemployment_subsidy.not_in_force",
                    gettext_noop("No unemployment subsidy policy is in force in %(month)s."),
                    month=f"{on:%Y-%m}",
                )
            )
        else:
            situation, amount, max_months = _subsidy(
                refusals,
                region=region,
                on=on,
                contribution_months=contribution_months,
                left_involuntarily=left_involuntarily,
                registered_unemployed=registered_unemployed,
                benefit_exhausted=benefit_exhausted,
                receiving_unemployment_benefit=receiving_unemployment_benefit,
                received_subsidy_before=received_subsidy_before,
            )
    if refusals:
        situation, amount, max_months = "", Decimal(0), 0
    inputs = {
        "region": region,
        "month": on,
        "contribution_months": contribution_months,
        "left_involuntarily": left_involuntarily,
        "registered_unemployed": registered_unemployed,
        "benefit_exhausted": benefit_exhausted,
        "receiving_unemployment_benefit": receiving_unemployment_benefit,
        "received_subsidy_before": received_subsidy_before,
    }
    result = {
        "eligible": not refusals,
        "refusals": [r.as_snapshot() for r in refusals],
        "situation": situation,
        "amount": amount,
        "max_months": max_months,
    }
    return SubsidyDecision(
        refusals=tuple(refusals),
        snapshot=make_snapshot(
            rule="unemployment_subsidy", section="§3.5", inputs=inputs, result=result, trace=trace
        ),
        situation=situation,
        amount=amount,
        max_months=max_months,
    )


def _subsidy(
    refusals: list[Refusal],
    *,
    region: str,
    on: dt.date,
    contribution_months: int,
    left_involuntarily: bool,
    registered_unemployed: bool,
    benefit_exhausted: bool,
    receiving_unemployment_benefit: bool,
    received_subsidy_before: bool,
) -> tuple[str, Decimal, int]:
    values = params_for([_SUBSIDY_MAX_MONTHS, _SUBSIDY_CAP, _SUBSIDY_ONCE, ROUNDING_MODE], region, on)
    mode = check_rounding_mode(values[ROUNDING_MODE].text(), region)
    if receiving_unemployment_benefit:
        refusals.append(
            _subsidy_refusal(
                "unemployment_subsidy.receiving_benefit",
                gettext_noop("The subsidy is not paid beside unemployment benefit."),
            )
        )
    if not registered_unemployed:
        refusals.append(
            _subsidy_refusal(
                "unemployment_subsidy.unemployment_registration",
                gettext_noop("The subsidy needs unemployment registration."),
            )
        )
    if contribution_months <= 0:
        refusals.append(
            _subsidy_refusal(
                "unemployment_subsidy.not_insured",
                gettext_noop("The subsidy is for persons insured against unemployment."),
            )
        )
    if values[_SUBSIDY_ONCE].flag() and received_subsidy_before:
        refusals.append(
            _subsidy_refusal("unemployment_subsidy.once_only", gettext_noop("The subsidy is paid only once."))
        )
    if benefit_exhausted:
        situation = BENEFIT_EXHAUSTED
    else:
        minimum_months = param(_MINIMUM_YEARS, region, on).integer() * 12
        if contribution_months < minimum_months:
            situation = SHORT_CONTRIBUTION
        elif not left_involuntarily:
            situation = LEFT_VOLUNTARILY
        else:
            situation = ""
            refusals.append(
                _subsidy_refusal(
                    "unemployment_subsidy.eligible_for_benefit",
                    gettext_noop("The person qualifies for unemployment benefit, not the subsidy."),
                )
            )
    if refusals:
        return "", Decimal(0), 0
    tier = _tier(param(_SUBSIDY_TIERS, region, on).table(), situation, contribution_months, region)
    if tier is None:
        refusals.append(
            _subsidy_refusal(
                "unemployment_subsidy.no_local_amount",
                gettext_noop("The local subsidy has no amount for this situation (%(situation)s)."),
                situation=situation,
            )
        )
        return "", Decimal(0), 0
    benefit = unemployment_benefit_amount(region=region, month=on).amount
    if "amount" in tier:
        amount = Decimal(str(tier["amount"]))
    else:
        amount = Decimal(str(tier["ratio_of_benefit"])) * benefit
    amount = round_money(min(amount, values[_SUBSIDY_CAP].decimal() * benefit), mode)
    return situation, amount, values[_SUBSIDY_MAX_MONTHS].integer()


def _tier(table: Any, situation: str, contribution_months: int, region: str) -> dict[str, Any] | None:
    if not isinstance(table, list):
        raise BadParameter(key=_SUBSIDY_TIERS, region=region, problem="the tiers are a list of objects")
    for tier in table:
        if not isinstance(tier, dict) or ("amount" in tier) == ("ratio_of_benefit" in tier):
            raise BadParameter(
                key=_SUBSIDY_TIERS, region=region, problem="each tier has either amount or ratio_of_benefit"
            )
        unknown = set(tier.get("situations", ())) - set(SITUATIONS)
        if unknown:
            raise BadParameter(
                key=_SUBSIDY_TIERS, region=region, problem=f"unknown situations {', '.join(sorted(unknown))}"
            )
        if situation not in tier.get("situations", ()):
            continue
        if contribution_months < int(tier.get("min_contribution_months", 0)):
            continue
        if "max_contribution_months" in tier and contribution_months > int(tier["max_contribution_months"]):
            continue
        return tier
    return None


def _subsidy_refusal(rule: str, message: str, **details: Any) -> Refusal:
    return Refusal(rule, "§3.5", lazy_message(message, details), details)
