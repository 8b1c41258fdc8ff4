"""Reads of the registry that serve both the clerk pages and the API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from enrollment.models import Person
from enrollment.querysets import PersonQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from socialsec.core.models import User

_ID_CHARS = re.compile(r"^[0-9]{1,17}[0-9Xx]?$")


def person_search(*, user: User | AnonymousUser, query: str = "") -> PersonQuerySet:
    """Persons the user may see, newest first, matching the query.

    The query is a full resident ID (exact), the last digits of one (4 or more), or
    the start of a name. Every branch uses an index, so a search over a million
    persons stays an index scan; callers page by keyset on id.
    """
    persons = Person.objects.visible_to(user).select_related("township", "village")
    query = query.strip().replace(" ", "")
    if query:
        if _ID_CHARS.match(query) and len(query) == 18:
            persons = persons.filter(id_number=query.upper())
        elif _ID_CHARS.match(query) and len(query) >= 4:
            persons = persons.id_number_ends_with(query.upper())
        else:
            persons = persons.filter(name__startswith=query)
    return persons.order_by("-id")
