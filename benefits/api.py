"""The payout-roster API: /api/rosters/ (issue 4). Views come from socialsec.rosters.api."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from benefits import services
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus
from benefits.models import PayoutLine, PayoutRoster
from socialsec.core.api import TownshipScopedApi
from socialsec.core.models import AdministrativeDivision
from socialsec.rosters import api as rosters_api
from socialsec.rosters.choices import RosterStep
from socialsec.rosters.selectors import ROSTER_RELATED

_VIEW = "benefits.view_payoutroster"
_ROSTERS = PayoutRoster.objects.select_related(*ROSTER_RELATED)


class PayoutRosterListApi(rosters_api.RosterListApi):
    """Payout rosters in the caller's townships (county rosters for county-wide staff), newest first."""

    queryset = _ROSTERS
    required_permission = _VIEW


class PayoutRosterDetailApi(rosters_api.RosterDetailApi):
    """One payout roster: status, totals, digest, posts, timeline and the caller's next steps."""

    queryset = _ROSTERS
    required_permission = _VIEW


class PayoutRosterLinesApi(rosters_api.RosterLinesApi):
    """The lines of one payout roster, in line order, IDs and accounts masked."""

    queryset = PayoutLine.objects.select_related("person")
    roster_queryset = PayoutRoster.objects.all()
    required_permission = _VIEW


class PayoutRosterStepApi(rosters_api.RosterStepApi):
    """A step on a payout roster."""

    queryset = _ROSTERS
    take_step = staticmethod(services.payout_roster_take_step)


def _step(step: str, name: str, action: str | None) -> type[rosters_api.RosterStepApi]:
    permission = f"benefits.{action}_payoutroster" if action else _VIEW
    return rosters_api.step_view(PayoutRosterStepApi, step, name=name, permission=permission)


PayoutRosterSubmitApi = _step(RosterStep.SUBMIT, "PayoutRosterSubmitApi", "submit")
PayoutRosterCheckApi = _step(RosterStep.CHECK, "PayoutRosterCheckApi", "check")
PayoutRosterApproveApi = _step(RosterStep.APPROVE, "PayoutRosterApproveApi", "approve")
PayoutRosterPreparePaymentApi = _step(
    RosterStep.PREPARE_PAYMENT, "PayoutRosterPreparePaymentApi", "prepare_payment"
)
PayoutRosterPayApi = _step(RosterStep.PAY, "PayoutRosterPayApi", "pay")
# Returning takes the checker's or the approver's permission, by the roster's state: the service decides.
PayoutRosterReturnApi = _step(RosterStep.RETURN, "PayoutRosterReturnApi", None)
PayoutRosterCancelApi = _step(RosterStep.CANCEL, "PayoutRosterCancelApi", "submit")

STEP_VIEWS = {
    RosterStep.SUBMIT: PayoutRosterSubmitApi,
    RosterStep.CHECK: PayoutRosterCheckApi,
    RosterStep.APPROVE: PayoutRosterApproveApi,
    RosterStep.PREPARE_PAYMENT: PayoutRosterPreparePaymentApi,
    RosterStep.PAY: PayoutRosterPayApi,
    RosterStep.RETURN: PayoutRosterReturnApi,
    RosterStep.CANCEL: PayoutRosterCancelApi,
}


# --- POST /api/rosters/: generate a month's roster ---------------------------------------------------


