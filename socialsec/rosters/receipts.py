"""The bank's receipt file (回执文件, DOMAIN §8.3 results), read and checked before anything is recorded.

One line per roster line: the line sequence (顺序号; with the batch number 批量批次号 when the
bank repeats it), the result (业务状态: success or failure) and the bank's message (错误信息).
Headers are accepted in Chinese and English, including the labels of our own bank file, so the
bank file with two columns added comes back as a receipt. Every row is checked at once (pandas,
no loop over rows); any bad row refuses the whole file with its row, column, value and reason in
the caller's language, and nothing is recorded. A good file becomes the `BankLineResult`s of
`roster_record_bank_receipt` (COPY + one UPDATE … FROM).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from socialsec.core.exceptions import InvalidInput, InvalidState
from socialsec.imports.messages import error_message
from socialsec.lib.spreadsheets import Limits, SpreadsheetError, read_table
from socialsec.rosters.choices import SETTLED_STATUSES, RosterStatus
from socialsec.rosters.services import BankLineResult

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from socialsec.rosters.models import RosterBase

# Rows reported in one refusal; the count says how many there were in all.
MAX_REPORTED_ROWS = 200
RECEIPT_STATUSES = (RosterStatus.PAYING, *SETTLED_STATUSES)

_LABELS = {
    "batch": gettext_lazy("bank batch number"),
    "seq": gettext_lazy("line number"),
    "status": gettext_lazy("bank result"),
    "message": gettext_lazy("bank message"),
}
_ALIASES = {
    "batch": ["批量批次号", "批次号", "批次", "batch", "batch number", "batch no"],
    "seq": ["顺序号", "序号", "行号", "line sequence", "sequence", "seq", "line", "line no"],
    "status": ["业务状态", "状态", "结果", "支付结果", "回盘结果", "status", "result", "bank status"],
    "message": ["错误信息", "反馈信息", "银行信息", "备注", "message", "error message", "bank message"],
}
_PAID = {"success", "succeeded", "successful", "paid", "ok", "成功", "支付成功", "已支付", "发放成功"}
_FAILED = {"failure", "failed", "fail", "失败", "支付失败", "发放失败"}


def receipt_columns() -> dict[str, list[str]]:
    """Each column's accepted headers: the aliases, and our own labels in Chinese and in English."""
    columns = {name: list(aliases) for name, aliases in _ALIASES.items()}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for name, label in _LABELS.items():
                columns[name].append(str(label))
    return columns


