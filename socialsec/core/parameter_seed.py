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

# DOMAIN §2.2 [S27] (C): contribution rates and base. DOMAIN quotes secondary summaries of
# 国办发〔2019〕13号 and 国发〔2005〕38号 without effective dates; the dates below are those
# documents' own start dates, unconfirmed. The personal-account interest rate is announced
# yearly and DOMAIN gives no figure: it is not seeded, and a calculation needing it says so.
_GUOBAN_2019_13 = "国办发〔2019〕13号"
_S27_NOTE = "DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed."
EMPLOYEE_CONTRIBUTION = [
    _row(key, "decimal", value, unit="ratio", since=since, tag="S27", doc=doc, confidence="C", note=_S27_NOTE)
    for key, value, since, doc in (
        ("employee_pension.contribution_rate.employer", "0.16", "2019-05-01", _GUOBAN_2019_13),
        ("employee_pension.contribution_rate.individual", "0.08", "2006-01-01", _GUOFA_2005_38),
        ("employee_pension.contribution_base.floor_ratio", "0.60", "2019-05-01", _GUOBAN_2019_13),
        ("employee_pension.contribution_base.ceiling_ratio", "3.00", "2019-05-01", _GUOBAN_2019_13),
        ("employee_pension.flexible_worker.contribution_rate", "0.20", "2006-01-01", _GUOFA_2005_38),
        ("employee_pension.flexible_worker.personal_account_rate", "0.08", "2006-01-01", _GUOFA_2005_38),
    )
] + [
    # DOMAIN §2.2 [S3 Art6] (A): the 1999 rates; today's temporarily reduced rates are unconfirmed.
    _row(
        key,
        "decimal",
        value,
        unit="ratio",
        since="1999-01-22",
        tag="S3",
        doc="失业保险条例 Art6",
        url=S["S3"],
        confidence="A",
        note="The 1999 rate; the current temporarily reduced rates are unconfirmed (DOMAIN §2.2).",
    )
    for key, value in (
        ("unemployment_benefit.contribution_rate.employer", "0.02"),
        ("unemployment_benefit.contribution_rate.individual", "0.01"),
    )
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

# --- Benefits (issue 4): DOMAIN §1.3-§1.6, §3, §5.4; read by benefits/calculations -------------
# Loaded by core/migrations/0007_benefit_parameters. Local figures that DOMAIN does not give are
# NOT seeded; a county (or prefecture, province) adds them and a calculation that needs one
# answers MissingParameter (409) naming the key until it does:
#   resident_pension.long_contribution_topup.per_year   yuan/month per contribution year above
#                                                       threshold_years, read only when enabled
#   general.minimum_wage.monthly                        the monthly minimum wage (DOMAIN §3.3)
#   minimum_living_allowance.standard.urban             the urban 低保 standard, the floor of the
#                                                       unemployment benefit [S2 Art47]
#   unemployment_subsidy.amount_tiers                   local subsidy amounts (Jinan below)

_S_BENEFITS = {
    "S6": (
        "https://github.com/LawRefBook/Laws/blob/2f4c5c2/DLC/广东地方法规/地方性法规/广东/"
        "广东省失业保险条例(2022-06-01).md"
    ),
    "S13": "http://m.bbbaike.com/baike/techan/1268936.html",
    "S16b": "https://wodefinance.com/TianTianFund/rakerguqbw.html",
    "S18": "http://uianet.net/dictionary/b16649556.html",
    "S23": "http://www.chinahumanrights.org/Messages/Focus/58/5/t20110907_792237.htm",
    "S29_JINAN": "http://wap.vmaya.com/socfnews/topic/tskey/sn9375316109117487199.html",
}
_GUANGDONG_UI = "广东省失业保险条例 (2022-06-01)"
_UI_REGULATION = "失业保险条例"


def _local_row(region: str, key: str, kind: str, value: Any, **fields: Any) -> dict[str, Any]:
    """A row of a province or prefecture that DOMAIN gives as data (e.g. Guangdong's table)."""
    return {**_row(key, kind, value, **fields), "region_code": region}


_PROXY = "resident_pension.proxy_payment"
_TRANSITION = "resident_pension.transition"
_TOPUP = "resident_pension.long_contribution_topup"

BENEFITS = [
    # DOMAIN §5.4, E9: whether the death month itself is paid is a local rule.
    _row(
        "general.death.death_month_payable",
        "boolean",
        True,
        since="2000-01-01",
        confidence="unconfirmed",
        note="true: paid through the death month, stopped from the next; false: stopped from the "
        "death month (DOMAIN §5.4, E9, §10 item 4).",
    ),
    # DOMAIN §1.4: local basic pension = national minimum + provincial top-up + county top-up.
    _row(
        "resident_pension.basic_pension.provincial_topup",
        "decimal",
        "0",
        unit="yuan_per_month",
        since=_SINCE_2014,
        confidence="unconfirmed",
        note="Placeholder 0: the province sets its own top-up at its xx0000 code (DOMAIN §1.4).",
    ),
    _row(
        "resident_pension.basic_pension.county_topup",
        "decimal",
        "0",
        unit="yuan_per_month",
        since=_SINCE_2014,
        confidence="unconfirmed",
        note="Placeholder 0: the county sets its own top-up at its county code (DOMAIN §1.4).",
    ),
    # DOMAIN §1.4 [S16] (B): a local top-up for more than 15 years; the amounts are unconfirmed.
    _row(
        f"{_TOPUP}.enabled",
        "boolean",
        False,
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="unconfirmed",
        note="Off unless configured: a county sets true and adds "
        "resident_pension.long_contribution_topup.per_year (yuan/month per year above the threshold).",
    ),
    _row(
        f"{_TOPUP}.threshold_years",
        "integer",
        15,
        unit="years",
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="B",
        note="Years above this count for the top-up (DOMAIN §1.4: 'more than 15 years').",
    ),
    # DOMAIN §1.5 transitional rules [S16] (B), by the person's age when the local scheme began.
    _row(
        f"{_TRANSITION}.scheme_start",
        "year_month",
        "2009-01",
        since="2009-01-01",
        tag="S23",
        url=_S_BENEFITS["S23"],
        confidence="unconfirmed",
        note="The year of the new rural pension pilot (DOMAIN §1.4 table) as a national default; "
        "each county began on its own date: set it at the county code. The month is unconfirmed.",
    ),
    _row(
        f"{_TRANSITION}.years_to_go_threshold",
        "integer",
        15,
        unit="years",
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="B",
        note="Fewer years than this to the pension age when the scheme began: pay every year, "
        "back-payment allowed (DOMAIN §1.5, E6).",
    ),
    _row(
        f"{_TRANSITION}.backpay_cap_years",
        "integer",
        15,
        unit="years",
        since=_SINCE_2014,
        tag="S16",
        doc=GUOFA_2014_8,
        url=S["S16"],
        confidence="B",
        note="With back-payment, the total paid must not exceed this many years (DOMAIN §1.5).",
    ),
    _row(
        f"{_TRANSITION}.pension_without_contribution_at_start",
        "boolean",
        True,
        since=_SINCE_2014,
        tag="S16b",
        url=_S_BENEFITS["S16b"],
        confidence="unconfirmed",
        note="Already at the pension age when the scheme began and not receiving another basic "
        "pension: the basic pension without contributing (DOMAIN §1.5; details unconfirmed).",
    ),
    # DOMAIN §1.6 Art 8 [S18] (B): the refund excludes government subsidies; whether proxy-paid
    # (代缴) money counts as one is not said.
    _row(
        "resident_pension.dual_receipt.proxy_payment_refunded",
        "boolean",
        False,
        since=_SINCE_2014,
        tag="S18",
        url=_S_BENEFITS["S18"],
        confidence="unconfirmed",
        note="Whether the proxy-payment part of the account is refunded on a dual-receipt closure "
        "(DOMAIN §1.6 Art 8, E7).",
    ),
    # DOMAIN §1.3 [S12, S13] (B): 代缴 at the full minimum grade for difficult groups.
    _row(
        f"{_PROXY}.grade_amount",
        "decimal",
        "100",
        unit="yuan_per_year",
        since=_SINCE_2014,
        tag="S13",
        url=_S_BENEFITS["S13"],
        confidence="B",
        note="The grade proxy-paid in full; kept when the minimum grade rises (DOMAIN §1.3, E2).",
    ),
    _row(
        f"{_PROXY}.rules",
        "table",
        [
            {"category": "minimum_living_allowance", "share": "full"},
            {"category": "extreme_poverty_support", "share": "full"},
            {"category": "returned_to_poverty", "share": "full"},
            {"category": "severe_disability", "share": "full"},
        ],
        since=_SINCE_2014,
        tag="S13",
        url=_S_BENEFITS["S13"],
        confidence="B",
        note="One entry per special group: share full (grade_amount) or partial with partial_amount, "
        'e.g. {"category": "low_income", "share": "partial", "partial_amount": "50"}. The 兵团 '
        "list (B, local); the national document extending 代缴 to 低保/特困/返贫致贫 is unconfirmed "
        "(DOMAIN §1.3).",
    ),
    _row(
        f"{_PROXY}.precedence",
        "text",
        "highest_amount",
        since=_SINCE_2014,
        confidence="unconfirmed",
        note="highest_amount (full beats partial; ties by table order) | table_order: which rule "
        "applies to a person in several groups; paid once a year either way (DOMAIN §1.3).",
    ),
    _row(
        f"{_PROXY}.with_contribution_subsidy",
        "boolean",
        True,
        since=_SINCE_2014,
        confidence="unconfirmed",
        note="Whether a proxy-paid year also gets the contribution subsidy (DOMAIN §1.3, E2).",
    ),
    _row(
        f"{_PROXY}.age_basis",
        "text",
        "age_reached_in_year",
        since=_SINCE_2014,
        confidence="unconfirmed",
        note="How 'aged 16-59 in the year' is read: age_reached_in_year (year - birth year, the age "
        "on 31 December) | age_on_january_1 (DOMAIN §0.5, §1.3).",
    ),
    # DOMAIN §3.3: the province sets the amount; the national target is 90% of the minimum wage.
    _row(
        "unemployment_benefit.minimum_wage_ratio",
        "decimal",
        "0.9",
        unit="ratio",
        since="2022-06-27",
        tag="S28",
        doc="NDRC 2022 (ndrc.gov.cn …/t20220627_1328819.html, quoted in S28)",
        url=S["S28"],
        confidence="B",
        note="The national target, from the NDRC page's date; the province sets its own (DOMAIN §3.3).",
    ),
    # DOMAIN §3.4: a pension start stops it from the pension start month [S2 Art51(4)] (A); for the
    # other stop conditions DOMAIN gives no month.
    _row(
        "unemployment_benefit.stop_month_rule",
        "text",
        "month_after_event",
        since="1999-01-22",
        confidence="unconfirmed",
        note="month_after_event | event_month: the first unpaid month after re-employment, "
        "conscription, emigration, imprisonment or refusing work (DOMAIN §3.4).",
    ),
    _row(
        "unemployment_benefit.missed_checkins_as_reemployment",
        "integer",
        0,
        unit="months",
        since="1999-01-22",
        tag="S3",
        doc="失业保险条例 Art15",
        url=S["S3"],
        confidence="A",
        note="0 = no such rule (the national stop conditions); Guangdong: 2 months running (DOMAIN §3.4).",
    ),
    # DOMAIN §3.5: 失业补助金, a temporary policy since 2020 [S29] (B); its end is unconfirmed.
    _row(
        "unemployment_subsidy.in_force",
        "boolean",
        False,
        since="1999-01-22",
        until="2019-12-31",
        tag="S29",
        url=_S_BENEFITS["S29_JINAN"],
        confidence="B",
        note="No subsidy before the 2020 policy (DOMAIN §3.5).",
    ),
    _row(
        "unemployment_subsidy.in_force",
        "boolean",
        True,
        since="2020-01-01",
        until="2022-12-31",
        tag="S29",
        doc="人社部发〔2020〕40号 (number unconfirmed)",
        url=_S_BENEFITS["S29_JINAN"],
        confidence="B",
        note="DOMAIN gives 2020 and 'after 2022 unconfirmed'; the exact dates are unconfirmed "
        "(DOMAIN §3.5, §10 item 2). A county whose policy runs longer adds its own rows.",
    ),
    _row(
        "unemployment_subsidy.in_force",
        "boolean",
        False,
        since="2023-01-01",
        confidence="unconfirmed",
        note="Whether the policy still exists after 2022 is unconfirmed (DOMAIN §3.5, §10 item 2).",
    ),
    _row(
        "unemployment_subsidy.max_months",
        "integer",
        6,
        unit="months",
        since="2020-01-01",
        tag="S29",
        url=_S_BENEFITS["S29_JINAN"],
        confidence="B",
        note="Up to 6 months, paid monthly (DOMAIN §3.5).",
    ),
    _row(
        "unemployment_subsidy.benefit_ratio_cap",
        "decimal",
        "0.8",
        unit="ratio",
        since="2020-01-01",
        doc="人社部发〔2020〕40号 (number unconfirmed)",
        confidence="unconfirmed",
        note="At most this share of the local unemployment-benefit amount (DOMAIN §3.5, §10 item 2).",
    ),
    _row(
        "unemployment_subsidy.once_only",
        "boolean",
        True,
        since="2020-01-01",
        tag="S29",
        url=_S_BENEFITS["S29_JINAN"],
        confidence="B",
        note="Paid only once (a Baoding rule, B local; DOMAIN §3.5).",
    ),
]

# Provincial and prefecture figures DOMAIN gives as data. Not national, so kept out of SEED_ROWS
# (whose rows tests/core/test_parameters.py looks up at 000000); the same migration loads them.
LOCAL_SEED_ROWS = [
    # DOMAIN §3.2 [S6 Art17] (A): 1 month per full year for years 1-4, then +1 month per full
    # half-year, at most 24 months. E11: 7 years give 4 + 6 = 10 months.
    _local_row(
        "440000",
        "unemployment_benefit.duration_table",
        "table",
        [
            {"min_years": 1, "max_months": 1, "plus_one_month_per_months": 12},
            {"min_years": 4, "max_months": 4, "plus_one_month_per_months": 6},
            {"min_years": 14, "max_months": 24},
        ],
        since="2022-06-01",
        tag="S6",
        doc=f"{_GUANGDONG_UI} Art17",
        url=_S_BENEFITS["S6"],
        confidence="A",
        note="Rows: from min_years, max_months plus one month per full plus_one_month_per_months "
        "of contribution beyond min_years (DOMAIN §3.2).",
    ),
    _local_row(
        "440000",
        "unemployment_benefit.minimum_wage_ratio",
        "decimal",
        "0.9",
        unit="ratio",
        since="2022-06-01",
        tag="S6",
        doc=f"{_GUANGDONG_UI} Art19",
        url=_S_BENEFITS["S6"],
        confidence="A",
        note="90% of the minimum wage of the prefecture where the benefit is received (DOMAIN §3.3).",
    ),
    _local_row(
        "440000",
        "unemployment_benefit.missed_checkins_as_reemployment",
        "integer",
        2,
        unit="months",
        since="2022-06-01",
        tag="S6",
        doc=_GUANGDONG_UI,
        url=_S_BENEFITS["S6"],
        confidence="A",
        note="Missing the check-in two months running without good reason counts as re-employment "
        "(DOMAIN §3.4).",
    ),
    # DOMAIN §3.5 [S29] (B, local): Jinan 800 (>= 1 year, left voluntarily); 500 (< 1 year, or the
    # benefit ran out). Baoding's 679 / 605 is not seeded: DOMAIN does not say which group gets which.
    _local_row(
        "370100",
        "unemployment_subsidy.amount_tiers",
        "table",
        [
            {"situations": ["left_voluntarily"], "amount": "800"},
            {"situations": ["short_contribution", "benefit_exhausted"], "amount": "500"},
        ],
        unit="yuan_per_month",
        since="2020-01-01",
        tag="S29",
        url=_S_BENEFITS["S29_JINAN"],
        confidence="B",
        note="First tier matching the situation (left_voluntarily | short_contribution | "
        "benefit_exhausted) and optional min/max_contribution_months gives amount or "
        "ratio_of_benefit (DOMAIN §3.5).",
    ),
]

SEED_ROWS: list[dict[str, Any]] = [
    *GENERAL,
    *RESIDENT_PENSION,
    *BASIC_PENSION,
    *EMPLOYEE_PENSION,
    *EMPLOYEE_CONTRIBUTION,
    *RETIREMENT,
    *UNEMPLOYMENT,
    *SOCIAL_ASSISTANCE,
    *BENEFITS,
]
