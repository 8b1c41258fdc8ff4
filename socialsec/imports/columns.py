"""Vectorised checks that most kinds share: resident IDs, dates, duplicate rows.

Each returns per-row results aligned with the table's frame, so a kind builds its errors
with a few boolean masks. The common case (a well-formed value) never leaves pandas/numpy;
only the rare bad value goes through the per-value rules (parse_resident_id) for its exact
reason, once per distinct value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from socialsec.lib.resident_id import ResidentIdError, parse_resident_id

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
# '10X98765432'[sum % 11] as ASCII codes.
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _valid_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where year-month-day is a real calendar date (Gregorian leap years)."""
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)]
    month_days = month_days + ((month == 2) & leap)
    return (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)


def resident_ids(values: pd.Series, numeric: pd.Series | None, today: dt.date) -> tuple[pd.Series, pd.Series]:
    """(18-character numbers, error codes) per row; a number is "" where the code is set.

    A cell the file held as a number is refused as stored_as_number whatever it looks like:
    an 18-digit number in a number cell has already lost its last digits. The common case
    (18 ASCII characters) is checked as a byte matrix in numpy: digits, check character,
    a real birth date not after today.
    """
    count = len(values)
    texts = values.to_numpy(dtype=object)
    numbers = np.full(count, "", dtype=object)
    codes = np.full(count, "", dtype=object)
    as_number = numeric.to_numpy(dtype=bool) if numeric is not None else np.zeros(count, dtype=bool)
    codes[as_number] = "stored_as_number"

    candidates = (values.str.len().to_numpy() == 18) & ~as_number
    if candidates.any():
        encoded = "".join(texts[candidates]).encode("utf-8")
        if len(encoded) != 18 * int(
            candidates.sum()
        ):  # some cell holds non-ASCII: leave those to the slow path
            candidates &= values.str.isascii().to_numpy(dtype=bool)
            encoded = "".join(texts[candidates]).encode("ascii")
    fast_ok = np.zeros(count, dtype=bool)
    if candidates.any():
        matrix = np.frombuffer(encoded, dtype=np.uint8).reshape(-1, 18).copy()
        lower_x = matrix[:, 17] == ord("x")
        matrix[lower_x, 17] = ord("X")
        digits = matrix[:, :17].astype(np.int64) - 48
        shaped = ((digits >= 0) & (digits <= 9)).all(axis=1) & (
            ((matrix[:, 17] >= 48) & (matrix[:, 17] <= 57)) | (matrix[:, 17] == ord("X"))
        )
        digits = np.where(shaped[:, None], digits, 0)
        check_ok = _CHECK[(digits @ _WEIGHTS) % 11] == matrix[:, 17]
        year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
        month = digits[:, 10] * 10 + digits[:, 11]
        day = digits[:, 12] * 10 + digits[:, 13]
        date_ok = (
            _valid_days(year, month, day)
            & (year >= 1850)
            & (year * 10_000 + month * 100 + day <= today.year * 10_000 + today.month * 100 + today.day)
        )
        fast_ok[candidates] = shaped & check_ok & date_ok
        numbers[fast_ok] = texts[fast_ok]
        lower = np.zeros(count, dtype=bool)
        lower[candidates] = lower_x
        lower &= fast_ok
        numbers[lower] = [text.upper() for text in texts[lower]]

    # Everything else (bad values, 15-digit legacy numbers) once per distinct value, for its reason.
    slow = ~fast_ok & ~as_number
    if slow.any():
        verdicts: dict[str, tuple[str, str]] = {}
        for value in pd.unique(texts[slow]):
            try:
                verdicts[value] = (parse_resident_id(value, today=today).number, "")
            except ResidentIdError as error:
                verdicts[value] = ("", error.code)
        answered = [verdicts[value] for value in texts[slow]]
        numbers[slow] = [number for number, _code in answered]
        codes[slow] = [code for _number, code in answered]
    return pd.Series(numbers, index=values.index, dtype=object), pd.Series(
        codes, index=values.index, dtype=object
    )


def dates(values: pd.Series, numeric: pd.Series | None) -> pd.Series:
    """Dates as Timestamps (NaT where unreadable or empty).

    Accepted: 2024-03-05, 2024-3-5, 2024/3/5, 2024.3.5, 20240305, 2024年3月5日, a date cell,
    and a day number that a spreadsheet shows as a date (Excel's serial number).
    """
    # ISO dates (what a date cell reads as) in one vectorised pass; the rest are normalised first.
    parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    rest = (parsed.isna() & (values != "")).to_numpy()
    if rest.any():
        text = values[rest].str.replace(r"\s+", "", regex=True)
        text = text.str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "", regex=False)
        text = text.str.replace(r"T.*$", "", regex=True)  # a date cell with a time of day
        compact = text.str.fullmatch(r"[0-9]{8}").fillna(False)
        text = text.where(
            ~compact, text.str.slice(0, 4) + "-" + text.str.slice(4, 6) + "-" + text.str.slice(6, 8)
        )
        parsed[rest] = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        if numeric is not None and numeric[rest].any():
            serial = pd.to_numeric(values[rest].where(numeric[rest].to_numpy(dtype=bool)), errors="coerce")
            serial = serial.where((serial >= 1) & (serial < 2_958_466) & (serial % 1 == 0))
            from_serial = _EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")
            parsed[rest] = parsed[rest].where(serial.isna(), from_serial)
    return parsed


def first_rows(keys: pd.DataFrame, rows: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """For exact duplicates: (mask of every repeat after the first, the first's row number)."""
    repeat = keys.duplicated(keep="first").to_numpy()
    first = rows.groupby([keys[c] for c in keys.columns], sort=False).transform("first")
    return repeat, first


def conflicting_groups(
    key: pd.Series, value: pd.Series, rows: pd.Series, limit: int = 20
) -> tuple[np.ndarray, Any]:
    """Rows whose key appears with more than one value: (mask, each row's list of the group's rows)."""
    distinct = value.groupby(key, sort=False).transform("nunique")
    mask = (distinct > 1).to_numpy()
    if not mask.any():
        return mask, []
    groups = rows[mask].groupby(key[mask], sort=False).agg(lambda r: [int(x) for x in r][:limit])
    return mask, key[mask].map(groups).tolist()
