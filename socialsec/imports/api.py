"""Import endpoints. Every batch view is a TownshipScopedApi: batches pass visible_to first."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from socialsec.core.api import TownshipScopedApi
from socialsec.core.exceptions import InvalidState
from socialsec.core.pagination import KeysetPagination
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.kinds import get_kind, kind_infos
from socialsec.imports.messages import error_message, failure_message
from socialsec.imports.models import ImportBatch, ImportRowError
from socialsec.imports.selectors import refuse_full_values, sees_full_values, sensitive_labels, shown_value

VIEW_PERMISSION = "imports.view_importbatch"


class TownshipRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ImportBatchOutputSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    township = TownshipRefSerializer(allow_null=True)
    status_label = serializers.CharField(source="get_status_display")
    progress_label = serializers.CharField(source="get_progress_note_display")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    failure_message = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "kind_label",
            "township",
            "original_name",
            "size",
            "status",
            "status_label",
            "rows_total",
            "rows_valid",
            "rows_invalid",
            "progress",
            "progress_note",
            "progress_label",
            "uploaded_by",
            "created_at",
            "validated_at",
            "confirmed_at",
            "finished_at",
            "summary",
            "failure_code",
            "failure_message",
        ]
        read_only_fields = fields

    def get_kind_label(self, batch: ImportBatch) -> str:
        kind = get_kind(batch.kind)
        return str(kind.label) if kind else batch.kind

    def get_failure_message(self, batch: ImportBatch) -> str:
        return failure_message(batch.failure_code) if batch.failure_code else ""


class ImportRowErrorOutputSerializer(serializers.ModelSerializer):
    reason = serializers.SerializerMethodField()

    class Meta:
        model = ImportRowError
        fields = ["id", "row", "column", "value", "code", "params", "reason"]
        read_only_fields = fields

    def to_representation(self, error: ImportRowError) -> dict[str, Any]:
        data = super().to_representation(error)
        data["value"] = shown_value(error.value, error.column, self.context["labels"], self.context["full"])
        return data

    def get_reason(self, error: ImportRowError) -> str:
        value = shown_value(error.value, error.column, self.context["labels"], self.context["full"])
        return error_message(self.context.get("kind"), error.code, error.params, value)


class ErrorPagination(KeysetPagination):
    """Bad rows in file order, keyset on (row, id)."""

    ordering = ("row", "id")


def _batches() -> Any:
    return ImportBatch.objects.select_related("township", "uploaded_by")


def _errors_known(batch: ImportBatch) -> None:
    """The bad rows exist once the check has finished; before, 409 naming the batch."""
    if batch.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING):
        raise InvalidState(
            _("Batch %(id)s is still being checked; its bad rows are not known yet.") % {"id": batch.pk},
            ids=[batch.pk],
            status=batch.status,
        )


class ImportBatchListApi(TownshipScopedApi):
    """GET: the caller's batches, newest first (keyset). POST (multipart kind, township, file): upload.

    A county-wide batch leaves township out (county-wide staff only).
    """

    queryset = _batches()
    serializer_class = ImportBatchOutputSerializer
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.CharField(max_length=40)
        township = serializers.IntegerField(required=False, allow_null=True)
        file = serializers.FileField(allow_empty_file=True)

    @property
    def required_permission(self) -> str:  # type: ignore[override]
        return services.UPLOAD_PERMISSION if self.request.method == "POST" else VIEW_PERMISSION

    @extend_schema(operation_id="imports_list", responses=ImportBatchOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ImportBatchOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.import_upload(
            kind=data.validated_data["kind"],
            uploaded_file=data.validated_data["file"],
            township_id=data.validated_data.get("township"),
            by=request.user,
        )
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(ImportBatchOutputSerializer(batch).data, status=status.HTTP_201_CREATED)


class ImportBatchDetailApi(TownshipScopedApi):
    """Status, progress and counts of one batch; another township's batch is 404."""

    queryset = _batches()
    serializer_class = ImportBatchOutputSerializer
    required_permission = VIEW_PERMISSION

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)


class ImportRowErrorListApi(TownshipScopedApi):
    """A batch's bad rows in file order, keyset-paginated; reasons in the caller's language."""

    queryset = ImportBatch.objects.all()
    serializer_class = ImportRowErrorOutputSerializer
    pagination_class = ErrorPagination
    required_permission = VIEW_PERMISSION

    def get(self, request: Request, pk: int) -> Response:
        batch = self.get_object()
        _errors_known(batch)
        page = self.paginate_queryset(ImportRowError.objects.filter(batch=batch))
        kind = get_kind(batch.kind)
        context = {
            "kind": kind,
            "labels": sensitive_labels(kind),
            "full": sees_full_values(batch, request.user),
        }
        serializer = ImportRowErrorOutputSerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)


class ImportErrorWorkbookApi(TownshipScopedApi):
    """The bad rows as xlsx (row, column, value, reason, then the original row)."""

    queryset = ImportBatch.objects.all()
    required_permission = VIEW_PERMISSION

    @extend_schema(
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes}
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        batch = self.get_object()
        _errors_known(batch)
        refuse_full_values(batch, request.user)
        path = services.import_error_workbook(batch)
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"import-{batch.pk}-errors.xlsx")


class ImportConfirmApi(TownshipScopedApi):
    """Confirm a VALIDATED batch (202: the commit runs now or in a worker); 409 in any other status."""

    queryset = _batches()
    required_permission = services.UPLOAD_PERMISSION

    @extend_schema(request=None, responses={202: ImportBatchOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        services.import_confirm(batch_id=pk, by=request.user)
        batch = self.get_queryset().get(pk=pk)
        return Response(ImportBatchOutputSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class ImportCancelApi(TownshipScopedApi):
    """Cancel a batch that was not imported; 409 once it is importing or imported."""

    queryset = _batches()
    required_permission = services.UPLOAD_PERMISSION

    @extend_schema(request=None, responses=ImportBatchOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        services.import_cancel(batch_id=pk, by=request.user)
        batch = self.get_queryset().get(pk=pk)
        return Response(ImportBatchOutputSerializer(batch).data)


class ImportKindSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    required = serializers.ListField(child=serializers.CharField())


class ImportKindListApi(APIView):
    """The kinds of list that can be imported, with their column labels (reference data)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=ImportKindSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ImportKindSerializer(kind_infos(), many=True).data)
