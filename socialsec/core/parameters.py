"""Reading policy parameters: the one door every calculation uses (DOMAIN §0.2).

    with parameter_trace() as trace:
        basic = param("resident_pension.basic_pension.national_minimum", "360121", on=month_start)
        amount = basic.decimal() + balance / param(DIVISOR_KEY, "360121", on=month_start).decimal()
    snapshot["parameters"] = trace.as_snapshot()

A lookup answers with the row in force on the date for the most specific region:
county -> its prefecture (xxxx00) -> its province (xx0000) -> national (000000).
Each answer carries the row id, and every open parameter_trace() records it, so a
calculation can keep exactly which rows it used.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.db.models import Q, QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from socialsec.core.exceptions import InvalidState
from socialsec.core.parameter_choices import ParameterKind
from socialsec.lib.retirement import CATEGORIES, CohortRule, RetirementRules

NATIONAL = "000000"
_REGION = re.compile(r"[0-9]{6}([0-9]{6})?")
_YEAR_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def _interpolate(message: str, params: dict[str, Any]) -> str:
    return gettext(message) % params


# Translated when shown, not when raised: a task's error shown later speaks the reader's language.
_interpolate_lazy = lazy(_interpolate, str)


class MissingParameter(InvalidState):
    """No row of a parameter is in force for a region on a date: the table needs a row (409)."""

    code = "missing_parameter"
    default_message = _("A policy parameter is missing.")

    def __init__(self, *, key: str, region: str, on: dt.date) -> None:
        message = _interpolate_lazy(
            # Translators: key is a dotted parameter name, region a 6-digit code, date YYYY-MM-DD.
            gettext_noop("No policy parameter %(key)s is in force for region %(region)s on %(date)s."),
            {"key": key, "region": region, "date": on.isoformat()},
        )
        super().__init__(message, key=key, region=region, date=on.isoformat())


# --- Values -----------------------------------------------------------------------------------


def _decimal(raw: Any) -> Decimal:
    # Strings (or ints) only: a JSON float has already lost the fen.
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise TypeError(f"a decimal parameter is a quoted number, got {raw!r}")
    value = Decimal(raw)
    if not value.is_finite():
        raise ValueError(f"a decimal parameter is finite, got {raw!r}")
    return value


def _integer(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError(f"an integer parameter is a JSON integer, got {raw!r}")
    return raw


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError(f"a text parameter is a string, got {raw!r}")
    return raw


def _boolean(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise TypeError(f"a yes/no parameter is true or false, got {raw!r}")
    return raw


def _year_month(raw: Any) -> tuple[int, int]:
    match = _YEAR_MONTH.fullmatch(_text(raw))
    if not match:
        raise ValueError(f"a year-month parameter is YYYY-MM, got {raw!r}")
    return int(match[1]), int(match[2])


def _decimal_list(raw: Any) -> tuple[Decimal, ...]:
    if not isinstance(raw, list):
        raise TypeError(f"a list parameter is a JSON list, got {raw!r}")
    return tuple(_decimal(item) for item in raw)


def _table(raw: Any) -> Any:
    if not isinstance(raw, list | dict):
        raise TypeError(f"a table parameter is a JSON list or object, got {raw!r}")
    return raw


_READERS = {
    ParameterKind.DECIMAL: _decimal,
    ParameterKind.INTEGER: _integer,
    ParameterKind.TEXT: _text,
    ParameterKind.BOOLEAN: _boolean,
    ParameterKind.YEAR_MONTH: _year_month,
    ParameterKind.DECIMAL_LIST: _decimal_list,
    ParameterKind.TABLE: _table,
}


def read_value(kind: str, raw: Any) -> Any:
    """The stored JSON as its Python type; TypeError or ValueError when it does not read as `kind`."""
    try:
        return _READERS[ParameterKind(kind)](raw)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {raw!r}") from exc


@dataclass(frozen=True)
class ParameterValue:
    """One answer of param(): the typed value and the row it came from."""

    key: str
    kind: str
    raw: Any
    unit: str
    row_id: int
    region_code: str  # of the row that answered, e.g. "000000" when the national figure applies
    effective_from: dt.date
    effective_to: dt.date | None
    confidence: str

    @property
    def value(self) -> Any:
        return read_value(self.kind, self.raw)

    def _as(self, kind: ParameterKind) -> Any:
        if self.kind != kind:
            # A programming error, not a data one: the caller asked for the wrong type.
            raise TypeError(f"parameter {self.key} is {self.kind}, not {kind.value}")
        return self.value

    def decimal(self) -> Decimal:
        return self._as(ParameterKind.DECIMAL)

    def integer(self) -> int:
        return self._as(ParameterKind.INTEGER)

    def text(self) -> str:
        return self._as(ParameterKind.TEXT)

    def flag(self) -> bool:
        return self._as(ParameterKind.BOOLEAN)

    def year_month(self) -> tuple[int, int]:
        return self._as(ParameterKind.YEAR_MONTH)

    def decimals(self) -> tuple[Decimal, ...]:
        return self._as(ParameterKind.DECIMAL_LIST)

    def table(self) -> Any:
        return self._as(ParameterKind.TABLE)


# --- Trace --------------------------------------------------------------------------------------


class UsedRow(NamedTuple):
    id: int
    key: str
    region_code: str
    effective_from: dt.date


@dataclass
class ParameterTrace:
    """The parameter rows a calculation read, in first-use order, each once."""

    _used: dict[int, ParameterValue] = field(default_factory=dict)

    def record(self, answer: ParameterValue) -> None:
        self._used.setdefault(answer.row_id, answer)

    @property
    def rows(self) -> list[UsedRow]:
        return [UsedRow(a.row_id, a.key, a.region_code, a.effective_from) for a in self._used.values()]

    def as_snapshot(self) -> list[dict[str, Any]]:
        """JSON-serialisable; keeps the value too, so a later edit of a row cannot rewrite history."""
        return [
            {
                "id": a.row_id,
                "key": a.key,
                "region_code": a.region_code,
                "effective_from": a.effective_from.isoformat(),
                "effective_to": a.effective_to.isoformat() if a.effective_to else None,
                "value": a.raw,
                "confidence": a.confidence,
            }
            for a in self._used.values()
        ]


_open_traces: ContextVar[tuple[ParameterTrace, ...]] = ContextVar("parameter_traces", default=())


@contextmanager
def parameter_trace() -> Iterator[ParameterTrace]:
    """Collect every parameter read inside the block (nested traces each see their own reads)."""
    trace = ParameterTrace()
    token = _open_traces.set((*_open_traces.get(), trace))
    try:
        yield trace
    finally:
        _open_traces.reset(token)


def _record(answer: ParameterValue) -> ParameterValue:
    for trace in _open_traces.get():
        trace.record(answer)
    return answer


# --- Lookup -------------------------------------------------------------------------------------


def region_chain(region: str) -> list[str]:
    """The region and the regions above it, most specific first.

    Accepts a 6-digit GB/T 2260 code, or a 12-digit statistical code (reduced to its county).
    """
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ValueError(f"a region is a 6- or 12-digit division code, got {region!r}")
    county = region[:6]
    chain = [county, county[:4] + "00", county[:2] + "0000", NATIONAL]
    return list(dict.fromkeys(chain))  # a province's chain is shorter; keep the order


def _in_force(keys: Iterable[str], regions: list[str], on: dt.date) -> QuerySet:
    from socialsec.core.models import PolicyParameter

    return PolicyParameter.objects.filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=on),
        key__in=list(keys),
        region_code__in=regions,
        effective_from__lte=on,
    )


def _answer(row: Any) -> ParameterValue:
    return ParameterValue(
        key=row.key,
        kind=row.kind,
        raw=row.value,
        unit=row.unit,
        row_id=row.pk,
        region_code=row.region_code,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        confidence=row.confidence,
    )


def param(key: str, region: str, on: dt.date) -> ParameterValue:
    """The parameter `key` in force on `on` for the most specific region; MissingParameter if none.

    One indexed query. Within a region chain the codes sort from most to least specific
    (360121 > 360100 > 360000 > 000000), so the first row by descending code wins.
    """
    row = _in_force([key], region_chain(region), on).order_by("-region_code").first()
    if row is None:
        raise MissingParameter(key=key, region=region, on=on)
    return _record(_answer(row))


def params_for(keys: Iterable[str], region: str, on: dt.date) -> dict[str, ParameterValue]:
    """Several parameters in one query, each resolved as param() would.

    MissingParameter names the first key (in the caller's order) with no row in force.
    """
    wanted = list(dict.fromkeys(keys))
    found: dict[str, ParameterValue] = {}
    for row in _in_force(wanted, region_chain(region), on).order_by("key", "-region_code"):
        found.setdefault(row.key, _answer(row))
    for key in wanted:
        if key not in found:
            raise MissingParameter(key=key, region=region, on=on)
    # Record in the caller's order, so a trace reads like the calculation.
    return {key: _record(found[key]) for key in wanted}


def overlapping_parameters(row: Any) -> QuerySet:
    """Other rows of the same region and key in force on some day of `row`'s range (for forms)."""
    from socialsec.core.models import PolicyParameter

    others = PolicyParameter.objects.filter(region_code=row.region_code, key=row.key).exclude(pk=row.pk)
    others = others.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=row.effective_from))
    if row.effective_to is not None:
        others = others.filter(effective_from__lte=row.effective_to)
    return others


