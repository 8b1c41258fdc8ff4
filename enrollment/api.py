"""Registry endpoints. Every view is a TownshipScopedApi: rows pass visible_to first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment.choices import (
    CategorySource,
    EnrollmentStatus,
    FeeReliefKind,
    FeeReliefStatus,
    Payer,
    Scheme,
    SizeClass,
    SpecialGroup,
    TerminationReason,
)
from enrollment.models import (
    ContributionRecord,
    Enrollment,
    FeeReliefApplication,
    FeeReliefPolicy,
    Organization,
    Person,
    PersonCategory,
)
from socialsec.core.api import HasModelPermission, TownshipScopedApi
from socialsec.core.scoping import get_visible_or_404
from socialsec.lib.masking import mask_bank_account, mask_card_number
from socialsec.lib.resident_id import mask_resident_id


class DivisionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="PersonCategoryInForce")
class PersonCategoryInForceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonCategory
        fields = ["id", "category", "disability_grade", "source", "effective_from", "effective_to"]
        read_only_fields = fields


class PersonOutputSerializer(serializers.ModelSerializer):
    """A person with every account-like number masked; the special groups in force today.

    `categories_in_force` reads the prefetched `categories` (see _PERSONS): no query per row.
    """

    id_number_masked = serializers.SerializerMethodField()
    card_number_masked = serializers.SerializerMethodField()
    bank_account_masked = serializers.SerializerMethodField()
    categories_in_force = serializers.SerializerMethodField()
    township = DivisionRefSerializer()
    village = DivisionRefSerializer()

    class Meta:
        model = Person
        fields = [
            "id",
            "id_number_masked",
            "name",
            "sex",
            "birth_date",
            "registration_type",
            "township",
            "village",
            "household_id",
            "death_date",
            "death_source",
            "phone",
            "card_number_masked",
            "card_issue_date",
            "card_status",
            "bank_account_masked",
            "bank_name",
            "address_code_unverified",
            "address_code_confirmed_at",
            "categories_in_force",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, person: Person) -> str:
        return mask_resident_id(person.id_number)

    def get_card_number_masked(self, person: Person) -> str:
        return mask_card_number(person.card_number)

    def get_bank_account_masked(self, person: Person) -> str:
        return mask_bank_account(person.bank_account_number)

    @extend_schema_field(PersonCategoryInForceSerializer(many=True))
    def get_categories_in_force(self, person: Person) -> list[dict[str, Any]]:
        today = timezone.localdate()
        in_force = sorted(
            (m for m in person.categories.all() if m.is_in_force(today)), key=lambda m: (m.category, m.pk)
        )
        return PersonCategoryInForceSerializer(in_force, many=True).data


# Categories are prefetched: one query per page, whatever its length.
_PERSONS = Person.objects.select_related("township", "village").prefetch_related("categories")


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name prefix, full resident ID or its last digits")
    township = django_filters.CharFilter(field_name="township__code", label="12-digit township code")
    alive = django_filters.BooleanFilter(field_name="death_date", lookup_expr="isnull")

    class Meta:
        model = Person
        fields = ["q", "township", "alive"]

    def filter_q(self, queryset, name: str, value: str):
        return queryset.search(value)


class PersonListApi(TownshipScopedApi, generics.ListAPIView):
    """Persons in the caller's townships, newest first, keyset-paginated (no COUNT)."""

    queryset = _PERSONS
    serializer_class = PersonOutputSerializer
    filterset_class = PersonFilter
    required_permission = "enrollment.view_person"


class PersonDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One person; another township's person is 404, like a missing one."""

    queryset = _PERSONS
    serializer_class = PersonOutputSerializer
    required_permission = "enrollment.view_person"


class PersonUnmaskApi(TownshipScopedApi):
    """The full resident ID, for roles that may unmask; every call is audited."""

    queryset = Person.objects.all()
    required_permission = "core.unmask_personal_data"

    @extend_schema_serializer(component_name="PersonUnmasked")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        id_number = serializers.CharField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        number = services.person_unmask_id_number(person_id=pk, by=request.user)
        return Response(self.OutputSerializer({"id": pk, "id_number": number}).data)


