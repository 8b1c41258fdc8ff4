"""Pension enrollments of the synthetic county (DOMAIN §1.1, §1.5, §1.6, §2.3, §8.2)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from enrollment.choices import EnrollmentStatus, Scheme, TerminationReason
from enrollment.seeding.common import (
    DAYS_PER_YEAR,
    NAT,
    People,
    Policy,
    anniversary,
    flag,
    pick,
    random_days,
)
from socialsec.core.parameters import retirement_rules
from socialsec.core.seeding import SeedContext
from socialsec.lib.retirement import CATEGORIES, retirement_month

# Share of the persons of working age who hold a resident pension, by age band below and above 22.
RESIDENT_SHARE_STUDENT_AGE = 0.60
RESIDENT_SHARE = 0.90
STUDENT_AGE_END = 22
# Share of those past the pension age, with no employment pension, who draw the resident pension.
RESIDENT_RECEIVING_SHARE = 0.865
SUSPENDED_SHARE = 0.10  # of resident enrollees of working age: stopped paying
# Employee pension, by rural/urban registration: working and retired (DOMAIN §2).
HIRING_AGE = 18
EMPLOYEE_SHARE = (0.135, 0.28)
EMPLOYEE_RETIRED_SHARE = (0.085, 0.22)
EMPLOYEE_SUSPENDED_SHARE = 0.08
FLEXIBLE_WORKER_SHARE = 0.22  # employee enrollees paying for themselves, without an employer
RETIREE_WITHOUT_EMPLOYER_SHARE = 0.5  # retirees whose employer is long gone from the registry
FEMALE55_SHARE = 0.35  # women employees retiring at 55 (cadres) rather than 50 (workers)
GOV_INST_AGE = 22
GOV_INST_SHARE = (0.018, 0.045)
# Persons in both pension schemes, of all persons (DOMAIN §1.6 Art 7 overlap, Art 8 dual receipt).
DUAL_SHARE = 0.003
DUAL_RECEIPT_SHARE = 1 / 3  # of those, drawing both pensions; the rest contribute to both
# Dead persons whose resident pension is still RECEIVING (the fraud checks' cases), of the dead receivers.
STILL_PAID_SHARE = 0.03
OWN_TOWNSHIP_SHARE = 0.75  # employees working in their own township


def _retirement_days(people: People, category: np.ndarray, region: str, as_of: dt.date) -> np.ndarray:
    """First day of the month after the statutory retirement month (DOMAIN §2.3, E21), per person.

    category is an index into socialsec.lib.retirement.CATEGORIES. The reform's formula runs
    once per (birth month, category), a few thousand pairs at most.
    """
    rules = retirement_rules(region, as_of)
    birth_month = people.birth.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    pair = birth_month * len(CATEGORIES) + category
    unique, inverse = np.unique(pair, return_inverse=True)
    month_after = np.empty(len(unique), dtype=np.int64)
    for i, key in enumerate(unique.tolist()):
        month, which = divmod(key, len(CATEGORIES))
        year, month_of_year = divmod(month, 12)
        birth = dt.date(1970 + year, month_of_year + 1, 1)  # only the birth month counts
        ret_year, ret_month = retirement_month(birth, CATEGORIES[which], rules)
        month_after[i] = (ret_year - 1970) * 12 + ret_month  # 0-based index of the next month
    return month_after[inverse].astype("datetime64[M]").astype("datetime64[D]")


def build_enrollments(
    ctx: SeedContext, people: People, policy: Policy, organizations: pd.DataFrame
) -> pd.DataFrame:
    """Pension enrollments with statuses consistent with age, death and each other (DOMAIN §1.1,
    §1.6, §2.3, §8.2): at most one per person and scheme, so never two open ones."""
    rng = ctx.rng("enrollment.enrollments")
    n = len(people)
    ref = people.ref_day
    urban = people.urban.astype(np.int64)
    u = rng.random((6, n))

    # Retirement category: men, and women as workers (50) or cadres (55).
    male, female55, female50 = (CATEGORIES.index(c) for c in ("male", "female55", "female50"))
    category = np.where(people.male, male, np.where(u[0] < FEMALE55_SHARE, female55, female50))
    retire_day = _retirement_days(people, category, ctx.county_code, ctx.as_of)
    retired = ref >= retire_day

    # Government and institution pension: cadres (women at 55) from 22.
    gov_category = np.where(people.male, male, female55)
    gov_retire_day = _retirement_days(people, gov_category, ctx.county_code, ctx.as_of)
    gov = people.aged(GOV_INST_AGE) & (u[1] < np.array(GOV_INST_SHARE)[urban])
    gov_retired = gov & (ref >= gov_retire_day)

    # Employee pension: at work from the hiring age, or retired.
    share = np.where(retired, np.array(EMPLOYEE_RETIRED_SHARE)[urban], np.array(EMPLOYEE_SHARE)[urban])
    employee = ~gov & people.aged(HIRING_AGE) & (u[2] < share)

    # Resident pension: from the minimum age, when the scheme existed before the reference day,
    # for those with no employment pension (DOMAIN §1.1).
    earliest = np.maximum(policy.scheme_start, anniversary(people.birth, policy.min_age))
    can_resident = earliest <= ref
    pensioner_age = people.aged(policy.pension_age)
    resident_share = np.where(
        pensioner_age,
        RESIDENT_RECEIVING_SHARE,
        np.where(people.aged(STUDENT_AGE_END), RESIDENT_SHARE, RESIDENT_SHARE_STUDENT_AGE),
    )
    resident = can_resident & ~gov & ~employee & (u[3] < resident_share)
    # Both schemes (DOMAIN §1.6): contributing employees who kept their resident enrollment
    # (Art 7), and retirees drawing both pensions (Art 8), a few thousand at 1,000,000.
    n_dual = round(DUAL_SHARE * n)
    receipt_pool = employee & retired & pensioner_age & can_resident
    overlap_pool = employee & ~retired & ~pensioner_age & can_resident & (earliest < ref)
    dual_receipt = flag(n, pick(rng, receipt_pool.astype(float), round(n_dual * DUAL_RECEIPT_SHARE)))
    dual_overlap = flag(n, pick(rng, overlap_pool.astype(float), n_dual - int(dual_receipt.sum())))
    resident |= dual_receipt | dual_overlap

    # Resident pension start: most enrolled in the first campaigns, the young when they came of age.
    r_start = earliest + np.minimum(
        (rng.exponential(1.5, n) * DAYS_PER_YEAR).astype(np.int64), (ref - earliest).astype(np.int64)
    ).astype("timedelta64[D]")
    r_status = np.where(
        pensioner_age,
        EnrollmentStatus.RECEIVING,
        np.where(u[4] < SUSPENDED_SHARE, EnrollmentStatus.SUSPENDED_CONTRIB, EnrollmentStatus.ACTIVE),
    )
    r_status = np.where(dual_overlap, EnrollmentStatus.ACTIVE, r_status)

    # Employee pension start: a tenure back from the reference day, never before the hiring age;
    # for a retiree, years before retirement. In the overlap, after the resident enrollment.
    hired = anniversary(people.birth, HIRING_AGE)
    tenure = (rng.exponential(6.0, n) * DAYS_PER_YEAR).astype(np.int64).astype("timedelta64[D]")
    e_start = np.maximum(hired, ref - tenure)
    career_end = np.maximum(hired, np.minimum(retire_day - np.timedelta64(1, "D"), ref))
    e_start = np.where(
        retired, random_days(rng, hired, np.maximum(hired, career_end - np.timedelta64(3650, "D"))), e_start
    )
    after_resident = np.minimum(r_start + np.timedelta64(1, "D"), ref)
    e_start = np.where(dual_overlap, random_days(rng, after_resident, ref), e_start)
    e_status = np.where(
        retired,
        EnrollmentStatus.RECEIVING,
        np.where(
            u[5] < EMPLOYEE_SUSPENDED_SHARE, EnrollmentStatus.SUSPENDED_CONTRIB, EnrollmentStatus.ACTIVE
        ),
    )
    e_status = np.where(dual_overlap, EnrollmentStatus.ACTIVE, e_status)

    # Government and institution pension start: from 22, a long tenure.
    g_joined = anniversary(people.birth, GOV_INST_AGE)
    g_start = np.maximum(
        g_joined, ref - (rng.exponential(10.0, n) * DAYS_PER_YEAR).astype(np.int64).astype("timedelta64[D]")
    )
    g_end = np.maximum(g_joined, np.minimum(gov_retire_day - np.timedelta64(1, "D"), ref))
    g_start = np.where(gov_retired, random_days(rng, g_joined, g_end), g_start)
    g_status = np.where(gov_retired, EnrollmentStatus.RECEIVING, EnrollmentStatus.ACTIVE)

    parts = []
    for scheme, chosen, start, status in (
        (Scheme.EMPLOYEE_PENSION, employee, e_start, e_status),
        (Scheme.GOV_INST_PENSION, gov, g_start, g_status),
        (Scheme.RESIDENT_PENSION, resident, r_start, r_status),
    ):
        who = np.flatnonzero(chosen)
        parts.append(
            pd.DataFrame(
                {"person_index": who, "scheme": str(scheme), "start_date": start[who], "status": status[who]}
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    who = frame["person_index"].to_numpy()
    frame["retire_day"] = np.where(
        frame["scheme"] == Scheme.GOV_INST_PENSION, gov_retire_day[who], retire_day[who]
    )
    frame["last_paid"] = _last_paid(rng, frame, people, policy)

    # Death ends every open enrollment on its day (DOMAIN §8.2), except a few resident pensions
    # still being paid: the cases the death-match fraud checks must find.
    dead = people.dead[who]
    still_paid = (
        dead
        & (frame["scheme"] == Scheme.RESIDENT_PENSION).to_numpy()
        & (frame["status"] == EnrollmentStatus.RECEIVING).to_numpy()
        & (rng.random(len(frame)) < STILL_PAID_SHARE)
    )
    ended = dead & ~still_paid
    frame["status"] = np.where(ended, EnrollmentStatus.TERMINATED, frame["status"].to_numpy())
    frame["termination_reason"] = np.where(ended, TerminationReason.DEATH, "")
    frame["end_date"] = np.where(ended, people.death[who], NAT)
    frame["person_id"] = people.id[who]
    frame["pooling_area"] = ctx.county_code
    frame["organization_id"] = _employers(ctx, people, frame, organizations)
    frame["base_kind"] = _base_kind(frame, organizations)
    scheme_rank = {str(s): i for i, s in enumerate(Scheme.values)}
    frame["_rank"] = frame["scheme"].map(scheme_rank)
    frame = (
        frame.sort_values(["person_id", "_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    )
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def _last_paid(rng: np.random.Generator, frame: pd.DataFrame, people: People, policy: Policy) -> np.ndarray:
    """The last day a contribution may be paid for each enrollment, by its status before any death.

    Active: the reference day. Suspended: a day between the start and the reference day (when
    the person stopped). Receiving: the day before the pension age (resident) or the day before
    the retirement month ends (employee schemes).
    """
    who = frame["person_index"].to_numpy()
    start = frame["start_date"].to_numpy().astype("datetime64[D]")
    ref = people.ref_day[who]
    status = frame["status"].to_numpy()
    resident = (frame["scheme"] == Scheme.RESIDENT_PENSION).to_numpy()
    stopped = random_days(rng, start, ref)
    pension_day = np.where(
        resident, anniversary(people.birth[who], policy.pension_age), frame["retire_day"].to_numpy()
    ) - np.timedelta64(1, "D")
    return np.select(
        [status == EnrollmentStatus.SUSPENDED_CONTRIB, status == EnrollmentStatus.RECEIVING],
        [stopped, np.minimum(pension_day, ref)],
        ref,
    ).astype("datetime64[D]")


def _employers(
    ctx: SeedContext, people: People, frame: pd.DataFrame, organizations: pd.DataFrame
) -> pd.Series:
    """An employer for each employee-scheme enrollment: weighted by size, mostly in the person's
    own township; none for flexible workers, and for half the retirees (their employer long gone)."""
    rng = ctx.rng("enrollment.employers")
    scheme = frame["scheme"].to_numpy()
    who = frame["person_index"].to_numpy()
    result = np.zeros(len(frame), dtype=np.int64)  # 0: none
    for public, wanted in ((True, Scheme.GOV_INST_PENSION), (False, Scheme.EMPLOYEE_PENSION)):
        rows = np.flatnonzero(scheme == wanted)
        orgs = organizations[organizations["public"] == public]
        if not len(rows) or not len(orgs):
            continue
        org_township = orgs["township_id"].to_numpy()
        weights = orgs["weight"].to_numpy()
        # Per township, the cumulative weights scaled into [t, t + 1): one searchsorted serves all.
        townships, t_index = np.unique(org_township, return_inverse=True)
        order = np.lexsort((np.arange(len(orgs)), t_index))
        w = weights[order]
        ti = t_index[order]
        totals = np.bincount(ti, weights=w)
        cumulative = ti + (np.cumsum(w) - np.repeat(np.cumsum(totals) - totals, np.bincount(ti))) / totals[ti]
        person_t = np.searchsorted(townships, people.township_id[who[rows]])
        has_own = (person_t < len(townships)) & (
            townships[np.minimum(person_t, len(townships) - 1)] == people.township_id[who[rows]]
        )
        own = has_own & (rng.random(len(rows)) < OWN_TOWNSHIP_SHARE)
        anywhere = rng.choice(len(orgs), size=len(rows), p=weights / weights.sum())
        local = np.searchsorted(cumulative, person_t + rng.random(len(rows)), side="right")
        local = np.minimum(local, len(orgs) - 1)
        chosen = np.where(own, order[local], anywhere)
        ids = orgs["id"].to_numpy()[chosen]
        if not public:
            status = frame["status"].to_numpy()[rows]
            none = np.where(
                status == EnrollmentStatus.RECEIVING,
                rng.random(len(rows)) < RETIREE_WITHOUT_EMPLOYER_SHARE,
                rng.random(len(rows)) < FLEXIBLE_WORKER_SHARE,
            )
            ids = np.where(none, 0, ids)
        result[rows] = ids
    employers = pd.Series(result, dtype="Int64")
    employers[result == 0] = pd.NA
    return employers


def _base_kind(frame: pd.DataFrame, organizations: pd.DataFrame) -> np.ndarray:
    size = organizations.set_index("id")["size_class"].where(
        ~organizations.set_index("id")["public"], "public"
    )
    kind = frame["organization_id"].map(size)
    return kind.fillna("flexible").to_numpy().astype(str)
