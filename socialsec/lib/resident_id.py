"""The resident ID number (公民身份号码, GB 11643-1999), over python-stdnum's `stdnum.cn.ric`.

python-stdnum checks length, checksum, a real date and the birthplace table. This
wrapper fills the gaps listed in DOMAIN §6.1: it rejects future birth dates,
converts 15-digit legacy numbers, reads the sex, and treats an address code
missing from stdnum's table as "a human must confirm" rather than a rejection.
It also recognises numbers that a spreadsheet stored as numbers, which lose
their last digits.

Framework-free: callers in Django pass `today=timezone.localdate()`, and
`socialsec.core.identifiers` turns the error codes into messages for clerks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

# ISO 7064 MOD 11-2 as GB 11643 writes it out (DOMAIN §6.1).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"

# No one alive, and no one in a legacy file, was born earlier; an older year is a typo.
_EARLIEST_BIRTH_YEAR = 1850

# Full-width digits and X as typed with a Chinese input method, and a lower-case x.
_TO_ASCII = str.maketrans(
    {**{chr(0xFF10 + digit): str(digit) for digit in range(10)}, "\uff38": "X", "\uff58": "X", "x": "X"}
)

# How a spreadsheet writes a number it no longer stores exactly: 1.10101E+17, 1.1010119900101e+17,
# or 110101199001010000.0. An 18-digit number keeps only 15 significant digits as a float.
_STORED_AS_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+|[0-9]+\.[0-9]*")

# Digits, and an X only as the final (check) character.
_DIGITS_THEN_CHECK = re.compile(r"[0-9]*[0-9X]")

ERROR_CODES = (
    "empty",
    "bad_characters",
    "bad_length",
    "bad_checksum",
    "bad_birth_date",
    "future_birth_date",
    "stored_as_number",
)


class ResidentIdError(ValueError):
    """Why a resident ID number was refused: `code` is one of ERROR_CODES, `value` the normalized input."""

    def __init__(self, code: str, value: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown resident ID error code {code!r}")
        self.code = code
        self.value = value
        # The text goes to logs and tracebacks, so it carries the masked number only.
        super().__init__(f"resident ID {mask_resident_id(value)!r} refused: {code}")


@dataclass(frozen=True)
class ResidentId:
    number: str  # 18 characters, check character X in upper case
    birth_date: date
    sex: str  # "male" or "female"
    address_code: str
    needs_review: bool  # address code unknown for the birth year: a human confirms it (DOMAIN §6.1 gap 4)
    converted_from: str | None = None  # the 15-digit legacy number this was converted from


def normalize(raw: str) -> str:
    """Drop every space (full-width ones included) and turn full-width digits and any x into ASCII X."""
    # str.split() with no argument splits on any Unicode whitespace, U+3000 included.
    return "".join(raw.split()).translate(_TO_ASCII)


def check_character(first17: str) -> str:
    """The 18th character for these 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {len(first17)} characters")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def build_resident_id(address_code: str, birth_date: date, sequence: int) -> str:
    """An 18-character number with its check character; an odd sequence is a man, even a woman."""
    if len(address_code) != 6 or not address_code.isascii() or not address_code.isdigit():
        raise ValueError(f"address code must be 6 digits, got {address_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999, got {sequence}")
    first17 = f"{address_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def parse_resident_id(raw: str | int | float | None, *, today: date | None = None) -> ResidentId:
    """Validate a resident ID number typed, pasted or imported by a clerk (DOMAIN §6.1, E19).

    Raises ResidentIdError. A 15-digit legacy number comes back converted to 18. Imports may
    hand over a spreadsheet cell as it was read: None or NaN is empty, an int is exact, and a
    float cannot hold 18 digits, so it is a number that was stored as a number.
    """
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        raw = ""
    elif isinstance(raw, float):
        raise ResidentIdError("stored_as_number", repr(raw))
    value = normalize(str(raw))
    if not value:
        raise ResidentIdError("empty", value)
    if _STORED_AS_NUMBER.fullmatch(value):
        raise ResidentIdError("stored_as_number", value)
    if not _DIGITS_THEN_CHECK.fullmatch(value):
        raise ResidentIdError("bad_characters", value)

    converted_from = None
    if len(value) == 15:
        # Legacy numbers (issued before 1999) have a 2-digit year and no check character.
        if value.endswith("X"):
            raise ResidentIdError("bad_characters", value)
        converted_from = value
        first17 = f"{value[:6]}19{value[6:]}"
        number = first17 + check_character(first17)
    elif len(value) == 18:
        number = value
        if check_character(number[:17]) != number[17]:
            # A spreadsheet keeps 15 significant digits and pads with zeros. Real numbers end in
            # 000 too (about 1 in 1,100) and pass the checksum, and so does 1 corrupted number in
            # 11: a bulk import should refuse a column in which most numbers end in 000.
            raise ResidentIdError("stored_as_number" if number.endswith("000") else "bad_checksum", value)
    else:
        raise ResidentIdError("bad_length", value)

    birth_date = _birth_date(number)
    if birth_date is None or birth_date.year < _EARLIEST_BIRTH_YEAR:
        raise ResidentIdError("bad_birth_date", value)
    # python-stdnum 2.2 accepts 110101209912310015 (DOMAIN §6.1 gap 1).
    if birth_date > (today or date.today()):
        raise ResidentIdError("future_birth_date", value)

    # Checksum and date are already good, so InvalidComponent here can only mean the birthplace:
    # the code is unknown to stdnum's table, or not valid in the birth year (DOMAIN §6.1 gap 4).
    try:
        ric.get_birth_place(number)
    except InvalidComponent:
        needs_review = True
    else:
        needs_review = False

    return ResidentId(
        number=number,
        birth_date=birth_date,
        sex="male" if int(number[16]) % 2 else "female",
        address_code=number[:6],
        needs_review=needs_review,
        converted_from=converted_from,
    )


def mask_resident_id(number: str) -> str:
    """`360121********0013`: the address code and the last 4 characters stay visible.

    Whatever the input, at least 8 characters are hidden and at most 4 trailing ones shown,
    so a short or malformed value never comes out in full.
    """
    value = (number or "").strip()
    if not value:
        return ""
    visible = max(0, len(value) - 8)
    tail = min(4, visible)
    head = min(6, visible - tail)
    return value[:head] + "*" * 8 + (value[-tail:] if tail else "")
