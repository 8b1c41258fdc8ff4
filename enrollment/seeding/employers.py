"""Employers of the synthetic county (DOMAIN §6.2, §8.1 Organization)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from enrollment.choices import SizeClass
from socialsec.core.choices import DivisionKind, DivisionLevel
from socialsec.core.seeding import SeedContext
from socialsec.lib.credit_code import ALPHABET, check_character

# Employers: one per this many persons, plus a government and two institutions per township.
PERSONS_PER_ORGANIZATION = 200
SIZE_CLASS_P = {"micro": 0.62, "small": 0.28, "medium": 0.08, "large": 0.02}
# Relative number of employees of an employer, by size class.
EMPLOYEES_WEIGHT = {"large": 400.0, "medium": 80.0, "small": 15.0, "micro": 3.0}
OWN_TOWNSHIP_SHARE = 0.75  # employees working in their own township
SIZE_CLASS_BASIS = "工信部联企业〔2011〕300号"

_INDUSTRIES = {
    # industry -> trade words for names
    "制造业": ["机械", "电子", "服装", "食品", "塑业", "家具", "五金制品"],
    "建筑业": ["建筑工程", "建设", "装饰工程"],
    "批发和零售业": ["商贸", "贸易", "医药连锁"],
    "交通运输、仓储和邮政业": ["物流", "运输"],
    "住宿和餐饮业": ["餐饮管理", "酒店管理"],
    "农、林、牧、渔业": ["农业开发", "生态农业", "养殖"],
    "信息传输、软件和信息技术服务业": ["信息技术", "网络科技"],
    "居民服务、修理和其他服务业": ["家政服务", "物业管理", "汽车服务"],
    "房地产业": ["房地产开发", "置业"],
}
_INDUSTRY_P = np.array([0.34, 0.14, 0.18, 0.07, 0.07, 0.08, 0.03, 0.06, 0.03])
_SHOPS = {
    "批发和零售业": ["五金店", "便利店", "农资店", "超市"],
    "住宿和餐饮业": ["饭店", "小吃店"],
    "居民服务、修理和其他服务业": ["汽车修理部", "理发店", "家电维修部"],
}
_COOP_PRODUCTS = ["水稻种植", "蔬菜种植", "生猪养殖", "水产养殖", "果蔬", "油茶种植"]
_BRAND_FIRST = list("恒鑫华宏新金盛兴永嘉天瑞丰泰广隆富博德明佳安鸿昌")
_BRAND_SECOND = list("达源美业盛通泰发创辉祥和利康星茂联科洋宇")


def build_organizations(ctx: SeedContext) -> pd.DataFrame:
    """Employers by unified social credit code (DOMAIN §6.2): a government and two public
    institutions per township (authority 1), then enterprises, individual businesses and
    farmers' co-operatives (authority 9) spread over the townships by population."""
    rng = ctx.rng("enrollment.organizations")
    divisions = ctx.divisions
    townships = divisions[divisions["level"] == DivisionLevel.TOWNSHIP].reset_index(drop=True)
    villages = divisions[divisions["level"] == DivisionLevel.VILLAGE]
    share = villages.groupby("parent_id")["share"].sum().reindex(townships["id"]).fillna(0).to_numpy()
    t_ids = townships["id"].to_numpy()
    t_names = townships["name"].to_numpy().astype(str)
    t_kind = townships["kind"].to_numpy()
    street = t_kind == DivisionKind.STREET
    n_t = len(townships)

    # Public bodies: the township's government (or street office), its central school, its clinic.
    public_township = np.repeat(np.arange(n_t), 3)
    role = np.tile(np.arange(3), n_t)
    public_names = np.select(
        [role == 0, role == 1, street[public_township]],
        [
            np.where(
                street[public_township],
                np.strings.add(t_names[public_township], "办事处"),
                np.strings.add(t_names[public_township], "人民政府"),
            ),
            np.strings.add(t_names[public_township], "中心小学"),
            np.strings.add(t_names[public_township], "社区卫生服务中心"),
        ],
        np.strings.add(t_names[public_township], "卫生院"),
    )
    public = pd.DataFrame(
        {
            "prefix": np.where(role == 0, "11", "12"),
            "name": public_names,
            "size_class": SizeClass.SMALL,
            "size_class_basis": "",
            "industry": np.select(
                [role == 0, role == 1], ["公共管理、社会保障和社会组织", "教育"], "卫生和社会工作"
            ),
            "township_index": public_township,
            "weight": np.where(role == 0, 30.0, 25.0),
        }
    )

    n_private = max(n_t, round(ctx.persons / PERSONS_PER_ORGANIZATION))
    # Enterprises, individual businesses and farmers' co-operatives, at least one of each.
    counts = [max(1, round(fraction * n_private)) for fraction in (0.10, 0.05)]
    kind = rng.permutation(np.repeat([0, 1, 2], [n_private - sum(counts), *counts]))
    township_index = rng.choice(n_t, size=n_private, p=share / share.sum())
    township_index[:n_t] = np.arange(n_t)  # every township has at least one employer
    classes = np.array(list(SIZE_CLASS_P))
    size_class = np.where(
        kind == 0,
        classes[rng.choice(len(classes), size=n_private, p=list(SIZE_CLASS_P.values()))],
        np.where(kind == 2, np.where(rng.random(n_private) < 0.2, "small", "micro"), "micro"),
    )
    industries = np.array(list(_INDUSTRIES))
    industry = industries[rng.choice(len(industries), size=n_private, p=_INDUSTRY_P / _INDUSTRY_P.sum())]
    shops = np.array(list(_SHOPS))
    industry = np.where(kind == 1, shops[rng.integers(0, len(shops), n_private)], industry)
    industry = np.where(kind == 2, "农、林、牧、渔业", industry)
    trade = np.array([_pick_word(rng, _INDUSTRIES[i]) for i in industry])  # a few thousand rows
    shop = np.array([_pick_word(rng, _SHOPS.get(i, ["商店"])) for i in industry])
    brand = np.strings.add(
        np.array(_BRAND_FIRST)[rng.integers(0, len(_BRAND_FIRST), n_private)],
        np.array(_BRAND_SECOND)[rng.integers(0, len(_BRAND_SECOND), n_private)],
    )
    stem = np.array([name.removesuffix("镇").removesuffix("乡").removesuffix("街道") for name in t_names])
    county_stem = ctx.county_name.removesuffix("县").removesuffix("市").removesuffix("区")
    product = np.array(_COOP_PRODUCTS)[rng.integers(0, len(_COOP_PRODUCTS), n_private)]
    name = np.select(
        [kind == 0, kind == 1],
        [
            np.strings.add(
                np.strings.add(np.strings.add(county_stem, brand), trade),
                np.where(size_class == "large", "股份有限公司", "有限公司"),
            ),
            np.strings.add(np.strings.add(stem[township_index], brand), shop),
        ],
        np.strings.add(np.strings.add(t_names[township_index], product), "专业合作社"),
    )
    weight_by_class = np.vectorize(EMPLOYEES_WEIGHT.get)(size_class)
    private = pd.DataFrame(
        {
            "prefix": np.array(["91", "92", "93"])[kind],
            "name": name,
            "size_class": size_class,
            "size_class_basis": np.where(kind == 0, SIZE_CLASS_BASIS, ""),
            "industry": industry,
            "township_index": township_index,
            "weight": weight_by_class * rng.lognormal(0.0, 0.3, n_private),
        }
    )
    frame = pd.concat([public, private], ignore_index=True)
    n = len(frame)
    frame["id"] = np.arange(1, n + 1)
    frame["township_id"] = t_ids[frame["township_index"].to_numpy()]
    frame["size_class_year"] = ctx.as_of.year - 1 - rng.integers(0, 4, n)
    frame["credit_code"] = _credit_codes(rng, frame["prefix"].to_numpy().astype(str), ctx.county_code)
    frame["registration_authority"] = np.strings.slice(frame["credit_code"].to_numpy().astype(str), 0, 1)
    frame["entity_type"] = np.strings.slice(frame["credit_code"].to_numpy().astype(str), 1, 2)
    frame["public"] = frame["prefix"].str.startswith("1")
    return frame


