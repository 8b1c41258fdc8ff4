from __future__ import annotations

import datetime as dt
import re
from typing import Self

from django.db.models import Q
from django.db.models.functions import Reverse

from socialsec.core.scoping import TownshipScopedQuerySet

_ID_CHARS = re.compile(r"^[0-9]{1,17}[0-9X]?$")


class PersonQuerySet(TownshipScopedQuerySet):
    def alive(self) -> Self:
        return self.filter(death_date__isnull=True)

    def id_number_ends_with(self, digits: str) -> Self:
        # Served by the reversed-ID index: 'last digits' becomes a prefix search.
        return self.alias(id_reversed=Reverse("id_number")).filter(id_reversed__startswith=digits[::-1])

    def search(self, query: str) -> Self:
        """A full resident ID (exact), its last 4+ characters, or the start of a name.

        Every branch is an index scan (unique ID, reversed-ID prefix, name prefix).
        """
        query = "".join(query.split())
        id_like = query.upper()
        if not query:
            return self
        if _ID_CHARS.match(id_like) and len(id_like) == 18:
            return self.filter(id_number=id_like)
        if _ID_CHARS.match(id_like) and len(id_like) >= 4:
            return self.id_number_ends_with(id_like)
        return self.filter(name__startswith=query)


class HouseholdQuerySet(TownshipScopedQuerySet):
    pass


class OrganizationQuerySet(TownshipScopedQuerySet):
    def search(self, query: str) -> Self:
        """A credit code (whole, or its first 4+ characters), or the start of a name.

        Both branches are index scans (the credit-code and name prefix indexes).
        """
        from socialsec.lib.credit_code import ALPHABET, normalize

        query = "".join(query.split())
        if not query:
            return self
        code = normalize(query)
        if len(code) >= 4 and all(char in ALPHABET for char in code):
            return self.filter(credit_code__startswith=code)
        return self.filter(name__startswith=query)


class FeeReliefApplicationQuerySet(TownshipScopedQuerySet):
    def overlapping(self, period_from: dt.date, period_to: dt.date) -> Self:
        """Applications whose months share at least one month with period_from..period_to."""
        return self.filter(period_from__lte=period_to, period_to__gte=period_from)


class PersonCategoryQuerySet(TownshipScopedQuerySet):
    def in_force(self, on: dt.date) -> Self:
        """Memberships in force on that day (effective_to is the last day, inclusive; empty = open)."""
        return self.filter(effective_from__lte=on).filter(
            Q(effective_to__isnull=True) | Q(effective_to__gte=on)
        )

    def overlapping(self, effective_from: dt.date, effective_to: dt.date | None) -> Self:
        """Memberships sharing at least one day with effective_from..effective_to (None = open)."""
        queryset = self.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=effective_from))
        if effective_to is not None:
            queryset = queryset.filter(effective_from__lte=effective_to)
        return queryset


class EnrollmentQuerySet(TownshipScopedQuerySet):
    def open(self) -> Self:
        """Neither terminated nor transferred out: the one the person holds in that scheme."""
        from enrollment.choices import CLOSED_ENROLLMENT_STATUSES

        return self.exclude(status__in=CLOSED_ENROLLMENT_STATUSES)


class ContributionRecordQuerySet(TownshipScopedQuerySet):
    def in_year(self, year: int) -> Self:
        return self.filter(period_start__year=year)


class PersonalAccountQuerySet(TownshipScopedQuerySet):
    pass


class CoverageRollupQuerySet(TownshipScopedQuerySet):
    pass
