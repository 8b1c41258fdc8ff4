from __future__ import annotations

from typing import Self

from django.db.models.functions import Reverse

from socialsec.core.scoping import TownshipScopedQuerySet


class PersonQuerySet(TownshipScopedQuerySet):
    def alive(self) -> Self:
        return self.filter(death_date__isnull=True)

    def id_number_ends_with(self, digits: str) -> Self:
        # Served by the reversed-ID index: 'last digits' becomes a prefix search.
        return self.alias(id_reversed=Reverse("id_number")).filter(id_reversed__startswith=digits[::-1])


class HouseholdQuerySet(TownshipScopedQuerySet):
    pass
