"""The national policy parameters of DOMAIN, as seed data (DOMAIN §0.2).

Readable source of the seed. Migrations never import this module: each seed
migration carries a frozen copy of the rows it loads (core/migrations/0003 for
this first set), so editing this module changes nothing by itself. To change a
national figure, edit it here AND add a data migration with the new rows;
tests/core/test_parameters.py checks that every row below is in a migrated
database.

Conventions:
- region "000000" is national (see socialsec.core.parameters.NATIONAL);
- `effective_to` is the last day in force (inclusive); None is open-ended;
- money and ratios are Decimal strings, never floats;
- `confidence` and `source_tag` are as DOMAIN gives them; where DOMAIN gives a
  figure but not its exact effective date, the note says so.
"""

from __future__ import annotations

from typing import Any

S = {
    "S2": "https://github.com/LawRefBook/Laws/blob/2f4c5c2/社会法/社会保险法(2018-12-29).md",
    "S3": "https://github.com/LawRefBook/Laws/blob/2f4c5c2/行政法规/失业保险条例(1999-01-22).md",
    "S11": (
        "https://mpisoc.mpg.de/en/social-law/research/research-projects/pension-maps/project-website/"
        "peoples-republic-of-china/basic-old-age-pension-insurance-scheme-for-urban-and-rural-residents"
    ),
    "S12": "https://m.110ask.com/wenda/3835039490971907586.html",
    "S16": "https://m.23xiu.com/yanglaogaige/360608.html",
    "S19": "http://y866.cn/tech/202409/763487.html",
    "S22": "http://shockplant.com/wap/2011-10/26/content_6534286_4.htm",
    "S24": "http://www.szjzcy.com/a/201805/14/WS5af9868ca3103f6866ee848a.html",
    "S28": "https://github.com/eternity4719/HowToLiveBetter",
}

GUOFA_2014_8 = "国发〔2014〕8号"
RETIREMENT_DECISION = "全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定 (2024-09-13)"


def _row(
    key: str,
    kind: str,
    value: Any,
    *,
    unit: str = "",
    since: str,
    until: str | None = None,
    tag: str = "",
    doc: str = "",
    url: str = "",
    confidence: str,
    note: str = "",
) -> dict[str, Any]:
    return {
        "region_code": "000000",
        "scheme": key.split(".", 1)[0],
        "key": key,
        "kind": kind,
        "unit": unit,
        "value": value,
        "effective_from": since,
        "effective_to": until,
        "source_tag": tag,
        "source_doc_no": doc,
        "source_url": url,
        "confidence": confidence,
        "note": note,
    }


_SINCE_2014 = "2014-02-21"  # the date of 国发〔2014〕8号 (DOMAIN gives no effective date)
_DATE_NOTE = "DOMAIN gives the year only; the exact effective date is unconfirmed (DOMAIN §10 item 1)."

RESIDENT_PENSION = [
    # DOMAIN §1.2 [S12] (B)
    _row(
        "resident_pension.contribution_grades",
        "decimal_list",
        ["100", "200", "300", "400", "500", "600", "700", "800", "900", "1000", "1500", "2000"],
        unit="yuan_per_year",
        since=_SINCE_2014,
        tag="S12",
        doc=GUOFA_2014_8,
        url=S["S12"],
        confidence="B",
        note="12 national grades; a province may add grades (DOMAIN §1.2).",
    ),
    _row(
        "resident_pension.contribution_subsidy.minimum",
        "decimal",
        "30",
        unit="yuan_per_year",
        since=_SINCE_2014,
        tag="S12",
        doc=GUOFA_2014_8,
        url=S["S12"],
        confidence="B",
        note="At least this much for the lowest grade (DOMAIN §1.2).",
    ),
    _row(
        "resident_pension.contribution_subsidy.higher_grade_threshold",
        "decimal",
        "500",
        unit="yuan_per_year",
        since=_SINCE_2014,
        tag="S12",
        doc=GUOFA_2014_8,
        url=S["S12"],
        confidence="B",
        note="Grades of this amount and above get the higher minimum subsidy (DOMAIN §1.2).",
    ),
    _row(
        "resident_pension.contribution_subsidy.higher_grade_minimum",
        "decimal",
        "60",
        unit="yuan_per_year",
        since=_SINCE_2014,
        tag="S12",
        doc=GUOFA_2014_8,
        url=S["S12"],
        confidence="B",
        note="At least this much for grades at or above the threshold (DOMAIN §1.2).",
    ),
    # DOMAIN §0.5, §1.3: proxy payment only for people aged 16-59 who still contribute.
    # DOMAIN §1.1 [S11] (B): persons aged 16 and over may enrol in the resident pension.
    _row(
        "resident_pension.enrollment.min_age",
        "integer",
        16,
        unit="years",
        since=_SINCE_2014,
        tag="S11",
        doc=GUOFA_2014_8,
        url=S["S11"],
        confidence="B",
        note="Who can enrol: aged 16 and over, not a student (DOMAIN §1.1).",
    ),
    _row(
        "resident_pension.proxy_payment.min_age",
        "integer",
        16,
        unit="years",
        since=_SINCE_2014,
        tag="S11",
        doc=GUOFA_2014_8,
        url=S["S11"],
        confidence="B",
        note="Enrolment starts at 16 (DOMAIN §0.5, §1.1, §1.3).",
    ),
    _row(
        "resident_pension.proxy_payment.max_age",
        "integer",
        59,
        unit="years",
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="B",
        note="At 60 the person receives a pension instead (DOMAIN §0.5, §1.3).",
    ),
    # DOMAIN §1.5 [S16, S17] (B)
    _row(
        "resident_pension.benefit.pension_age",
        "integer",
        60,
        unit="years",
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="B",
        note="Unchanged by the 2024 reform is itself unconfirmed (DOMAIN §1.5).",
    ),
    _row(
        "resident_pension.benefit.minimum_contribution_years",
        "integer",
        15,
        unit="years",
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="B",
        note="Cumulative years (DOMAIN §1.5).",
    ),
    # DOMAIN §0.4: "the month after reaching 60, or after approval" is common practice, unconfirmed.
    _row(
        "resident_pension.benefit.start_month_rule",
        "text",
        "month_after_pension_age",
        since=_SINCE_2014,
        confidence="unconfirmed",
        note="month_after_pension_age | month_of_pension_age | month_after_approval (DOMAIN §0.4, §10).",
    ),
    # DOMAIN §1.4 [S12, S16, S22] (B)
    _row(
        "resident_pension.personal_account.payout_divisor",
        "decimal",
        "139",
        since=_SINCE_2014,
        tag="S22",
        doc=GUOFA_2014_8,
        url=S["S22"],
        confidence="B",
        note="monthly personal-account pension = balance / divisor (DOMAIN §1.4).",
    ),
]

