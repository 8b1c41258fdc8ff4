"""Organizations (employers) and their fee-relief (减免缓) applications (DOMAIN §6.2, §8.1, E20, E23)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment.api.common import DivisionRefSerializer, MonthField, PermissionByMethod
from enrollment.choices import FeeReliefKind, FeeReliefStatus, SizeClass
from enrollment.models import FeeReliefApplication, FeeReliefPolicy, Organization
from socialsec.core.api import HasModelPermission, TownshipScopedApi


class OrganizationOutputSerializer(serializers.ModelSerializer):
    township = DivisionRefSerializer()

    class Meta:
        model = Organization
        fields = [
            "id",
            "credit_code",
            "registration_authority",
            "entity_type",
            "name",
            "size_class",
            "size_class_basis",
            "size_class_year",
            "industry",
            "township",
        ]
        read_only_fields = fields


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label="Name prefix, or a credit code or its first characters"
    )
    township = django_filters.CharFilter(field_name="township__code", label="12-digit township code")
    size_class = django_filters.ChoiceFilter(choices=SizeClass.choices)

    class Meta:
        model = Organization
        fields = ["q", "township", "size_class"]

    def filter_q(self, queryset, name: str, value: str):
        return queryset.search(value)


class OrganizationListApi(PermissionByMethod, TownshipScopedApi, generics.ListAPIView):
    """GET: organizations in the caller's townships, keyset-paginated. POST: register one (clerk)."""

    queryset = Organization.objects.select_related("township")
    serializer_class = OrganizationOutputSerializer
    filterset_class = OrganizationFilter
    permission_by_method = {"GET": "enrollment.view_organization", "POST": "enrollment.add_organization"}

    @extend_schema_serializer(component_name="OrganizationRegisterInput")
    class InputSerializer(serializers.Serializer):
        credit_code = serializers.CharField(max_length=40)
        name = serializers.CharField(max_length=200)
        size_class = serializers.ChoiceField(choices=SizeClass.choices)
        size_class_year = serializers.IntegerField()
        size_class_basis = serializers.CharField(max_length=200, required=False, allow_blank=True)
        industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
        township_id = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={201: OrganizationOutputSerializer})
    def post(self, request: Request) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = services.organization_register(by=request.user, **data.validated_data)
        return Response(OrganizationOutputSerializer(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One organization; another township's is 404, like a missing one."""

    queryset = Organization.objects.select_related("township")
    serializer_class = OrganizationOutputSerializer
    required_permission = "enrollment.view_organization"


# "kind" is also the division kind, and a size-class list would be a second name for SizeClass:
# plain strings here keep drf-spectacular's enum names unambiguous (check --deploy fails on the warning).
_KIND_HELP = "reduction | exemption | deferral"


class FeeReliefPolicyOutputSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=_KIND_HELP)
    size_classes = serializers.ListField(
        child=serializers.CharField(), help_text="large | medium | small | micro"
    )
    period_from = MonthField()
    period_to = MonthField()

    class Meta:
        model = FeeReliefPolicy
        fields = [
            "id",
            "name",
            "kind",
            "size_classes",
            "industries",
            "schemes",
            "period_from",
            "period_to",
            "rate",
            "max_deferral_months",
            "waives_late_fee",
            "region_code",
            "source",
            "source_doc_no",
            "source_url",
            "confidence",
            "note",
        ]
        read_only_fields = fields


class FeeReliefPolicyFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FeeReliefKind.choices)
    size_class = django_filters.ChoiceFilter(
        choices=SizeClass.choices, method="filter_size_class", label="Policies covering this size class"
    )

    class Meta:
        model = FeeReliefPolicy
        fields = ["kind", "size_class"]

    def filter_size_class(self, queryset, name: str, value: str):
        return queryset.filter(size_classes__contains=[value])


class FeeReliefPolicyListApi(generics.ListAPIView):
    """The fee-relief policies (national and regional reference data, not township-scoped)."""

    queryset = FeeReliefPolicy.objects.all()
    serializer_class = FeeReliefPolicyOutputSerializer
    filterset_class = FeeReliefPolicyFilter
    permission_classes = [permissions.IsAuthenticated, HasModelPermission]
    required_permission = "enrollment.view_feereliefpolicy"


