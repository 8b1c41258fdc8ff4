"""Contribution records and personal accounts of the synthetic county (DOMAIN §1.2, §1.3, §2.2, §8.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from enrollment.choices import Payer, PeriodKind, Scheme
from enrollment.seeding.common import (
    FAR_FUTURE,
    NAT,
    People,
    Policy,
    anniversary,
    nulls,
    pick,
    year_start,
    years_of,
)
from enrollment.seeding.groups import PROXY_GROUPS
from socialsec.core.choices import DivisionKind
from socialsec.core.seeding import SeedContext

# Years of resident-pension records kept, ending with the as-of year: bounds the table at
# about two records per person at 1,000,000 (each carries its parameter snapshot).
YEARS_OF_CONTRIBUTIONS = 5
# Months of employee payroll kept, ending with the month before the as-of month.
MONTHS_OF_PAYROLL = 12
PAY_SHARE = 0.92  # a contributing enrollee pays in a given year
BACKPAY_SHARE = 0.03  # of paid years, paid after the year ended (DOMAIN §1.2: no subsidy)
# Villages whose collective pays part of its villagers' contributions (DOMAIN §1.2), and how much.
COLLECTIVE_VILLAGE_SHARE = 0.10
COLLECTIVE_SHARES = np.array([0.1, 0.2, 0.3])
# DOMAIN §2.2: 8 % of the base goes to the personal account. The payroll gives the personal part
# to contribution_record, so this stands in for the employers' payroll (no rate parameter is seeded).
PAYROLL_PERSONAL_SHARE_PERCENT = 8
# Monthly contribution bases (yuan): median by kind of employer, lognormal spread.
BASE_MEDIAN = {"large": 6500, "medium": 5200, "small": 4300, "micro": 3800, "public": 6000, "flexible": 3700}
BASE_SIGMA = 0.3


_RECORD_COLUMNS = [
    "enrollment_id",
    "period_kind",
    "period_start",
    "grade",
    "base",
    "personal_amount",
    "collective_amount",
    "government_subsidy",
    "proxy_payment_amount",
    "proxy_payment_source",
    "is_backpay",
    "payer",
    "paid_on",
    "parameters_used",
]


def build_resident_years(
    ctx: SeedContext, people: People, policy: Policy, enrollments: pd.DataFrame, categories: pd.DataFrame
) -> pd.DataFrame:
    """One record per paid year of the last YEARS_OF_CONTRIBUTIONS (DOMAIN §1.2, §1.3), as
    contribution_record would write it on the payment day."""
    rng = ctx.rng("enrollment.resident_contributions")
    as_of = np.datetime64(ctx.as_of, "D")
    res = enrollments[enrollments["scheme"] == Scheme.RESIDENT_PENSION]
    who = res["person_index"].to_numpy()
    start = res["start_date"].to_numpy().astype("datetime64[D]")
    last_paid = np.minimum(res["last_paid"].to_numpy().astype("datetime64[D]"), people.ref_day[who])
    first_year = np.maximum(years_of(start), ctx.as_of.year - YEARS_OF_CONTRIBUTIONS + 1)
    last_year = years_of(last_paid)
    counts = np.clip(last_year - first_year + 1, 0, None)
    row = np.repeat(np.arange(len(res)), counts)
    year = first_year[row] + np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    paid = rng.random(len(row)) < PAY_SHARE
    row, year = row[paid], year[paid]
    m = len(row)

    # Paid in the collection window of the year (March to November), a few the year after.
    # A proxy payment (DOMAIN §1.3) is made on time, for a member of a proxy-paid group who is in
    # the proxy-payment age range that day.
    on_time = np.maximum(
        year_start(year) + (59 + rng.integers(0, 275, m)).astype("timedelta64[D]"), start[row]
    )
    late = year_start(year + 1) + rng.integers(0, 181, m).astype("timedelta64[D]")
    person = who[row]
    proxied = _in_groups(people, categories, PROXY_GROUPS, person, on_time)
    proxied &= (on_time >= anniversary(people.birth[person], policy.proxy_min_age)) & (
        on_time < anniversary(people.birth[person], policy.proxy_max_age + 1)
    )
    paid_on = np.where(~proxied & (rng.random(m) < BACKPAY_SHARE), late, on_time)
    backpay = paid_on > year_start(year + 1) - np.timedelta64(1, "D")  # the service's rule: after 31 Dec
    keep = paid_on <= np.minimum(last_paid[row], as_of)

    # The grades and subsidy in force on the payment day (a back-payment pays at today's grades).
    segment = np.searchsorted(policy.segment_starts, paid_on, side="right") - 1
    keep &= segment >= 0
    n_grades = np.array([len(g) for g in policy.segment_grades] or [0])
    keep &= n_grades[np.maximum(segment, 0)] > 0
    row, year, paid_on, backpay, proxied, segment = (
        row[keep],
        year[keep],
        paid_on[keep],
        backpay[keep],
        proxied[keep],
        segment[keep],
    )
    m = len(row)
    # Each enrollee keeps a preferred grade (low ones are the most common) and now and then changes it.
    rank_p = 1.0 / np.arange(1, 1 + int(n_grades.max(initial=1))) ** 1.1
    preferred = rng.choice(len(rank_p), size=len(res), p=rank_p / rank_p.sum())
    rank = np.where(
        rng.random(m) < 0.15, rng.choice(len(rank_p), size=m, p=rank_p / rank_p.sum()), preferred[row]
    )
    rank = np.where(proxied, 0, np.minimum(rank, n_grades[segment] - 1))
    grade = np.empty(m, dtype=np.int64)
    subsidy = np.empty(m, dtype=np.int64)
    snapshot = np.empty(m, dtype=np.int64)
    for s in np.unique(segment).tolist():  # a handful of parameter segments
        at = segment == s
        grade[at] = policy.segment_grades[s][rank[at]]
        subsidy[at] = policy.segment_subsidy[s][rank[at]]
        snapshot[at] = policy.segment_snapshot[s][rank[at]]
    subsidy = np.where(backpay, 0, subsidy)
    proxy = np.where(proxied, grade, 0)
    # A village collective pays a share of the grade on top, for those who pay themselves on time.
    village = people.village_id[who[row]]
    collective_share = _village_collective_share(ctx)
    share = collective_share.reindex(village).fillna(0.0).to_numpy()
    collective = np.where(proxied | backpay, 0, np.floor(grade * share / 100).astype(np.int64) * 100)
    return pd.DataFrame(
        {
            "enrollment_id": res["id"].to_numpy()[row],
            "period_kind": PeriodKind.YEAR,
            "period_start": year_start(year),
            "grade": grade,
            "base": nulls(m),
            "personal_amount": grade - proxy,
            "collective_amount": collective,
            "government_subsidy": subsidy,
            "proxy_payment_amount": proxy,
            "proxy_payment_source": np.where(proxied, f"{ctx.county_name}财政", ""),
            "is_backpay": backpay,
            "payer": np.where(proxied, Payer.GOVERNMENT, Payer.PERSON),
            "paid_on": paid_on,
            "parameters_used": snapshot,  # an index into Policy.snapshots
        }
    )[_RECORD_COLUMNS]


def _in_groups(
    people: People, categories: pd.DataFrame, groups: tuple[str, ...], person: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Whether each person holds one of the groups on the day (at most one membership per group)."""
    held = np.zeros(len(person), dtype=bool)
    for group in groups:
        members = categories[categories["category"] == group]
        first = np.full(len(people), FAR_FUTURE)
        last = np.full(len(people), NAT)  # NaT compares False: not a member
        index = members["person_index"].to_numpy()
        first[index] = members["effective_from"].to_numpy().astype("datetime64[D]")
        until = members["effective_to"].to_numpy().astype("datetime64[D]")
        last[index] = np.where(np.isnat(until), FAR_FUTURE, until)
        held |= (first[person] <= day) & (last[person] >= day)
    return held


