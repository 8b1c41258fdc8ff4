"""Files out of a roster, for every roster kind: the bank file and the printable roster (花名册).

DOMAIN §8.3. The bank file is the payment instruction the accountant prepared: batch number,
line sequence, payout month, the full resident ID, name, card or account, amount and division
code. Only the finance posts download it, and every download is recorded in the roster's audit
trail like an unmask (label `bank_file_download`). The csv comes from one `COPY … TO STDOUT`;
the xlsx from a server-side cursor through xlsxwriter, every text cell neutralised against
formula injection (socialsec.lib.spreadsheets.neutralize). A roster longer than
`ROSTER_XLSX_INLINE_MAX_LINES` lines is written to an xlsx by a Celery task under MEDIA_ROOT
(`roster_exports/<roster id>/<token>.xlsx`) and fetched once it is ready.

The printable roster (header, lines, totals and the signature block of the five posts with the
real people and their times) is rendered as an HTML print page by the app and as an xlsx here.
Resident IDs on it are masked unless the viewer may unmask; a print with full IDs is recorded
(label `roster_print_full_ids`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pghistory
from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.http import FileResponse, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from socialsec.core.scoping import get_visible_or_404
from socialsec.lib.masking import mask_bank_account
from socialsec.lib.resident_id import mask_resident_id
from socialsec.lib.spreadsheets import neutralize, new_workbook, write_workbook
from socialsec.rosters import workflow
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.selectors import ROSTER_RELATED, roster_signatures

if TYPE_CHECKING:
    from socialsec.core.models import User
    from socialsec.rosters.models import RosterBase

UNMASK_PERMISSION = "core.unmask_personal_data"
# Either finance post may fetch the bank file: the accountant who prepared it, the cashier who
# releases it, and finance who later reconciles the bank's receipt against it.
BANK_FILE_ACTIONS = ("prepare_payment", "pay", "record_bank_receipt")
BANK_FILE_DOWNLOAD = "bank_file_download"
ROSTER_PRINT_FULL_IDS = "roster_print_full_ids"
# A roster is printed once it carries the digest taken at submit.
PRINTABLE_STATUSES = tuple(s for s in RosterStatus if s not in (RosterStatus.DRAFT, RosterStatus.CANCELLED))
BANK_FILE_FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_KINDS = ("bank", "roster")
EXPORT_DIR = "roster_exports"
_TOKEN = re.compile(r"^(bank|roster)-[0-9a-f]{32}$")
# Text a spreadsheet would run as a formula starts with one of these (see spreadsheets.neutralize).
_FORMULA_START = r"'^[=+@\t\r-]'"

BANK_FILE_COLUMNS = (
    ("batch", gettext_lazy("bank batch number")),
    ("seq", gettext_lazy("line number")),
    ("month", gettext_lazy("payout month")),
    ("id_number", gettext_lazy("resident ID number")),
    ("name", gettext_lazy("name")),
    ("account", gettext_lazy("card or account number")),
    ("amount", gettext_lazy("amount")),
    ("division", gettext_lazy("division code")),
)


def inline_xlsx_limit() -> int:
    """Rosters with more lines than this get their xlsx from a Celery task (202 and a status URL)."""
    return int(getattr(settings, "ROSTER_XLSX_INLINE_MAX_LINES", 5000))


def xlsx_in_background(roster: RosterBase) -> bool:
    """Whether the roster's xlsx (bank file or printable roster) is built by a Celery task (start_export)."""
    return roster.total_persons > inline_xlsx_limit()


def bank_file_format(value: str | None) -> str:
    """The bank file's format asked for (csv when none); another one is 400 naming the two there are."""
    format_ = value or "csv"
    if format_ not in BANK_FILE_FORMATS:
        raise InvalidInput(_("Choose the format csv or xlsx."), field="format", value=format_)
    return format_


# --- Who may fetch what ----------------------------------------------------------------------------------


def may_download_bank_file(model: type[RosterBase], user: User) -> bool:
    return any(user.has_perm(workflow.permission_name(model, action)) for action in BANK_FILE_ACTIONS)


