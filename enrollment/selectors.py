"""Reads of the registry that serve both the clerk pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from enrollment.models import Person, PersonCategory
from enrollment.querysets import PersonCategoryQuerySet, PersonQuerySet
from socialsec.core.models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

TIMELINE_LENGTH = 100

EVENT_LABELS = {
    "insert": _("Registered"),
    "update": _("Changed"),
    "delete": _("Deleted"),
    "unmask_id_number": _("Full ID number viewed"),
    "unmask_bank_account": _("Full bank account number viewed"),
}

# Manual events repeat the row as it was; the timeline compares real changes only.
_MANUAL_EVENTS = frozenset({"unmask_id_number", "unmask_bank_account"})

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
    "phone",
    "card_number",
    "card_issue_date",
    "card_status",
    "bank_account_number",
    "bank_name",
    "address_code_unverified",
    "address_code_confirmed_by_id",
    "address_code_confirmed_at",
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


@dataclass(frozen=True)
class PersonCategories:
    in_force: list[PersonCategory]
    upcoming: list[PersonCategory]
    past: list[PersonCategory]


def person_categories(person: Person, *, on: dt.date) -> PersonCategories:
    """The person's special-group memberships on a day: in force, not yet, and ended.

    Reads `person.categories.all()`, so a caller that prefetched them pays no query.
    """
    memberships = sorted(person.categories.all(), key=lambda m: (m.effective_from, m.pk), reverse=True)
    return PersonCategories(
        in_force=[m for m in memberships if m.is_in_force(on)],
        upcoming=[m for m in memberships if m.effective_from > on],
        past=[m for m in memberships if m.effective_to is not None and m.effective_to < on],
    )


def person_category_search(*, user: User | AnonymousUser) -> PersonCategoryQuerySet:
    """Memberships of persons the user may see, with the person and township for display.

    Filters (group, in force on a day, township) are applied by the caller; pages go by
    keyset on id.
    """
    return PersonCategory.objects.visible_to(user).select_related("person", "person__township")


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
        if event.pgh_label not in _MANUAL_EVENTS:
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