def _village_collective_share(ctx: SeedContext) -> pd.Series:
    """Share of the grade a village's collective pays (DOMAIN §1.2 集体补助), by village id."""
    rng = ctx.rng("enrollment.collective")
    villages = ctx.divisions[ctx.divisions["kind"] == DivisionKind.VILLAGERS_COMMITTEE]
    # At least one, so even a small county shows the component.
    paying = pick(rng, np.ones(len(villages)), max(1, round(COLLECTIVE_VILLAGE_SHARE * len(villages))))
    share = np.zeros(len(villages))
    share[paying] = COLLECTIVE_SHARES[rng.integers(0, len(COLLECTIVE_SHARES), len(paying))]
    return pd.Series(share, index=villages["id"].to_numpy())


def build_payroll(
    ctx: SeedContext, people: People, enrollments: pd.DataFrame, no_parameters: int
) -> pd.DataFrame:
    """The last MONTHS_OF_PAYROLL months of the employee and government/institution pensions
    (DOMAIN §2.2): a base per person, 8 % of it to the personal account, paid on the 15th of
    the following month by the employer (or by the flexible worker)."""
    rng = ctx.rng("enrollment.payroll")
    as_of = np.datetime64(ctx.as_of, "D")
    jobs = enrollments[enrollments["scheme"].isin([Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION])]
    who = jobs["person_index"].to_numpy()
    start_month = jobs["start_date"].to_numpy().astype("datetime64[D]").astype("datetime64[M]")
    last_paid = np.minimum(jobs["last_paid"].to_numpy().astype("datetime64[D]"), people.ref_day[who])
    kind = jobs["base_kind"].to_numpy()
    median = np.vectorize(BASE_MEDIAN.get)(kind).astype(float)
    base = np.maximum(1, np.round(median * rng.lognormal(0.0, BASE_SIGMA, len(jobs)))).astype(np.int64)

    this_month = as_of.astype("datetime64[M]")
    months = this_month - np.arange(MONTHS_OF_PAYROLL, 0, -1).astype("timedelta64[M]")
    row = np.repeat(np.arange(len(jobs)), MONTHS_OF_PAYROLL)
    month = np.tile(months, len(jobs))
    paid_on = (month + np.timedelta64(1, "M")).astype("datetime64[D]") + np.timedelta64(14, "D")
    keep = (month >= start_month[row]) & (paid_on <= np.minimum(last_paid[row], as_of))
    row, month, paid_on = row[keep], month[keep], paid_on[keep]
    m = len(row)
    has_employer = jobs["organization_id"].notna().to_numpy()[row]
    return pd.DataFrame(
        {
            "enrollment_id": jobs["id"].to_numpy()[row],
            "period_kind": PeriodKind.MONTH,
            "period_start": month.astype("datetime64[D]"),
            "grade": nulls(m),
            "base": base[row] * 100,
            "personal_amount": base[row] * PAYROLL_PERSONAL_SHARE_PERCENT,  # fen: base yuan × 8 %
            "collective_amount": 0,
            "government_subsidy": 0,
            "proxy_payment_amount": 0,
            "proxy_payment_source": "",
            "is_backpay": False,
            "payer": np.where(has_employer, Payer.EMPLOYER, Payer.PERSON),
            "paid_on": paid_on,
            "parameters_used": no_parameters,
        }
    )[_RECORD_COLUMNS]