class PersonRecordDeathApi(TownshipScopedApi):
    """Record a person's death (clerk). 409 when a death is already on record."""

    queryset = Person.objects.all()
    required_permission = "enrollment.change_person"

    class InputSerializer(serializers.Serializer):
        death_date = serializers.DateField()
        source = serializers.CharField(max_length=100)

    @extend_schema(request=InputSerializer, responses=PersonOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = services.person_record_death(person_id=pk, by=request.user, **data.validated_data)
        person = _PERSONS.get(pk=person.pk)  # already scoped by the service
        return Response(PersonOutputSerializer(person).data)


class PersonUnmaskBankAccountApi(TownshipScopedApi):
    """The full bank account number, for roles that may unmask; every call is audited.

    409 when no account is on file (nothing to show, nothing recorded).
    """

    queryset = Person.objects.all()
    required_permission = "core.unmask_personal_data"

    @extend_schema_serializer(component_name="PersonBankAccountUnmasked")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        bank_account_number = serializers.CharField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        number = services.person_unmask_bank_account(person_id=pk, by=request.user)
        return Response(self.OutputSerializer({"id": pk, "bank_account_number": number}).data)


class PersonConfirmAddressCodeApi(TownshipScopedApi):
    """A section chief confirms an unknown address code (DOMAIN §6.1 gap 4); 409 unless flagged."""

    queryset = Person.objects.all()
    required_permission = "enrollment.confirm_address_code"

    @extend_schema(request=None, responses=PersonOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        person = services.person_confirm_address_code(person_id=pk, by=request.user)
        return Response(PersonOutputSerializer(_PERSONS.get(pk=person.pk)).data)


# --- Organizations and fee relief (减免缓) --------------------------------------------------------


class PermissionByMethod:
    """One URL, two operations (list and create): each HTTP method names its own permission.

    HasModelPermission reads `required_permission`; here it depends on the method.
    """

    permission_by_method: dict[str, str] = {}

    @property
    def required_permission(self) -> str:
        return self.permission_by_method.get(self.request.method, self.permission_by_method["GET"])


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "example": "2020-02"})
class MonthField(serializers.Field):
    """A month as YYYY-MM (DOMAIN §0.4), stored as the first day of the month."""

    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, for example 2020-02.")}

    def to_internal_value(self, data: Any) -> dt.date:
        try:
            return dt.datetime.strptime(str(data), "%Y-%m").date()
        except ValueError:
            self.fail("invalid")
            raise  # unreachable: fail() raises

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"


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


# --- Special groups (DOMAIN glossary, §8.1 PersonCategory) -----------------------------------------


@extend_schema_serializer(component_name="PersonCategoryPersonRef")
class PersonCategoryPersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number_masked = serializers.SerializerMethodField()

    def get_id_number_masked(self, person: Person) -> str:
        return mask_resident_id(person.id_number)


class PersonCategoryOutputSerializer(serializers.ModelSerializer):
    person = PersonCategoryPersonRefSerializer()
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = PersonCategory
        fields = [
            "id",
            "person",
            "category",
            "disability_grade",
            "source",
            "effective_from",
            "effective_to",
            "evidence",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


_MEMBERSHIPS = PersonCategory.objects.select_related("person", "recorded_by")


class PersonCategoriesApi(PermissionByMethod, TownshipScopedApi):
    """GET: one person's special-group memberships, newest first. POST: record one (clerk).

    Another township's person is 404 for both. POST answers 400 naming the field for bad
    input and 409 naming an overlapping membership of the same group.
    """

    queryset = _MEMBERSHIPS
    permission_by_method = {"GET": "enrollment.view_personcategory", "POST": "enrollment.add_personcategory"}

    @extend_schema_serializer(component_name="PersonCategoryAddInput")
    class InputSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=SpecialGroup.choices)
        source = serializers.ChoiceField(choices=CategorySource.choices)
        effective_from = serializers.DateField()
        effective_to = serializers.DateField(required=False, allow_null=True)
        disability_grade = serializers.IntegerField(required=False, allow_null=True)
        evidence = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(responses=PersonCategoryOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        person = get_visible_or_404(Person.objects.all(), request.user, pk=pk)
        memberships = self.get_queryset().filter(person_id=person.pk).order_by("-effective_from", "-id")
        return Response(PersonCategoryOutputSerializer(memberships, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: PersonCategoryOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.person_category_add(person_id=pk, by=request.user, **data.validated_data)
        return Response(PersonCategoryOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class PersonCategoryFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=SpecialGroup.choices)
    in_force_on = django_filters.DateFilter(
        method="filter_in_force_on", label="Memberships in force on this day"
    )
    township = django_filters.CharFilter(field_name="person__township__code", label="12-digit township code")

    class Meta:
        model = PersonCategory
        fields = ["category", "in_force_on", "township"]

    def filter_in_force_on(self, queryset, name: str, value: dt.date):
        return queryset.in_force(value)


class PersonCategoryListApi(TownshipScopedApi, generics.ListAPIView):
    """Special-group memberships in the caller's townships, newest first, keyset-paginated."""

    queryset = _MEMBERSHIPS
    serializer_class = PersonCategoryOutputSerializer
    filterset_class = PersonCategoryFilter
    required_permission = "enrollment.view_personcategory"


class PersonCategoryEndApi(TownshipScopedApi):
    """Close an open membership on its last day (clerk); 409 when it has already ended."""

    queryset = _MEMBERSHIPS
    required_permission = "enrollment.change_personcategory"

    @extend_schema_serializer(component_name="PersonCategoryEndInput")
    class InputSerializer(serializers.Serializer):
        effective_to = serializers.DateField()

    @extend_schema(request=InputSerializer, responses=PersonCategoryOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        from enrollment import services

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.person_category_end(membership_id=pk, by=request.user, **data.validated_data)
        return Response(PersonCategoryOutputSerializer(membership).data)


# --- Enrollments, contributions and personal accounts (DOMAIN §1.1, §1.2, §1.6, §8.1, §8.2) ---------

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

    class Meta:
        model = Enrollment
        fields = ["person", "scheme", "status"]


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

    class Meta:
        model = ContributionRecord
        fields = ["enrollment", "person", "year"]


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
