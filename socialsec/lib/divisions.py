"""Level and kind of a 12-digit statistical division code (统计用区划代码, DOMAIN §6.3).

The code is the 6-digit GB/T 2260 county code, 3 township digits and 3 village
digits. Where a code stops (trailing zeros) gives its level; the number ranges
give its kind. Kind values are those of socialsec.core.choices.DivisionKind,
spelled out here because lib imports nothing of the project.
"""

from __future__ import annotations

import re

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


def _kind_in(number: int, bands: tuple[tuple[int, int, str], ...]) -> str:
    for low, high, kind in bands:
        if low <= number <= high:
            return kind
    return "other"


# Digits 5-6 of GB/T 2260. 01-18 also covers county-level cities under a prefecture.
_COUNTY_BANDS = ((1, 18, "city_district"), (21, 80, "county"), (81, 99, "county_level_city"))
# Digits 7-9, GB/T 10114 rules.
_TOWNSHIP_BANDS = (
    (1, 99, "street"),
    (100, 199, "town"),
    (200, 399, "township"),
    (400, 599, "government_enterprise"),
)
# Digits 10-12, as seen in NBS data. The 400-599 bands for committee-like units are
# unconfirmed (DOMAIN §10 item 6), so they stay "other" until a source says more.
_VILLAGE_BANDS = ((1, 199, "residents_committee"), (200, 399, "villagers_committee"))


def _check(code: str) -> None:
    if not isinstance(code, str) or not _TWELVE_DIGITS.fullmatch(code):
        raise ValueError(f"a division code is 12 digits, got {code!r}")
    if code[6:9] == "000" and code[9:] != "000":
        # The database refuses it too (division_level_matches_code): a village belongs to a township.
        raise ValueError(f"division code {code!r} names a village under no township")


def division_level_and_kind(code: str) -> tuple[str, str]:
    """("county" | "township" | "village", kind) for a 12-digit code; ValueError for anything else."""
    _check(code)
    if code.endswith("000000"):
        return "county", _kind_in(int(code[4:6]), _COUNTY_BANDS)
    if code.endswith("000"):
        return "township", _kind_in(int(code[6:9]), _TOWNSHIP_BANDS)
    return "village", _kind_in(int(code[9:12]), _VILLAGE_BANDS)


def is_valid_division_code(code: str) -> bool:
    """True for 12 digits whose trailing zeros make a county, township or village."""
    try:
        _check(code)
    except ValueError:
        return False
    return True
