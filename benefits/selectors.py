"""Reads for the payout-roster pages: the list with its filters, the inboxes per post, the lines.

Everything starts from `visible_to(user)`: another township's roster is not in a list and is a
404 on its page. Each read is one query whatever the number of rows (select_related of every
post's holder, keyset pages, never a COUNT(*)).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from benefits.models import PayoutLine, PayoutRoster
from socialsec.core.choices import Role
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.models import RosterQuerySet
from socialsec.rosters.selectors import ROSTER_RELATED

if TYPE_CHECKING:
    from socialsec.core.models import User


@dataclass(frozen=True)
class Inbox:
    """The rosters waiting for one post: a filtered view of the list and a home work-queue card."""

    name: str
    label: Promise
    where: Q


# In the order a roster moves through them (DOMAIN §8.2, E22).
INBOXES: dict[str, Inbox] = {
    inbox.name: inbox
    for inbox in (
        # Drafts include the rosters returned to the maker (return_reason says why).
        Inbox("prepare", _("Drafts and returned rosters"), Q(status=RosterStatus.DRAFT)),
        Inbox("check", _("Submitted, to check"), Q(status=RosterStatus.SUBMITTED)),
        Inbox("approve", _("Checked, to approve"), Q(status=RosterStatus.CHECKED)),
        Inbox(
            "prepare-payment",
            _("Approved, payment to prepare"),
            Q(status=RosterStatus.APPROVED, prepared_by__isnull=True),
        ),
        Inbox(
            "release",
            _("Payment prepared, to release"),
            Q(status=RosterStatus.APPROVED, prepared_by__isnull=False),
        ),
        Inbox("receipt", _("Paying, awaiting the bank's receipt"), Q(status=RosterStatus.PAYING)),
    )
}

# Which inboxes make up each role's work queue. Either finance post may record the receipt.
ROLE_INBOXES: dict[str, tuple[str, ...]] = {
    Role.CLERK: ("prepare",),
    Role.SECTION_CHIEF: ("check",),
    Role.LEADER_IN_CHARGE: ("approve",),
    Role.FINANCE: ("prepare-payment", "release", "receipt"),
    Role.ACCOUNTANT: ("prepare-payment", "receipt"),
    Role.CASHIER: ("release", "receipt"),
}

# How many rosters a work-queue card lists; the card links to the whole inbox.
QUEUE_SIZE = 10


@dataclass(frozen=True)
class RosterFilters:
    """The list's filters, already validated (an unknown value is dropped, not an error)."""

    status: str = ""
    programme: str = ""
    period: dt.date | None = None
    inbox: str = ""


def payout_rosters_for(user: User) -> RosterQuerySet:
    """The user's townships' payout rosters (all of them for county-wide staff), newest first."""
    return PayoutRoster.objects.visible_to(user).select_related(*ROSTER_RELATED).order_by("-id")


def payout_roster_search(*, user: User, filters: RosterFilters, after: int | None = None) -> Any:
    """The list page: filters by state, programme, month and inbox; keyset on id (newest first)."""
    rosters = payout_rosters_for(user)
    if filters.status:
        rosters = rosters.filter(status=filters.status)
    if filters.programme:
        rosters = rosters.filter(programme=filters.programme)
    if filters.period:
        rosters = rosters.filter(period=filters.period)
    if filters.inbox:
        rosters = rosters.filter(INBOXES[filters.inbox].where)
    if after:
        rosters = rosters.filter(id__lt=after)
    return rosters


def roster_work_queue(user: User, role: str) -> list[PayoutRoster]:
    """The first QUEUE_SIZE rosters waiting for the role's post(s), oldest first: one query."""
    names = ROLE_INBOXES.get(role, ())
    if not names or not user.has_perm("benefits.view_payoutroster"):
        return []
    where = Q()
    for name in names:
        where |= INBOXES[name].where
    return list(payout_rosters_for(user).filter(where).order_by("id")[:QUEUE_SIZE])


def payout_roster_lines(roster: PayoutRoster, *, after: int | None = None) -> Any:
    """The roster's lines in line order with their persons (one join), keyset on seq."""
    lines = PayoutLine.objects.filter(roster_id=roster.pk).select_related("person").order_by("seq")
    if after:
        lines = lines.filter(seq__gt=after)
    return lines
