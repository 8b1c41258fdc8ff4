"""What every calculation shares (benefits, proxy payment): results with their snapshot, refusals,
months, money in SQL.

A calculation is a pure function over its inputs and param() lookups. It returns its answer
together with a snapshot: the inputs, the result and the policy-parameter rows it read (with
their values), JSON-serialisable, so an entitlement can store exactly what it was decided on
(DOMAIN §8.1 BenefitEntitlement "calculation snapshot").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

from socialsec.core.exceptions import InvalidState
from socialsec.core.parameters import ParameterTrace, region_chain
from socialsec.lib.money import ROUNDING_MODES

ROUNDING_MODE = "general.money.rounding_mode"  # DOMAIN §0.3


def _interpolate(message: str, params: Mapping[str, Any]) -> str:
    return gettext(message) % params


# Translated when shown, not when decided: a refusal stored by a task speaks its reader's language.
lazy_message = lazy(_interpolate, str)


class BadParameter(InvalidState):
    """A parameter row in force holds a value the rule cannot use: the table needs fixing (409)."""

    code = "bad_parameter"

    def __init__(self, *, key: str, region: str, problem: str) -> None:
        message = lazy_message(
            # Translators: key is a dotted parameter name, region a division code; problem is English.
            gettext_noop("The policy parameter %(key)s for region %(region)s cannot be used: %(problem)s"),
            {"key": key, "region": region, "problem": problem},
        )
        super().__init__(message, key=key, region=region, problem=problem)


# --- JSON ---------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Decimals as strings (a float would lose the fen), dates as ISO, containers recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def make_snapshot(
    *,
    rule: str,
    section: str,
    inputs: Mapping[str, Any],
    result: Mapping[str, Any],
    trace: ParameterTrace | list[dict[str, Any]],
) -> dict[str, Any]:
    """The record an entitlement keeps: which rule, on what inputs, with which parameter rows.

    `trace` is the parameter_trace() of the calculation, or its rows already taken as a snapshot.
    """
    return {
        "rule": rule,
        "domain": section,
        "inputs": jsonable(inputs),
        "result": jsonable(result),
        "parameters": trace if isinstance(trace, list) else trace.as_snapshot(),
    }


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One unmet condition: the rule's dotted name, its DOMAIN section, a message and details."""

    rule: str
    section: str
    message: Any  # lazily translated str
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_snapshot(self) -> dict[str, Any]:
        return {"rule": self.rule, "domain": self.section, **jsonable(self.details)}


@dataclass(frozen=True)
class Decision:
    """An eligibility answer: every unmet condition (none when eligible) and the snapshot."""

    refusals: tuple[Refusal, ...]
    snapshot: dict[str, Any]

    @property
    def eligible(self) -> bool:
        return not self.refusals

    @property
    def rules(self) -> list[str]:
        """The refusing rules, in the order the conditions are checked."""
        return [refusal.rule for refusal in self.refusals]

    def raise_if_refused(self, **ids: Any) -> None:
        """InvalidState (409) with the first refusal's message, naming every refusing rule."""
        if self.refusals:
            first = self.refusals[0]
            raise InvalidState(
                first.message,
                rule=first.rule,
                rules=self.rules,
                refusals=[refusal.as_snapshot() for refusal in self.refusals],
                **ids,
            )


@dataclass(frozen=True)
class Calculation:
    """A monthly amount, its parts (which add up to it) and the snapshot."""

    amount: Decimal
    components: Mapping[str, Decimal]
    snapshot: dict[str, Any]


# --- Months and ages ----------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """Benefits are monthly (DOMAIN §0.4): a month is its first day."""
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_from(first: dt.date, later: dt.date) -> int:
    """Whole calendar months from `first`'s month to `later`'s month (negative when earlier)."""
    return (later.year - first.year) * 12 + later.month - first.month


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years on `day`; someone born on 29 February turns a year older on 1 March."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def county_of(region: str) -> str:
    """The 6-digit code a parameter lookup answers for (validates the code as param() does)."""
    return region_chain(region)[0]


# --- SQL ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlValues:
    """A small table of per-region parameters as `(VALUES …) AS alias (columns)`, for a FROM/JOIN.

    `params` fill the placeholders of `sql`, in order. `parameters` keeps, per region, the
    parameter rows the values came from, so a set-based writer can store them as a snapshot.
    """

    sql: str
    params: list[Any]
    alias: str
    columns: tuple[str, ...]
    parameters: dict[str, list[dict[str, Any]]]


def values_sql(
    alias: str, columns: Iterable[tuple[str, str]], rows: list[list[Any]], parameters: dict[str, Any]
) -> SqlValues:
    """`(VALUES (%s::type, …), …) AS alias (name, …)`; each column is (name, PostgreSQL type)."""
    columns = tuple(columns)
    if not rows:
        raise ValueError("a VALUES table needs at least one row: pass at least one region")
    if not alias.isidentifier():
        raise ValueError(f"not an SQL alias: {alias!r}")
    row_sql = "(" + ", ".join(f"%s::{sql_type}" for _, sql_type in columns) + ")"
    names = ", ".join(name for name, _ in columns)
    return SqlValues(
        sql=f"(VALUES {', '.join([row_sql] * len(rows))}) AS {alias} ({names})",
        params=[value for row in rows for value in row],
        alias=alias,
        columns=tuple(name for name, _ in columns),
        parameters=parameters,
    )


def money_sql(expression: str, mode: str) -> str:
    """SQL rounding `expression` to fen exactly as socialsec.lib.money.round_money does in `mode`.

    `mode` is an SQL expression giving one of the rounding modes (a VALUES column), so regions
    with different modes can share one statement. PostgreSQL's round(numeric) rounds half away
    from zero, which is Decimal's ROUND_HALF_UP; trunc() is ROUND_DOWN; half-even rounds an exact
    half-fen to the even fen. Division: both sides divide to far more places than a fen needs,
    and a quotient of 2-decimal amounts by a divisor with few decimals is either an exact half
    or at least 1e-8 away from one, so both sides pick the same fen.
    """
    hundredths = f"(({expression}) * 100)"
    half_even = (
        f"CASE WHEN abs({hundredths} - trunc({hundredths})) = 0.5 AND mod(trunc({hundredths}), 2) = 0 "
        f"THEN round(trunc({hundredths}) / 100, 2) ELSE round(({expression}), 2) END"
    )
    # No ELSE: the builders check every mode with check_rounding_mode() before it reaches SQL.
    return (
        f"(CASE {mode} WHEN 'half_up' THEN round(({expression}), 2) "
        f"WHEN 'down' THEN trunc(({expression}), 2) "
        f"WHEN 'half_even' THEN {half_even} END)"
    )


def check_rounding_mode(mode: str, region: str) -> str:
    """The mode, if socialsec.lib.money knows it; BadParameter otherwise."""
    if mode not in ROUNDING_MODES:
        raise BadParameter(key=ROUNDING_MODE, region=region, problem=f"unknown rounding mode {mode!r}")
    return mode
