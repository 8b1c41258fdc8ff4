"""The proxy-payment (代缴) roster API: /api/proxy-payment-rosters/ (issue 4; DOMAIN §1.3).

The views are socialsec.rosters.api's, plugged in for ProxyPaymentRoster as benefits.api does
for the payout rosters; POST on the list generates the year's roster.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment.api.common import PermissionByMethod
from enrollment.proxy_payment import ProxyPaymentLine, ProxyPaymentRoster, ProxyPaymentShare
from enrollment.proxy_payment_services import proxy_payment_roster_generate, proxy_payment_roster_take_step
from socialsec.rosters import api as rosters_api
from socialsec.rosters.choices import RosterStep
from socialsec.rosters.selectors import ROSTER_RELATED

_VIEW = "enrollment.view_proxypaymentroster"
_ROSTERS = ProxyPaymentRoster.objects.select_related(*ROSTER_RELATED)


class ProxyPaymentRosterOutputSerializer(rosters_api.RosterOutputSerializer):
    year = serializers.IntegerField(help_text="The year proxy-paid (the roster's period is its January).")


class ProxyPaymentRosterDetailOutputSerializer(rosters_api.RosterDetailOutputSerializer):
    year = serializers.IntegerField()


class ProxyPaymentLineOutputSerializer(rosters_api.RosterLineOutputSerializer):
    """A line: the amount the government pays is `net` (= `proxy_payment_amount`)."""

    enrollment = serializers.IntegerField(source="enrollment_id")
    category = serializers.CharField()
    category_label = serializers.CharField(source="get_category_display")
    share = serializers.ChoiceField(choices=ProxyPaymentShare.choices)
    grade = serializers.DecimalField(max_digits=12, decimal_places=2)
    proxy_payment_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    government_subsidy = serializers.DecimalField(max_digits=12, decimal_places=2)


class ProxyPaymentRosterListApi(PermissionByMethod, rosters_api.RosterListApi):
    """GET: proxy-payment rosters in the caller's townships, newest first. POST: generate a year's.

    POST answers 201 with the draft and the persons left off for want of a card or account;
    403 role (a county roster: county-wide staff only), 404 another township, 400 a year out of
    range, 409 naming the roster that already covers the year, or when nobody is to be paid.
    """

    queryset = _ROSTERS
    serializer_class = ProxyPaymentRosterOutputSerializer
    permission_by_method = {"GET": _VIEW, "POST": "enrollment.add_proxypaymentroster"}

    @extend_schema_serializer(component_name="ProxyPaymentRosterGenerateInput")
    class InputSerializer(serializers.Serializer):
        year = serializers.IntegerField()
        township = serializers.IntegerField(
            required=False, allow_null=True, help_text="Township id; empty for the whole county."
        )
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="ProxyPaymentRosterGenerateOutput")
    class GenerateOutputSerializer(serializers.Serializer):
        roster = ProxyPaymentRosterDetailOutputSerializer()
        without_account = serializers.IntegerField(
            help_text="Persons to proxy-pay left off: no card or bank account to pay into."
        )
        without_account_person_ids = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(request=InputSerializer, responses={201: GenerateOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        generated = proxy_payment_roster_generate(
            year=data.validated_data["year"],
            township_id=data.validated_data.get("township"),
            by=request.user,
            note=data.validated_data["note"],
        )
        roster = self.get_queryset().get(pk=generated.roster.pk)
        body = {
            "roster": ProxyPaymentRosterDetailOutputSerializer(roster, context={"request": request}).data,
            "without_account": generated.without_account,
            "without_account_person_ids": generated.without_account_person_ids,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ProxyPaymentRosterDetailApi(rosters_api.RosterDetailApi):
    """One proxy-payment roster: status, totals, digest, posts, timeline and the caller's next steps."""

    queryset = _ROSTERS
    serializer_class = ProxyPaymentRosterDetailOutputSerializer
    required_permission = _VIEW


class ProxyPaymentRosterLinesApi(rosters_api.RosterLinesApi):
    """The lines of one proxy-payment roster, in line order, IDs and accounts masked."""

    queryset = ProxyPaymentLine.objects.select_related("person")
    serializer_class = ProxyPaymentLineOutputSerializer
    roster_queryset = ProxyPaymentRoster.objects.all()
    required_permission = _VIEW


class ProxyPaymentRosterStepApi(rosters_api.RosterStepApi):
    """A step on a proxy-payment roster."""

    queryset = _ROSTERS
    take_step = staticmethod(proxy_payment_roster_take_step)


def _step(step: str, name: str, action: str | None) -> type[rosters_api.RosterStepApi]:
    permission = f"enrollment.{action}_proxypaymentroster" if action else _VIEW
    return rosters_api.step_view(ProxyPaymentRosterStepApi, step, name=name, permission=permission)


STEP_VIEWS = {
    RosterStep.SUBMIT: _step(RosterStep.SUBMIT, "ProxyPaymentRosterSubmitApi", "submit"),
    RosterStep.CHECK: _step(RosterStep.CHECK, "ProxyPaymentRosterCheckApi", "check"),
    RosterStep.APPROVE: _step(RosterStep.APPROVE, "ProxyPaymentRosterApproveApi", "approve"),
    RosterStep.PREPARE_PAYMENT: _step(
        RosterStep.PREPARE_PAYMENT, "ProxyPaymentRosterPreparePaymentApi", "prepare_payment"
    ),
    RosterStep.PAY: _step(RosterStep.PAY, "ProxyPaymentRosterPayApi", "pay"),
    # Returning takes the checker's or the approver's permission, by the roster's state: the service decides.
    RosterStep.RETURN: _step(RosterStep.RETURN, "ProxyPaymentRosterReturnApi", None),
    RosterStep.CANCEL: _step(RosterStep.CANCEL, "ProxyPaymentRosterCancelApi", "submit"),
}
