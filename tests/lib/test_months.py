"""Payout months written YYYY-MM (DOMAIN §0.4)."""

import datetime as dt

import pytest

from socialsec.lib.months import parse_month


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2025-10", dt.date(2025, 10, 1)),
        (" 2025-01 ", dt.date(2025, 1, 1)),
        ("2025-13", None),
        ("", None),
        ("十月", None),
    ],
)
def test_a_month_is_its_first_day_or_none(text, month):
    assert parse_month(text) == month
