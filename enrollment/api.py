"""Registry endpoints. Every view is a TownshipScopedApi: rows pass visible_to first."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment.models import Person
from socialsec.core.api import TownshipScopedApi
from socialsec.lib.resident_id import mask_resident_id


class DivisionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class PersonOutputSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.SerializerMethodField()
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
        ]
        read_only_fields = fields

    def get_id_number_masked(self, person: Person) -> str:
        return mask_resident_id(person.id_number)


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

    queryset = Person.objects.select_related("township", "village")
    serializer_class = PersonOutputSerializer
    filterset_class = PersonFilter
    required_permission = "enrollment.view_person"


class PersonDetailApi(TownshipScopedApi, generics.RetrieveAPIView):
    """One person; another township's person is 404, like a missing one."""

    queryset = Person.objects.select_related("township", "village")
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
        person = self.get_queryset().select_related("township", "village").get(pk=person.pk)
        return Response(PersonOutputSerializer(person).data)
