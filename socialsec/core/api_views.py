"""API views that are not township data: the caller's own profile and reference divisions."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from socialsec.core.models import AdministrativeDivision
from socialsec.core.selectors import user_profile


class MeApi(APIView):
    """Who am I: roles, townships or county-wide, and permissions that change what the UI offers."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        name = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        county_wide = serializers.BooleanField()
        townships = serializers.ListField(child=serializers.DictField())
        may_unmask = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(user_profile(request.user)).data)


class DivisionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdministrativeDivision
        fields = [
            "id",
            "code",
            "name",
            "level",
            "kind",
            "parent_id",
            "urban_rural_code",
            "valid_from",
            "valid_to",
        ]
        read_only_fields = fields


class DivisionFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(
        field_name="parent__code", label="12-digit code of the parent division"
    )

    class Meta:
        model = AdministrativeDivision
        fields = ["level", "kind", "parent"]


class DivisionListApi(generics.ListAPIView):
    """The county's division tree (public statistical codes; reference data, not township-scoped)."""

    queryset = AdministrativeDivision.objects.all()
    serializer_class = DivisionOutputSerializer
    filterset_class = DivisionFilter
    permission_classes = [IsAuthenticated]
