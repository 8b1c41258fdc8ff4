"""Stopping a benefit on death, and what was paid too much after it (DOMAIN §5.4 "DEATH", §1.4, E9).

Whether the death month itself is paid is a local rule (unconfirmed), so it is the parameter
general.death.death_month_payable: true pays through the death month and stops from the next
(E9: death on 2025-03-10 → stop from 2025-04), false stops from the death month.
death_stop_sql() gives the same rule as a VALUES table and an SQL expression, for the monthly
sweep's set-based stop of every entitlement of a person recorded dead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from socialsec.core.calculations import (
    ROUNDING_MODE,
    SqlValues,
    add_months,
    check_rounding_mode,
    make_snapshot,
    month_start,
    values_sql,
)
from socialsec.core.parameters import param, parameter_trace, params_for
from socialsec.lib.money import round_money

DEATH_MONTH_PAYABLE = "general.death.death_month_payable"


def last_payable_month(*, region: str, death_date: dt.date) -> dt.date:
    """The last month a benefit is due for someone who died on `death_date` (rule in force then)."""
    payable = param(DEATH_MONTH_PAYABLE, region, death_date).flag()
    return month_start(death_date) if payable else add_months(month_start(death_date), -1)


@dataclass(frozen=True)
class DeathStop:
    """Stop from `stop_month`; the months after `last_payable_month` that were paid are overpaid."""

    last_payable_month: dt.date
    stop_month: dt.date
    overpaid_months: tuple[dt.date, ...]
    overpaid: Decimal
    snapshot: dict[str, Any]


def death_stop(
    *, region: str, death_date: dt.date, paid_months: Mapping[dt.date, Decimal] | None = None
) -> DeathStop:
    """DOMAIN §5.4, E9: the stop month, and the overpayment among `paid_months` (month → amount paid).

    E9: died 2025-03-10, paid 180 a month through June, death month payable → stop from 2025-04,
    overpaid April-June = 540.
    """
    paid = {month_start(month): amount for month, amount in (paid_months or {}).items()}
    with parameter_trace() as trace:
        last = last_payable_month(region=region, death_date=death_date)
        mode = check_rounding_mode(param(ROUNDING_MODE, region, death_date).text(), region)
    overpaid_months = tuple(sorted(month for month in paid if month > last))
    overpaid = round_money(sum((paid[month] for month in overpaid_months), Decimal(0)), mode)
    stop = add_months(last, 1)
    return DeathStop(
        last_payable_month=last,
        stop_month=stop,
        overpaid_months=overpaid_months,
        overpaid=overpaid,
        snapshot=make_snapshot(
            rule="benefit.death_stop",
            section="§5.4",
            inputs={"region": region, "death_date": death_date, "paid_months": dict(sorted(paid.items()))},
            result={
                "last_payable_month": last,
                "stop_month": stop,
                "overpaid_months": list(overpaid_months),
                "overpaid": overpaid,
            },
            trace=trace,
        ),
    )


DEATH_COLUMNS = (("region_code", "varchar"), ("death_month_paid", "integer"))


def death_stop_sql(*, regions: Iterable[str], on: dt.date, alias: str = "ds") -> SqlValues:
    """The death-month rule of each region in force on `on`, as `(region_code, death_month_paid)`.

    death_month_paid is 1 where the death month is payable, else 0. With death_stop_month_sql()
    it gives the same stop month as death_stop(). The rule is read on one day for every row (the
    sweep's day), where death_stop() reads it on the death date: the two differ only if the rule
    changed between the two days.
    """
    rows = []
    parameters = {}
    for region in dict.fromkeys(regions):
        with parameter_trace() as trace:
            payable = params_for([DEATH_MONTH_PAYABLE], region, on)[DEATH_MONTH_PAYABLE].flag()
        rows.append([region, 1 if payable else 0])
        parameters[region] = trace.as_snapshot()
    return values_sql(alias, DEATH_COLUMNS, rows, parameters)


def death_stop_month_sql(death_date: str, alias: str = "ds") -> str:
    """SQL: the first month not payable (a date, the 1st) for the death date expression `death_date`."""
    return f"CAST(date_trunc('month', {death_date}) + {alias}.death_month_paid * interval '1 month' AS date)"
