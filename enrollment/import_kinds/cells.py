"""Reading the cells that several import kinds share: periods (a year or a month), amounts in yuan
(kept as whole fen), and amounts written back as text for COPY."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsec.imports.columns import dates

_MAX_CENTS = 10**12  # numeric(12, 2)


def _once_per_value(read: Any, values: pd.Series, numeric: pd.Series | None) -> tuple[np.ndarray, ...]:
    """read(values, numeric) on the distinct (cell, was a number) pairs only, spread back to every row.

    A column of 100,000 periods or amounts holds a few dozen distinct cells; the regular
    expressions and the formatting then run a few dozen times instead of 100,000.
    """
    flags = numeric.to_numpy(dtype=bool) if numeric is not None else np.zeros(len(values), dtype=bool)
    index, _keys = pd.factorize(pd.Series(np.where(flags, "1", "0"), index=values.index) + values)
    _codes, first = np.unique(index, return_index=True)
    answers = read(values.iloc[first].reset_index(drop=True), pd.Series(flags[first]))
    return tuple(np.asarray(answer)[index] for answer in answers)


def periods(values: pd.Series, numeric: pd.Series | None) -> tuple[np.ndarray, ...]:
    """(year, month or 0, error code or "") per cell: 2024, 2024年, 2024-03, 202403, 2024年3月, a date."""
    return _once_per_value(_read_periods, values, numeric)


def _read_periods(values: pd.Series, numeric: pd.Series | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = values.str.replace(r"\s+", "", regex=True)
    count = len(values)
    year = np.zeros(count, dtype=np.int64)
    month = np.zeros(count, dtype=np.int64)
    code = np.full(count, "", dtype=object)
    code[(text == "").to_numpy()] = "required"
    only_year = text.str.extract(r"^(\d{4})(?:年度|年)?$")[0]
    year_month = text.str.extract(r"^(\d{4})(?:[-/.年])?(\d{1,2})月?$")
    found_year = only_year.notna().to_numpy()
    year[found_year] = only_year[found_year].astype(int)
    found_month = year_month[0].notna().to_numpy() & ~found_year
    year[found_month] = year_month[0][found_month].astype(int)
    month[found_month] = year_month[1][found_month].astype(int)
    rest = (text != "").to_numpy() & ~found_year & ~found_month
    if rest.any():
        day = dates(values[rest], numeric[rest] if numeric is not None else None)
        read = day.notna().to_numpy()
        at = np.flatnonzero(rest)
        year[at[read]] = day[read].dt.year.to_numpy()
        month[at[read]] = day[read].dt.month.to_numpy()
        code[at[~read]] = "bad_period"
    unreal = (code == "") & ((year < 1900) | (year > 2100) | (month > 12) | (found_month & (month < 1)))
    code[unreal] = "bad_period"
    return year, month, code


def amounts(values: pd.Series, numeric: pd.Series | None) -> tuple[np.ndarray, ...]:
    """(cents, error code or "") per cell; an empty cell is 0 cents and no error."""
    return _once_per_value(_read_amounts, values, numeric)


def _read_amounts(values: pd.Series, numeric: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """amounts() for distinct cells.

    Text cells are read exactly: 300, 320.5, 1,200.00, 300元. A number cell may read
    320.49999999999997 or 1e3: it is accepted when it is a whole number of fen.
    """
    text = values.str.replace(r"[,\s元¥￥]", "", regex=True)
    count = len(values)
    cents = np.zeros(count, dtype=np.int64)
    code = np.full(count, "", dtype=object)
    parts = text.str.extract(r"^(\d{1,10})(?:\.(\d{1,2}))?$")
    exact = parts[0].notna().to_numpy()
    whole_yuan = parts[0][exact].astype(np.int64).to_numpy()
    fen = parts[1][exact].fillna("0").str.ljust(2, "0").astype(np.int64).to_numpy()
    cents[exact] = whole_yuan * 100 + fen
    rest = (text != "").to_numpy() & ~exact
    if rest.any():
        at = np.flatnonzero(rest)
        code[at] = "bad_amount"
        negative = text[rest].str.fullmatch(r"-\d{1,10}(?:\.\d{1,2})?").to_numpy(dtype=bool).copy()
        if numeric is not None:
            number = pd.to_numeric(text[rest], errors="coerce").to_numpy(dtype=float)
            scaled = np.round(number * 100)
            whole = (
                numeric[rest].to_numpy(dtype=bool)
                & ~np.isnan(number)
                & (np.abs(number * 100 - scaled) < 1e-6)
                & (np.abs(scaled) < _MAX_CENTS)
            )
            negative |= whole & (number < 0)
            accepted = whole & (number >= 0)
            cents[at[accepted]] = scaled[accepted].astype(np.int64)
            code[at[accepted]] = ""
        code[at[negative]] = "negative_amount"
    return cents, code


def yuan(cents: Any) -> str:
    cents = int(cents)
    return f"{cents // 100}.{cents % 100:02d}".removesuffix(".00")


def yuan_column(cents: np.ndarray) -> np.ndarray:
    """Cents as the text COPY reads into numeric(12, 2); a negative marks an empty cell (NULL)."""
    index, distinct = pd.factorize(np.asarray(cents, dtype=np.int64))
    text = np.array([f"{c // 100}.{c % 100:02d}" if c >= 0 else "" for c in distinct.tolist()], dtype=object)
    return text[index] if len(index) else np.array([], dtype=object)