def bank_file_roster(*, model: type[RosterBase], roster_id: int, by: User) -> RosterBase:
    """The roster whose bank file `by` may download: a finance post (403), visible (404),
    the payment instruction prepared (409)."""
    if not may_download_bank_file(model, by):
        raise NotPermitted(
            _("Only the finance posts may download a roster's bank file."),
            rule="role",
            roster_ids=[roster_id],
        )
    roster = get_visible_or_404(model.objects.select_related("township"), by, pk=roster_id)
    if roster.prepared_by_id is None:
        raise InvalidState(
            _("The payment instruction of roster %(number)s has not been prepared yet.")
            % {"number": roster.number},
            roster_ids=[roster.pk],
            number=roster.number,
            status=roster.status,
        )
    return roster


def printable_roster(*, queryset: Any, roster_id: int, by: User) -> RosterBase:
    """The roster `by` may print: visible (404), submitted and not cancelled (409)."""
    roster = get_visible_or_404(queryset, by, pk=roster_id)
    if roster.status not in PRINTABLE_STATUSES:
        raise InvalidState(
            _("Roster %(number)s is %(status)s; it is printed once it has been submitted.")
            % {"number": roster.number, "status": roster.get_status_display()},
            roster_ids=[roster.pk],
            number=roster.number,
            status=roster.status,
        )
    return roster