# DOMAIN §1.4 table; §0.5: 123 in 2024, 143 in 2025, 163 in 2026 — never 143 for 2024.
# The 55 yuan of the 2009/2011 pilots predates the merged scheme and is not seeded.
_BASIC = "resident_pension.basic_pension.national_minimum"
BASIC_PENSION = [
    _row(
        _BASIC,
        "decimal",
        "70",
        unit="yuan_per_month",
        since="2014-07-01",
        until="2017-12-31",
        tag="S24",
        url=S["S24"],
        confidence="B",
        note="The effective date 2014-07 is unconfirmed (DOMAIN §1.4).",
    ),
    _row(
        _BASIC,
        "decimal",
        "88",
        unit="yuan_per_month",
        since="2018-01-01",
        until="2019-12-31",
        tag="S24",
        url=S["S24"],
        confidence="B",
    ),
    _row(
        _BASIC,
        "decimal",
        "93",
        unit="yuan_per_month",
        since="2020-01-01",
        until="2021-12-31",
        confidence="unconfirmed",
        note=_DATE_NOTE,
    ),
    _row(
        _BASIC,
        "decimal",
        "98",
        unit="yuan_per_month",
        since="2022-01-01",
        until="2022-12-31",
        confidence="unconfirmed",
        note=_DATE_NOTE,
    ),
    _row(
        _BASIC,
        "decimal",
        "103",
        unit="yuan_per_month",
        since="2023-01-01",
        until="2023-12-31",
        tag="S25",
        confidence="C",
        note='"原 103 +20" in [S25]. ' + _DATE_NOTE,
    ),
    _row(
        _BASIC,
        "decimal",
        "123",
        unit="yuan_per_month",
        since="2024-01-01",
        until="2024-12-31",
        tag="S25",
        confidence="C",
        note="凤县 page cited in [S25]. " + _DATE_NOTE,
    ),
    _row(
        _BASIC,
        "decimal",
        "143",
        unit="yuan_per_month",
        since="2025-01-01",
        until="2025-12-31",
        confidence="unconfirmed",
        note="Inferred as 123 + 20 and 163 − 20 (DOMAIN §1.4). " + _DATE_NOTE,
    ),
    _row(
        _BASIC,
        "decimal",
        "163",
        unit="yuan_per_month",
        since="2026-01-01",
        tag="S26",
        confidence="C",
        note=_DATE_NOTE,
    ),
]

GENERAL = [
    # DOMAIN §0.3: half-up for display and payment; the official practice is unconfirmed.
    _row(
        "general.money.rounding_mode",
        "text",
        "half_up",
        since="2000-01-01",
        confidence="unconfirmed",
        note="half_up | half_even | down (socialsec.lib.money; DOMAIN §0.3, §10 item 10).",
    ),
]

# DOMAIN §2.3, payout months of 国发〔2005〕38号 (DOMAIN gives no source tag; kept at C until checked).
_GUOFA_2005_38 = "国发〔2005〕38号"
EMPLOYEE_PENSION = [
    _row(
        f"employee_pension.personal_account.payout_months_at_{age}",
        "decimal",
        months,
        unit="months",
        since="2006-01-01",
        doc=_GUOFA_2005_38,
        confidence="C",
        note="DOMAIN §2.3 cites the document without a source tag; for cross-checks only.",
    )
    for age, months in (("60", "139"), ("55", "170"), ("50", "195"))
]