@extend_schema_serializer(component_name="FeeReliefOrganizationRef")
class FeeReliefOrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    credit_code = serializers.CharField()
    name = serializers.CharField()
    size_class = serializers.CharField()


@extend_schema_serializer(component_name="FeeReliefPolicyRef")
class FeeReliefPolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=_KIND_HELP)


class FeeReliefApplicationOutputSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=_KIND_HELP)
    organization = FeeReliefOrganizationRefSerializer()
    policy = FeeReliefPolicyRefSerializer()
    period_from = MonthField()
    period_to = MonthField()
    filed_by = serializers.CharField(source="filed_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    class Meta:
        model = FeeReliefApplication
        fields = [
            "id",
            "organization",
            "policy",
            "kind",
            "period_from",
            "period_to",
            "months",
            "rate",
            "waives_late_fee",
            "status",
            "filed_by",
            "filed_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class FeeReliefApplicationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FeeReliefStatus.choices)
    kind = django_filters.ChoiceFilter(choices=FeeReliefKind.choices)
    organization = django_filters.NumberFilter(field_name="organization_id")
    township = django_filters.CharFilter(
        field_name="organization__township__code", label="12-digit township code"
    )

    class Meta:
        model = FeeReliefApplication
        fields = ["status", "kind", "organization", "township"]


_APPLICATIONS = FeeReliefApplication.objects.select_related(
    "organization", "policy", "filed_by", "decided_by"
)


class FeeReliefListApi(PermissionByMethod, TownshipScopedApi, generics.ListAPIView):
    """GET: fee-relief applications in the caller's townships. POST: file one (clerk)."""

    queryset = _APPLICATIONS
    serializer_class = FeeReliefApplicationOutputSerializer
    filterset_class = FeeReliefApplicationFilter
    permission_by_method = {
        "GET": "enrollment.view_feereliefapplication",
        "POST": "enrollment.add_feereliefapplication",
    }

    @extend_schema_serializer(component_name="FeeReliefFileInput")
    class InputSerializer(serializers.Serializer):
        organization_id = serializers.IntegerField()
        policy_id = serializers.IntegerField()
        period_from = MonthField()
        period_to = MonthField()

    @extend_schema(request=InputSerializer, responses={201: FeeReliefApplicationOutputSerializer})
    def post(self, request: Request) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.fee_relief_file(by=request.user, **data.validated_data)
        return Response(
            FeeReliefApplicationOutputSerializer(application).data, status=status.HTTP_201_CREATED
        )


class FeeReliefDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One application; another township's is 404, like a missing one."""

    queryset = _APPLICATIONS
    serializer_class = FeeReliefApplicationOutputSerializer
    required_permission = "enrollment.view_feereliefapplication"


class FeeReliefApproveApi(TownshipScopedApi):
    """A section chief approves a filed application: 403 for the filer, 409 unless FILED."""

    queryset = _APPLICATIONS
    required_permission = "enrollment.decide_feereliefapplication"

    @extend_schema_serializer(component_name="FeeReliefApproveInput")
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses=FeeReliefApplicationOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.fee_relief_approve(application_id=pk, by=request.user, **data.validated_data)
        return Response(FeeReliefApplicationOutputSerializer(self.get_queryset().get(pk=pk)).data)


class FeeReliefRefuseApi(TownshipScopedApi):
    """A section chief refuses a filed application with a reason: 403 for the filer, 409 unless FILED."""

    queryset = _APPLICATIONS
    required_permission = "enrollment.decide_feereliefapplication"

    @extend_schema_serializer(component_name="FeeReliefRefuseInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses=FeeReliefApplicationOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.fee_relief_refuse(application_id=pk, by=request.user, **data.validated_data)
        return Response(FeeReliefApplicationOutputSerializer(self.get_queryset().get(pk=pk)).data)
