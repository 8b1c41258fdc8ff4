"""Households and persons of the synthetic county (enrollment.seeding.seed loads them).

Households come first: a size (1-6), a village chosen by population share and a
composition template (head, spouse, children, parents, grandchildren). Ages hang
off the head's age, so a "parent" is always older than the head and a grandchild
younger than a child. The head's age distribution is tuned so that a quarter of
the county is 60 or older, as in a rural county that young people leave for work.
Resident ID numbers carry the county's address code, the birth date and a
sequence whose parity is the sex (DOMAIN §6.1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from enrollment.choices import HouseholdRegistrationType, Relationship, Sex
from socialsec.core.choices import DivisionKind, DivisionLevel
from socialsec.core.seeding import SeedContext

DEATH_SOURCE = "civil_affairs"  # DOMAIN glossary: deaths come from civil affairs (民政)
DEATH_SHARE = 0.017  # of all persons, deaths recorded in the last DEATH_YEARS years
DEATH_YEARS = 5
DAYS_PER_YEAR = 365.2425

# Household sizes 1..6 of a rural county's registered households (mean about 2.8).
_SIZE_P = np.array([0.20, 0.28, 0.22, 0.15, 0.09, 0.06])

# Internal member roles; FATHER and MOTHER are the head's parents living together.
HEAD, SPOUSE, CHILD, FATHER, MOTHER, PARENT, GRANDCHILD = range(7)
_RELATIONSHIP = np.array(
    [
        Relationship.HEAD,
        Relationship.SPOUSE,
        Relationship.CHILD,
        Relationship.PARENT,
        Relationship.PARENT,
        Relationship.PARENT,
        Relationship.GRANDCHILD,
    ],
    dtype=object,
)
H, S, C, F, M, P, G = HEAD, SPOUSE, CHILD, FATHER, MOTHER, PARENT, GRANDCHILD
# size -> [(probability, roles)]; the head is always first.
_TEMPLATES: dict[int, list[tuple[float, list[int]]]] = {
    1: [(1.00, [H])],
    2: [(0.70, [H, S]), (0.15, [H, C]), (0.15, [H, P])],
    3: [(0.65, [H, S, C]), (0.15, [H, S, P]), (0.10, [H, C, C]), (0.10, [H, C, G])],
    4: [(0.45, [H, S, C, C]), (0.25, [H, S, C, P]), (0.15, [H, S, F, M]), (0.15, [H, S, C, G])],
    5: [(0.35, [H, S, C, C, P]), (0.30, [H, S, C, G, G]), (0.20, [H, S, C, F, M]), (0.15, [H, S, C, C, C])],
    6: [(0.35, [H, S, C, C, F, M]), (0.35, [H, S, C, C, G, G]), (0.30, [H, S, C, C, C, P])],
}

# The head's age: weights per 5-year band from 20-24 to 90-94 (the big 1962-1975 cohorts are 50-63
# now). Tuned by simulation so that 25.4 % of all persons (24.4 % of the living) are 60 or older
# and 12 % are under 15; tests/seeding checks the first.
_HEAD_AGE_BANDS = np.arange(20, 95, 5)
_HEAD_AGE_WEIGHTS = np.array(
    [3.0, 7.0, 10.0, 11.0, 10.0, 10.0, 11.0, 11.0, 9.0, 7.3, 5.8, 4.3, 2.7, 1.3, 0.5]
)

# Surnames with rough weights for Jiangxi (刘, 李, 王, 陈 lead; 熊, 涂, 万 are local).
_SURNAMES = list(
    "刘李王陈张胡万熊徐罗黄杨吴周涂邓魏朱曾饶谢彭肖赵孙余郭何高林"
    "程江喻钟邹龚付夏宋戴舒雷姜廖陶蔡汪杜游章袁金邱方叶潘聂敖黎甘"
)
_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.9
_MALE_CHARS = list(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文荣海峰成东庆春金德兵亮晨博轩睿"
    "宏新永忠学福贵生发根水长保"
)
_FEMALE_CHARS = list(
    "芳娜敏静秀英丽艳娟霞燕玲桂兰萍红梅琳婷雪慧莉颖倩洁晶欣怡佳琪雨思涵梦悦蕾云凤珍玉琴花月香"
)


def build_registry(ctx: SeedContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households and persons as frames whose columns match the tables."""
    villages = ctx.divisions[ctx.divisions["level"] == DivisionLevel.VILLAGE].reset_index(drop=True)
    households = _households(ctx, villages)
    persons = _members(households)
    _ages_and_sexes(ctx, households, persons)
    _deaths(ctx, persons)
    _id_numbers(ctx, persons)
    _names(ctx, households, persons)
    households_out = pd.DataFrame(
        {
            "id": households["id"],
            "created_at": ctx.created_at,
            "updated_at": ctx.created_at,
            "number": households["number"],
            "township_id": households["township_id"],
            "village_id": households["village_id"],
            "registration_type": households["registration_type"],
        }
    )
    return households_out, persons