def _pick_word(rng: np.random.Generator, words: list[str]) -> str:
    return words[int(rng.integers(0, len(words)))]


def _credit_codes(rng: np.random.Generator, prefixes: np.ndarray, county: str) -> np.ndarray:
    """Valid, distinct codes: authority and type, the county, a GB 11714 organization code, the check.

    The organization code is "MA" and six symbols numbering the employer through a bijection
    of 31^6 (so no two collide), then its own check digit; position 18 is computed as the
    wrapper recomputes it (socialsec.lib.credit_code).
    """
    n = len(prefixes)
    space = len(ALPHABET) ** 6
    number = (np.arange(n, dtype=np.int64) * 7919 + int(rng.integers(0, space))) % space  # 7919 is prime
    symbols = np.array(list(ALPHABET))
    body = np.full(n, "MA", dtype="<U8")
    for power in range(5, -1, -1):  # six symbols, most significant first
        body = np.strings.add(body, symbols[(number // len(ALPHABET) ** power) % len(ALPHABET)])
    # GB 11714: weights 3 7 9 10 5 8 4 2 over values 0-9, A=10 … Z=35; 11 - sum % 11, 10 -> X, 11 -> 0.
    values = np.array([[int(c, 36) for c in code] for code in body])  # a few thousand codes
    remainder = 11 - (values * np.array([3, 7, 9, 10, 5, 8, 4, 2])).sum(axis=1) % 11
    check = np.where(remainder == 10, "X", np.where(remainder == 11, "0", remainder.astype(str)))
    first17 = np.strings.add(np.strings.add(np.strings.add(prefixes, county), body), check)
    return np.array([code + check_character(code) for code in first17.tolist()])
