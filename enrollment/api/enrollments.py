"""Enrollments, contributions and personal accounts (DOMAIN §1.1, §1.2, §1.6, §8.1, §8.2)."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment.api.common import PermissionByMethod
from enrollment.choices import CLOSED_ENROLLMENT_STATUSES, EnrollmentStatus, Payer, Scheme, TerminationReason
from enrollment.models import ContributionRecord, Enrollment, Person
from socialsec.core.api import TownshipScopedApi
from socialsec.lib.resident_id import mask_resident_id

_SCHEME_HELP = " | ".join(Scheme.values)
_ENROLLMENT_STATUS_HELP = " | ".join(EnrollmentStatus.values)


@extend_schema_serializer(component_name="EnrollmentPersonRef")
class EnrollmentPersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number_masked = serializers.SerializerMethodField()

    def get_id_number_masked(self, person: Person) -> str:
        return mask_resident_id(person.id_number)


class EnrollmentOutputSerializer(serializers.ModelSerializer):
    person = EnrollmentPersonRefSerializer()
    # Plain strings with the values listed: the choices are documented without another enum.
    scheme = serializers.CharField(help_text=_SCHEME_HELP)
    status = serializers.CharField(help_text=_ENROLLMENT_STATUS_HELP)
    termination_reason = serializers.CharField(help_text=" | ".join(TerminationReason.values))
    enrolled_by = serializers.CharField(source="enrolled_by.username")

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "person",
            "scheme",
            "status",
            "pooling_area",
            "start_date",
            "end_date",
            "organization_id",
            "termination_reason",
            "enrolled_by",
            "created_at",
        ]
        read_only_fields = fields


class EnrollmentFilter(django_filters.FilterSet):
    person = django_filters.NumberFilter(field_name="person_id")
    scheme = django_filters.ChoiceFilter(choices=Scheme.choices)
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices)
    open = django_filters.BooleanFilter(
        method="filter_open", label="Open (neither terminated nor transferred out), or closed"
    )
    organization = django_filters.NumberFilter(field_name="organization_id", label="Employer id")
    township = django_filters.CharFilter(field_name="person__township__code", label="12-digit township code")
    started_from = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    started_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Enrollment
        fields = [
            "person",
            "scheme",
            "status",
            "open",
            "organization",
            "township",
            "started_from",
            "started_to",
        ]

    def filter_open(self, queryset, name: str, value: bool):
        return queryset.open() if value else queryset.filter(status__in=CLOSED_ENROLLMENT_STATUSES)


_ENROLLMENTS = Enrollment.objects.select_related("person", "enrolled_by")


class EnrollmentListApi(PermissionByMethod, TownshipScopedApi, generics.ListAPIView):
    """GET: enrollments in the caller's townships. POST: enrol a person (clerk).

    POST answers 400 naming the field and rule (age 16 for the resident pension, §1.1),
    409 naming the rule and the conflicting enrollments (one open enrollment per scheme;
    the resident pension excluded by the employee or institution pension, §1.6), 409 for
    a person who has died.
    """

    queryset = _ENROLLMENTS
    serializer_class = EnrollmentOutputSerializer
    filterset_class = EnrollmentFilter
    permission_by_method = {"GET": "enrollment.view_enrollment", "POST": "enrollment.add_enrollment"}

    @extend_schema_serializer(component_name="EnrollmentEnrollInput")
    class InputSerializer(serializers.Serializer):
        person_id = serializers.IntegerField()
        scheme = serializers.CharField(help_text=_SCHEME_HELP)
        start_date = serializers.DateField()
        organization_id = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: EnrollmentOutputSerializer})
    def post(self, request: Request) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = services.enrollment_enroll(by=request.user, **data.validated_data)
        return Response(EnrollmentOutputSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class EnrollmentDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One enrollment; another township's is 404, like a missing one."""

    queryset = _ENROLLMENTS
    serializer_class = EnrollmentOutputSerializer
    required_permission = "enrollment.view_enrollment"


