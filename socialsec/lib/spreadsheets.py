"""Reading the spreadsheets other departments send, and writing safe ones back.

Framework-free. `read_table` turns an xlsx or csv file into a table of text cells
under canonical column names, keeping each row's number in the file so every error
can name its row. It copes with what real files do:
- a title row or merged cells above the header (the header is found by its labels);
- blank trailing rows, and blank rows in between (dropped; row numbers kept);
- GBK / GB18030 csv as well as UTF-8 (with or without BOM);
- full-width digits, letters and spaces (folded to ASCII);
- numbers where text was meant: an 18-digit ID typed into a number cell keeps only
  15 significant digits, so numeric cells are reported (`Table.numeric`) for the
  importer to refuse in text columns.
It refuses, with an error code the Django side turns into a sentence, files that are
too large, not spreadsheets, zip bombs, XML with entity declarations, and tables
without the required columns. `write_workbook` writes xlsx with every text cell that
a spreadsheet would run as a formula neutralised.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Fold full-width forms (U+FF01-U+FF5E) to ASCII and the ideographic space to a space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

ERROR_CODES = (
    "too_large",
    "not_a_spreadsheet",
    "zip_bomb",
    "xml_entities",
    "bad_encoding",
    "empty",
    "no_header",
    "missing_columns",
    "too_many_rows",
)


class SpreadsheetError(ValueError):
    """Why a file was refused: `code` is one of ERROR_CODES; `params` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown spreadsheet error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}")


@dataclass(frozen=True)
class Limits:
    """Defaults fit a county's largest list (a million rows of a dozen columns)."""

    max_bytes: int = 100 * 1024 * 1024
    max_rows: int = 1_100_000
    # xlsx is a zip: refuse members that inflate past this, or compress suspiciously well.
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: int = 200
    header_search_rows: int = 20


@dataclass
class Table:
    """Text cells under canonical column names; `rows` holds each row's 1-based number in the file."""

    frame: pd.DataFrame
    rows: np.ndarray
    header_row: int
    # Per canonical column: True where the file held a number, not text.
    numeric: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __len__(self) -> int:
        return len(self.frame)


def normalize_label(text: Any) -> str:
    """A header cell as it is compared: no spaces, asterisks or line breaks; ASCII forms; lower case."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    folded = str(text).translate(_FULL_WIDTH)
    return "".join(folded.split()).replace("*", "").lower()


def _sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    return "csv"


def _guard_zip(path: Path, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SpreadsheetError("not_a_spreadsheet") from exc
    with archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        packed = sum(member.compress_size for member in members) or 1
        if total > limits.max_uncompressed_bytes or total / packed > limits.max_compression_ratio:
            raise SpreadsheetError("zip_bomb", size=total)
        if not any(member.filename == "[Content_Types].xml" for member in members):
            raise SpreadsheetError("not_a_spreadsheet")
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as stream:
                    # Entity declarations come before the root element, so the head is enough.
                    if b"<!ENTITY" in stream.read(4096).upper():
                        raise SpreadsheetError("xml_entities", part=member.filename)


def _cell_text(value: Any) -> tuple[str, bool]:
    """Cell value → (text, was it a number). Integral numbers lose no digits here."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        # Below 1e15 a double holds every digit exactly; above, keep the float's own form,
        # e.g. 1.10101199001010e+17, so nobody mistakes it for a real number.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), True
        return repr(value), True
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat(), False
    return str(value), False


