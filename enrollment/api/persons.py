"""Persons and their special-group memberships (DOMAIN §6.1, §8.1). Every ID, card and bank
account number is masked; the full ID or account number only through the audited unmask views."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment.api.common import DivisionRefSerializer, PermissionByMethod
from enrollment.choices import CategorySource, SpecialGroup
from enrollment.models import Person, PersonCategory
from socialsec.core.api import TownshipScopedApi
from socialsec.core.scoping import get_visible_or_404
from socialsec.lib.masking import mask_bank_account, mask_card_number
from socialsec.lib.resident_id import mask_resident_id


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
    village = django_filters.CharFilter(field_name="village__code", label="12-digit village code")
    household = django_filters.NumberFilter(field_name="household_id", label="Household id")
    alive = django_filters.BooleanFilter(field_name="death_date", lookup_expr="isnull")

    class Meta:
        model = Person
        fields = ["q", "township", "village", "household", "alive"]

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


# --- The person's history (记录一生): the timeline of the person page -------------------------------


@extend_schema_serializer(component_name="PersonTimelineChange")
class TimelineChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The column's name in the caller's language.")
    old = serializers.CharField(allow_null=True, help_text="As shown on the page; ID-like numbers masked.")
    new = serializers.CharField(allow_null=True, help_text="As shown on the page; ID-like numbers masked.")


@extend_schema_serializer(component_name="PersonTimelineVia")
class TimelineViaSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="request | task | import | command")
    text = serializers.CharField(help_text="Method and path, task name, import kind or command name.")
    import_batch_id = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="PersonTimelineEntry")
class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    subject = serializers.CharField(
        help_text="person | household | special_group | enrollment | contribution | account"
    )
    subject_label = serializers.CharField()
    object_label = serializers.CharField(help_text="Which record: the scheme, the year, the group…")
    event = serializers.CharField(
        help_text="insert | update | delete | unmask_id_number | unmask_bank_account"
    )
    label = serializers.CharField()
    by = serializers.CharField(help_text="The user who made the change; empty for the system.")
    changed = TimelineChangeSerializer(many=True)
    via = TimelineViaSerializer(many=True)
    note = serializers.CharField()


class PersonTimelineApi(TownshipScopedApi):
    """Every change to a person and their household, special groups, enrollments, contributions
    and accounts, newest first, from the audit trail; pages of 50 (`?page=2`).

    The kinds of record the caller may not view (enrollments for a finance user…) are left
    out. Another township's person is 404, like a missing one. A constant number of queries
    whatever the length of the history.
    """

    queryset = Person.objects.all()
    required_permission = "enrollment.view_person"

    @extend_schema_serializer(component_name="PersonTimelinePage")
    class OutputSerializer(serializers.Serializer):
        page = serializers.IntegerField(source="number")
        has_previous = serializers.BooleanField()
        has_next = serializers.BooleanField()
        results = TimelineEntrySerializer(many=True, source="entries")

    @extend_schema(
        parameters=[OpenApiParameter("page", int, description="Page of the history, 1 (newest) by default")],
        responses=OutputSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        from enrollment.selectors import person_timeline, timeline_subjects_for

        person = get_visible_or_404(Person.objects.all(), request.user, pk=pk)
        try:
            page = max(int(request.query_params.get("page", "1")), 1)
        except ValueError:
            page = 1
        timeline = person_timeline(person, subjects=timeline_subjects_for(request.user), page=page)
        return Response(self.OutputSerializer(timeline).data)