# --- Accounts -------------------------------------------------------------------------------------

_COMPONENTS = {  # account column -> contribution column
    "personal": "personal_amount",
    "collective": "collective_amount",
    "government_subsidy": "government_subsidy",
    "proxy_payment": "proxy_payment_amount",
}


def build_accounts(enrollments: pd.DataFrame, contributions: pd.DataFrame) -> pd.DataFrame:
    """One account per person and pension scheme, opened with the enrollment; each component the
    sum of the records (DOMAIN §8.1). No interest: no interest rate is seeded yet."""
    totals = contributions.groupby("enrollment_id")[list(_COMPONENTS.values())].sum()
    frame = enrollments[["id", "person_id", "scheme"]].rename(columns={"id": "enrollment_id"})
    frame = frame.join(totals, on="enrollment_id").fillna({c: 0 for c in _COMPONENTS.values()})
    frame = frame.rename(columns={v: k for k, v in _COMPONENTS.items()})
    frame["interest"] = 0
    frame = frame.drop(columns="enrollment_id").reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


# The money columns of the contribution and account frames, in fen until money_columns().
_MONEY = tuple(dict.fromkeys(("grade", "base", *_COMPONENTS.values(), *_COMPONENTS, "interest")))


def money_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Fen (integers) to yuan. The shortest repr of fen / 100 is the exact two-decimal figure."""
    for column in _MONEY:
        if column in frame:
            values = frame[column]
            frame[column] = values.astype("Float64") / 100 if values.dtype == "Int64" else values / 100
    return frame
