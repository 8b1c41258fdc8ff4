"""Stopping benefits on death and the months overpaid after it (DOMAIN §5.4 "DEATH", §1.4; E9)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from benefits.calculations import death_stop, death_stop_month_sql, death_stop_sql
from tests.benefits.test_calculations_parameters import set_parameter

pytestmark = pytest.mark.django_db

COUNTY = "360121"
PAYABLE = "general.death.death_month_payable"
JANUARY_TO_JUNE_AT_180 = {dt.date(2025, month, 1): Decimal("180") for month in range(1, 7)}


def test_e9_death_on_10_march_stops_from_april_and_540_was_overpaid():
    # DOMAIN E9: paid through June at 180; the death month is payable (cfg; unconfirmed).
    stop = death_stop(region=COUNTY, death_date=dt.date(2025, 3, 10), paid_months=JANUARY_TO_JUNE_AT_180)
    assert (stop.last_payable_month, stop.stop_month) == (dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    assert stop.overpaid_months == (dt.date(2025, 4, 1), dt.date(2025, 5, 1), dt.date(2025, 6, 1))
    assert stop.overpaid == Decimal("540.00")


def test_e9_where_the_death_month_is_not_payable_march_is_overpaid_too():
    # DOMAIN §5.4: "Whether the death month itself is paid is a local rule (unconfirmed)".
    set_parameter(PAYABLE, COUNTY, False, kind="boolean")
    stop = death_stop(region=COUNTY, death_date=dt.date(2025, 3, 10), paid_months=JANUARY_TO_JUNE_AT_180)
    assert stop.stop_month == dt.date(2025, 3, 1)
    assert stop.overpaid == Decimal("720.00")


def test_the_rule_in_force_on_the_death_date_decides():
    set_parameter(PAYABLE, COUNTY, False, kind="boolean", since=dt.date(2025, 4, 1))
    assert death_stop(region=COUNTY, death_date=dt.date(2025, 3, 31)).stop_month == dt.date(2025, 4, 1)
    assert death_stop(region=COUNTY, death_date=dt.date(2025, 4, 1)).stop_month == dt.date(2025, 4, 1)


def test_nothing_is_overpaid_when_payments_stopped_in_time():
    paid = {dt.date(2025, 1, 1): Decimal("180"), dt.date(2025, 2, 1): Decimal("180")}
    stop = death_stop(region=COUNTY, death_date=dt.date(2025, 2, 28), paid_months=paid)
    assert (stop.overpaid_months, stop.overpaid) == ((), Decimal("0.00"))


def test_the_snapshot_keeps_the_payments_and_the_rule_row():
    stop = death_stop(region=COUNTY, death_date=dt.date(2025, 3, 10), paid_months=JANUARY_TO_JUNE_AT_180)
    assert stop.snapshot["result"]["overpaid"] == "540.00"
    assert stop.snapshot["inputs"]["paid_months"]["2025-06-01"] == "180"
    assert [row["key"] for row in stop.snapshot["parameters"]] == [PAYABLE, "general.money.rounding_mode"]


def test_the_sweep_sql_gives_the_same_stop_month_as_the_python_rule():
    # DOMAIN §5.4: the monthly sweep stops every dead payee in one statement; it must agree.
    set_parameter(PAYABLE, "360122", False, kind="boolean")
    deaths = [
        (i, (COUNTY, "360122")[i % 2], dt.date(2024, 1, 1) + dt.timedelta(days=7 * i + i % 5))
        for i in range(110)
    ]
    rules = death_stop_sql(regions=[COUNTY, "360122"], on=dt.date(2026, 1, 1), alias="ds")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE dead (id int, region varchar(6), death_date date)")
        cursor.executemany("INSERT INTO dead VALUES (%s, %s, %s)", deaths)
        cursor.execute(
            f"SELECT d.id, {death_stop_month_sql('d.death_date', alias='ds')} FROM dead d "
            f"JOIN {rules.sql} ON ds.region_code = d.region ORDER BY d.id",
            rules.params,
        )
        from_sql = cursor.fetchall()
    from_python = [(i, death_stop(region=region, death_date=died).stop_month) for i, region, died in deaths]
    assert from_sql == from_python
    assert {stop.month - died.month for (_, stop), (_, _, died) in zip(from_sql, deaths, strict=True)} >= {
        0,
        1,
    }
