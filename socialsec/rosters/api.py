"""API views for every roster kind; an app subclasses them with its queryset and permissions.

Lists run a constant number of queries: the rosters with every post's holder in one join, the
lines with their persons in one join; the caller's permissions and townships are read once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from socialsec.core.api import TownshipScopedApi
from socialsec.core.pagination import KeysetPagination
from socialsec.core.scoping import get_visible_or_404
from socialsec.lib.masking import mask_bank_account
from socialsec.lib.months import parse_month
from socialsec.lib.resident_id import mask_resident_id
from socialsec.rosters import selectors
from socialsec.rosters.choices import BankResult, RosterStatus, RosterStep
from socialsec.rosters.models import RosterBase

# --- Output --------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "example": "2025-10"})
class MonthField(serializers.Field):
    """A month as YYYY-MM (DOMAIN §0.4), stored as its first day."""

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"

    def to_internal_value(self, data: Any) -> dt.date:
        month = parse_month(data)
        if month is None:
            raise serializers.ValidationError(_("Give the month as YYYY-MM, for example 2025-10."))
        return month


@extend_schema_serializer(component_name="RosterUser")
class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


@extend_schema_serializer(component_name="RosterDivision")
class DivisionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="RosterPost")
class PostSerializer(serializers.Serializer):
    post = serializers.CharField(help_text="maker | checker | approver | accountant | cashier")
    label = serializers.CharField(help_text="制表人, 审核人, 审批人, 会计, 出纳 in the caller's language")
    by = UserRefSerializer(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="RosterTimelineEntry")
class TimelineEntrySerializer(serializers.Serializer):
    step = serializers.CharField()
    step_label = serializers.CharField()
    status = serializers.ChoiceField(choices=RosterStatus.choices)
    status_label = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(help_text="The username of who took the step.")
    note = serializers.CharField()


class RosterOutputSerializer(serializers.Serializer):
    """A roster with its totals, digest, the signature block (posts) and the caller's next steps."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    programme = serializers.CharField()
    programme_label = serializers.CharField(source="get_programme_display")
    period = MonthField()
    township = DivisionRefSerializer(allow_null=True, help_text="Empty for a roster of the whole county.")
    status = serializers.ChoiceField(choices=RosterStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    total_persons = serializers.IntegerField()
    total_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    digest = serializers.CharField(help_text="SHA-256 of the lines and totals, taken at submit.")
    bank_batch = serializers.CharField()
    paid_persons = serializers.IntegerField()
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    failed_persons = serializers.IntegerField()
    failed_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    created_by = UserRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    posts = serializers.SerializerMethodField()
    returned_by = UserRefSerializer(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField()
    cancelled_by = UserRefSerializer(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    actions = serializers.SerializerMethodField()

    @extend_schema_field(PostSerializer(many=True))
    def get_posts(self, roster: RosterBase) -> list[dict[str, Any]]:
        return PostSerializer(selectors.roster_signatures(roster), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=RosterStep.choices)))
    def get_actions(self, roster: RosterBase) -> list[str]:
        """The steps the caller may take now (POST /api/rosters/{id}/<action>/)."""
        return selectors.available_steps(roster, self.context["request"].user)


class RosterDetailOutputSerializer(RosterOutputSerializer):
    timeline = serializers.SerializerMethodField()

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, roster: RosterBase) -> list[dict[str, Any]]:
        return TimelineEntrySerializer(selectors.roster_timeline(roster), many=True).data


@extend_schema_serializer(component_name="RosterLinePerson")
class LinePersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number_masked = serializers.SerializerMethodField()

    def get_id_number_masked(self, person: Any) -> str:
        return mask_resident_id(person.id_number)


class RosterLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="Line number on the roster and in the bank file.")
    person = LinePersonSerializer()
    period = MonthField(help_text="The month paid: the roster's, or a re-issued line's.")
    basic = serializers.DecimalField(max_digits=12, decimal_places=2)
    account = serializers.DecimalField(max_digits=12, decimal_places=2)
    top_up = serializers.DecimalField(max_digits=12, decimal_places=2)
    back_pay = serializers.DecimalField(max_digits=12, decimal_places=2)
    deduction = serializers.DecimalField(max_digits=12, decimal_places=2)
    net = serializers.DecimalField(max_digits=12, decimal_places=2)
    account_number_masked = serializers.SerializerMethodField()
    bank_name = serializers.CharField()
    bank_status = serializers.ChoiceField(choices=BankResult.choices)
    bank_message = serializers.CharField()
    reissue_of = serializers.IntegerField(source="reissue_of_id", allow_null=True)

    def get_account_number_masked(self, line: Any) -> str:
        return mask_bank_account(line.account_number)


# --- Views ---------------------------------------------------------------------------------------------


class RosterFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RosterStatus.choices)
    programme = django_filters.CharFilter()
    period = django_filters.CharFilter(method="filter_period", label="Month, YYYY-MM")
    township = django_filters.CharFilter(field_name="township__code", label="12-digit township code")

    def filter_period(self, queryset: Any, name: str, value: str) -> Any:
        month = parse_month(value)
        return queryset.none() if month is None else queryset.filter(period=month)


class RosterListApi(TownshipScopedApi, generics.ListAPIView):
    """Rosters in the caller's townships (county rosters for county-wide staff), newest first."""

    serializer_class = RosterOutputSerializer
    filterset_class = RosterFilter


class RosterDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One roster: status, totals, digest, the posts, the timeline and the caller's next steps."""

    serializer_class = RosterDetailOutputSerializer


class LinePagination(KeysetPagination):
    ordering = "seq"


class RosterLinesApi(TownshipScopedApi, generics.ListAPIView):
    """A roster's lines in line order; another township's roster is 404, like a missing one."""

    serializer_class = RosterLineOutputSerializer
    pagination_class = LinePagination
    roster_queryset: ClassVar[Any] = None  # the roster model's queryset, set by the app

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        roster = get_visible_or_404(self.roster_queryset.only("pk"), request.user, pk=kwargs["pk"])
        page = self.paginate_queryset(self.get_queryset().filter(roster_id=roster.pk))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RosterStepApi(TownshipScopedApi):
    """POST one step; 403 role or segregation of duties (`rule`), 404 elsewhere, 409 wrong state."""

    step: ClassVar[str]
    # The app's service, as a staticmethod: (roster_id=, step=, by=, note=) -> roster.
    take_step: ClassVar[Any]

    def post(self, request: Request, pk: int) -> Response:
        reasoned = self.step in (RosterStep.RETURN, RosterStep.CANCEL)
        data = (ReasonInput if reasoned else NoteInput)(data=request.data)
        data.is_valid(raise_exception=True)
        text = data.validated_data["reason"] if reasoned else data.validated_data["note"]
        self.take_step(roster_id=pk, step=self.step, by=request.user, note=text)
        roster = self.get_queryset().get(pk=pk)  # the service has scoped it already
        return Response(RosterDetailOutputSerializer(roster, context={"request": request}).data)


def step_view(
    base: type[RosterStepApi], step: str, *, name: str, permission: str | None
) -> type[RosterStepApi]:
    """One APIView per step (STYLE §14), named after it for the schema, e.g. PayoutRosterApproveApi."""
    input_serializer = ReasonInput if step in (RosterStep.RETURN, RosterStep.CANCEL) else NoteInput

    @extend_schema(request=input_serializer, responses=RosterDetailOutputSerializer)
    def post(self: RosterStepApi, request: Request, pk: int) -> Response:
        return base.post(self, request, pk)

    return type(
        name,
        (base,),
        {
            "step": step,
            "required_permission": permission,
            "post": post,
            "__doc__": f"POST /api/rosters/{{id}}/{step}/. {base.__doc__}",
            "__module__": base.__module__,
            "__qualname__": name,
        },
    )