# DOMAIN §2.3 [S19] (B): the 2024 retirement-age decision, in force 2025-01-01.
_RETIREMENT = "employee_pension.retirement"
_REFORM = {"since": "2025-01-01", "tag": "S19", "doc": RETIREMENT_DECISION, "url": S["S19"]}
RETIREMENT = [
    *(
        row
        for category, age, first_cohort, step, max_delay in (
            ("male", 60, "1965-01", 4, 36),
            ("female55", 55, "1970-01", 4, 36),
            ("female50", 50, "1975-01", 2, 60),
        )
        for row in (
            _row(
                f"{_RETIREMENT}.{category}.original_age",
                "integer",
                age,
                unit="years",
                confidence="B",
                **_REFORM,
            ),
            _row(
                f"{_RETIREMENT}.{category}.first_reform_cohort",
                "year_month",
                first_cohort,
                confidence="B",
                note="Birth month from which the age rises (DOMAIN §2.3 reference formula).",
                **_REFORM,
            ),
            _row(
                f"{_RETIREMENT}.{category}.step_months",
                "integer",
                step,
                unit="months",
                confidence="B",
                note="One month of delay per this many months of birth cohort.",
                **_REFORM,
            ),
            _row(
                f"{_RETIREMENT}.{category}.max_delay_months",
                "integer",
                max_delay,
                unit="months",
                confidence="B",
                **_REFORM,
            ),
        )
    ),
    _row(
        f"{_RETIREMENT}.first_cohort_delay_months",
        "integer",
        1,
        unit="months",
        confidence="unconfirmed",
        note="The reference formula gives the first cohort 1 month; one reading of the tables gives 0 "
        "(DOMAIN §2.3, §10 item 5). Verify against 附件1–3.",
        **_REFORM,
    ),
    _row(
        "employee_pension.minimum_contribution.base_years",
        "decimal",
        "15",
        unit="years",
        since="2011-07-01",
        tag="S2",
        doc="社会保险法 Art16",
        url=S["S2"],
        confidence="A",
    ),
    _row(
        "employee_pension.minimum_contribution.rise_start_year",
        "integer",
        2030,
        confidence="B",
        note="The first retirement year with a higher minimum (DOMAIN §2.3).",
        **_REFORM,
    ),
    _row(
        "employee_pension.minimum_contribution.rise_per_year",
        "decimal",
        "0.5",
        unit="years",
        confidence="B",
        **_REFORM,
    ),
    _row(
        "employee_pension.minimum_contribution.cap_years",
        "decimal",
        "20",
        unit="years",
        confidence="B",
        **_REFORM,
    ),
]

# DOMAIN §3.1, §3.2 [S2 Art45-46, S3 Art14, 17] (A). Provinces replace the table (e.g. Guangdong).
UNEMPLOYMENT = [
    _row(
        "unemployment_benefit.minimum_contribution_years",
        "integer",
        1,
        unit="years",
        since="1999-01-22",
        tag="S3",
        doc="失业保险条例 Art14",
        url=S["S3"],
        confidence="A",
    ),
    _row(
        "unemployment_benefit.duration_table",
        "table",
        [
            {"min_years": 1, "max_months": 12},
            {"min_years": 5, "max_months": 18},
            {"min_years": 10, "max_months": 24},
        ],
        since="1999-01-22",
        tag="S3",
        doc="失业保险条例 Art17",
        url=S["S3"],
        confidence="A",
        note="Rows: at least min_years of cumulative contribution give at most max_months (DOMAIN §3.2).",
    ),
    _row(
        "unemployment_benefit.max_total_months",
        "integer",
        24,
        unit="months",
        since="1999-01-22",
        tag="S3",
        doc="失业保险条例 Art17",
        url=S["S3"],
        confidence="A",
        note="A new entitlement plus the unused remainder of the earlier one (DOMAIN §3.2).",
    ),
]

# DOMAIN §4.1, §4.2 and §10 item 3: widely used ratios with no source found. In force from the
# 社会救助暂行办法 [S4] (2014-05-01), the framework they belong to.
SOCIAL_ASSISTANCE = [
    _row(
        "extreme_poverty_support.min_ratio",
        "decimal",
        "1.3",
        unit="ratio",
        since="2014-05-01",
        confidence="unconfirmed",
        note="Standard >= ratio x local minimum living allowance standard "
        "(DOMAIN §4.2: extreme_poverty_support_min_ratio).",
    ),
    _row(
        "minimum_living_allowance.marginal_household_income_ratio",
        "decimal",
        "1.5",
        unit="ratio",
        since="2014-05-01",
        confidence="unconfirmed",
        note="低保边缘家庭: per-capita income <= ratio x the standard (DOMAIN §4.1).",
    ),
]

SEED_ROWS: list[dict[str, Any]] = [
    *GENERAL,
    *RESIDENT_PENSION,
    *BASIC_PENSION,
    *EMPLOYEE_PENSION,
    *RETIREMENT,
    *UNEMPLOYMENT,
    *SOCIAL_ASSISTANCE,
]