class RosterGenerateInput(serializers.Serializer):
    programme = serializers.ChoiceField(choices=BenefitProgramme.choices)
    period = rosters_api.MonthField()
    township = serializers.RegexField(
        r"^[0-9]{12}$",
        allow_null=True,
        required=False,
        default=None,
        help_text="12-digit code of the township; empty for a roster of the whole county.",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PayoutRosterListCreateApi(PayoutRosterListApi):
    """GET: payout rosters in the caller's townships. POST: a clerk generates the month's DRAFT roster
    of a programme for a township (or the county) from the paying entitlements: 201 with the roster;
    400 bad input, 403 role, 404 another township, 409 the month has a roster already (named)."""

    @extend_schema(request=RosterGenerateInput, responses={201: rosters_api.RosterDetailOutputSerializer})
    def post(self, request: Request) -> Response:
        data = RosterGenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        township_id = None
        if data.validated_data["township"]:
            # An unknown code is the same 404 as another township's (the service decides on -1).
            found = AdministrativeDivision.objects.filter(code=data.validated_data["township"]).values_list(
                "pk", flat=True
            )
            township_id = next(iter(found), -1)
        roster = services.roster_generate(
            programme=data.validated_data["programme"],
            month=data.validated_data["period"],
            township_id=township_id,
            by=request.user,
            note=data.validated_data["note"],
        )
        roster = _ROSTERS.get(pk=roster.pk)
        body = rosters_api.RosterDetailOutputSerializer(roster, context={"request": request}).data
        return Response(body, status=201)


# --- /api/entitlements/ ---------------------------------------------------------------------------------

_VIEW_ENTITLEMENTS = "benefits.view_benefitentitlement"
_ENTITLEMENTS = BenefitEntitlement.objects.select_related("person")


class EntitlementOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = rosters_api.LinePersonSerializer()
    programme = serializers.CharField()
    programme_label = serializers.CharField(source="get_programme_display")
    status = serializers.ChoiceField(choices=EntitlementStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    region = serializers.CharField(help_text="Pooling area whose parameters apply.")
    basic = serializers.DecimalField(max_digits=12, decimal_places=2)
    account = serializers.DecimalField(max_digits=12, decimal_places=2)
    top_up = serializers.DecimalField(max_digits=12, decimal_places=2)
    monthly_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    start_month = rosters_api.MonthField()
    stop_month = rosters_api.MonthField(allow_null=True)
    stop_reason = serializers.CharField()
    suspended_from = rosters_api.MonthField(allow_null=True)
    suspension_reason = serializers.CharField()
    restored_month = rosters_api.MonthField(allow_null=True)
    backpay_months = serializers.ListField(child=serializers.CharField())
    backpay_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    rejection_reason = serializers.CharField()
    applied_by = serializers.IntegerField(source="applied_by_id", allow_null=True)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    approved_by = serializers.IntegerField(source="approved_by_id", allow_null=True)


class EntitlementDetailOutputSerializer(EntitlementOutputSerializer):
    snapshot = serializers.JSONField(help_text="Inputs, results and the parameter rows used.")


class EntitlementFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=EntitlementStatus.choices)
    programme = django_filters.ChoiceFilter(choices=BenefitProgramme.choices)
    person = django_filters.NumberFilter(field_name="person_id")


class EntitlementApplyInput(serializers.Serializer):
    person = serializers.IntegerField()
    programme = serializers.ChoiceField(choices=BenefitProgramme.choices)
    start_month = rosters_api.MonthField(required=False, default=None)
    receiving_at_scheme_start = serializers.BooleanField(required=False, default=False)
    # Unemployment benefit (DOMAIN §3.1, §3.2): two of the three conditions, and an earlier claim's rest.
    left_involuntarily = serializers.BooleanField(required=False, default=False)
    registered_unemployed = serializers.BooleanField(required=False, default=False)
    carried_over_months = serializers.IntegerField(required=False, default=0, min_value=0, max_value=24)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EntitlementListApi(TownshipScopedApi, generics.ListAPIView):
    """GET: entitlements in the caller's townships, newest first (filters: status, programme, person).
    POST: a clerk applies for a person (resident pension): 201; 409 names the refusing rules."""

    queryset = _ENTITLEMENTS
    required_permission = _VIEW_ENTITLEMENTS
    serializer_class = EntitlementOutputSerializer
    filterset_class = EntitlementFilter

    @extend_schema(request=EntitlementApplyInput, responses={201: EntitlementDetailOutputSerializer})
    def post(self, request: Request) -> Response:
        data = EntitlementApplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        inputs = dict(data.validated_data)
        entitlement = services.entitlement_apply(person_id=inputs.pop("person"), by=request.user, **inputs)
        return Response(EntitlementDetailOutputSerializer(entitlement).data, status=201)


class EntitlementDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One entitlement with its snapshot."""

    queryset = _ENTITLEMENTS
    required_permission = _VIEW_ENTITLEMENTS
    serializer_class = EntitlementDetailOutputSerializer


class EntitlementStepInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, required=False, default="")
    month = rosters_api.MonthField(required=False, default=None)


# Which inputs each step takes (the rest are ignored).
_STEP_INPUTS = {
    "review": ("note",),
    "approve": ("note",),
    "reject": ("reason",),
    "suspend": ("reason", "month", "note"),
    "restore": ("month", "note"),
    "stop": ("reason", "month", "note"),
}


class EntitlementStepApi(TownshipScopedApi):
    """POST one step; 403 role or segregation of duties (`rule`), 404 elsewhere, 409 wrong state."""

    queryset = _ENTITLEMENTS
    step: str = ""

    def post(self, request: Request, pk: int) -> Response:
        data = EntitlementStepInput(data=request.data)
        data.is_valid(raise_exception=True)
        inputs = {name: data.validated_data[name] for name in _STEP_INPUTS[self.step]}
        services.entitlement_take_step(entitlement_id=pk, step=self.step, by=request.user, **inputs)
        entitlement = self.get_queryset().get(pk=pk)  # the service has scoped it already
        return Response(EntitlementDetailOutputSerializer(entitlement).data)


def _entitlement_step(step: str) -> type[EntitlementStepApi]:
    name = f"Entitlement{step.capitalize()}Api"

    @extend_schema(request=EntitlementStepInput, responses=EntitlementDetailOutputSerializer)
    def post(self: EntitlementStepApi, request: Request, pk: int) -> Response:
        return EntitlementStepApi.post(self, request, pk)

    return type(
        name,
        (EntitlementStepApi,),
        {
            "step": step,
            "required_permission": services.ENTITLEMENT_STEP_PERMISSIONS[step],
            "post": post,
            "__doc__": f"POST /api/entitlements/{{id}}/{step}/. {EntitlementStepApi.__doc__}",
            "__module__": __name__,
            "__qualname__": name,
        },
    )


ENTITLEMENT_STEP_VIEWS = {step: _entitlement_step(step) for step in _STEP_INPUTS}
