"""A Hypothesis state machine over the roster workflow (issue 4 "Tests that must exist"; DOMAIN §8.2, E22).

Random sequences of generation, every step by every kind of actor (including a user holding every
business role and one holding both finance posts), and bank receipts with random failures; after
each one the invariants must hold:
- every roster is in one of the workflow's states;
- every released roster has five different people behind it (maker, checker, approver,
  accountant, cashier), none missing;
- a settled roster pays what was approved: Σ paid + Σ failed = the total at approval, Σ paid is the
  sum of the lines the bank paid, and a PAID roster paid all of it;
- one audit entry per transition (a no-op or a refusal writes none);
- no person is paid twice for a programme and month, and every submitted roster's digest holds.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from benefits import services
from benefits.choices import BenefitProgramme
from benefits.models import PayoutRoster
from socialsec.core.choices import Role
from socialsec.core.exceptions import DomainError
from socialsec.rosters import digest
from socialsec.rosters.choices import RELEASED_STATUSES, SETTLED_STATUSES, BankResult, RosterStatus
from socialsec.rosters.services import BankLineResult, LineInput
from tests.factories import UserFactory
from tests.rosters.factories import NOVEMBER, OCTOBER, payees, roster_in

STEPS = ["submit", "check", "approve", "prepare-payment", "pay", "return", "cancel"]
ACTORS = ["maker_ann", "checker_ben", "approver_cai", "accountant_dan", "cashier_fay", "auditor_gus",
          "outsider_eve", "lee", "mo"]  # fmt: skip
SEPTEMBER = OCTOBER.replace(month=9)
STARTS = [*RosterStatus.values, "prepared"]
NEXT = {
    RosterStatus.DRAFT: ("submit", "maker_ann"),
    RosterStatus.SUBMITTED: ("check", "checker_ben"),
    RosterStatus.CHECKED: ("approve", "approver_cai"),
    RosterStatus.APPROVED: ("prepare-payment", "accountant_dan"),
    "prepared": ("pay", "cashier_fay"),
}
POSTS = ("made_by_id", "checked_by_id", "approved_by_id", "prepared_by_id", "released_by_id")
amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("999.99"), places=2)


def make_machine(cast, users, persons, start: str):
    class RosterWorkflow(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # Each example runs in a savepoint rolled back at teardown: examples never see each other.
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self.rosters: list[int] = []
            self.transitions: Counter[int] = Counter()
            self.approved_total: dict[int, Decimal] = {}

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        @initialize()
        def a_roster_somewhere_in_its_life(self) -> None:
            """One roster taken by the cast to the test's start state first, so sequences start deep."""
            roster = roster_in(start, cast, persons=persons[:2], period=SEPTEMBER)
            self.rosters.append(roster.pk)
            self.transitions[roster.pk] = roster.events.exclude(
                pgh_context__metadata__step="generate"
            ).count()
            if roster.approved_by_id:
                self.approved_total[roster.pk] = roster.total_amount

        @rule(
            month=st.sampled_from([OCTOBER, NOVEMBER]),
            programme=st.sampled_from(
                [BenefitProgramme.RESIDENT_PENSION, BenefitProgramme.UNEMPLOYMENT_BENEFIT]
            ),
            chosen=st.lists(st.integers(0, len(persons) - 1), min_size=0, max_size=len(persons), unique=True),
            basic=amounts,
            maker=st.sampled_from(["maker_ann", "lee", "checker_ben"]),
        )
        def generate(self, month, programme, chosen, basic, maker) -> None:
            lines = [LineInput(person_id=persons[i].pk, basic=basic, account=Decimal(i)) for i in chosen]
            try:
                roster = services.payout_roster_create_draft(
                    programme=programme,
                    period=month,
                    township_id=cast.township_a.pk,
                    lines=lines,
                    by=users[maker],
                )
            except DomainError:
                return
            self.rosters.append(roster.pk)

        @precondition(lambda self: self.rosters)
        @rule(pick=st.integers(0, 50), step=st.sampled_from(STEPS), actor=st.sampled_from(ACTORS))
        def take_step(self, pick, step, actor) -> None:
            roster_id = self.rosters[pick % len(self.rosters)]
            before = PayoutRoster.objects.get(pk=roster_id)
            with contextlib.suppress(DomainError):  # a refusal is an outcome too; the invariants judge
                services.payout_roster_take_step(roster_id=roster_id, step=step, by=users[actor], note="备注")
            self._count(before)

        @precondition(lambda self: self.rosters)
        @rule(
            pick=st.integers(0, 50),
            failed=st.sets(st.integers(1, len(persons))),
            backwards=st.sampled_from([None, "return", "cancel"]),
        )
        def take_the_next_step_with_the_cast(self, pick, failed, backwards) -> None:
            """The E22 path, so that random sequences reach PAYING and beyond often enough."""
            roster_id = self.rosters[pick % len(self.rosters)]
            before = PayoutRoster.objects.get(pk=roster_id)
            state = (
                "prepared"
                if before.prepared_by_id and before.status == RosterStatus.APPROVED
                else before.status
            )
            if state == RosterStatus.PAYING:
                self._receipt(before, users["accountant_dan"], failed)
                return
            step, actor = NEXT.get(state, ("submit", "maker_ann"))
            if backwards == "cancel" and state == RosterStatus.DRAFT:
                step = "cancel"
            elif backwards == "return" and state in (RosterStatus.SUBMITTED, RosterStatus.CHECKED):
                step = "return"
            with contextlib.suppress(DomainError):
                services.payout_roster_take_step(roster_id=roster_id, step=step, by=users[actor], note="原因")
            self._count(before)

        @precondition(lambda self: self.rosters)
        @rule(
            pick=st.integers(0, 50),
            actor=st.sampled_from(["accountant_dan", "cashier_fay", "mo", "lee"]),
            failed=st.sets(st.integers(1, len(persons))),
        )
        def record_receipt(self, pick, actor, failed) -> None:
            self._receipt(
                PayoutRoster.objects.get(pk=self.rosters[pick % len(self.rosters)]), users[actor], failed
            )

        def _receipt(self, before: PayoutRoster, user, failed: set[int]) -> None:
            seqs = before.lines.values_list("seq", flat=True)
            results = [
                BankLineResult(seq, seq not in failed, "账户已销户" if seq in failed else "") for seq in seqs
            ]
            with contextlib.suppress(DomainError):
                services.payout_roster_record_bank_receipt(roster_id=before.pk, results=results, by=user)
            self._count(before)

        def _count(self, before: PayoutRoster) -> None:
            after = PayoutRoster.objects.get(pk=before.pk)
            if (after.status, after.prepared_by_id) != (before.status, before.prepared_by_id):
                self.transitions[before.pk] += 1
            else:
                assert after.updated_at == before.updated_at  # a refusal or a no-op changes nothing
            if after.status == RosterStatus.APPROVED and before.status == RosterStatus.CHECKED:
                self.approved_total[before.pk] = after.total_amount

        @invariant()
        def only_the_workflows_states(self) -> None:
            assert set(PayoutRoster.objects.values_list("status", flat=True)) <= set(RosterStatus.values)

        @invariant()
        def five_different_people_behind_every_released_roster(self) -> None:
            for posts in PayoutRoster.objects.filter(status__in=RELEASED_STATUSES).values_list(*POSTS):
                assert None not in posts
                assert len(set(posts)) == 5

        @invariant()
        def a_settled_roster_pays_what_was_approved(self) -> None:
            for roster in PayoutRoster.objects.filter(status__in=SETTLED_STATUSES):
                approved = self.approved_total[roster.pk]
                assert roster.paid_amount + roster.failed_amount == approved == roster.total_amount
                paid = roster.lines.filter(bank_status=BankResult.PAID).aggregate(s=Sum("net"))["s"] or 0
                assert roster.paid_amount == paid
                if roster.status == RosterStatus.PAID:
                    assert roster.paid_amount == approved

        @invariant()
        def one_audit_entry_per_transition(self) -> None:
            for roster_id in self.rosters:
                roster = PayoutRoster(pk=roster_id)
                entries = roster.events.filter(pgh_context__metadata__has_key="step").exclude(
                    pgh_context__metadata__step="generate"
                )
                assert entries.count() == self.transitions[roster_id]

        @invariant()
        def nobody_is_paid_twice_and_digests_hold(self) -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    """SELECT programme, person_id, period FROM benefits_payoutline
                       WHERE NOT roster_cancelled AND bank_status <> 'failed'
                       GROUP BY 1, 2, 3 HAVING count(*) > 1"""
                )
                assert cursor.fetchall() == []
            for roster in PayoutRoster.objects.exclude(
                status__in=[RosterStatus.DRAFT, RosterStatus.CANCELLED]
            ):
                assert digest.matches(roster)

    return RosterWorkflow


@pytest.mark.django_db
@pytest.mark.parametrize("start", STARTS)
def test_the_workflow_keeps_its_invariants_under_any_sequence_of_steps(cast, start):
    """Every example begins with a roster in `start` (each state of the workflow is a test)."""
    users = {name: getattr(cast, name) for name in ACTORS if hasattr(cast, name)}
    users["lee"] = UserFactory(
        username="lee",
        roles=[Role.CLERK, Role.SECTION_CHIEF, Role.LEADER_IN_CHARGE],
        townships=[cast.township_a],
    )
    users["mo"] = UserFactory(
        username="mo", roles=[Role.FINANCE, Role.ACCOUNTANT, Role.CASHIER], townships=[cast.township_a]
    )
    persons = payees(cast.village_a, 4)
    machine = make_machine(cast, users, persons, start)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=8,
            stateful_step_count=30,
            deadline=None,
            database=None,  # nothing written into the working tree
            derandomize=True,  # the same sequences every run: a failure is reproducible, never flaky
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
