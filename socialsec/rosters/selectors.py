"""Reads for every roster kind: the timeline of steps, the steps a user may take now, the signature
block and a page of lines as the clerk pages show them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from socialsec.lib.resident_id import mask_resident_id
from socialsec.rosters.choices import RosterStatus, RosterStep
from socialsec.rosters.workflow import POSTS, STEP_BY_METHOD, STEPS

if TYPE_CHECKING:
    from socialsec.core.models import User
    from socialsec.rosters.models import RosterBase, RosterLineBase

# The select_related a roster page or list needs: every post's holder and the township.
ROSTER_RELATED = (
    "township",
    "created_by",
    "made_by",
    "checked_by",
    "approved_by",
    "prepared_by",
    "released_by",
    "settled_by",
    "returned_by",
    "cancelled_by",
)


def available_steps(roster: RosterBase, user: User) -> list[str]:
    """The steps (API action names) this user may take on the roster now, in workflow order.

    From the transitions' sources, conditions and permissions (role and segregation of duties):
    no query once the user's permissions are cached.
    """
    names = {STEP_BY_METHOD[t.name].name for t in roster.get_available_user_status_transitions(user)}
    return [name for name in STEPS if name in names]


@dataclass(frozen=True)
class TimelineEntry:
    step: str
    step_label: str
    status: str
    status_label: str
    at: dt.datetime
    by: str
    note: str


def roster_timeline(roster: RosterBase) -> list[TimelineEntry]:
    """Who took which step and when, with the notes, oldest first, from the audit trail.

    One query: the roster's row versions written under a step's context (services set it). A step
    that saves the roster twice (generation: the row, then its totals) is one entry: the last
    row version of each context.
    """
    events = (
        roster.events.filter(pgh_context__metadata__has_key="step")
        .select_related("pgh_context")
        .order_by("pgh_id")
        .only("pgh_id", "pgh_obj_id", "pgh_created_at", "status", "pgh_context_id", "pgh_context__metadata")
    )
    last_of_context = {event.pgh_context_id: event for event in events}
    entries = []
    for event in last_of_context.values():
        metadata = event.pgh_context.metadata
        step = metadata.get("step", "")
        entries.append(
            TimelineEntry(
                step=step,
                step_label=str(RosterStep(step).label) if step in RosterStep.values else step,
                status=event.status,
                status_label=str(RosterStatus(event.status).label),
                at=event.pgh_created_at,
                by=str(metadata.get("actor", "")),
                note=str(metadata.get("note") or ""),
            )
        )
    return entries


@dataclass(frozen=True)
class Signature:
    post: str
    label: str
    by: User | None
    at: dt.datetime | None

    @property
    def name(self) -> str:
        """The signer as the roster prints them: full name, else username; "" for a post not signed yet."""
        if self.by is None:
            return ""
        return self.by.get_full_name() or self.by.get_username()


def roster_signatures(roster: RosterBase) -> list[Signature]:
    """制表人, 审核人, 审批人, 会计, 出纳: who took each post's step and when (DOMAIN §8.3 footer, E22).

    No query when the roster was read with ROSTER_RELATED. The roster page, the printed roster,
    its xlsx and the API's `posts` all show this one block.
    """
    return [
        Signature(
            post=post.name,
            label=str(post.label),
            by=getattr(roster, post.by_field),
            at=getattr(roster, post.at_field),
        )
        for post in POSTS
    ]


@dataclass(frozen=True)
class LineRow:
    line: RosterLineBase
    id_number_masked: str
    account_number_masked: str


def line_page(lines: Any, *, size: int) -> tuple[list[LineRow], int | None]:
    """One keyset page of `lines` (a queryset in line order, persons joined, already past `after`):
    its first `size` lines with the ID and the account masked, and the seq the next page starts
    after (None on the last page). One query, whatever the roster's length."""
    page = list(lines[: size + 1])
    shown = page[:size]
    rows = [
        LineRow(
            line=line,
            id_number_masked=mask_resident_id(line.person.id_number),
            account_number_masked=line.account_number_masked,
        )
        for line in shown
    ]
    return rows, shown[-1].seq if len(page) > size else None
