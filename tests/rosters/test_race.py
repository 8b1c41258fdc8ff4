"""Simultaneous requests on one roster, on real PostgreSQL with one connection per thread (issue 4).

The services lock the roster row before reading its status, so concurrent clicks are decided one
at a time: one transition and one audit entry. The same person's repeats are no-ops (200, roster
unchanged); a different person's arrive after the step and are 409. Never a 500.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.rosters.choices import RosterStatus
from tests.conftest import ApiClient
from tests.factories import UserFactory
from tests.rosters.factories import roster_in

THREADS = 10  # connections at once; the requests queue behind them (the machine is shared)


def race(roster_id: int, step: str, users: list[User], requests: int) -> list[tuple[str, int, str]]:
    """`requests` POSTs of the step, alternating between the users; the first wave starts together."""
    start = threading.Barrier(THREADS)

    def post(index: int) -> tuple[str, int, str]:
        try:
            user = User.objects.get(pk=users[index % len(users)].pk)
            client = ApiClient()
            client.force_authenticate(user=user)
            if index < THREADS:
                start.wait(timeout=30)
            response = client.post(f"/api/rosters/{roster_id}/{step}/")
            return user.username, response.status_code, response.json().get("error", "")
        finally:
            connection.close()  # each thread opened its own connection

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(post, range(requests)))  # re-raises what a thread raised: no 500 hidden


def step_entries(roster, step: str) -> int:
    return roster.events.filter(pgh_context__metadata__step=step).count()


@pytest.mark.django_db(transaction=True)  # real commits: row locks only matter across connections
def test_fifty_simultaneous_approvals_by_two_approvers_make_one_transition_and_one_audit_entry(cast):
    approver_two = UserFactory(
        username="approver_dai", roles=[Role.LEADER_IN_CHARGE], townships=[cast.township_a]
    )
    roster = roster_in(RosterStatus.CHECKED, cast)
    outcomes = race(roster.pk, "approve", [cast.approver_cai, approver_two], 50)
    roster.refresh_from_db()
    winner = roster.approved_by.username
    assert roster.status == RosterStatus.APPROVED
    assert winner in ("approver_cai", "approver_dai")
    assert step_entries(roster, "approve") == 1
    by_user = {name: sorted({(status, error) for who, status, error in outcomes if who == name})
               for name in ("approver_cai", "approver_dai")}  # fmt: skip
    loser = "approver_dai" if winner == "approver_cai" else "approver_cai"
    assert by_user[winner] == [(200, "")]  # the transition, then no-ops
    assert by_user[loser] == [(409, "invalid_state")]
    assert len(outcomes) == 50


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_releases_pay_once(cast):
    cashier_two = UserFactory(
        username="cashier_gao", roles=[Role.FINANCE, Role.CASHIER], townships=[cast.township_a]
    )
    roster = roster_in("prepared", cast)
    outcomes = race(roster.pk, "pay", [cast.cashier_fay, cashier_two], 20)
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING
    assert step_entries(roster, "pay") == 1
    assert roster.events.filter(status=RosterStatus.PAYING).count() == 1
    winner = roster.released_by.username
    assert {(s, e) for who, s, e in outcomes if who == winner} == {(200, "")}
    assert {(s, e) for who, s, e in outcomes if who != winner} == {(409, "invalid_state")}
