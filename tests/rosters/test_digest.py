"""The digest taken at submit, and every later step refusing a roster whose lines changed (issue 4).

The changes here are made by raw SQL with the line guard switched off for the statement: the way a
database administrator, or an attacker with the table owner's rights, could still change a line.
"""

from __future__ import annotations

import hashlib

import pgtrigger
import pytest
from django.db import connection

from benefits import services
from benefits.models import PayoutLine
from socialsec.rosters import digest
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.exceptions import RosterDigestMismatch
from socialsec.rosters.services import BankLineResult
from tests.rosters.factories import payees, roster_in

pytestmark = pytest.mark.django_db

LINES = PayoutLine._meta.db_table
GUARDS = ("benefits.PayoutLine:lines_update_guard", "benefits.PayoutLine:lines_delete_guard",
          "benefits.PayoutLine:lines_insert_guard")  # fmt: skip


def tamper(statement: str, params: list) -> None:
    with pgtrigger.ignore(*GUARDS), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_digest_is_sha256_over_the_documented_text(cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    lines = [
        "|".join(
            str(value)
            for value in (
                line.seq,
                line.person_id,
                f"{line.period:%Y-%m}",
                line.basic,
                line.account,
                line.top_up,
                line.back_pay,
                line.deduction,
                line.net,
                line.account_number,
                line.bank_name,
                line.reissue_of_id or "",
            )
        )
        for line in roster.lines.order_by("seq")
    ]
    text = "\n".join(
        [
            f"{roster.number}|resident_pension|2025-10|{cast.township_a.code}",
            str(roster.total_persons),
            str(roster.total_amount),
            *lines,
        ]
    )
    assert roster.digest == hashlib.sha256(text.encode()).hexdigest()
    assert digest.matches(roster)


_CHANGES = {
    "the amount": "UPDATE {t} SET basic = basic + 1, net = net + 1 WHERE roster_id = {roster} AND seq = 2",
    "the account": "UPDATE {t} SET account_number = '6217000011112222333' "
    "WHERE roster_id = {roster} AND seq = 2",
    "the person": "UPDATE {t} SET person_id = {newcomer} WHERE roster_id = {roster} AND seq = 1",
    "a line removed": "DELETE FROM {t} WHERE roster_id = {roster} AND seq = 3",
}


@pytest.mark.parametrize("change", _CHANGES)
def test_the_next_step_refuses_a_roster_whose_lines_changed_after_submit(cast, change):
    roster = roster_in(RosterStatus.CHECKED, cast)
    newcomer = payees(cast.village_a, 1)[0]
    tamper(_CHANGES[change].format(t=LINES, roster=roster.pk, newcomer=newcomer.pk), [])
    with pytest.raises(RosterDigestMismatch) as refused:
        services.payout_roster_approve(roster_id=roster.pk, by=cast.approver_cai)
    assert refused.value.details["number"] == roster.number
    roster.refresh_from_db()
    assert roster.status == RosterStatus.CHECKED


@pytest.mark.parametrize(
    ("status", "step", "actor"),
    [
        (RosterStatus.SUBMITTED, "check", "checker_ben"),
        (RosterStatus.CHECKED, "approve", "approver_cai"),
        (RosterStatus.APPROVED, "prepare-payment", "accountant_dan"),
        ("prepared", "pay", "cashier_fay"),
        (RosterStatus.PAYING, "bank-receipt", "accountant_dan"),
    ],
)
def test_every_step_after_submit_verifies_the_digest(cast, status, step, actor):
    roster = roster_in(status, cast)
    tamper(f"UPDATE {LINES} SET deduction = 1, net = net - 1 WHERE roster_id = %s AND seq = 1", [roster.pk])
    user = getattr(cast, actor)
    with pytest.raises(RosterDigestMismatch):
        if step == "bank-receipt":
            results = [BankLineResult(seq, True) for seq in (1, 2, 3)]
            services.payout_roster_record_bank_receipt(roster_id=roster.pk, results=results, by=user)
        else:
            services.payout_roster_take_step(roster_id=roster.pk, step=step, by=user)


def test_the_api_answers_409_digest_mismatch(api, cast):
    roster = roster_in(RosterStatus.CHECKED, cast)
    tamper(
        f"UPDATE {LINES} SET net = net + 1, top_up = top_up + 1 WHERE roster_id = %s AND seq = 1", [roster.pk]
    )
    response = api.as_user(cast.approver_cai).post(f"/api/rosters/{roster.pk}/approve/")
    assert response.status_code == 409
    assert response.json()["error"] == "digest_mismatch"
    assert response.json()["number"] == roster.number


def test_a_return_to_draft_is_the_way_out_and_the_next_submit_takes_a_new_digest(cast):
    roster = roster_in(RosterStatus.CHECKED, cast)
    tamper(
        f"UPDATE {LINES} SET net = net + 1, top_up = top_up + 1 WHERE roster_id = %s AND seq = 1", [roster.pk]
    )
    roster = services.payout_roster_return(
        roster_id=roster.pk, by=cast.approver_cai, reason="第1行与底册不符"
    )
    roster = services.payout_roster_submit(roster_id=roster.pk, by=cast.maker_ann)
    assert digest.matches(roster)
