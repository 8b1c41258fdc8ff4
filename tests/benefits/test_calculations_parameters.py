"""The benefit parameters seeded by core migration 0007 (DOMAIN §1.3-§1.6, §3, §5.4), and the
helper the other calculation tests use to add a county's own rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from socialsec.core.models import PolicyParameter
from socialsec.core.parameter_seed import BENEFITS, LOCAL_SEED_ROWS
from socialsec.core.parameters import MissingParameter, param

pytestmark = pytest.mark.django_db

COUNTY = "360121"  # 南昌县, the test county (tests/factories.py)


def set_parameter(
    key: str,
    region: str,
    value: Any,
    *,
    kind: str = "decimal",
    since: dt.date = dt.date(2000, 1, 1),
    until: dt.date | None = None,
    unit: str = "",
) -> PolicyParameter:
    """A local row (county, prefecture or province), as an administrator would add it."""
    return PolicyParameter.objects.create(
        region_code=region,
        scheme=key.split(".", 1)[0],
        key=key,
        kind=kind,
        value=value,
        unit=unit,
        effective_from=since,
        effective_to=until,
        source_doc_no="test fixture",
        confidence="B",
    )


def test_every_local_row_of_the_seed_module_is_in_the_migrated_database():
    # DOMAIN §3.2, §3.3, §3.4 (Guangdong [S6]) and §3.5 (Jinan [S29]): local figures kept as data.
    for row in LOCAL_SEED_ROWS:
        stored = PolicyParameter.objects.get(
            region_code=row["region_code"], key=row["key"], effective_from=row["effective_from"]
        )
        assert (stored.value, stored.kind, stored.confidence, stored.source_tag) == (
            row["value"],
            row["kind"],
            row["confidence"],
            row["source_tag"],
        ), row["key"]


def test_every_benefit_row_carries_confidence_and_a_source_unless_unconfirmed():
    # DOMAIN "How to use this document": store source and confidence with each seeded parameter.
    for row in [*BENEFITS, *LOCAL_SEED_ROWS]:
        assert row["confidence"] in {"A", "B", "C", "unconfirmed"}, row["key"]
        if row["confidence"] != "unconfirmed":
            assert row["source_tag"] or row["source_doc_no"], row["key"]


@pytest.mark.parametrize(
    "key",
    [
        "general.death.death_month_payable",  # DOMAIN §5.4, §10 item 4
        "resident_pension.long_contribution_topup.enabled",  # §1.4
        "resident_pension.transition.pension_without_contribution_at_start",  # §1.5
        "resident_pension.proxy_payment.precedence",  # §1.3, §10 item 10
        "resident_pension.proxy_payment.with_contribution_subsidy",  # §1.3, §10 item 4
        "unemployment_subsidy.benefit_ratio_cap",  # §3.5, §10 item 2
    ],
)
def test_the_unconfirmed_benefit_rules_are_parameters_marked_unconfirmed(key):
    # DOMAIN "Unconfirmed items must be configurable" (§10).
    assert param(key, COUNTY, on=dt.date(2021, 6, 1)).confidence == "unconfirmed"


def test_the_long_contribution_topup_is_off_unless_a_county_configures_it():
    # DOMAIN §1.4: local and unconfirmed amounts; the amount itself is not seeded at all.
    assert (
        param("resident_pension.long_contribution_topup.enabled", COUNTY, on=dt.date(2026, 1, 1)).flag()
        is False
    )
    with pytest.raises(MissingParameter):
        param("resident_pension.long_contribution_topup.per_year", COUNTY, on=dt.date(2026, 1, 1))


def test_the_guangdong_duration_table_answers_for_a_guangdong_county_only():
    # DOMAIN §3.2 [S6 Art17] (A): provincial variant as data; a Jiangxi county keeps the national table.
    guangdong = param("unemployment_benefit.duration_table", "440183", on=dt.date(2023, 1, 1))
    national = param("unemployment_benefit.duration_table", COUNTY, on=dt.date(2023, 1, 1))
    assert (guangdong.region_code, guangdong.confidence) == ("440000", "A")
    assert national.region_code == "000000"


def test_the_unemployment_subsidy_is_in_force_2020_to_2022_only_by_the_seed():
    # DOMAIN §3.5: temporary policy since 2020; whether it exists after 2022 is unconfirmed.
    in_force = {
        year: param("unemployment_subsidy.in_force", COUNTY, on=dt.date(year, 6, 1)).flag()
        for year in (2019, 2020, 2022, 2023)
    }
    assert in_force == {2019: False, 2020: True, 2022: True, 2023: False}
    assert param("unemployment_subsidy.in_force", COUNTY, on=dt.date(2023, 6, 1)).confidence == "unconfirmed"


def test_proxy_payment_grade_and_groups_are_those_of_domain_1_3():
    # DOMAIN §1.3 [S13]: 低保, 特困, 返贫致贫, 重度残疾 at the full minimum grade of 100.
    on = dt.date(2025, 1, 1)
    assert param("resident_pension.proxy_payment.grade_amount", COUNTY, on=on).decimal() == Decimal(100)
    rules = param("resident_pension.proxy_payment.rules", COUNTY, on=on).table()
    assert [(rule["category"], rule["share"]) for rule in rules] == [
        ("minimum_living_allowance", "full"),
        ("extreme_poverty_support", "full"),
        ("returned_to_poverty", "full"),
        ("severe_disability", "full"),
    ]