def receipt_results(*, roster: RosterBase, path: str | Path) -> list[BankLineResult]:
    """The receipt in `path` for `roster`, checked row by row; InvalidInput (400) names every bad cell.

    A roster that is not paying (or already settled, for the idempotent repeat) is 409 first.
    """
    if roster.status not in RECEIPT_STATUSES:
        raise InvalidState(
            _("Roster %(number)s is %(status)s; a bank receipt is recorded once its payment is released.")
            % {"number": roster.number, "status": roster.get_status_display()},
            roster_ids=[roster.pk],
            number=roster.number,
            status=roster.status,
        )
    try:
        table = read_table(
            path, receipt_columns(), required=["seq", "status"], limits=Limits(max_rows=1_100_000)
        )
    except SpreadsheetError as error:
        raise InvalidInput(
            error_message(None, error.code, error.params), field="file", code=error.code
        ) from None
    except pd.errors.ParserError:  # a csv whose lines have ragged field counts (the reader's csv engine)
        raise InvalidInput(
            error_message(None, "not_a_spreadsheet", {}), field="file", code="not_a_spreadsheet"
        ) from None
    frame, rows = table.frame, table.rows
    if "message" not in frame:
        frame["message"] = ""

    seq_text = frame["seq"]
    is_number = seq_text.str.fullmatch(r"[0-9]{1,9}").fillna(False).to_numpy(dtype=bool)
    seq = pd.to_numeric(seq_text.where(is_number), errors="coerce")
    roster_seqs = np.fromiter(roster.lines.values_list("seq", flat=True), dtype=np.int64)
    known = seq.isin(roster_seqs).to_numpy(dtype=bool)
    duplicate = (seq.duplicated(keep="first") & is_number).to_numpy(dtype=bool)
    first_row = pd.Series(rows).groupby(seq.to_numpy()).transform("first").to_numpy()
    status = frame["status"].str.lower()
    paid = status.isin(_PAID).to_numpy(dtype=bool)
    failed = status.isin(_FAILED).to_numpy(dtype=bool)

    errors: list[tuple[int, str, str, str]] = []

    def add(mask: np.ndarray, column: str, values: pd.Series, reason: Any) -> None:
        for row, value, extra in zip(rows[mask], values[mask], first_row[mask], strict=True):
            errors.append((int(row), column, str(value), reason(str(value), extra)))

    add(
        ~is_number,
        "seq",
        seq_text,
        lambda value, _row: (
            _("This cell is empty; it must be filled in.")
            if not value
            else _("%(value)s is not a line number.") % {"value": value}
        ),
    )
    add(
        is_number & ~known,
        "seq",
        seq_text,
        lambda value, _row: (
            _("Roster %(number)s has no line %(value)s.") % {"number": roster.number, "value": value}
        ),
    )
    add(
        duplicate & known,
        "seq",
        seq_text,
        lambda value, row: (
            _("Line %(value)s is also in row %(row)s; name each line once.")
            % {"value": value, "row": int(row)}
        ),
    )
    add(
        ~(paid | failed),
        "status",
        frame["status"],
        lambda value, _row: (
            _("“%(value)s” is not a bank result: write success (成功) or failure (失败).") % {"value": value}
        ),
    )
    if "batch" in frame:
        batch = frame["batch"]
        add(
            ((batch != "") & (batch != roster.bank_batch)).to_numpy(dtype=bool),
            "batch",
            batch,
            lambda value, _row: (
                _("The batch number %(value)s is not this roster's (%(batch)s).")
                % {"value": value, "batch": roster.bank_batch}
            ),
        )
    if errors:
        errors.sort(key=lambda error: (error[0], list(_LABELS).index(error[1])))
        raise InvalidInput(
            ngettext(
                "The receipt has %(count)s bad cell; nothing was recorded. Correct it and upload it again.",
                "The receipt has %(count)s bad cells; nothing was recorded. "
                "Correct them and upload it again.",
                len(errors),
            )
            % {"count": len(errors)},
            field="file",
            rows=[
                {"row": row, "column": str(_LABELS[column]), "value": value, "reason": reason}
                for row, column, value, reason in errors[:MAX_REPORTED_ROWS]
            ],
        )
    missing = np.setdiff1d(roster_seqs, seq.to_numpy(dtype=np.int64))
    if missing.size:
        raise InvalidInput(
            ngettext(
                "The receipt lacks %(count)s line of roster %(number)s (%(lines)s); it must name every line.",
                "The receipt lacks %(count)s lines of roster %(number)s (%(lines)s); "
                "it must name every line.",
                int(missing.size),
            )
            % {
                "count": int(missing.size),
                "number": roster.number,
                "lines": ", ".join(str(line) for line in missing[:20]) + ("…" if missing.size > 20 else ""),
            },
            field="file",
            missing_lines=[int(line) for line in missing[:MAX_REPORTED_ROWS]],
        )
    messages = frame["message"].str.slice(0, 200)
    return [
        BankLineResult(seq=int(line), paid=bool(is_paid), message=message)
        for line, is_paid, message in zip(seq.to_numpy(dtype=np.int64), paid, messages, strict=True)
    ]


def receipt_results_from_upload(*, roster: RosterBase, upload: UploadedFile) -> list[BankLineResult]:
    """receipt_results for an uploaded file (the page's form, the API's multipart `file`).

    The reader needs a path: the upload is copied chunk by chunk into a temporary folder that
    is gone once the file has been read.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "receipt"
        with open(path, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return receipt_results(roster=roster, path=path)