# --- Rule sets built from parameters --------------------------------------------------------------

_RETIREMENT = "employee_pension.retirement"
_MIN_CONTRIBUTION = "employee_pension.minimum_contribution"


def retirement_rules(region: str, on: dt.date) -> RetirementRules:
    """The retirement-age reform of DOMAIN §2.3 as socialsec.lib.retirement takes it, in one query."""
    cohort_keys = {
        category: {
            name: f"{_RETIREMENT}.{category}.{name}"
            for name in ("original_age", "first_reform_cohort", "step_months", "max_delay_months")
        }
        for category in CATEGORIES
    }
    other = {
        "first_cohort_delay": f"{_RETIREMENT}.first_cohort_delay_months",
        "base": f"{_MIN_CONTRIBUTION}.base_years",
        "rise_start": f"{_MIN_CONTRIBUTION}.rise_start_year",
        "rise": f"{_MIN_CONTRIBUTION}.rise_per_year",
        "cap": f"{_MIN_CONTRIBUTION}.cap_years",
    }
    values = params_for(
        [*(k for names in cohort_keys.values() for k in names.values()), *other.values()], region, on
    )
    return RetirementRules(
        cohorts={
            category: CohortRule(
                original_age_years=values[names["original_age"]].integer(),
                first_reform_cohort=values[names["first_reform_cohort"]].year_month(),
                step_months=values[names["step_months"]].integer(),
                max_delay_months=values[names["max_delay_months"]].integer(),
            )
            for category, names in cohort_keys.items()
        },
        first_cohort_delay_months=values[other["first_cohort_delay"]].integer(),
        min_contribution_base_years=values[other["base"]].decimal(),
        min_contribution_rise_start_year=values[other["rise_start"]].integer(),
        min_contribution_rise_per_year=values[other["rise"]].decimal(),
        min_contribution_cap_years=values[other["cap"]].decimal(),
    )