def _households(ctx: SeedContext, villages: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("enrollment.households")
    n = ctx.persons
    # Draw more sizes than needed (n/2 draws average 1.4 n persons), keep those that reach N persons,
    # and trim the last household.
    sizes = rng.choice(np.arange(1, 7), size=n // 2 + 16, p=_SIZE_P)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n) + 1)
    sizes = sizes[:count]
    sizes[-1] -= ends[count - 1] - n
    template = _pick_templates(rng, sizes)
    village_index = rng.choice(len(villages), size=count, p=villages["share"] / villages["share"].sum())
    # Number households village by village, like a registry would.
    order = np.lexsort((np.arange(count), village_index))
    sizes, template, village_index = sizes[order], template[order], village_index[order]
    first = np.r_[0, np.flatnonzero(np.diff(village_index)) + 1]
    run_start = np.repeat(first, np.diff(np.r_[first, count]))
    rank_in_village = np.arange(count) - run_start + 1
    codes = villages["code"].to_numpy().astype(str)[village_index]
    urban = villages["kind"].to_numpy()[village_index] == DivisionKind.RESIDENTS_COMMITTEE
    return pd.DataFrame(
        {
            "id": np.arange(1, count + 1),
            "size": sizes,
            "template": template,
            "number": np.strings.add(codes, np.strings.zfill(rank_in_village.astype(str), 5)),
            "village_id": villages["id"].to_numpy()[village_index],
            "township_id": villages["parent_id"].to_numpy().astype(np.int64)[village_index],
            "registration_type": np.where(
                urban, HouseholdRegistrationType.URBAN, HouseholdRegistrationType.RURAL
            ),
        }
    )


def _flatten_templates() -> tuple[np.ndarray, dict[int, int]]:
    """One row per (size, template) with its roles padded by -1, and each size's first row."""
    roles = np.full((sum(len(options) for options in _TEMPLATES.values()), 6), -1, dtype=np.int64)
    first: dict[int, int] = {}
    row = 0
    for size, options in _TEMPLATES.items():
        first[size] = row
        for _probability, members in options:
            roles[row, : len(members)] = members
            row += 1
    return roles, first


_TEMPLATE_ROLES, _TEMPLATE_FIRST = _flatten_templates()


def _pick_templates(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    picked = np.empty(len(sizes), dtype=np.int64)
    draws = rng.random(len(sizes))
    for size, options in _TEMPLATES.items():  # six sizes, each handled as one vector
        mask = sizes == size
        cumulative = np.cumsum([p for p, _ in options])
        cumulative[-1] = 1.0
        picked[mask] = _TEMPLATE_FIRST[size] + np.searchsorted(cumulative, draws[mask], side="right")
    return picked


def _members(households: pd.DataFrame) -> pd.DataFrame:
    sizes = households["size"].to_numpy()
    household_index = np.repeat(np.arange(len(households)), sizes)
    position = np.arange(len(household_index)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    roles = _TEMPLATE_ROLES[households["template"].to_numpy()[household_index], position]
    return pd.DataFrame(
        {
            "id": np.arange(1, len(household_index) + 1),
            "household_index": household_index,
            "role": roles,
        }
    )


def _ages_and_sexes(ctx: SeedContext, households: pd.DataFrame, persons: pd.DataFrame) -> None:
    rng = ctx.rng("enrollment.ages")
    n_h = len(households)
    roles = persons["role"].to_numpy()
    hh = persons["household_index"].to_numpy()
    template = households["template"].to_numpy()
    has_role = np.zeros((len(_TEMPLATE_ROLES), 7), dtype=bool)
    for role in range(7):
        has_role[:, role] = np.equal(_TEMPLATE_ROLES, role).any(axis=1)
    t_has = has_role[template]

    # The head's age in years: the band distribution truncated to what each template allows (no
    # parents left beyond a head of 66, grandchildren from 46). The distribution is uniform within a
    # band, so its CDF is piecewise linear and np.interp inverts it.
    low = np.where(t_has[:, GRANDCHILD], 46.0, np.where(t_has[:, CHILD], 24.0, 20.0))
    high = np.where(t_has[:, FATHER] | t_has[:, MOTHER] | t_has[:, PARENT], 66.0, 95.0)
    edges = np.r_[_HEAD_AGE_BANDS, _HEAD_AGE_BANDS[-1] + 5].astype(float)
    cdf = np.r_[0.0, np.cumsum(_HEAD_AGE_WEIGHTS)] / _HEAD_AGE_WEIGHTS.sum()
    u_low, u_high = np.interp(low, edges, cdf), np.interp(high, edges, cdf)
    head_age = np.interp(u_low + rng.random(n_h) * (u_high - u_low), cdf, edges)

    # Everyone else hangs off the head: spouses about the same age, parents 22-34 years older,
    # children 22-36 years younger and grandchildren 44-62 younger (the bounds keep them born).
    n = len(persons)
    head = head_age[hh]
    r = rng.random(n)
    age = np.select(
        [roles == SPOUSE, roles == CHILD, np.isin(roles, (FATHER, MOTHER, PARENT)), roles == GRANDCHILD],
        [
            head + rng.normal(0.0, 3.0, n),
            head - (22.0 + r * (np.minimum(36.0, head) - 22.0)),
            head + 22.0 + r * 12.0,
            head - (44.0 + r * (np.minimum(62.0, head) - 44.0)),
        ],
        head,
    )
    age = np.clip(age, 0.0, 101.0)
    birth = np.datetime64(ctx.as_of, "D") - np.round(age * DAYS_PER_YEAR).astype("timedelta64[D]")
    persons["birth_date"] = birth.astype("datetime64[D]")
    persons["age"] = age

    # Sex: a couple is mostly registered under the husband; children are 52 % boys.
    head_male = rng.random(n_h) < np.where(t_has[:, SPOUSE], 0.88, 0.5)
    draw = rng.random(n)
    male = np.select(
        [roles == HEAD, roles == SPOUSE, roles == FATHER, roles == MOTHER, roles == PARENT],
        [head_male[hh], ~head_male[hh], True, False, draw < 0.35],
        draw < 0.52,
    )
    persons["male"] = male
    persons["sex"] = np.where(male, Sex.MALE, Sex.FEMALE)
    persons["relationship"] = _RELATIONSHIP[roles]
    persons["household_id"] = households["id"].to_numpy()[hh]
    persons["township_id"] = households["township_id"].to_numpy()[hh]
    persons["village_id"] = households["village_id"].to_numpy()[hh]
    persons["registration_type"] = households["registration_type"].to_numpy()[hh]
    persons["created_at"] = ctx.created_at
    persons["updated_at"] = ctx.created_at


def _deaths(ctx: SeedContext, persons: pd.DataFrame) -> None:
    """Pick round(1.7 % of N) deaths, weighted by a Gompertz hazard, dated in the last five years."""
    rng = ctx.rng("enrollment.deaths")
    n = len(persons)
    deaths = round(DEATH_SHARE * n)
    age = persons["age"].to_numpy()
    hazard = np.exp(0.095 * (age - 80.0)) + 0.002
    # Weighted sampling without replacement in one pass: the k smallest Exp(1)/weight keys.
    keys = rng.exponential(size=n) / hazard
    chosen = np.argpartition(keys, deaths - 1)[:deaths] if deaths else np.array([], dtype=np.int64)
    days_ago = rng.integers(0, int(DEATH_YEARS * DAYS_PER_YEAR), size=n)
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    death = np.maximum(np.datetime64(ctx.as_of, "D") - days_ago.astype("timedelta64[D]"), birth)
    dead = np.zeros(n, dtype=bool)
    dead[chosen] = True
    persons["death_date"] = pd.Series(np.where(dead, death, np.datetime64("NaT")), dtype="datetime64[s]")
    persons["death_source"] = np.where(dead, DEATH_SOURCE, "")


def _id_numbers(ctx: SeedContext, persons: pd.DataFrame) -> None:
    """Sequences unique per (birth date, sex), odd for men; the check character computed in bulk."""
    rng = ctx.rng("enrollment.id_numbers")
    n = len(persons)
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    day = birth.astype(np.int64)
    male = persons["male"].to_numpy()
    # Rank each person within its (birth date, sex) group in a random order.
    order = np.lexsort((rng.random(n), male, day))
    group_key = day[order] * 2 + male[order]
    starts = np.r_[0, np.flatnonzero(np.diff(group_key)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - run_start
    # Men take 001, 003 .. 999 (500 numbers), women 002 .. 998 (499; 000 is never issued), each group
    # from a random starting point so numbers do not all begin at 001.
    slots = np.where(male, 500, 499)
    if (rank >= slots).any():
        raise ValueError("more than 499 persons of one sex share a birth date; the county is too large")
    start = rng.integers(0, 499, size=n)
    group_start = np.empty(n, dtype=np.int64)
    group_start[order] = start[order][run_start]
    slot = (group_start + rank) % slots
    sequence = np.where(male, 2 * slot + 1, 2 * slot + 2)

    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = years * 10_000 + months * 100 + days
    first17 = int(ctx.county_code) * 10**11 + ymd * 1000 + sequence
    # ISO 7064 MOD 11-2 over the 17 digits (DOMAIN §6.1).
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = np.zeros(n, dtype=np.int64)
    for position, weight in enumerate(weights):  # 17 digit positions, each a whole column
        total += (first17 // 10 ** (16 - position)) % 10 * weight
    check = np.array(list("10X98765432"))[total % 11]
    # The address code starts with a non-zero digit, so first17 always prints as 17 digits.
    persons["id_number"] = np.strings.add(first17.astype("U17"), check)


def _names(ctx: SeedContext, households: pd.DataFrame, persons: pd.DataFrame) -> None:
    """A surname by family line (children take the father's), and one or two given-name characters."""
    rng = ctx.rng("enrollment.names")
    n_h, n = len(households), len(persons)
    p = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
    head_surname = rng.choice(len(_SURNAMES), size=n_h, p=p)
    spouse_surname = rng.choice(len(_SURNAMES), size=n_h, p=p)
    own_surname = rng.choice(len(_SURNAMES), size=n, p=p)
    hh = persons["household_index"].to_numpy()
    roles = persons["role"].to_numpy()
    head_is_male = np.zeros(n_h, dtype=bool)
    heads = roles == HEAD
    head_is_male[hh[heads]] = persons["male"].to_numpy()[heads]
    family = np.where(head_is_male, head_surname, spouse_surname)
    surname = np.select(
        [roles == HEAD, roles == SPOUSE, np.isin(roles, (CHILD, GRANDCHILD)), roles == FATHER],
        [head_surname[hh], spouse_surname[hh], family[hh], head_surname[hh]],
        own_surname,
    )
    male = persons["male"].to_numpy()
    male_chars, female_chars = np.array(_MALE_CHARS), np.array(_FEMALE_CHARS)
    first = np.where(male, male_chars[rng.integers(0, len(male_chars), n)],
                     female_chars[rng.integers(0, len(female_chars), n)])
    second = np.where(male, male_chars[rng.integers(0, len(male_chars), n)],
                      female_chars[rng.integers(0, len(female_chars), n)])
    two_chars = rng.random(n) < 0.72
    given = np.where(two_chars, np.strings.add(first, second), first)
    persons["name"] = np.strings.add(np.array(_SURNAMES)[surname], given)