def _read_raw(path: Path, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole first sheet as text, plus a same-shaped frame of 'was a number' flags."""
    if kind == "csv":
        text = _decode(path.read_bytes())
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
        )
        return frame, pd.DataFrame(False, index=frame.index, columns=frame.columns)
    try:
        raw = pd.read_excel(path, engine="calamine", header=None, dtype=object, sheet_name=0)
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise SpreadsheetError("not_a_spreadsheet") from exc
    texts, flags = {}, {}
    for key, column in raw.items():
        texts[key], flags[key] = _column_text(column)
    return pd.DataFrame(texts, index=raw.index), pd.DataFrame(flags, index=raw.index)


def _column_text(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """One column as text plus 'was a number' flags; whole-column paths for the usual cases."""
    kind = pd.api.types.infer_dtype(column, skipna=True)
    missing = column.isna()
    if kind in ("string", "empty"):  # a text column (names, IDs kept as text): no per-cell work
        return column.where(~missing, "").astype(str), pd.Series(False, index=column.index)
    if kind == "integer":  # phone numbers, years, grades typed as numbers
        return column.astype("Int64").astype(str).where(~missing, ""), ~missing
    converted = column.map(_cell_text)  # mixed or floating: cell by cell
    return converted.str[0], converted.str[1].astype(bool)


def _decode(data: bytes) -> str:
    # UTF-8 first (a BOM is dropped); Excel in a Chinese locale saves csv as GBK, which GB18030 extends.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError("bad_encoding")


def _find_header(
    text: pd.DataFrame, columns: Mapping[str, Sequence[str]], required: Iterable[str], limits: Limits
) -> tuple[int, dict[str, int]]:
    labels = {
        canonical: {normalize_label(label) for label in accepted} | {normalize_label(canonical)}
        for canonical, accepted in columns.items()
    }
    required = list(required)
    best: tuple[int, dict[str, int]] | None = None
    for position in range(min(limits.header_search_rows, len(text))):
        cells = [normalize_label(value) for value in text.iloc[position].tolist()]
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            for canonical, accepted in labels.items():
                if cell in accepted and canonical not in found:
                    found[canonical] = index
        if all(name in found for name in required):
            return position, found
        if found and (best is None or len(found) > len(best[1])):
            best = (position, found)
    if best is None:
        raise SpreadsheetError("no_header", expected=[columns[name][0] for name in required])
    missing = [columns[name][0] if columns[name] else name for name in required if name not in best[1]]
    raise SpreadsheetError("missing_columns", row=best[0] + 1, missing=missing)


def read_table(
    path: str | Path,
    columns: Mapping[str, Sequence[str]],
    *,
    required: Iterable[str] | None = None,
    limits: Limits | None = None,
) -> Table:
    """Read the first sheet of an xlsx or a csv into text columns named as in `columns`.

    `columns` maps each canonical name to the header labels it may carry in a file
    (e.g. {"id_number": ["公民身份号码", "身份证号"]}); `required` names the columns the
    header must have (all of them by default). Unknown columns are ignored.
    """
    path = Path(path)
    limits = limits or Limits()
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise SpreadsheetError("too_large", size=size, limit=limits.max_bytes)
    if size == 0:
        raise SpreadsheetError("empty")
    kind = _sniff(path)
    if kind == "xls":
        raise SpreadsheetError("not_a_spreadsheet", hint="xls")
    if kind == "xlsx":
        _guard_zip(path, limits)
    text, numeric = _read_raw(path, kind)
    if text.empty:
        raise SpreadsheetError("empty")
    header, positions = _find_header(text, columns, required or list(columns), limits)
    body = text.iloc[header + 1 :]
    body_numeric = numeric.iloc[header + 1 :]
    names = list(positions)
    frame = pd.DataFrame(
        {name: body.iloc[:, positions[name]].fillna("").astype(str) for name in names}, index=body.index
    )
    # Fold full-width forms and trim, column by column (vectorised).
    for name in names:
        frame[name] = frame[name].str.translate(_FULL_WIDTH).str.strip()
    flags = pd.DataFrame(
        {name: body_numeric.iloc[:, positions[name]].to_numpy() for name in names}, index=body.index
    )
    # A row with nothing in any known column is a blank row (trailing or in between): drop it.
    keep = (frame != "").any(axis=1).to_numpy()
    frame, flags = frame[keep], flags[keep]
    if len(frame) > limits.max_rows:
        raise SpreadsheetError("too_many_rows", rows=len(frame), limit=limits.max_rows)
    rows = frame.index.to_numpy() + 1  # 1-based, as the spreadsheet shows them
    return Table(
        frame=frame.reset_index(drop=True),
        rows=rows,
        header_row=header + 1,
        numeric=flags.reset_index(drop=True),
    )


_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate (=, +, -, @ …) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_workbook(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet_name: str = "Sheet1"
) -> None:
    """An xlsx with a bold header row; text is written as text and never as a formula."""
    import xlsxwriter  # imported here: readers of files never need it

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": True,
        },
    )
    try:
        sheet = workbook.add_worksheet(sheet_name[:31])
        bold = workbook.add_format({"bold": True})
        text_format = workbook.add_format({"num_format": "@"})
        sheet.write_row(0, 0, list(header), bold)
        for index, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                value = neutralize(value)
                if isinstance(value, str):
                    sheet.write_string(index, column, value, text_format)
                else:
                    sheet.write(index, column, value)
    finally:
        workbook.close()
