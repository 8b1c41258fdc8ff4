"""What the seeding stages share: the policy read once, per-person arrays, dates and draws."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Min

from enrollment.services import resident_pension_subsidy
from socialsec.core.models import PolicyParameter
from socialsec.core.parameters import MissingParameter, param, parameter_trace, region_chain
from socialsec.core.seeding import SeedContext

DAYS_PER_YEAR = 365.2425
NAT = np.datetime64("NaT", "D")
FAR_FUTURE = np.datetime64("9999-12-31", "D")

# Parameter keys the services read (DOMAIN §1.1-§1.5).
MIN_AGE_KEY = "resident_pension.enrollment.min_age"
PENSION_AGE_KEY = "resident_pension.benefit.pension_age"
PROXY_MIN_AGE_KEY = "resident_pension.proxy_payment.min_age"
PROXY_MAX_AGE_KEY = "resident_pension.proxy_payment.max_age"
GRADES_KEY = "resident_pension.contribution_grades"
SUBSIDY_KEYS = (
    GRADES_KEY,
    "resident_pension.contribution_subsidy.minimum",
    "resident_pension.contribution_subsidy.higher_grade_threshold",
    "resident_pension.contribution_subsidy.higher_grade_minimum",
)


@dataclass
class Policy:
    """The parameters the generator reads, resolved once for the county."""

    min_age: int
    pension_age: int
    proxy_min_age: int
    proxy_max_age: int
    # First day on which the resident pension can be entered: its grades and minimum age in force.
    scheme_start: np.datetime64
    # Payment-day segments in which the subsidy parameters do not change: start days (sorted),
    # and for each the grades in force, the subsidy of each grade, and the parameter rows it was
    # computed from (an index into snapshots, the distinct JSON texts).
    segment_starts: np.ndarray = field(default_factory=lambda: np.array([], dtype="datetime64[D]"))
    segment_grades: list[np.ndarray] = field(default_factory=list)  # fen, ascending
    segment_subsidy: list[np.ndarray] = field(default_factory=list)  # fen, per grade
    segment_snapshot: list[np.ndarray] = field(default_factory=list)  # per grade
    snapshots: list[str] = field(default_factory=list)


def read_policy(region: str, as_of: dt.date) -> Policy:
    """Ages and the resident pension's grades and subsidies, from the parameters in force."""
    chain = region_chain(region)
    # Enrolment needs the grades and the minimum age in force: the later of their first days.
    firsts = [
        PolicyParameter.objects.filter(key=key, region_code__in=chain).aggregate(first=Min("effective_from"))[
            "first"
        ]
        for key in (GRADES_KEY, MIN_AGE_KEY)
    ]
    if None in firsts:
        raise MissingParameter(key=GRADES_KEY if firsts[0] is None else MIN_AGE_KEY, region=region, on=as_of)
    scheme_start = max(firsts)
    policy = Policy(
        min_age=param(MIN_AGE_KEY, region, on=as_of).integer(),
        pension_age=param(PENSION_AGE_KEY, region, on=as_of).integer(),
        proxy_min_age=param(PROXY_MIN_AGE_KEY, region, on=as_of).integer(),
        proxy_max_age=param(PROXY_MAX_AGE_KEY, region, on=as_of).integer(),
        scheme_start=np.datetime64(scheme_start, "D"),
    )
    # The subsidy rows change only on their first day and the day after their last: one lookup per
    # segment between such days gives every payment day its answer.
    bounds = {scheme_start}
    rows = PolicyParameter.objects.filter(key__in=SUBSIDY_KEYS, region_code__in=chain)
    for start, end in rows.values_list("effective_from", "effective_to"):
        bounds.add(start)
        if end is not None:
            bounds.add(end + dt.timedelta(days=1))
    snapshot_index: dict[str, int] = {}
    for day in sorted(b for b in bounds if scheme_start <= b <= as_of):
        grades, subsidies, snapshots = [], [], []
        try:
            for grade in sorted(param(GRADES_KEY, region, on=day).decimals()):  # the first is the minimum
                # Exactly the service's calculation, with the rows it reads kept as it keeps them.
                with parameter_trace() as trace:
                    subsidies.append(resident_pension_subsidy(grade=grade, region=region, on=day))
                grades.append(grade)
                text = json.dumps(trace.as_snapshot(), ensure_ascii=False, sort_keys=True)
                snapshots.append(snapshot_index.setdefault(text, len(snapshot_index)))
        except MissingParameter:
            grades, subsidies, snapshots = [], [], []  # nothing can be recorded on these days
        policy.segment_starts = np.append(policy.segment_starts, np.datetime64(day, "D"))
        policy.segment_grades.append(np.array([fen(g) for g in grades], dtype=np.int64))
        policy.segment_subsidy.append(np.array([fen(s) for s in subsidies], dtype=np.int64))
        policy.segment_snapshot.append(np.array(snapshots, dtype=np.int64))
    policy.snapshots = list(snapshot_index)
    return policy


def fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


# --- Dates ----------------------------------------------------------------------------------------


def anniversary(birth: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """The day a person born on `birth` turns `years` (29 February: 1 March in a common year).

    The same rule as enrollment.services._age_on: age >= years exactly when day >= anniversary.
    """
    month_start = birth.astype("datetime64[M]")
    into_month = (birth - month_start.astype("datetime64[D]")).astype(np.int64)
    target = (month_start + (np.asarray(years, dtype=np.int64) * 12).astype("timedelta64[M]")).astype(
        "datetime64[D]"
    )
    return target + into_month.astype("timedelta64[D]")


def year_start(years: np.ndarray) -> np.ndarray:
    return (np.asarray(years, dtype=np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def years_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def random_days(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A uniform day in [low, high] each (high >= low)."""
    span = (high - low).astype(np.int64)
    return low + np.floor(rng.random(len(low)) * (span + 1)).astype("timedelta64[D]")


def pick(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """count indices drawn without replacement, each with probability proportional to its weight."""
    count = int(min(count, np.count_nonzero(weights > 0)))
    if count <= 0:
        return np.array([], dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, rng.exponential(size=len(weights)) / weights, np.inf)
    return np.sort(np.argpartition(keys, count - 1)[:count])


@dataclass
class People:
    """Per-person arrays the stages share (index = row of the persons frame)."""

    id: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    dead: np.ndarray
    ref_day: np.ndarray  # the day statuses are decided on: the death date, or as_of
    male: np.ndarray
    urban: np.ndarray
    township_id: np.ndarray
    village_id: np.ndarray
    household_id: np.ndarray
    age: np.ndarray  # years at ref_day, fractional

    @classmethod
    def of(cls, ctx: SeedContext, persons: pd.DataFrame) -> People:
        birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
        death = persons["death_date"].to_numpy().astype("datetime64[D]")
        dead = ~np.isnat(death)
        ref_day = np.where(dead, death, np.datetime64(ctx.as_of, "D"))
        return cls(
            id=persons["id"].to_numpy(),
            birth=birth,
            death=death,
            dead=dead,
            ref_day=ref_day,
            male=persons["male"].to_numpy(),
            urban=persons["registration_type"].to_numpy() == "urban",
            township_id=persons["township_id"].to_numpy(),
            village_id=persons["village_id"].to_numpy(),
            household_id=persons["household_id"].to_numpy(),
            age=(ref_day - birth).astype(np.int64) / DAYS_PER_YEAR,
        )

    def __len__(self) -> int:
        return len(self.id)

    def aged(self, years: int | np.ndarray, on: np.ndarray | None = None) -> np.ndarray:
        """Whether each person is at least `years` old on `on` (default: ref_day)."""
        return (self.ref_day if on is None else on) >= anniversary(self.birth, years)


def flag(n: int, indices: np.ndarray) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[indices] = True
    return flags


def nulls(size: int) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.zeros(size, dtype=np.int64), np.ones(size, dtype=bool))
