"""Reads of the registry that serve both the clerk pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from enrollment.choices import FeeReliefStatus, PeriodKind, Scheme
from enrollment.models import (
    ContributionRecord,
    FeeReliefApplication,
    FeeReliefPolicy,
    Organization,
    Person,
    PersonalAccount,
    PersonCategory,
)
from enrollment.querysets import (
    FeeReliefApplicationQuerySet,
    OrganizationQuerySet,
    PersonCategoryQuerySet,
    PersonQuerySet,
)
from socialsec.core.models import User
from socialsec.core.parameters import param
from socialsec.core.scoping import get_visible_or_404
from socialsec.lib.money import round_money

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


# --- Organizations and fee relief (clerk pages) ------------------------------------------------


def organization_search(
    *, user: User | AnonymousUser, query: str = "", size_class: str = ""
) -> OrganizationQuerySet:
    """Organizations the user may see, newest first: a name prefix or credit code, one size class.

    Callers page by keyset on id; nothing here counts the whole set.
    """
    organizations = Organization.objects.visible_to(user).select_related("township").search(query)
    if size_class:
        organizations = organizations.filter(size_class=size_class)
    return organizations.order_by("-id")


def fee_relief_applications_of(
    organization: Organization, *, user: User | AnonymousUser
) -> FeeReliefApplicationQuerySet:
    """The organization's applications the user may see, newest months first, with who filed and decided."""
    return (
        FeeReliefApplication.objects.visible_to(user)
        .filter(organization=organization)
        .select_related("policy", "filed_by", "decided_by")
        .order_by("-period_from", "-id")
    )


def fee_relief_policies_for(organization: Organization) -> list[FeeReliefPolicy]:
    """Policies that cover the organization, by the model's own rule (covers_organization)."""
    candidates = FeeReliefPolicy.objects.filter(size_classes__contains=[organization.size_class])
    return [policy for policy in candidates if policy.covers_organization(organization)]


def fee_relief_waiting_for(*, user: User | AnonymousUser) -> FeeReliefApplicationQuerySet:
    """FILED applications in the user's townships that someone other than their filer must decide.

    Oldest first: the one waiting longest is at the top. Callers page by keyset on id.
    """
    applications = FeeReliefApplication.objects.visible_to(user).filter(status=FeeReliefStatus.FILED)
    if user.is_authenticated:
        applications = applications.exclude(filed_by_id=user.pk)  # nobody decides their own filing
    return applications.select_related("organization", "policy", "filed_by").order_by("id")


# --- Personal accounts and contribution years (DOMAIN §1.2, §1.6, §8.1) --------------------------


@dataclass(frozen=True)
class AccountSummary:
    """One personal account with the contribution years recorded in its scheme."""

    account: PersonalAccount
    contribution_years: Decimal


def personal_account_for(*, person_id: int, user: User | AnonymousUser) -> list[AccountSummary]:
    """The person's personal accounts, one per pension scheme, with their contribution years.

    A person the user may not see is NotVisible (404), like a missing one. A year record
    counts as a year, a month record as a twelfth (DOMAIN §8.1: residents pay by year,
    employees by month). Two queries, however many records.
    """
    person = get_visible_or_404(Person.objects, user, pk=person_id)
    periods = {
        (row["enrollment__scheme"], row["period_kind"]): row["count"]
        for row in ContributionRecord.objects.filter(enrollment__person=person)
        .values("enrollment__scheme", "period_kind")
        .annotate(count=Count("id"))
        .order_by()
    }
    accounts = PersonalAccount.objects.filter(person=person).order_by("scheme")
    return [
        AccountSummary(
            account=account,
            contribution_years=Decimal(periods.get((account.scheme, PeriodKind.YEAR), 0))
            + Decimal(periods.get((account.scheme, PeriodKind.MONTH), 0)) / 12,
        )
        for account in accounts
    ]


@dataclass(frozen=True)
class SameYearOverlap:
    """DOMAIN §1.6 Art 7: months of a year paid to both the resident and the employee pension."""

    year: int
    resident_record: ContributionRecord
    overlapping_months: int
    # The resident personal contribution and collective subsidy for those months, to refund.
    refund: Decimal


def same_year_overlap(*, person_id: int, year: int, user: User | AnonymousUser) -> SameYearOverlap | None:
    """The overlap of a year (E8), or None when the person did not pay both schemes that year.

    The overlapping months count for the employee scheme only; the resident personal part
    and collective subsidy for them are refunded, pro rata by month (DOMAIN E8: pro-rating
    is unconfirmed), rounded by `general.money.rounding_mode`. The government subsidy is not
    refunded. This reads; the refund itself is a later service.
    """
    person = get_visible_or_404(Person.objects, user, pk=person_id)
    resident = (
        ContributionRecord.objects.filter(
            enrollment__person=person, enrollment__scheme=Scheme.RESIDENT_PENSION, period_kind=PeriodKind.YEAR
        )
        .in_year(year)
        .select_related("enrollment")
        .first()
    )
    if resident is None:
        return None
    months = (
        ContributionRecord.objects.filter(
            enrollment__person=person,
            enrollment__scheme=Scheme.EMPLOYEE_PENSION,
            period_kind=PeriodKind.MONTH,
        )
        .in_year(year)
        .count()
    )
    if not months:
        return None
    mode = param(
        "general.money.rounding_mode", resident.enrollment.pooling_area, dt.date(year, 12, 31)
    ).text()
    refund = round_money((resident.personal_amount + resident.collective_amount) * months / 12, mode)
    return SameYearOverlap(year=year, resident_record=resident, overlapping_months=months, refund=refund)
