"""Files of a payout roster (issue 4 "Payment", DOMAIN §8.3): the bank file, the bank's receipt, the
printable roster as xlsx, the status of a large xlsx built in Celery, and the lines that failed.

The rules live in socialsec.rosters.exports / receipts and the services; these views only adapt
them to HTTP: 403 role, 404 outside the caller's townships, 409 wrong state, 400 bad file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from benefits import services
from benefits.api import PayoutRosterLinesApi
from benefits.models import PayoutLine, PayoutRoster
from socialsec.core.api import TownshipScopedApi
from socialsec.core.exceptions import InvalidState, NotPermitted
from socialsec.core.scoping import get_visible_or_404
from socialsec.rosters import exports, receipts
from socialsec.rosters.api import RosterDetailOutputSerializer
from socialsec.rosters.choices import BankResult
from socialsec.rosters.selectors import ROSTER_RELATED

_VIEW = "benefits.view_payoutroster"
_ROSTERS = PayoutRoster.objects.select_related(*ROSTER_RELATED)

_ExportStatus = inline_serializer(
    "RosterExportStatus",
    {
        "status": serializers.CharField(help_text="pending | ready | failed"),
        "status_url": serializers.CharField(),
        "download_url": serializers.CharField(allow_null=True),
    },
)
_FILE = OpenApiResponse(response=OpenApiTypes.BINARY, description="csv or xlsx")


class _FileApi(TownshipScopedApi):
    """`?format=` names the file's format here, not DRF's renderer: never a 404 for csv/xlsx."""

    queryset = _ROSTERS

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


def _xlsx_response(path: Path, filename: str) -> FileResponse:
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=filename, content_type=exports.XLSX_CONTENT_TYPE
    )


def _status_body(request: Request, roster_id: int, token: str) -> dict[str, Any]:
    status = exports.export_status(roster_id, token)
    status_url = reverse("api-roster-export-status", kwargs={"pk": roster_id, "token": token})
    file_url = reverse("api-roster-export-file", kwargs={"pk": roster_id, "token": token})
    return {
        "status": status,
        "status_url": request.build_absolute_uri(status_url),
        "download_url": request.build_absolute_uri(file_url) if status == "ready" else None,
    }


class PayoutRosterBankFileApi(_FileApi):
    """GET the bank file (batch, line, month, full ID, name, card or account, amount, division code).

    Finance posts only (403); the full IDs make every download an audited event. 409 until the
    accountant has prepared the payment instruction. A roster longer than the inline limit gets
    its xlsx from a background task: 202 with the status URL.
    """

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv", "xlsx"], default="csv")],
        responses={200: _FILE, 202: _ExportStatus},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        format_ = exports.bank_file_format(request.query_params.get("format"))
        roster = exports.bank_file_roster(model=PayoutRoster, roster_id=pk, by=request.user)
        if format_ == "xlsx" and exports.xlsx_in_background(roster):
            token = exports.start_export(model=PayoutRoster, roster=roster, kind="bank")
            return Response(_status_body(request, roster.pk, token), status=202)
        return exports.bank_file_response(roster, format_=format_, by=request.user)


class PayoutRosterRosterFileApi(_FileApi):
    """GET the printable roster (花名册) as xlsx: header, lines, totals, the signature block.

    IDs are masked unless the caller may unmask (then the export is recorded). 409 for a draft
    or a cancelled roster; a long roster's xlsx is built in the background (202).
    """

    required_permission = _VIEW

    @extend_schema(responses={200: _FILE, 202: _ExportStatus})
    def get(self, request: Request, pk: int) -> HttpResponse:
        roster = exports.printable_roster(queryset=_ROSTERS, roster_id=pk, by=request.user)
        full_ids = exports.may_see_full_ids(request.user)
        if exports.xlsx_in_background(roster):
            token = exports.start_export(model=PayoutRoster, roster=roster, kind="roster", full_ids=full_ids)
            return Response(_status_body(request, roster.pk, token), status=202)
        if full_ids:
            exports.record_download(
                roster, label=exports.ROSTER_PRINT_FULL_IDS, by=request.user, format="xlsx"
            )
        filename = f"{roster.number}.xlsx"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / filename
            exports.write_roster_xlsx(roster, path, full_ids=full_ids)
            return HttpResponse(
                path.read_bytes(),
                content_type=exports.XLSX_CONTENT_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )


def _export_roster(request: Request, pk: int, token: str) -> PayoutRoster:
    """The roster of an export: a bank file export only for the finance posts, like the file itself."""
    if exports.export_kind(token) == "bank":
        return exports.bank_file_roster(model=PayoutRoster, roster_id=pk, by=request.user)
    if not request.user.has_perm(_VIEW):
        raise NotPermitted(rule="role")
    return get_visible_or_404(_ROSTERS, request.user, pk=pk)


class PayoutRosterExportStatusApi(_FileApi):
    """GET the status of an xlsx being built in the background: pending, ready (with its URL), failed."""

    @extend_schema(responses=_ExportStatus)
    def get(self, request: Request, pk: int, token: str) -> Response:
        roster = _export_roster(request, pk, token)
        return Response(_status_body(request, roster.pk, token))


class PayoutRosterExportFileApi(_FileApi):
    """GET a finished background xlsx; 409 while it is still being built. Audited as the inline file is."""

    @extend_schema(responses={200: _FILE})
    def get(self, request: Request, pk: int, token: str) -> HttpResponse:
        roster = _export_roster(request, pk, token)
        status = exports.export_status(roster.pk, token)
        if status != "ready":
            raise InvalidState(status=status, roster_ids=[roster.pk])
        kind = exports.export_kind(token)
        if kind == "bank":
            exports.record_download(roster, label=exports.BANK_FILE_DOWNLOAD, by=request.user, format="xlsx")
            filename = f"{roster.bank_batch}.xlsx"
        else:
            if exports.may_see_full_ids(request.user):
                exports.record_download(
                    roster, label=exports.ROSTER_PRINT_FULL_IDS, by=request.user, format="xlsx"
                )
            filename = f"{roster.number}.xlsx"
        return _xlsx_response(exports.export_path(roster.pk, token), filename)


class PayoutRosterBankReceiptApi(TownshipScopedApi):
    """POST the bank's receipt (multipart `file`, csv or xlsx): PAID or PARTIALLY_PAID.

    Every row is checked first; any bad row is 400 with its row, column, value and reason and
    nothing is recorded. The same receipt again changes nothing (200, the same roster).
    """

    queryset = _ROSTERS
    required_permission = "benefits.record_bank_receipt_payoutroster"
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=RosterDetailOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        roster = get_visible_or_404(PayoutRoster.objects.all(), request.user, pk=pk)
        results = receipts.receipt_results_from_upload(roster=roster, upload=data.validated_data["file"])
        services.payout_roster_record_bank_receipt(
            roster_id=roster.pk, results=results, by=request.user, note=data.validated_data["note"]
        )
        settled = self.get_queryset().get(pk=roster.pk)
        return Response(RosterDetailOutputSerializer(settled, context={"request": request}).data)


class PayoutRosterFailedLinesApi(PayoutRosterLinesApi):
    """GET the lines the bank refused, in line order, ready for re-issue on a later roster (E22 step 5)."""

    queryset = PayoutLine.objects.select_related("person").filter(bank_status=BankResult.FAILED)
