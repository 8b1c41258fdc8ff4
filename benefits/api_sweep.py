"""The monthly sweep's API (issue 4 "The monthly sweep", "Screens and API"; DOMAIN §5.3, §5.4).

/api/sweeps/: the runs (county business: benefits.view_sweeprun to read, benefits.add_sweeprun to
start one). /api/work-items/: what the sweep left for the caller's townships, read and closed
through TownshipScopedApi, so another township's item is a 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from benefits import sweep_services
from benefits.sweeps import (
    SweepRun,
    SweepStatus,
    SweepStep,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from socialsec.core.api import HasModelPermission, TownshipScopedApi
from socialsec.lib.months import parse_month
from socialsec.rosters.api import DivisionRefSerializer, LinePersonSerializer, MonthField, UserRefSerializer

VIEW_RUNS = "benefits.view_sweeprun"
START_RUNS = "benefits.add_sweeprun"
VIEW_ITEMS = "benefits.view_workitem"
CLOSE_ITEMS = "benefits.change_workitem"

RUNS = SweepRun.objects.select_related("started_by")
ITEMS = WorkItem.objects.select_related("person", "township", "closed_by")


# --- Runs ----------------------------------------------------------------------------------------------


class SweepRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = MonthField(help_text="The month swept.")
    status = serializers.ChoiceField(choices=SweepStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    step = serializers.CharField(help_text="The step running now; empty once the run has ended.")
    step_label = serializers.CharField(source="get_step_display")
    progress = serializers.IntegerField(help_text="Percent of the township chunks done (100 when done).")
    steps_done = serializers.ListField(
        child=serializers.ChoiceField(choices=SweepStep.choices), help_text="The finished steps, in order."
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="What each step found or made, by step: persons listed, entitlements stopped, rosters.",
    )
    started_by = UserRefSerializer(allow_null=True, help_text="Empty when beat or the shell started it.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    failure = serializers.CharField(help_text="The error's name when the run failed.")


class SweepStartInput(serializers.Serializer):
    month = MonthField(help_text="The month to sweep, YYYY-MM.")


class SweepRunApi(generics.GenericAPIView):
    """Runs are county business, not township records: SweepRun.objects.visible_to is their door
    (the view permission, no township rule)."""

    permission_classes = [permissions.IsAuthenticated, HasModelPermission]
    serializer_class = SweepRunOutputSerializer

    def get_queryset(self) -> Any:
        return RUNS.visible_to(self.request.user)


class SweepRunListCreateApi(SweepRunApi, generics.ListAPIView):
    """GET: the sweep runs, newest first. POST: a section chief starts (or joins) the sweep of a month:
    201 with the new run, queued for a worker; 200 with the run of that month already running;
    400 a month that is not YYYY-MM; 403 without benefits.add_sweeprun."""

    @property
    def required_permission(self) -> str:  # read by HasModelPermission
        return START_RUNS if self.request.method == "POST" else VIEW_RUNS

    @extend_schema(
        request=SweepStartInput,
        responses={201: SweepRunOutputSerializer, 200: SweepRunOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = SweepStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        run, joined = sweep_services.sweep_start_or_join(month=data.validated_data["month"], by=request.user)
        body = SweepRunOutputSerializer(RUNS.get(pk=run.pk)).data
        return Response(body, status=200 if joined else 201)


class SweepRunDetailApi(SweepRunApi, generics.RetrieveAPIView):
    """One sweep run: status, step, progress, the finished steps, counts, who started it, times."""

    required_permission = VIEW_RUNS


# --- Work items ----------------------------------------------------------------------------------------


class WorkItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=WorkItemKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.ChoiceField(choices=WorkItemStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    month = MonthField(help_text="The month whose sweep found it.")
    person = LinePersonSerializer()
    township = DivisionRefSerializer()
    entitlement = serializers.IntegerField(
        source="entitlement_id",
        allow_null=True,
        help_text="The entitlement stopped on death (death_overpaid).",
    )
    overpaid_months = serializers.ListField(
        child=MonthField(), help_text="death_overpaid: the months paid from the stop month on."
    )
    overpaid_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="death_overpaid: the sum paid for those months."
    )
    sweep = serializers.IntegerField(source="sweep_id", help_text="The run that found it.")
    created_at = serializers.DateTimeField()
    closed_by = UserRefSerializer(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_note = serializers.CharField()


class WorkItemFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=WorkItemKind.choices)
    status = django_filters.ChoiceFilter(choices=WorkItemStatus.choices)
    month = django_filters.CharFilter(method="filter_month", label="Month found, YYYY-MM")
    township = django_filters.CharFilter(field_name="township__code", label="12-digit township code")

    def filter_month(self, queryset: Any, name: str, value: str) -> Any:
        month = parse_month(value)
        return queryset.none() if month is None else queryset.filter(month=month)


class WorkItemListApi(TownshipScopedApi, generics.ListAPIView):
    """The work items of the caller's townships, newest first, IDs masked (filters: kind, status,
    month, township)."""

    queryset = ITEMS
    required_permission = VIEW_ITEMS
    serializer_class = WorkItemOutputSerializer
    filterset_class = WorkItemFilter


class WorkItemDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One work item; another township's is 404, like a missing one."""

    queryset = ITEMS
    required_permission = VIEW_ITEMS
    serializer_class = WorkItemOutputSerializer


class WorkItemCloseApi(TownshipScopedApi):
    """POST: a clerk or section chief closes an open work item with a note (why: applied for the
    person, recovery started …). 403 role, 404 another township's, 409 closed already, 400 no note."""

    class InputSerializer(serializers.Serializer):
        # Blank passes here: the service refuses an empty note, in the caller's language.
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    queryset = ITEMS
    required_permission = CLOSE_ITEMS

    @extend_schema(request=InputSerializer, responses=WorkItemOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sweep_services.work_item_close(item_id=pk, by=request.user, note=data.validated_data["note"])
        item = self.get_queryset().get(pk=pk)  # the service has scoped it already
        return Response(WorkItemOutputSerializer(item).data)
