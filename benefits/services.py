"""Writes to the payout rosters: the steps of socialsec.rosters.services for PayoutRoster.

Each service keeps the rule of the generic one (see its docstring): role 403, other township
404, wrong state 409 naming the roster and its state, segregation of duties 403 naming the rule,
the same person repeating a step is a no-op.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from benefits.models import PayoutRoster
from socialsec.rosters import services as rosters
from socialsec.rosters.services import BankLineResult, LineInput

if TYPE_CHECKING:
    from socialsec.core.models import User

__all__ = [
    "BankLineResult",
    "LineInput",
    "payout_roster_approve",
    "payout_roster_cancel",
    "payout_roster_check",
    "payout_roster_create_draft",
    "payout_roster_pay",
    "payout_roster_prepare_payment",
    "payout_roster_record_bank_receipt",
    "payout_roster_return",
    "payout_roster_submit",
    "payout_roster_take_step",
]


def payout_roster_create_draft(
    *,
    programme: str,
    period: dt.date,
    township_id: int | None,
    lines: Sequence[LineInput],
    by: User,
    note: str = "",
) -> PayoutRoster:
    """A DRAFT roster from a set of lines (one INSERT … SELECT); generation from entitlements comes later."""
    return rosters.roster_create_draft(
        model=PayoutRoster,
        programme=programme,
        period=period,
        township_id=township_id,
        lines=lines,
        by=by,
        note=note,
    )


def payout_roster_submit(*, roster_id: int, by: User, note: str = "") -> PayoutRoster:
    return rosters.roster_submit(model=PayoutRoster, roster_id=roster_id, by=by, note=note)


def payout_roster_check(*, roster_id: int, by: User, note: str = "") -> PayoutRoster:
    return rosters.roster_check(model=PayoutRoster, roster_id=roster_id, by=by, note=note)


def payout_roster_approve(*, roster_id: int, by: User, note: str = "") -> PayoutRoster:
    return rosters.roster_approve(model=PayoutRoster, roster_id=roster_id, by=by, note=note)


def payout_roster_prepare_payment(*, roster_id: int, by: User, note: str = "") -> PayoutRoster:
    return rosters.roster_prepare_payment(model=PayoutRoster, roster_id=roster_id, by=by, note=note)


def payout_roster_pay(*, roster_id: int, by: User, note: str = "") -> PayoutRoster:
    return rosters.roster_pay(model=PayoutRoster, roster_id=roster_id, by=by, note=note)


def payout_roster_return(*, roster_id: int, by: User, reason: str) -> PayoutRoster:
    return rosters.roster_return(model=PayoutRoster, roster_id=roster_id, by=by, reason=reason)


def payout_roster_cancel(*, roster_id: int, by: User, reason: str) -> PayoutRoster:
    return rosters.roster_cancel(model=PayoutRoster, roster_id=roster_id, by=by, reason=reason)


def payout_roster_record_bank_receipt(
    *, roster_id: int, results: Sequence[BankLineResult], by: User, note: str = ""
) -> PayoutRoster:
    return rosters.roster_record_bank_receipt(
        model=PayoutRoster, roster_id=roster_id, results=results, by=by, note=note
    )


def payout_roster_take_step(*, roster_id: int, step: str, by: User, note: str = "") -> PayoutRoster:
    return rosters.roster_take_step(model=PayoutRoster, roster_id=roster_id, step=step, by=by, note=note)
