"""Special-group memberships of the synthetic county (DOMAIN glossary, §4, §8.1 PersonCategory)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from enrollment.choices import CategorySource, SpecialGroup
from enrollment.seeding.common import DAYS_PER_YEAR, NAT, People, flag, pick, random_days
from socialsec.core.seeding import SeedContext

# Special groups: share of all persons, and how they are chosen (DOMAIN glossary, §4).
MINIMUM_LIVING_ALLOWANCE_SHARE = 0.033  # persons in 低保 households (foundation issue)
FORMER_MINIMUM_LIVING_ALLOWANCE_SHARE = 0.01  # households that left 低保 in the past
EXTREME_POVERTY_SHARE = 0.0045
LIFTED_OUT_OF_POVERTY_SHARE = 0.035
RETURNED_TO_POVERTY_SHARE = 0.0015
SEVERE_DISABILITY_SHARE = 0.010
SEVERE_DISABILITY_GRADE1_SHARE = 0.4
LOW_INCOME_SHARE = 0.015
ORPHAN_SHARE = 0.00012
ORPHAN_AGE_END = 18
# The groups proxy-paid at the full minimum grade (DOMAIN §1.3, the 兵团 example [S13]).
PROXY_GROUPS = (
    SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
    SpecialGroup.EXTREME_POVERTY_SUPPORT,
    SpecialGroup.RETURNED_TO_POVERTY,
    SpecialGroup.SEVERE_DISABILITY,
)
# Poverty alleviation lifted households out between these years (建档立卡 exits, 2016-2020).
LIFTED_YEARS = (2016, 2020)


def build_memberships(ctx: SeedContext, people: People) -> pd.DataFrame:
    """Memberships of the special groups, by household where the group is a household's (低保,
    poverty, low income) and by person otherwise; at most one membership per person and group."""
    rng = ctx.rng("enrollment.categories")
    n = len(people)
    as_of = np.datetime64(ctx.as_of, "D")
    household = people.household_id
    n_h = int(household.max()) + 1 if n else 0
    h_size = np.bincount(household, minlength=n_h)
    h_rural = np.bincount(household, weights=~people.urban, minlength=n_h) > 0
    h_old = np.bincount(household, weights=people.age >= 60, minlength=n_h) > 0
    rows: list[pd.DataFrame] = []

    def households_until(weights: np.ndarray, share: float, taken: np.ndarray) -> np.ndarray:
        """Households in weighted random order until their members reach share of all persons."""
        weights = np.where(taken | (h_size == 0), 0.0, weights)
        with np.errstate(divide="ignore"):
            keys = np.where(weights > 0, rng.exponential(size=n_h) / weights, np.inf)
        order = np.argsort(keys, kind="stable")[: np.count_nonzero(weights > 0)]
        reach = np.searchsorted(np.cumsum(h_size[order]), share * n) + 1
        return flag(n_h, order[:reach])

    def members(
        chosen: np.ndarray, group: str, source: str, start: np.ndarray, end: np.ndarray | None = None
    ) -> None:
        """Every member of the chosen households, from the household's day (or birth) on."""
        who = np.flatnonzero(chosen[household])
        add(who, group, source, start[household[who]], None if end is None else end[household[who]])

    def add(
        who: np.ndarray,
        group: str,
        source: str,
        start: np.ndarray,
        end: np.ndarray | None = None,
        grade: np.ndarray | None = None,
    ) -> None:
        start = np.maximum(start, people.birth[who])
        end = np.full(len(who), NAT) if end is None else end
        # A death closes the membership on its day; a membership cannot start after the death.
        death = people.death[who]
        end = np.where(~np.isnat(death) & (np.isnat(end) | (death < end)), death, end)
        keep = (start <= np.where(np.isnat(death), as_of, death)) & (np.isnat(end) | (end >= start))
        rows.append(
            pd.DataFrame(
                {
                    "person_index": who[keep],
                    "category": group,
                    "source": source,
                    "effective_from": start[keep],
                    "effective_to": end[keep],
                    "disability_grade": pd.array(
                        grade[keep] if grade is not None else [None] * int(keep.sum()), dtype="Int64"
                    ),
                }
            )
        )

    def days_back(years_low: float, years_high: float, size: int) -> np.ndarray:
        back = rng.uniform(years_low, years_high, size) * DAYS_PER_YEAR
        return as_of - back.astype(np.int64).astype("timedelta64[D]")

    # 低保 (DOMAIN §4.1): households, rural and elderly more often, small ones more often.
    weights = np.where(h_rural, 2.0, 1.0) * np.where(h_old, 1.6, 1.0) / np.maximum(h_size, 1) ** 0.3
    allowance = households_until(weights, MINIMUM_LIVING_ALLOWANCE_SHARE, np.zeros(n_h, dtype=bool))
    members(
        allowance,
        SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
        CategorySource.CIVIL_AFFAIRS,
        days_back(0.1, 8.0, n_h),
    )
    # Households that left 低保 earlier (ended memberships), never the current ones.
    former = households_until(weights, FORMER_MINIMUM_LIVING_ALLOWANCE_SHARE, allowance)
    left = days_back(0.2, 4.0, n_h)
    members(
        former,
        SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
        CategorySource.CIVIL_AFFAIRS,
        left - (rng.uniform(0.5, 5.0, n_h) * DAYS_PER_YEAR).astype(np.int64).astype("timedelta64[D]"),
        left,
    )
    # 低收入 (low income, just above 低保): other households.
    low_income = households_until(weights, LOW_INCOME_SHARE, allowance | former)
    members(low_income, SpecialGroup.LOW_INCOME, CategorySource.CIVIL_AFFAIRS, days_back(0.1, 4.0, n_h))
    # 已脱贫 (lifted out of poverty): rural households, dated in the years of the poverty campaign.
    lifted = households_until(np.where(h_rural, 1.0, 0.0), LIFTED_OUT_OF_POVERTY_SHARE, np.zeros(n_h, bool))
    first_day = np.datetime64(f"{LIFTED_YEARS[0]}-01-01", "D")
    last_day = np.datetime64(f"{LIFTED_YEARS[1]}-12-31", "D")
    lifted_on = np.minimum(random_days(rng, np.full(n_h, first_day), np.full(n_h, last_day)), as_of)
    members(lifted, SpecialGroup.LIFTED_OUT_OF_POVERTY, CategorySource.RURAL_REVITALIZATION, lifted_on)
    # 返贫致贫 (returned to poverty): mostly lifted households, in the last three years.
    returned = households_until(
        np.where(lifted, 20.0, np.where(h_rural, 1.0, 0.0)), RETURNED_TO_POVERTY_SHARE, np.zeros(n_h, bool)
    )
    members(
        returned,
        SpecialGroup.RETURNED_TO_POVERTY,
        CategorySource.RURAL_REVITALIZATION,
        np.maximum(days_back(0.1, 3.0, n_h), lifted_on + np.timedelta64(1, "D")),
    )

    alive = ~people.dead
    in_allowance = allowance[household]
    # 特困 (DOMAIN §4.2): the old living alone, minors under 16 and the disabled with no one to
    # support them; never in a 低保 household (the two are exclusive).
    old, minor = people.age >= 60, people.age < 16
    alone_old = (h_size[household] == 1) & old
    weights = np.select([in_allowance, alone_old, minor, old], [0.0, 12.0, 0.3, 0.15], 0.0)
    who = pick(rng, weights, round(EXTREME_POVERTY_SHARE * n))
    add(
        who,
        SpecialGroup.EXTREME_POVERTY_SUPPORT,
        CategorySource.CIVIL_AFFAIRS,
        days_back(0.1, 10.0, len(who)),
    )
    # 重度残疾 grade 1 or 2 (DOMAIN §4.3), more often with age.
    who = pick(rng, 0.3 + people.age / 40.0, round(SEVERE_DISABILITY_SHARE * n))
    grade = np.where(rng.random(len(who)) < SEVERE_DISABILITY_GRADE1_SHARE, 1, 2)
    add(
        who,
        SpecialGroup.SEVERE_DISABILITY,
        CategorySource.DISABILITY_FEDERATION,
        days_back(0.1, 15.0, len(who)),
        grade=grade,
    )
    # 孤儿: living minors.
    who = pick(rng, ((people.age < ORPHAN_AGE_END) & alive).astype(float), round(ORPHAN_SHARE * n))
    add(
        who,
        SpecialGroup.ORPHAN,
        CategorySource.CIVIL_AFFAIRS,
        people.birth[who]
        + (rng.random(len(who)) * (people.ref_day[who] - people.birth[who]).astype(np.int64))
        .astype(np.int64)
        .astype("timedelta64[D]"),
    )

    frame = pd.concat(rows, ignore_index=True)
    frame["person_id"] = people.id[frame["person_index"].to_numpy()]
    order = [str(group) for group in SpecialGroup.values]
    frame["_rank"] = frame["category"].map({g: i for i, g in enumerate(order)})
    frame = frame.sort_values(["person_id", "_rank"], kind="stable").drop(columns="_rank")
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame.reset_index(drop=True)