def record_download(roster: RosterBase, *, label: str, by: User, **details: Any) -> None:
    """An audit event on the roster naming the user, as for an unmask (DOMAIN: every reveal recorded).

    One INSERT … SELECT into the roster kind's pghistory event table, the way its triggers write
    (the context attached by pghistory's _pgh_attach_context()): pghistory.create_event cannot
    copy the protected FSM status field, and needs a ManualEvent tracker on the kind's model.
    """
    event_model = roster.events.model
    quote = connection.ops.quote_name
    copied = [
        field.column for field in event_model._meta.concrete_fields if not field.name.startswith("pgh_")
    ]
    columns = ", ".join(quote(column) for column in copied)
    context = pghistory.context(user=by.pk, actor=by.username, action=label, roster=roster.number, **details)
    with context, connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {quote(event_model._meta.db_table)}
                ({columns}, pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id)
            SELECT {columns}, now(), %s, id, _pgh_attach_context()
            FROM {quote(type(roster)._meta.db_table)} WHERE id = %s
            """,
            [label, roster.pk],
        )


# --- The bank file ------------------------------------------------------------------------------------------


def _tables(model: type[RosterBase]) -> dict[str, str]:
    quote = connection.ops.quote_name
    line_model = model._meta.get_field("lines").related_model
    person = apps.get_model("enrollment", "Person")
    division = apps.get_model("core", "AdministrativeDivision")
    return {
        "lines": quote(line_model._meta.db_table),
        "person": quote(person._meta.db_table),
        "division": quote(division._meta.db_table),
    }


def _safe_text(expression: str) -> str:
    """SQL that prefixes an apostrophe to text a spreadsheet would evaluate (csv opened in Excel too)."""
    return f"CASE WHEN {expression} ~ {_FORMULA_START} THEN '''' || {expression} ELSE {expression} END"


def bank_file_query(roster: RosterBase) -> tuple[str, list[Any]]:
    """The bank file's rows in line order: one SELECT over lines, persons and villages.

    The batch number is the one fixed when the payment instruction was prepared; the division
    code is the payee's village (DOMAIN §8.3 routing: 行政区划).
    """
    t = _tables(type(roster))
    sql = f"""
        SELECT %s::text, l.seq, to_char(l.period, 'YYYY-MM'), p.id_number, {_safe_text("p.name")},
               {_safe_text("l.account_number")}, l.net, v.code
        FROM {t["lines"]} l
        JOIN {t["person"]} p ON p.id = l.person_id
        JOIN {t["division"]} v ON v.id = p.village_id
        WHERE l.roster_id = %s
        ORDER BY l.seq
    """
    return sql, [roster.bank_batch, roster.pk]


def bank_file_header() -> list[str]:
    return [str(label) for _key, label in BANK_FILE_COLUMNS]


def bank_file_csv(roster: RosterBase) -> io.IOBase:
    """The bank file as UTF-8 csv (with a BOM, so Excel in a Chinese locale reads it), from one COPY.

    psycopg2's COPY writes into a file object: a spooled file keeps memory bounded (8 MB, then
    disk) and the response streams it from there.
    """
    sql, params = bank_file_query(roster)
    # Returned open: the response streams it and closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")  # noqa: SIM115
    spool.write(("\ufeff" + ",".join(_csv_cell(label) for label in bank_file_header()) + "\r\n").encode())
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", spool)
    spool.seek(0)
    return spool


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def _rows(sql: str, params: Sequence[Any], chunk: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Rows from a server-side cursor, `chunk` at a time: a 200,000-line roster never sits in memory."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            yield from rows


def write_bank_file_xlsx(roster: RosterBase, path: str | Path) -> None:
    sql, params = bank_file_query(roster)
    write_workbook(
        path, bank_file_header(), _rows(sql, params), sheet_name=roster.bank_batch or roster.number
    )


def bank_file_response(roster: RosterBase, *, format_: str, by: User) -> HttpResponse:
    """The bank file delivered at once (csv streamed, xlsx built here), its download recorded.

    The page and the API both answer with it; an xlsx_in_background() roster's xlsx goes to
    start_export instead, which the callers decide on (a redirect or a 202).
    """
    record_download(roster, label=BANK_FILE_DOWNLOAD, by=by, format=format_)
    filename = f"{roster.bank_batch}.{format_}"
    if format_ == "csv":
        return FileResponse(
            bank_file_csv(roster),
            as_attachment=True,
            filename=filename,
            content_type="text/csv; charset=utf-8",
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        write_bank_file_xlsx(roster, path)
        return HttpResponse(
            path.read_bytes(),
            content_type=XLSX_CONTENT_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


# --- The printable roster (花名册) --------------------------------------------------------------------


def roster_header(roster: RosterBase) -> list[tuple[str, str]]:
    """County, programme, month, township, roster number and digest, as (label, value) pairs."""
    return [
        (_("county"), settings.COUNTY_NAME),
        (_("programme"), str(roster.get_programme_display())),
        (_("payout month"), f"{roster.period:%Y-%m}"),
        (_("township"), roster.township.name if roster.township_id else settings.COUNTY_NAME),
        (_("roster number"), roster.number),
        (_("digest"), roster.digest),
    ]


PRINT_COLUMNS = (
    gettext_lazy("line number"),
    gettext_lazy("village"),
    gettext_lazy("name"),
    gettext_lazy("resident ID number"),
    gettext_lazy("basic pension"),
    gettext_lazy("personal account pension"),
    gettext_lazy("top-up"),
    gettext_lazy("back-pay"),
    gettext_lazy("deduction"),
    gettext_lazy("net amount"),
    gettext_lazy("card or account number"),
    gettext_lazy("bank"),
    gettext_lazy("bank result"),
)


def print_lines(roster: RosterBase) -> Any:
    """The lines with their persons and villages in line order: one query, whatever the length."""
    return (
        roster.lines.select_related("person", "person__village")
        .only(
            "seq",
            "basic",
            "account",
            "top_up",
            "back_pay",
            "deduction",
            "net",
            "account_number",
            "bank_name",
            "bank_status",
            "bank_message",
            "roster_id",
            "person__name",
            "person__id_number",
            "person__village__name",
        )
        .order_by("seq")
    )


def print_row(line: Any, *, full_ids: bool) -> list[Any]:
    person = line.person
    result = line.get_bank_status_display()
    if line.bank_message:
        result = f"{result}: {line.bank_message}"
    return [
        line.seq,
        person.village.name,
        person.name,
        person.id_number if full_ids else mask_resident_id(person.id_number),
        line.basic,
        line.account,
        line.top_up,
        line.back_pay,
        line.deduction,
        line.net,
        mask_bank_account(line.account_number),
        line.bank_name,
        result,
    ]


def may_see_full_ids(user: User) -> bool:
    return user.has_perm(UNMASK_PERMISSION)


def _format_time(at: dt.datetime | None) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}" if at else ""


def write_roster_xlsx(roster: RosterBase, path: str | Path, *, full_ids: bool) -> None:
    """The printable roster as xlsx: title, header block, lines, totals, signature block.

    Written on new_workbook (formula, number and URL conversions off) with every text cell through
    `neutralize`, as socialsec.lib.spreadsheets.write_workbook does (that one writes a plain
    table; this layout has blocks above and below it).
    """
    workbook = new_workbook(path)
    try:
        sheet = workbook.add_worksheet(roster.number[:31])
        bold = workbook.add_format({"bold": True})
        title = workbook.add_format({"bold": True, "font_size": 14})
        text = workbook.add_format({"num_format": "@"})
        money = workbook.add_format({"num_format": "0.00"})

        def put(row: int, values: Iterable[Any], style: Any = None) -> None:
            for column, value in enumerate(values):
                value = neutralize(value)
                if isinstance(value, str):
                    sheet.write_string(row, column, value, style or text)
                elif isinstance(value, Decimal):
                    sheet.write_number(row, column, value, money)
                elif value is None:
                    continue
                else:
                    sheet.write(row, column, value, style)

        row = 0
        put(row, [_("Payout roster") + f" {roster.number}"], title)
        for label, value in roster_header(roster):
            row += 1
            put(row, [label, value])
        row += 2
        put(row, [str(label) for label in PRINT_COLUMNS], bold)
        for line in print_lines(roster).iterator(chunk_size=5000):
            row += 1
            put(row, print_row(line, full_ids=full_ids))
        row += 2
        persons = ngettext("%(persons)s person", "%(persons)s persons", roster.total_persons)
        put(row, [_("Total"), persons % {"persons": roster.total_persons}], bold)
        put(row, [None] * 9 + [roster.total_amount])
        row += 2
        for signature in roster_signatures(roster):
            put(row, [signature.label, signature.name, _format_time(signature.at)])
            row += 1
    finally:
        workbook.close()


# --- Large xlsx in Celery -----------------------------------------------------------------------------------


def new_export_token(kind: str) -> str:
    assert kind in EXPORT_KINDS
    return f"{kind}-{secrets.token_hex(16)}"


def export_path(roster_id: int, token: str) -> Path:
    if not _TOKEN.fullmatch(token):
        raise NotVisible(model="export")
    return Path(settings.MEDIA_ROOT) / EXPORT_DIR / str(int(roster_id)) / f"{token}.xlsx"


def export_kind(token: str) -> str:
    if not _TOKEN.fullmatch(token):
        raise NotVisible(model="export")
    return token.split("-", 1)[0]


def export_status(roster_id: int, token: str) -> str:
    """pending, ready or failed: `<token>.pending` from the request on; the task renames its finished
    file to `<token>.xlsx`, or leaves `<token>.failed`. An unknown token is 404."""
    path = export_path(roster_id, token)
    if path.exists():
        return "ready"
    if path.with_suffix(".failed").exists():
        return "failed"
    if path.with_suffix(".pending").exists():
        return "pending"
    raise NotVisible(model="export")


def start_export(*, model: type[RosterBase], roster: RosterBase, kind: str, full_ids: bool = False) -> str:
    """Queue the xlsx of a large roster (after commit); returns the token of its status URL."""
    token = new_export_token(kind)
    path = export_path(roster.pk, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".pending").touch()
    args = [
        model._meta.label,
        roster.pk,
        token,
        translation.get_language() or settings.LANGUAGE_CODE,
        full_ids,
    ]
    transaction.on_commit(lambda: export_roster_xlsx_task.delay(*args))
    return token


def export_roster_xlsx(
    *, model_label: str, roster_id: int, token: str, language: str, full_ids: bool
) -> None:
    """Write the export; safe to run twice (the same file is written again and renamed into place)."""
    model = apps.get_model(model_label)
    roster = model.objects.select_related(*ROSTER_RELATED).get(pk=roster_id)
    path = export_path(roster_id, token)
    part = path.with_suffix(".part")
    try:
        with translation.override(language):
            if export_kind(token) == "bank":
                write_bank_file_xlsx(roster, part)
            else:
                write_roster_xlsx(roster, part, full_ids=full_ids)
        part.replace(path)
    except Exception:
        path.with_suffix(".failed").touch()
        raise
    finally:
        path.with_suffix(".pending").unlink(missing_ok=True)


@shared_task(name="socialsec.rosters.exports.export_roster_xlsx")
def export_roster_xlsx_task(
    model_label: str, roster_id: int, token: str, language: str, full_ids: bool
) -> None:
    export_roster_xlsx(
        model_label=model_label, roster_id=roster_id, token=token, language=language, full_ids=full_ids
    )
