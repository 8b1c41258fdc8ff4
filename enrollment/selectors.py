"""Reads of the registry that serve both the clerk pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from enrollment.models import Person
from enrollment.querysets import PersonQuerySet
from socialsec.core.models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

TIMELINE_LENGTH = 100

EVENT_LABELS = {
    "insert": _("Registered"),
    "update": _("Changed"),
    "delete": _("Deleted"),
    "unmask_id_number": _("Full ID number viewed"),
}

# Fields whose change the timeline names (never their values: the ID number is among them).
_TRACKED_FIELDS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "registration_type",
    "township_id",
    "village_id",
    "household_id",
    "relationship",
    "death_date",
    "death_source",
)


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    label: str
    by: str
    changed: list[str]


def person_search(*, user: User | AnonymousUser, query: str = "") -> PersonQuerySet:
    """Persons the user may see, newest first, matching the query (see PersonQuerySet.search).

    Callers page by keyset on id; nothing here counts the whole set.
    """
    persons = Person.objects.visible_to(user).select_related("township", "village").search(query)
    return persons.order_by("-id")


def person_timeline(person: Person) -> list[TimelineEntry]:
    """Who did what to this person's record, newest first, from the pghistory events.

    Every unmask adds an event, so the page shows the latest TIMELINE_LENGTH; one older
    event is read as the baseline for the first entry's changed fields.
    """
    newest_first = person.events.select_related("pgh_context").order_by("-pgh_created_at", "-pgh_id")
    events = list(newest_first[: TIMELINE_LENGTH + 1])[::-1]
    # The context stores the user's id; one query names them all.
    user_ids = {e.pgh_context.metadata.get("user") for e in events if e.pgh_context is not None}
    names = {
        u.pk: (u.get_full_name() or u.username)
        for u in User.objects.filter(pk__in=[i for i in user_ids if isinstance(i, int)])
    }
    entries = []
    previous = None
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context is not None else {}
        changed: list[str] = []
        if event.pgh_label == "update" and previous is not None:
            changed = [
                str(Person._meta.get_field(field.removesuffix("_id")).verbose_name)
                for field in _TRACKED_FIELDS
                if getattr(event, field) != getattr(previous, field)
            ]
        if event.pgh_label != "unmask_id_number":  # a manual event repeats the row; compare with real changes
            previous = event
        if len(events) > TIMELINE_LENGTH and event is events[0]:
            continue  # the baseline, not shown
        user_id = metadata.get("user")
        entries.append(
            TimelineEntry(
                at=event.pgh_created_at,
                label=EVENT_LABELS.get(event.pgh_label, event.pgh_label),
                by=names.get(user_id, "") if user_id is not None else "",
                changed=changed,
            )
        )
    entries.reverse()
    return entries
