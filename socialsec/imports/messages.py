"""The clerk's sentence for every error code, in the active language.

Codes are stored, sentences are not: a page in English and one in Chinese read the same
rows. Codes shared by every kind are here; a kind answers its own through `error_message`.
"""

from __future__ import annotations

from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext

from socialsec.core.identifiers import resident_id_error_message
from socialsec.lib.resident_id import ERROR_CODES as RESIDENT_ID_CODES
from socialsec.lib.resident_id import ResidentIdError


def _spreadsheet_message(code: str, params: dict[str, Any]) -> str | None:
    if code == "too_large":
        return gettext("The file is %(size)s MB; files of at most %(limit)s MB can be imported.") % {
            "size": number_format(params.get("size", 0) / 1_048_576, 1),
            "limit": number_format(params.get("limit", 0) / 1_048_576, 0),
        }
    if code == "not_a_spreadsheet":
        if params.get("hint") == "xls":
            return gettext(
                "This is an old Excel file (.xls). "
                "Open it in Excel or WPS and save it as .xlsx, then upload again."
            )
        return gettext(
            "The file is not an xlsx workbook or a csv file. Save it as .xlsx or .csv and upload again."
        )
    if code == "zip_bomb":
        return gettext(
            "The file unpacks to far more data than a real list (%(size)s bytes). It was refused for safety."
        ) % {"size": params.get("size", "?")}
    if code == "xml_entities":
        return gettext(
            "The file contains XML entity declarations, which real spreadsheets never do. It was refused."
        )
    if code == "bad_encoding":
        return gettext("The csv file is neither UTF-8 nor GBK text. Save it again as UTF-8 or as a GBK csv.")
    if code == "empty":
        return gettext("The file is empty.")
    if code == "no_header":
        return gettext(
            "No header row was found in the first rows of the file. It needs the columns: %(columns)s."
        ) % {"columns": "、".join(str(label) for label in params.get("expected", []))}
    if code == "missing_columns":
        return gettext("The header row (row %(row)s) lacks the columns: %(columns)s.") % {
            "row": params.get("row", "?"),
            "columns": "、".join(str(label) for label in params.get("missing", [])),
        }
    if code == "too_many_rows":
        return gettext("The file has %(rows)s rows; at most %(limit)s can be imported at once.") % {
            "rows": params.get("rows", "?"),
            "limit": params.get("limit", "?"),
        }
    return None


def _row_message(code: str, params: dict[str, Any], value: str) -> str | None:
    if code == "required":
        return gettext("This cell is empty; it must be filled in.")
    if code == "bad_date":
        return gettext("%(value)s is not a date. Write dates as 2024-03-05.") % {"value": value}
    if code == "future_date":
        return gettext("The date %(value)s is in the future.") % {"value": value}
    if code == "too_long":
        return gettext("The text is longer than %(max)s characters.") % {"max": params.get("max", "?")}
    if code == "duplicate_row":
        return gettext("Same as row %(row)s: the row is in the file twice.") % {
            "row": params.get("first_row", "?")
        }
    if code == "conflicting_rows":
        return gettext(
            "The same person is in rows %(rows)s with different values; keep only the right row."
        ) % {"rows": "、".join(str(row) for row in params.get("rows", []))}
    if code == "person_not_found":
        if params.get("township"):
            return gettext("No person with this ID number is registered in %(township)s.") % {
                "township": params["township"]
            }
        return gettext("No person with this ID number is registered in the county.")
    if code == "changed_since_check":
        return gettext("The registry changed after the file was checked; this row is no longer valid.")
    return None


def error_message(kind: Any, code: str, params: dict[str, Any] | None, value: str = "") -> str:
    """One sentence for one stored error; the value is the cell as the file had it."""
    params = params or {}
    if code in RESIDENT_ID_CODES:
        return resident_id_error_message(ResidentIdError(code, value))
    for answer in (
        _spreadsheet_message(code, params),
        _row_message(code, params, value),
        kind.error_message(code, params) if kind is not None else None,
    ):
        if answer is not None:
            return answer
    return gettext("This row cannot be imported (%(code)s).") % {"code": code}


def failure_message(code: str) -> str:
    """Why a whole batch stopped (FAILED), for the batch page."""
    if code == "changed_since_check":
        return gettext(
            "The registry changed after the file was checked, so nothing was imported. "
            "The rows that are no longer valid are listed below; fix the file and upload it again."
        )
    if code == "database_error":
        return gettext(
            "The database refused the import, so nothing was imported. "
            "Tell the administrator the batch number."
        )
    return gettext(
        "The import stopped on an unexpected error, so nothing was imported. Tell the administrator."
    )