class EnrollmentSuspendApi(TownshipScopedApi):
    """ACTIVE → SUSPENDED_CONTRIB (clerk); 409 naming the enrollment from any other state."""

    queryset = _ENROLLMENTS
    required_permission = "enrollment.change_enrollment"

    @extend_schema(request=None, responses=EnrollmentOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        services.enrollment_suspend(enrollment_id=pk, by=request.user)
        return Response(EnrollmentOutputSerializer(self.get_queryset().get(pk=pk)).data)


class EnrollmentResumeApi(TownshipScopedApi):
    """SUSPENDED_CONTRIB → ACTIVE (clerk); 409 naming the enrollment from any other state."""

    queryset = _ENROLLMENTS
    required_permission = "enrollment.change_enrollment"

    @extend_schema(request=None, responses=EnrollmentOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        services.enrollment_resume(enrollment_id=pk, by=request.user)
        return Response(EnrollmentOutputSerializer(self.get_queryset().get(pk=pk)).data)


class EnrollmentTerminateApi(TownshipScopedApi):
    """End an open enrollment with a reason (section chief); 409 when it is already closed."""

    queryset = _ENROLLMENTS
    required_permission = "enrollment.terminate_enrollment"

    @extend_schema_serializer(component_name="EnrollmentTerminateInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(help_text=" | ".join(TerminationReason.values))
        on = serializers.DateField(required=False, allow_null=True)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses=EnrollmentOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.enrollment_terminate(enrollment_id=pk, by=request.user, **data.validated_data)
        return Response(EnrollmentOutputSerializer(self.get_queryset().get(pk=pk)).data)


class ContributionOutputSerializer(serializers.ModelSerializer):
    scheme = serializers.CharField(source="enrollment.scheme", help_text=_SCHEME_HELP)
    person_id = serializers.IntegerField(source="enrollment.person_id")
    period_kind = serializers.CharField(help_text="year | month")
    payer = serializers.CharField(help_text=" | ".join(Payer.values))
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = ContributionRecord
        fields = [
            "id",
            "enrollment_id",
            "person_id",
            "scheme",
            "period_kind",
            "period_start",
            "grade",
            "base",
            "personal_amount",
            "collective_amount",
            "government_subsidy",
            "proxy_payment_amount",
            "proxy_payment_source",
            "is_backpay",
            "payer",
            "paid_on",
            "parameters_used",
            "recorded_by",
        ]
        read_only_fields = fields


class ContributionFilter(django_filters.FilterSet):
    enrollment = django_filters.NumberFilter(field_name="enrollment_id")
    person = django_filters.NumberFilter(field_name="enrollment__person_id")
    year = django_filters.NumberFilter(field_name="period_start__year")
    scheme = django_filters.ChoiceFilter(field_name="enrollment__scheme", choices=Scheme.choices)
    township = django_filters.CharFilter(
        field_name="enrollment__person__township__code", label="12-digit township code"
    )
    is_backpay = django_filters.BooleanFilter(label="Back-paid periods (DOMAIN §1.2), or paid in time")
    payer = django_filters.ChoiceFilter(choices=Payer.choices)

    class Meta:
        model = ContributionRecord
        fields = ["enrollment", "person", "year", "scheme", "township", "is_backpay", "payer"]


_CONTRIBUTIONS = ContributionRecord.objects.select_related("enrollment", "recorded_by")


class ContributionListApi(PermissionByMethod, TownshipScopedApi, generics.ListAPIView):
    """GET: contribution records in the caller's townships. POST: record one paid period (clerk).

    Resident pension: `period_start` any day of the year, `grade` one of the grades in force;
    the subsidy is computed (none when back-paid) with the parameter rows kept. Employee
    schemes: the month, `base` and `personal_amount`. A period already paid is 409 naming it.
    """

    queryset = _CONTRIBUTIONS
    serializer_class = ContributionOutputSerializer
    filterset_class = ContributionFilter
    permission_by_method = {
        "GET": "enrollment.view_contributionrecord",
        "POST": "enrollment.add_contributionrecord",
    }

    @extend_schema_serializer(component_name="ContributionRecordInput")
    class InputSerializer(serializers.Serializer):
        enrollment_id = serializers.IntegerField()
        period_start = serializers.DateField()
        grade = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
        base = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
        personal_amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, required=False, allow_null=True
        )
        collective_amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, required=False, min_value=Decimal("0")
        )
        proxy_payment_amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, required=False, min_value=Decimal("0")
        )
        proxy_payment_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
        is_backpay = serializers.BooleanField(required=False)
        payer = serializers.CharField(required=False, help_text=" | ".join(Payer.values))
        paid_on = serializers.DateField(required=False, allow_null=True)

        def validate_payer(self, value: str) -> str:
            if value not in Payer.values:
                raise serializers.ValidationError(_("Choose who paid."))
            return value

    @extend_schema(request=InputSerializer, responses={201: ContributionOutputSerializer})
    def post(self, request: Request) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.contribution_record(by=request.user, **data.validated_data)
        return Response(ContributionOutputSerializer(record).data, status=status.HTTP_201_CREATED)


class PersonalAccountOutputSerializer(serializers.Serializer):
    scheme = serializers.CharField(source="account.scheme", help_text=_SCHEME_HELP)
    personal = serializers.DecimalField(source="account.personal", max_digits=12, decimal_places=2)
    collective = serializers.DecimalField(source="account.collective", max_digits=12, decimal_places=2)
    government_subsidy = serializers.DecimalField(
        source="account.government_subsidy", max_digits=12, decimal_places=2
    )
    proxy_payment = serializers.DecimalField(source="account.proxy_payment", max_digits=12, decimal_places=2)
    interest = serializers.DecimalField(source="account.interest", max_digits=12, decimal_places=2)
    balance = serializers.DecimalField(source="account.balance", max_digits=14, decimal_places=2)
    contribution_years = serializers.DecimalField(max_digits=6, decimal_places=2)


class PersonAccountApi(TownshipScopedApi):
    """A person's personal accounts, one per pension scheme, each component apart (DOMAIN §8.1)."""

    queryset = Person.objects.all()
    required_permission = "enrollment.view_personalaccount"

    @extend_schema(responses=PersonalAccountOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        from enrollment.selectors import personal_account_for

        accounts = personal_account_for(person_id=pk, user=request.user)
        return Response(PersonalAccountOutputSerializer(accounts, many=True).data)
