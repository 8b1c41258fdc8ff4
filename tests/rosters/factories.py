"""Rosters for tests, made the way production makes them: the set-based draft service, then the steps.

`roster_in(status, cast)` walks a fresh draft through the real services with the cast of
tests/conftest.py, so every roster a test sees obeys the database guards (rows start as DRAFT;
the state moves only along the workflow's edges) and records the people who took each step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from benefits import services
from benefits.choices import BenefitProgramme
from benefits.models import PayoutRoster
from enrollment.models import Person
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.services import BankLineResult, LineInput
from tests.factories import PersonFactory

OCTOBER = dt.date(2025, 10, 1)
NOVEMBER = dt.date(2025, 11, 1)

# The order in which the cast takes a roster to PAID (DOMAIN E22): five different people.
_PATH = (
    (RosterStatus.SUBMITTED, "submit", "maker_ann"),
    (RosterStatus.CHECKED, "check", "checker_ben"),
    (RosterStatus.APPROVED, "approve", "approver_cai"),
    ("prepared", "prepare-payment", "accountant_dan"),
    (RosterStatus.PAYING, "pay", "cashier_fay"),
)


def payees(village, count: int) -> list[Person]:
    """Persons of a village with a bank account each (the roster's account snapshot)."""
    return [
        PersonFactory(village=village, bank_account_number=f"62170000{index:011d}", bank_name="农商银行")
        for index in range(count)
    ]


def lines_for(persons: list[Person], *, basic: str = "143.00", account: str = "21.58") -> list[LineInput]:
    return [
        LineInput(person_id=person.pk, basic=Decimal(basic), account=Decimal(account)) for person in persons
    ]


TOWNSHIP_A = object()  # the default: Township A; pass township=None for a county roster


def draft_roster(
    cast,
    *,
    persons: list[Person] | None = None,
    count: int = 3,
    period: dt.date = OCTOBER,
    programme: str = BenefitProgramme.RESIDENT_PENSION,
    township=TOWNSHIP_A,
    by=None,
    lines: list[LineInput] | None = None,
) -> PayoutRoster:
    township = cast.township_a if township is TOWNSHIP_A else township
    if lines is None:
        village = cast.village_a if township == cast.township_a else cast.village_b
        lines = lines_for(persons if persons is not None else payees(village, count))
    return services.payout_roster_create_draft(
        programme=programme,
        period=period,
        township_id=township.pk if township else None,
        lines=lines,
        by=by or cast.maker_ann,
    )


def _position(roster: PayoutRoster) -> int:
    """How many steps of _PATH the roster has been through."""
    if roster.status == RosterStatus.APPROVED and roster.prepared_by_id:
        return 4
    order = [RosterStatus.DRAFT, RosterStatus.SUBMITTED, RosterStatus.CHECKED, RosterStatus.APPROVED]
    return order.index(roster.status) if roster.status in order else 5


def advance(roster: PayoutRoster, cast, until: str) -> PayoutRoster:
    """Take the roster along the E22 path, with the cast, until `until` (a status, or "prepared")."""
    targets = [reached for reached, _, _ in _PATH]
    for _reached, step, actor in _PATH[_position(roster) : targets.index(until) + 1]:
        roster = services.payout_roster_take_step(roster_id=roster.pk, step=step, by=getattr(cast, actor))
    return roster


def roster_in(status: str, cast, **kwargs) -> PayoutRoster:
    """A roster in `status` (or "prepared": APPROVED with the payment instruction prepared)."""
    roster = draft_roster(cast, **kwargs)
    if status == RosterStatus.DRAFT:
        return roster
    if status == RosterStatus.CANCELLED:
        return services.payout_roster_cancel(roster_id=roster.pk, by=cast.maker_ann, reason="重复生成")
    if status in (RosterStatus.PAID, RosterStatus.PARTIALLY_PAID):
        roster = advance(roster, cast, RosterStatus.PAYING)
        return settle(roster, cast, failed=1 if status == RosterStatus.PARTIALLY_PAID else 0)
    return advance(roster, cast, status)


def settle(roster: PayoutRoster, cast, *, failed: int = 0, by=None) -> PayoutRoster:
    """Record a receipt in which the last `failed` lines failed ("account closed")."""
    seqs = list(roster.lines.order_by("seq").values_list("seq", flat=True))
    results = [
        BankLineResult(
            seq=seq,
            paid=index < len(seqs) - failed,
            message="" if index < len(seqs) - failed else "账户已销户",
        )
        for index, seq in enumerate(seqs)
    ]
    return services.payout_roster_record_bank_receipt(
        roster_id=roster.pk, results=results, by=by or cast.accountant_dan
    )
