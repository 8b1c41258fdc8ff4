"""The roster lifecycle as a table: state × step × actor → allowed, a no-op, or which refusal.

DOMAIN §8.2 (PayoutRoster, segregation of duties), E22; issue 4 "The roster workflow, written once".
The roster of each row was made by lee (clerk, section chief and leader in charge at once), checked
by ben, approved by cai, its payment prepared by mo (finance with both posts, a misconfiguration
the workflow must survive), released by fay and its receipt recorded by dan. So the table shows
segregation of duties too: lee may check or approve other rosters, not this one; mo may release
other rosters, not one whose payment he prepared.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from benefits import services
from socialsec.core.choices import Role
from socialsec.core.exceptions import (
    InvalidState,
    NotPermitted,
    NotVisible,
    SegregationOfDutiesViolation,
)
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.services import BankLineResult
from tests.factories import UserFactory
from tests.rosters.factories import draft_roster

pytestmark = pytest.mark.django_db

S = RosterStatus
STATES = [
    S.DRAFT,
    S.SUBMITTED,
    S.CHECKED,
    S.APPROVED,
    "prepared",
    S.PAYING,
    S.PAID,
    S.PARTIALLY_PAID,
    S.CANCELLED,
]
STEPS = ["submit", "check", "approve", "prepare-payment", "pay", "return", "cancel", "bank-receipt"]
ACTORS = ["maker_ann", "checker_ben", "approver_cai", "accountant_dan", "cashier_fay", "auditor_gus",
          "outsider_eve", "lee", "mo"]  # fmt: skip

# Who holds the permission of each step (the roles of tests/conftest.py and the two extras).
ROLE = {
    "submit": {"maker_ann", "outsider_eve", "lee"},
    "cancel": {"maker_ann", "outsider_eve", "lee"},
    "check": {"checker_ben", "lee"},
    "approve": {"approver_cai", "lee"},
    # Returning needs the checker's or the approver's permission.
    "return": {"checker_ben", "approver_cai", "lee"},
    "prepare-payment": {"accountant_dan", "mo"},
    "pay": {"cashier_fay", "mo"},
    "bank-receipt": {"accountant_dan", "cashier_fay", "mo"},
}
# The states each step starts from ("prepared": APPROVED with the payment instruction prepared).
SOURCES = {
    "submit": {S.DRAFT},
    "cancel": {S.DRAFT},
    "check": {S.SUBMITTED},
    "approve": {S.CHECKED},
    "return": {S.SUBMITTED, S.CHECKED},
    "prepare-payment": {S.APPROVED},
    "pay": {"prepared"},
    "bank-receipt": {S.PAYING},
}
# Returning is the checker's from SUBMITTED and the approver's from CHECKED: holding the other
# permission passes the door, not the step.
RETURNS = {S.SUBMITTED: {"checker_ben", "lee"}, S.CHECKED: {"approver_cai", "lee"}}
# The same person repeating their own step: nothing happens, no error.
NO_OPS = {
    (S.SUBMITTED, "submit", "lee"),
    (S.CHECKED, "check", "checker_ben"),
    (S.APPROVED, "approve", "approver_cai"),
    ("prepared", "approve", "approver_cai"),
    ("prepared", "prepare-payment", "mo"),
    (S.PAYING, "pay", "cashier_fay"),
    (S.CANCELLED, "cancel", "lee"),
    # The same receipt (every line paid) recorded again changes nothing, whoever uploads it.
    (S.PAID, "bank-receipt", "accountant_dan"),
    (S.PAID, "bank-receipt", "cashier_fay"),
    (S.PAID, "bank-receipt", "mo"),
}
# Segregation of duties on this roster (E22): the rule each refusal names.
SEGREGATION = {
    (S.SUBMITTED, "check", "lee"): "checker_is_maker",
    (S.SUBMITTED, "return", "lee"): "checker_is_maker",
    (S.CHECKED, "approve", "lee"): "approver_is_maker",
    (S.CHECKED, "return", "lee"): "approver_is_maker",
    ("prepared", "pay", "mo"): "cashier_is_accountant",
}


def expected(state: str, step: str, actor: str) -> str:
    if actor not in ROLE[step]:
        return "403 role"
    if actor == "outsider_eve":
        return "404"
    if (state, step, actor) in NO_OPS:
        return "no-op"
    if state not in SOURCES[step]:
        return "409"
    if step == "return" and actor not in RETURNS[state]:
        return "403 role"
    if (state, step, actor) in SEGREGATION:
        return f"403 {SEGREGATION[state, step, actor]}"
    return "ok"


@pytest.fixture
def lee(cast):
    return UserFactory(
        username="lee",
        roles=[Role.CLERK, Role.SECTION_CHIEF, Role.LEADER_IN_CHARGE],
        townships=[cast.township_a],
    )


@pytest.fixture
def mo(cast):
    return UserFactory(
        username="mo", roles=[Role.FINANCE, Role.ACCOUNTANT, Role.CASHIER], townships=[cast.township_a]
    )


def roster_in_state(state: str, cast, lee, mo):
    roster = draft_roster(cast, by=lee)
    path = [
        (S.SUBMITTED, "submit", lee),
        (S.CHECKED, "check", cast.checker_ben),
        (S.APPROVED, "approve", cast.approver_cai),
        ("prepared", "prepare-payment", mo),
        (S.PAYING, "pay", cast.cashier_fay),
    ]
    if state == S.CANCELLED:
        return services.payout_roster_cancel(roster_id=roster.pk, by=lee, reason="重复生成")
    target = S.PAYING if state in (S.PAID, S.PARTIALLY_PAID) else state
    for reached, step, user in path:
        if state == S.DRAFT:
            break
        roster = services.payout_roster_take_step(roster_id=roster.pk, step=step, by=user)
        if reached == target:
            break
    if state in (S.PAID, S.PARTIALLY_PAID):
        roster = services.payout_roster_record_bank_receipt(
            roster_id=roster.pk,
            results=[*all_paid(1, 2, 3)]
            if state == S.PAID
            else [BankLineResult(1, False, "账户已销户"), *all_paid(2, 3)],
            by=cast.accountant_dan,
        )
    return roster


def all_paid(*seqs: int) -> list[BankLineResult]:
    return [BankLineResult(seq=seq, paid=True) for seq in seqs]


def attempt(roster, step: str, user) -> str:
    snapshot = (roster.status, roster.prepared_by_id)
    try:
        if step == "bank-receipt":
            after = services.payout_roster_record_bank_receipt(
                roster_id=roster.pk, results=all_paid(1, 2, 3), by=user
            )
        else:
            after = services.payout_roster_take_step(roster_id=roster.pk, step=step, by=user, note="理由")
    except NotVisible:
        return "404"
    except SegregationOfDutiesViolation as error:
        return f"403 {error.details['rule']}"
    except NotPermitted as error:
        return f"403 {error.details['rule']}"
    except InvalidState:
        return "409"
    return "ok" if (after.status, after.prepared_by_id) != snapshot else "no-op"


@pytest.mark.parametrize("state", STATES)
def test_every_step_by_every_actor_from_this_state(cast, lee, mo, state):
    roster = roster_in_state(state, cast, lee, mo)
    users = {name: getattr(cast, name, None) for name in ACTORS} | {"lee": lee, "mo": mo}
    wrong = []
    for step in STEPS:
        for actor in ACTORS:
            with transaction.atomic():  # each attempt starts from the same roster
                outcome = attempt(roster, step, users[actor])
                transaction.set_rollback(True)
            roster.refresh_from_db()
            if outcome != expected(state, step, actor):
                wrong.append(
                    f"{state} × {step} × {actor}: {outcome}, expected {expected(state, step, actor)}"
                )
    assert wrong == []


def test_the_table_reaches_every_outcome():
    # A table that never allows, never no-ops or never refuses would prove little.
    outcomes = {expected(state, step, actor) for state in STATES for step in STEPS for actor in ACTORS}
    assert outcomes == {
        "ok",
        "no-op",
        "404",
        "409",
        "403 role",
        "403 checker_is_maker",
        "403 approver_is_maker",
        "403 cashier_is_accountant",
    }
