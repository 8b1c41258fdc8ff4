"""Coverage (全民参保): pension coverage per township and village, and the not-yet-enrolled.

The figures come from CoverageRollup (enrollment.coverage.coverage_refresh), never from a GROUP
BY over the registry, exactly as the coverage pages read them; only the not-yet-enrolled list
reads persons, a keyset page at a time.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from enrollment import coverage
from enrollment.api.common import DivisionRefSerializer
from enrollment.models import CoverageRollup, Person
from socialsec.core.api import TownshipScopedApi
from socialsec.lib.resident_id import mask_resident_id


@extend_schema_serializer(component_name="CoverageFigure")
class CoverageFigureSerializer(serializers.ModelSerializer):
    """One row of the rollup: a village, a township (no village) or the county (neither)."""

    township = DivisionRefSerializer(allow_null=True)
    village = DivisionRefSerializer(allow_null=True)
    not_enrolled = serializers.IntegerField()
    rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="Per cent enrolled; null with no resident"
    )

    class Meta:
        model = CoverageRollup
        fields = ["as_of", "township", "village", "residents", "enrolled", "not_enrolled", "rate"]
        read_only_fields = fields


@extend_schema_serializer(component_name="CoverageTable")
class CoverageTableSerializer(serializers.Serializer):
    total = CoverageFigureSerializer(allow_null=True, help_text="The level's own figures")
    rows = CoverageFigureSerializer(many=True, help_text="The townships, or the township's villages")


class CoverageOverviewApi(TownshipScopedApi):
    """Coverage per township the caller works for, and the county total for county-wide staff.

    One query, whatever the number of townships; empty before the first refresh.
    """

    queryset = CoverageRollup.objects.all()
    required_permission = "enrollment.view_person"

    @extend_schema(responses=CoverageTableSerializer)
    def get(self, request: Request) -> Response:
        return Response(CoverageTableSerializer(coverage.coverage_for(request.user)).data)


class CoverageTownshipApi(TownshipScopedApi):
    """One township's coverage and its villages'; another township's is 404, like a missing one."""

    queryset = CoverageRollup.objects.all()
    required_permission = "enrollment.view_person"

    @extend_schema(responses=CoverageTableSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(CoverageTableSerializer(coverage.coverage_for(request.user, township_id=pk)).data)


@extend_schema_serializer(component_name="CoverageNotEnrolledPerson")
class NotEnrolledPersonSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.SerializerMethodField()
    village = DivisionRefSerializer()

    class Meta:
        model = Person
        fields = ["id", "name", "id_number_masked", "sex", "birth_date", "village", "phone"]
        read_only_fields = fields

    def get_id_number_masked(self, person: Person) -> str:
        return mask_resident_id(person.id_number)


class CoverageNotEnrolledApi(TownshipScopedApi, generics.ListAPIView):
    """The not-yet-enrolled (应保未保) of a village or township: alive, 16 or over today, in no
    open pension enrollment; keyset pages, newest record first, never a COUNT.

    404 for a division the caller may not see (or before the first coverage refresh).
    """

    queryset = Person.objects.all()
    serializer_class = NotEnrolledPersonSerializer
    required_permission = "enrollment.view_person"
    level = "village"

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        division = {f"{self.level}_id": kwargs["pk"]}
        coverage.coverage_row(request.user, **division)  # 404 unless the caller may see it
        persons = coverage.not_enrolled(request.user, on=timezone.localdate(), **division)
        page = self.paginate_queryset(persons)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CoverageVillageNotEnrolledApi(CoverageNotEnrolledApi):
    level = "village"


class CoverageTownshipNotEnrolledApi(CoverageNotEnrolledApi):
    level = "township"
