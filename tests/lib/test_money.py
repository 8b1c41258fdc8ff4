"""Rounding money to fen: DOMAIN §0.3 (half-up by default; the official practice is unconfirmed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from socialsec.lib.money import round_money


def test_half_up_is_the_default_and_rounds_a_half_fen_away_from_zero():
    assert round_money(Decimal("359.715")) == Decimal("359.72")
    assert round_money(Decimal("-359.715")) == Decimal("-359.72")


def test_a_personal_account_pension_rounds_to_fen():
    # DOMAIN §1.4: balance / 139; 50000 / 139 = 359.7122...
    assert round_money(Decimal(50000) / Decimal(139)) == Decimal("359.71")


@pytest.mark.parametrize(
    ("mode", "amount", "expected"),
    [
        ("half_up", "0.125", "0.13"),
        ("half_even", "0.125", "0.12"),
        ("half_even", "0.135", "0.14"),
        ("down", "0.129", "0.12"),
        ("down", "-0.129", "-0.12"),  # toward zero, for deductions too
    ],
)
def test_each_configurable_mode_rounds_as_named(mode, amount, expected):
    assert round_money(Decimal(amount), mode) == Decimal(expected)


def test_the_result_always_has_two_places():
    assert str(round_money(Decimal("123"))) == "123.00"


def test_a_float_is_refused_because_it_has_already_lost_the_fen():
    with pytest.raises(TypeError, match="Decimal"):
        round_money(0.125)  # type: ignore[arg-type]


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown rounding mode 'ceiling'"):
        round_money(Decimal("1.005"), "ceiling")
