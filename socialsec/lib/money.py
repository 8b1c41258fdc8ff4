"""Rounding money to fen (DOMAIN §0.3). Framework-free.

DOMAIN says half-up for display and payment, but the official practice is
unconfirmed, so the mode is an argument: callers pass the policy parameter
`general.money.rounding_mode`.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}
_FEN = Decimal("0.01")


def round_money(amount: Decimal, mode: str = "half_up") -> Decimal:
    """`amount` in yuan to 2 places. "down" truncates toward zero, for deductions too."""
    if not isinstance(amount, Decimal):
        # A float has already lost the fen it would be rounded to.
        raise TypeError(f"money is a Decimal, got {type(amount).__name__}")
    try:
        rounding = ROUNDING_MODES[mode]
    except KeyError:
        raise ValueError(f"unknown rounding mode {mode!r}; one of {', '.join(ROUNDING_MODES)}") from None
    if not amount.is_finite():
        raise ValueError(f"money is a finite amount, got {amount}")
    return amount.quantize(_FEN, rounding=rounding)
