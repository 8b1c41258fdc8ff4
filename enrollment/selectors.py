"""Reads of the registry that serve both the clerk pages and the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enrollment.models import Person
from enrollment.querysets import PersonQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from socialsec.core.models import User


def person_search(*, user: User | AnonymousUser, query: str = "") -> PersonQuerySet:
    """Persons the user may see, newest first, matching the query (see PersonQuerySet.search).

    Callers page by keyset on id; nothing here counts the whole set.
    """
    persons = Person.objects.visible_to(user).select_related("township", "village").search(query)
    return persons.order_by("-id")
