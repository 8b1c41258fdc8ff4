"""Households with their members and relationships (needed by the means tests of the later issues)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import generics, serializers

from enrollment.api.common import DivisionRefSerializer
from enrollment.choices import HouseholdRegistrationType, Relationship
from enrollment.models import Household, Person
from enrollment.selectors import household_members
from socialsec.core.api import TownshipScopedApi
from socialsec.lib.resident_id import mask_resident_id


@extend_schema_serializer(component_name="HouseholdMember")
class HouseholdMemberSerializer(serializers.ModelSerializer):
    """A member as the household lists them: the ID masked, as everywhere."""

    id_number_masked = serializers.SerializerMethodField()
    relationship = serializers.CharField(help_text=" | ".join(Relationship.values) + " (empty: not recorded)")

    class Meta:
        model = Person
        fields = ["id", "name", "id_number_masked", "sex", "birth_date", "relationship", "death_date"]
        read_only_fields = fields

    def get_id_number_masked(self, person: Person) -> str:
        return mask_resident_id(person.id_number)


class HouseholdOutputSerializer(serializers.ModelSerializer):
    township = DivisionRefSerializer()
    village = DivisionRefSerializer()
    registration_type = serializers.CharField(help_text=" | ".join(HouseholdRegistrationType.values))
    # The prefetched members the caller may see, head first (enrollment.selectors.household_members).
    members = HouseholdMemberSerializer(many=True)

    class Meta:
        model = Household
        fields = ["id", "number", "registration_type", "township", "village", "members"]
        read_only_fields = fields


class HouseholdFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(field_name="number", label="Household number (exact)")
    township = django_filters.CharFilter(field_name="township__code", label="12-digit township code")
    village = django_filters.CharFilter(field_name="village__code", label="12-digit village code")
    registration_type = django_filters.ChoiceFilter(choices=HouseholdRegistrationType.choices)
    member = django_filters.NumberFilter(method="filter_member", label="The household of this person id")

    class Meta:
        model = Household
        fields = ["number", "township", "village", "registration_type", "member"]

    def filter_member(self, queryset: Any, name: str, value: int) -> Any:
        return queryset.filter(pk__in=Person.objects.filter(pk=value).values("household_id"))


class _WithMembers:
    """Prefetch the members the caller may see, after the base class has scoped and filtered.

    The members' scoping needs the request's user, so it cannot sit on the class queryset;
    get_queryset stays the base class's (tests/core/test_scoping.py).
    """

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        return queryset.prefetch_related(household_members(user=self.request.user))  # type: ignore[attr-defined]


_HOUSEHOLDS = Household.objects.select_related("township", "village")


class HouseholdListApi(_WithMembers, TownshipScopedApi, generics.ListAPIView):
    """Households in the caller's townships with their members, newest first, keyset pages (no COUNT).

    One query for the page and one for all its members, whatever the page's length.
    """

    queryset = _HOUSEHOLDS
    serializer_class = HouseholdOutputSerializer
    filterset_class = HouseholdFilter
    required_permission = "enrollment.view_household"


class HouseholdDetailApi(_WithMembers, TownshipScopedApi, generics.RetrieveAPIView):
    """One household with its members; another township's is 404, like a missing one."""

    queryset = _HOUSEHOLDS
    serializer_class = HouseholdOutputSerializer
    required_permission = "enrollment.view_household"
