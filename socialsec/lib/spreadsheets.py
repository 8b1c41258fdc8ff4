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
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Fold full-width forms (U+FF01-U+FF5E) to ASCII and the ideographic space to a space (str.translate);
# the import kinds fold the registry's values the same way before comparing them with cells.
FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FOLDABLE = re.compile("[\uff01-\uff5e\u3000]")
# A cell's first or last character is a space (the cells joined by NUL); _SPACE first, which
# scans four times as fast and finds nothing in most columns.
_SPACE = re.compile(r"\s")
_EDGE_SPACE = re.compile(r"\A\s|\s\Z|\s\0|\0\s")
# Text cells of an xlsx that read as empty, as pandas' Excel reader always had them (its default
# na_values): "#N/A" left by a failed lookup formula, "NULL" from a database export…
_EMPTY_TEXTS = frozenset(
    {
        *("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>"),
        *("N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
    }
)

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
    folded = str(text).translate(FULL_WIDTH)
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
    if isinstance(value, str):
        return value, False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        # An integral number reads as its digits, whatever its size: an 18-digit ID typed into a
        # number cell shows as 110101199001010000 (its last digits already lost) and is refused
        # by the importer for the number flag, naming the value the clerk sees in the cell.
        if value.is_integer():
            return str(int(value)), True
        return repr(value), True
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat(), False
    return str(value), False


@dataclass
class _Sheet:
    """The first sheet (or the csv) as read, before any cell is converted.

    Only the header search and the columns a kind knows are turned into text, and a column of
    text cells (the usual case: IDs and names kept as text) is taken as it is, with no per-cell
    work in Python; a column holding numbers or date cells is converted cell by cell.
    """

    height: int
    # xlsx: calamine's rows (lists of str, float, int, bool, date, datetime…; "" when empty);
    # csv: a DataFrame of text (NaN where a short line had no such field).
    cells: Any

    def head(self, count: int) -> list[list[str]]:
        if isinstance(self.cells, pd.DataFrame):
            block = self.cells.iloc[:count].fillna("")
            return [[str(value) for value in row] for row in block.itertuples(index=False, name=None)]
        return [
            ["" if value in _EMPTY_TEXTS else _cell_text(value)[0] for value in row]
            for row in self.cells[:count]
        ]

    def column(self, index: int, start: int) -> tuple[list[str], np.ndarray]:
        """Column `index` from row `start` (0-based) on: (texts, 'was a number' flags)."""
        if isinstance(self.cells, pd.DataFrame):
            values = self.cells.iloc[start:, index].to_numpy(dtype=object)
            values[pd.isna(values)] = ""
            return values.tolist(), np.zeros(len(values), dtype=bool)
        values = list(map(itemgetter(index), self.cells[start:]))
        if not _EMPTY_TEXTS.isdisjoint(values):
            values = ["" if isinstance(value, str) and value in _EMPTY_TEXTS else value for value in values]
        if set(map(type, values)) <= {str}:
            return values, np.zeros(len(values), dtype=bool)
        converted = [_cell_text(value) for value in values]
        return [text for text, _number in converted], np.fromiter(
            (number for _text, number in converted), dtype=bool, count=len(converted)
        )


def _read_sheet(path: Path, kind: str) -> _Sheet:
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
        return _Sheet(height=len(frame), cells=frame)
    from python_calamine import CalamineWorkbook

    try:
        with CalamineWorkbook.from_path(str(path)) as workbook:
            # From A1 (skip_empty_area=False), so a row's position is its number in the file, less one.
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise SpreadsheetError("not_a_spreadsheet") from exc
    width = max(map(len, rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    return _Sheet(height=len(rows), cells=rows)


def _decode(data: bytes) -> str:
    # UTF-8 first (a BOM is dropped); Excel in a Chinese locale saves csv as GBK, which GB18030 extends.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError("bad_encoding")


def _tidy(texts: list[str]) -> list[str]:
    """Full-width forms folded to ASCII and the ends trimmed, for one column's cells."""
    joined = "\0".join(texts)
    if _FOLDABLE.search(joined):
        texts = [text if text.isascii() else text.translate(FULL_WIDTH) for text in texts]
        joined = "\0".join(texts)
    # One scan of the column for a cell that starts or ends with a space (rare) before stripping each.
    if _SPACE.search(joined) and _EDGE_SPACE.search(joined):
        return [text.strip() for text in texts]
    return texts


def _find_header(
    head: list[list[str]], columns: Mapping[str, Sequence[str]], required: Iterable[str]
) -> tuple[int, dict[str, int]]:
    labels = {
        canonical: {normalize_label(label) for label in accepted} | {normalize_label(canonical)}
        for canonical, accepted in columns.items()
    }
    required = list(required)
    best: tuple[int, dict[str, int]] | None = None
    for position, row in enumerate(head):
        cells = [normalize_label(value) for value in row]
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
    header must have (all of them by default). Unknown columns are ignored (never converted).
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
    sheet = _read_sheet(path, kind)
    if sheet.height == 0:
        raise SpreadsheetError("empty")
    header, positions = _find_header(
        sheet.head(limits.header_search_rows), columns, required or list(columns)
    )
    texts: dict[str, list[str]] = {}
    flags: dict[str, np.ndarray] = {}
    for name, index in positions.items():
        cells, numbers = sheet.column(index, header + 1)
        texts[name], flags[name] = _tidy(cells), numbers
    # A row with nothing in any known column is a blank row (trailing or in between): drop it.
    count = sheet.height - header - 1
    keep = np.zeros(count, dtype=bool)
    for cells in texts.values():
        keep |= np.fromiter(map(bool, cells), dtype=bool, count=count)
    if int(keep.sum()) > limits.max_rows:
        raise SpreadsheetError("too_many_rows", rows=int(keep.sum()), limit=limits.max_rows)
    everything = bool(keep.all())
    frame = pd.DataFrame(
        {
            name: pd.Series(cells if everything else np.array(cells, dtype=object)[keep], dtype="str")
            for name, cells in texts.items()
        }
    )
    numeric = pd.DataFrame({name: numbers[keep] for name, numbers in flags.items()})
    rows = np.flatnonzero(keep) + header + 2  # 1-based, as the spreadsheet shows them
    return Table(frame=frame, rows=rows, header_row=header + 1, numeric=numeric)


_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate (=, +, -, @ …) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def new_workbook(path: str | Path) -> Any:
    """An xlsxwriter Workbook that keeps text as text: no conversion of strings to formulas, numbers
    or URLs (write text cells through `neutralize` as well), rows written in order with constant
    memory. The caller closes it."""
    import xlsxwriter  # imported here: readers of files never need it

    return xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": True,
        },
    )


def write_workbook(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet_name: str = "Sheet1"
) -> None:
    """An xlsx with a bold header row; text is written as text and never as a formula."""
    workbook = new_workbook(path)
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
