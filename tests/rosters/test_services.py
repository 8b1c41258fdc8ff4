"""The roster services: generation, each step's rule, no-ops, audit, side effects, receipts, re-issue.

DOMAIN §8.2 (PayoutRoster, segregation of duties), §8.3 (roster, bank receipt round trip), E22.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from benefits import services
from benefits.choices import BenefitProgramme
from benefits.models import PayoutLine, PayoutRoster
from socialsec.core.choices import Role
from socialsec.core.exceptions import (
    InvalidInput,
    InvalidState,
    NotPermitted,
    NotVisible,
    SegregationOfDutiesViolation,
)
from socialsec.core.roles import ROLE_PERMISSIONS
from socialsec.rosters import workflow
from socialsec.rosters.choices import BankResult, RosterStatus
from socialsec.rosters.selectors import available_steps, roster_timeline
from socialsec.rosters.services import BankLineResult, LineInput
from socialsec.rosters.signals import roster_step_committed
from tests.factories import PersonFactory, UserFactory
from tests.rosters.factories import (
    NOVEMBER,
    OCTOBER,
    advance,
    draft_roster,
    payees,
    roster_in,
    settle,
)

pytestmark = pytest.mark.django_db


def step_events(roster: PayoutRoster, step: str) -> int:
    return roster.events.filter(pgh_context__metadata__step=step).count()


# --- Generation ------------------------------------------------------------------------------------


def test_a_draft_is_generated_from_a_set_of_lines_with_the_accounts_as_they_are(cast):
    persons = payees(cast.village_a, 3)
    persons[2].bank_account_number = ""
    persons[2].card_number = "360121000000000099"
    persons[2].save()
    lines = [
        LineInput(person_id=persons[0].pk, basic=Decimal("143.00"), account=Decimal("21.58")),
        LineInput(person_id=persons[1].pk, basic=Decimal("143.00"), back_pay=Decimal("286.00")),
        LineInput(person_id=persons[2].pk, basic=Decimal("143.00"), deduction=Decimal("43.00")),
    ]
    roster = draft_roster(cast, lines=lines)
    assert roster.status == RosterStatus.DRAFT
    assert roster.number == "RP-202510-360121100-1"
    assert (roster.total_persons, roster.total_amount) == (3, Decimal("693.58"))
    assert roster.created_by == cast.maker_ann
    rows = list(
        roster.lines.order_by("seq").values_list("seq", "person_id", "net", "account_number", "period")
    )
    assert rows == [
        (
            1,
            persons[0].pk,
            Decimal("164.58"),
            persons[0].bank_account_number,
            OCTOBER,
        ),  # DOMAIN E1: BP + 21.58
        (2, persons[1].pk, Decimal("429.00"), persons[1].bank_account_number, OCTOBER),
        (3, persons[2].pk, Decimal("100.00"), "360121000000000099", OCTOBER),  # no bank account: the card
    ]
    assert [entry.step for entry in roster_timeline(roster)] == ["generate"]


@pytest.mark.usefixtures("english_messages")
def test_generating_needs_the_clerks_permission_and_a_township_of_ones_own(cast):
    with pytest.raises(NotPermitted):
        draft_roster(cast, by=cast.checker_ben)
    with pytest.raises(NotVisible):
        draft_roster(cast, township=cast.township_b, persons=payees(cast.village_b, 1), by=cast.maker_ann)
    with pytest.raises(NotPermitted, match="county"):
        draft_roster(cast, township=None, persons=[], by=cast.maker_ann)


@pytest.mark.usefixtures("english_messages")
def test_a_second_roster_for_the_same_programme_month_and_township_is_refused_with_the_first_ones_number(
    cast,
):
    first = draft_roster(cast)
    with pytest.raises(InvalidState, match=f"Roster {first.number} already covers") as refused:
        draft_roster(cast)
    assert refused.value.details["number"] == first.number
    # Another month, or another programme, is another roster.
    assert draft_roster(cast, period=NOVEMBER).number == "RP-202511-360121100-1"
    unemployment = draft_roster(cast, programme=BenefitProgramme.UNEMPLOYMENT_BENEFIT)
    assert unemployment.number == "UB-202510-360121100-1"


def test_a_county_roster_and_a_township_roster_of_the_same_month_exclude_each_other(cast):
    county_clerk = UserFactory(username="county_clerk", roles=[Role.CLERK], county_wide=True)
    township_roster = draft_roster(cast)
    with pytest.raises(InvalidState) as refused:
        draft_roster(cast, township=None, persons=payees(cast.village_b, 1), by=county_clerk)
    assert refused.value.details["number"] == township_roster.number
    county = draft_roster(
        cast, period=NOVEMBER, township=None, persons=payees(cast.village_b, 1), by=county_clerk
    )
    assert county.number == "RP-202511-360121-1"
    with pytest.raises(InvalidState, match=county.number):
        draft_roster(cast, period=NOVEMBER)


def test_a_cancelled_roster_frees_its_month_and_its_persons(cast):
    persons = payees(cast.village_a, 2)
    first = draft_roster(cast, persons=persons)
    services.payout_roster_cancel(roster_id=first.pk, by=cast.maker_ann, reason="金额有误")
    assert set(first.lines.values_list("roster_cancelled", flat=True)) == {True}
    second = draft_roster(cast, persons=persons)
    assert second.number == "RP-202510-360121100-2"


@pytest.mark.usefixtures("english_messages")
def test_a_person_already_paid_for_the_month_on_another_roster_is_refused_naming_it(cast):
    # The person moved from Township A to B after A's October roster was made (issue 4: no double payment).
    person = payees(cast.village_a, 1)[0]
    october_a = draft_roster(cast, persons=[person])
    person.village, person.township = cast.village_b, cast.township_b
    person.save()
    clerk_b = cast.outsider_eve
    with pytest.raises(InvalidState, match=f"already on roster {october_a.number}"):
        draft_roster(cast, township=cast.township_b, persons=[person], by=clerk_b)


@pytest.mark.usefixtures("english_messages")
def test_bad_lines_are_refused_before_anything_is_written(cast):
    stranger = PersonFactory(village=cast.village_b, bank_account_number="6217000000000000001")
    with pytest.raises(InvalidInput, match="not registered in this roster's township"):
        draft_roster(cast, persons=[*payees(cast.village_a, 1), stranger])
    no_account = PersonFactory(village=cast.village_a)
    with pytest.raises(InvalidInput, match="no card or bank account"):
        draft_roster(cast, persons=[no_account])
    twice = payees(cast.village_a, 1)
    with pytest.raises(InvalidInput, match="twice"):
        draft_roster(cast, persons=twice * 2)
    with pytest.raises(InvalidInput, match="deduction"):
        draft_roster(cast, lines=[LineInput(person_id=twice[0].pk, basic=Decimal(1), deduction=Decimal(2))])
    assert not PayoutRoster.objects.exists()
    assert not PayoutLine.objects.exists()


# --- Steps -------------------------------------------------------------------------------------------


def test_submit_fixes_the_totals_and_the_digest_and_an_empty_roster_cannot_be_submitted(cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    assert roster.made_by == cast.maker_ann
    assert len(roster.digest) == 64
    assert (roster.total_persons, roster.total_amount) == (3, Decimal("493.74"))
    empty = draft_roster(cast, period=NOVEMBER, lines=[])
    with pytest.raises(InvalidState, match=empty.number):
        services.payout_roster_submit(roster_id=empty.pk, by=cast.maker_ann)


@pytest.mark.parametrize(
    ("status", "step", "actor"),
    [
        (RosterStatus.SUBMITTED, "submit", "maker_ann"),
        (RosterStatus.CHECKED, "check", "checker_ben"),
        (RosterStatus.APPROVED, "approve", "approver_cai"),
        ("prepared", "prepare-payment", "accountant_dan"),
        (RosterStatus.PAYING, "pay", "cashier_fay"),
    ],
)
def test_the_same_person_repeating_a_step_changes_nothing_and_writes_no_second_audit_entry(
    cast, status, step, actor
):
    roster = roster_in(status, cast)
    before = (roster.status, roster.events.count(), roster.updated_at)
    again = services.payout_roster_take_step(roster_id=roster.pk, step=step, by=getattr(cast, actor))
    again.refresh_from_db()
    assert (again.status, again.events.count(), again.updated_at) == before
    assert step_events(roster, step) == 1


@pytest.mark.usefixtures("english_messages")
def test_a_wrong_state_is_409_naming_the_roster_and_its_state(cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    with pytest.raises(
        InvalidState, match=rf"Roster {roster.number} is Submitted; the step “Approve”"
    ) as refused:
        services.payout_roster_approve(roster_id=roster.pk, by=cast.approver_cai)
    assert refused.value.details == {
        "roster_ids": [roster.pk],
        "number": roster.number,
        "status": "submitted",
        "step": "approve",
    }


def test_another_townships_roster_is_not_found_for_a_step(cast):
    roster = draft_roster(cast)
    with pytest.raises(NotVisible):
        services.payout_roster_submit(roster_id=roster.pk, by=cast.outsider_eve)


@pytest.mark.usefixtures("english_messages")
def test_release_waits_for_the_accountants_payment_instruction(cast):
    roster = roster_in(RosterStatus.APPROVED, cast)
    with pytest.raises(InvalidState, match="has not been prepared yet"):
        services.payout_roster_pay(roster_id=roster.pk, by=cast.cashier_fay)
    assert available_steps(roster, cast.cashier_fay) == []
    assert available_steps(roster, cast.accountant_dan) == ["prepare-payment"]
    roster = services.payout_roster_prepare_payment(roster_id=roster.pk, by=cast.accountant_dan)
    assert roster.bank_batch.startswith(roster.number)
    assert available_steps(roster, cast.cashier_fay) == ["pay"]
    other_accountant = UserFactory(
        username="accountant_kai", roles=[Role.FINANCE, Role.ACCOUNTANT], townships=[cast.township_a]
    )
    with pytest.raises(InvalidState, match="already been prepared"):
        services.payout_roster_prepare_payment(roster_id=roster.pk, by=other_accountant)


def test_a_return_needs_a_reason_and_sends_the_roster_back_for_a_new_round(cast):
    roster = roster_in(RosterStatus.CHECKED, cast)
    with pytest.raises(InvalidInput):
        services.payout_roster_return(roster_id=roster.pk, by=cast.approver_cai, reason="  ")
    roster = services.payout_roster_return(roster_id=roster.pk, by=cast.approver_cai, reason="第3行金额有误")
    assert roster.status == RosterStatus.DRAFT
    assert (roster.made_by, roster.checked_by, roster.digest) == (None, None, "")
    assert (roster.returned_by, roster.return_reason) == (cast.approver_cai, "第3行金额有误")
    # Back in DRAFT the lines may be corrected; the next submit takes a new digest over them.
    old_digest = roster.events.filter(status=RosterStatus.SUBMITTED).values_list("digest", flat=True).first()
    roster.lines.filter(seq=3).update(deduction=Decimal("10.00"), net=Decimal("154.58"))
    roster = services.payout_roster_submit(roster_id=roster.pk, by=cast.maker_ann)
    assert roster.digest != old_digest
    assert roster.total_amount == Decimal("483.74")
    timeline = [(entry.step, entry.by, entry.note) for entry in roster_timeline(roster)]
    assert timeline == [
        ("generate", "maker_ann", ""),
        ("submit", "maker_ann", ""),
        ("check", "checker_ben", ""),
        ("return", "approver_cai", "第3行金额有误"),
        ("submit", "maker_ann", ""),
    ]


def test_cancel_needs_a_reason_and_only_a_draft_is_cancelled(cast):
    roster = draft_roster(cast)
    with pytest.raises(InvalidInput):
        services.payout_roster_cancel(roster_id=roster.pk, by=cast.maker_ann, reason="")
    submitted = roster_in(RosterStatus.SUBMITTED, cast, period=NOVEMBER)
    with pytest.raises(InvalidState):
        services.payout_roster_cancel(roster_id=submitted.pk, by=cast.maker_ann, reason="重复")
    roster = services.payout_roster_cancel(roster_id=roster.pk, by=cast.maker_ann, reason="重复生成")
    assert (roster.status, roster.cancelled_by, roster.cancel_reason) == (
        RosterStatus.CANCELLED,
        cast.maker_ann,
        "重复生成",
    )
    # The lines' flag is set by the database in the same statement, and audited under the same step.
    from benefits.models import PayoutLineEvent

    flagged = PayoutLineEvent.objects.filter(
        pgh_obj__roster=roster, roster_cancelled=True, pgh_label="update"
    )
    assert flagged.count() == 3
    assert {event.pgh_context.metadata["step"] for event in flagged} == {"cancel"}


def test_side_effects_run_after_the_commit_and_not_before(cast, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, roster_id, step, by_id, **kwargs):
        received.append((sender, roster_id, step, by_id))

    roster_step_committed.connect(receiver)
    try:
        roster = draft_roster(cast)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.payout_roster_submit(roster_id=roster.pk, by=cast.maker_ann)
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert received == [(PayoutRoster, roster.pk, "submit", cast.maker_ann.pk)]
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.payout_roster_submit(roster_id=roster.pk, by=cast.maker_ann)  # a no-op
        assert callbacks == []
    finally:
        roster_step_committed.disconnect(receiver)


# --- Segregation of duties through the service (DOMAIN §8.2, E22) ----------------------------------------

_POST_STEPS = {"maker": "submit", "checker": "check", "approver": "approve", "accountant": "prepare-payment",
               "cashier": "pay"}  # fmt: skip
_CAST = {"maker": "maker_ann", "checker": "checker_ben", "approver": "approver_cai",
         "accountant": "accountant_dan", "cashier": "cashier_fay"}  # fmt: skip
_PAIRS = [
    (earlier.name, later.name) for i, later in enumerate(workflow.POSTS) for earlier in workflow.POSTS[:i]
]


@pytest.mark.parametrize(("earlier", "later"), _PAIRS)
def test_one_person_may_not_hold_two_posts_on_one_roster(cast, earlier, later):
    """E22: five different people. A user holding every role still takes one post per roster."""
    everything = UserFactory(
        username="all_roles_wu",
        roles=[
            Role.CLERK,
            Role.SECTION_CHIEF,
            Role.LEADER_IN_CHARGE,
            Role.FINANCE,
            Role.ACCOUNTANT,
            Role.CASHIER,
        ],
        townships=[cast.township_a],
    )
    roster = draft_roster(cast)
    for post in workflow.POSTS:
        step = _POST_STEPS[post.name]
        user = everything if post.name in (earlier, later) else getattr(cast, _CAST[post.name])
        if post.name == later:
            with pytest.raises(SegregationOfDutiesViolation) as refused:
                services.payout_roster_take_step(roster_id=roster.pk, step=step, by=user)
            assert refused.value.details["rule"] == f"{later}_is_{earlier}"
            assert workflow.permission_name(roster, "view") == "benefits.view_payoutroster"
            return
        roster = services.payout_roster_take_step(roster_id=roster.pk, step=step, by=user)


def test_the_receipt_is_recorded_by_finance_not_by_the_business_posts(cast):
    lee = UserFactory(username="lee", roles=[Role.SECTION_CHIEF, Role.FINANCE], townships=[cast.township_a])
    roster = draft_roster(cast)
    roster = services.payout_roster_submit(roster_id=roster.pk, by=cast.maker_ann)
    roster = services.payout_roster_check(roster_id=roster.pk, by=lee)
    roster = advance(roster, cast, RosterStatus.PAYING)
    with pytest.raises(SegregationOfDutiesViolation) as refused:
        settle(roster, cast, by=lee)
    assert refused.value.details["rule"] == "finance_is_checker"


def test_the_roles_hold_the_permission_of_their_step_and_no_other():
    perms = {
        role: {p for p in ROLE_PERMISSIONS[role] if p.startswith("benefits.") and p.endswith("_payoutroster")}
        for role in ROLE_PERMISSIONS
    }
    view = "benefits.view_payoutroster"
    assert perms[Role.CLERK] == {view, "benefits.add_payoutroster", "benefits.submit_payoutroster"}
    assert perms[Role.SECTION_CHIEF] == {view, "benefits.check_payoutroster"}
    assert perms[Role.LEADER_IN_CHARGE] == {view, "benefits.approve_payoutroster"}
    assert perms[Role.FINANCE] == {view, "benefits.record_bank_receipt_payoutroster"}
    assert perms[Role.ACCOUNTANT] == {"benefits.prepare_payment_payoutroster"}
    assert perms[Role.CASHIER] == {"benefits.pay_payoutroster"}
    assert perms[Role.AUDITOR] == {view}
    assert perms[Role.COUNTY_LEADER] == perms[Role.ADMIN] == set()


# --- The bank's receipt (DOMAIN §8.3 round trip, E22 step 5) ----------------------------------------------


def test_a_receipt_with_failures_leaves_the_roster_partially_paid_and_adds_up(cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    roster = settle(roster, cast, failed=1)
    assert roster.status == RosterStatus.PARTIALLY_PAID
    assert (roster.paid_persons, roster.paid_amount) == (2, Decimal("329.16"))
    assert (roster.failed_persons, roster.failed_amount) == (1, Decimal("164.58"))
    assert roster.paid_amount + roster.failed_amount == roster.total_amount  # E22 step 6
    failed = roster.lines.get(bank_status=BankResult.FAILED)
    assert (failed.seq, failed.bank_message) == (3, "账户已销户")


def test_the_same_receipt_twice_changes_nothing_and_a_different_one_is_refused(cast):
    roster = settle(roster_in(RosterStatus.PAYING, cast), cast, failed=1)
    events = roster.events.count()
    same = [BankLineResult(1, True), BankLineResult(2, True), BankLineResult(3, False, "账户已销户")]
    again = services.payout_roster_record_bank_receipt(roster_id=roster.pk, results=same, by=cast.cashier_fay)
    assert (again.status, again.events.count()) == (RosterStatus.PARTIALLY_PAID, events)
    different = [BankLineResult(1, True), BankLineResult(2, True), BankLineResult(3, True)]
    with pytest.raises(InvalidState):
        services.payout_roster_record_bank_receipt(
            roster_id=roster.pk, results=different, by=cast.cashier_fay
        )


@pytest.mark.parametrize(
    "results",
    [
        [BankLineResult(1, True), BankLineResult(2, True)],  # a line missing
        [BankLineResult(1, True), BankLineResult(2, True), BankLineResult(2, True)],  # a line twice
        [BankLineResult(1, True), BankLineResult(2, True), BankLineResult(9, True)],  # not on the roster
    ],
)
def test_a_receipt_must_name_every_line_once(cast, results):
    roster = roster_in(RosterStatus.PAYING, cast)
    with pytest.raises(InvalidInput):
        services.payout_roster_record_bank_receipt(
            roster_id=roster.pk, results=results, by=cast.accountant_dan
        )
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING
    assert set(roster.lines.values_list("bank_status", flat=True)) == {BankResult.PENDING}


# --- Re-issue of failed lines (issue 4, DOMAIN E22 step 5) ----------------------------------------------


def _reissue(cast, failed_line, *, period=NOVEMBER, extra=()):
    line = LineInput(
        person_id=failed_line.person_id,
        back_pay=failed_line.net,
        account_number="6217000099990000001",
        bank_name="农商银行",
        period=failed_line.period,
        reissue_of_id=failed_line.pk,
    )
    return draft_roster(cast, period=period, lines=[line, *extra])


@pytest.mark.usefixtures("english_messages")
def test_a_failed_line_is_reissued_once_on_a_later_roster(cast):
    october = settle(roster_in(RosterStatus.PAYING, cast), cast, failed=1)
    failed = october.lines.get(bank_status=BankResult.FAILED)
    november = _reissue(cast, failed)
    line = november.lines.get()
    assert (line.reissue_of_id, line.period, line.net) == (failed.pk, OCTOBER, Decimal("164.58"))
    services.payout_roster_cancel(roster_id=november.pk, by=cast.maker_ann, reason="账户待核实")
    # Cancelled, the re-issue does not count; a new one may be made, and only one.
    again = _reissue(cast, failed)
    assert again.lines.get().reissue_of_id == failed.pk
    # October is now on the new November roster for that person: a third attempt is a double payment.
    with pytest.raises(InvalidState, match=rf"already on roster {again.number}"):
        _reissue(cast, failed, period=dt.date(2025, 12, 1))


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize("what", ["a paid line", "an earlier roster"])
def test_only_a_failed_line_is_reissued_and_only_on_a_later_roster(cast, what):
    october = settle(roster_in(RosterStatus.PAYING, cast), cast, failed=1)
    line = october.lines.get(seq=1 if what == "a paid line" else 3)
    if what == "a paid line":  # paid in October, it still counts: October is paid for that person
        with pytest.raises(InvalidState, match=rf"already on roster {october.number}"):
            _reissue(cast, line, period=NOVEMBER)
    else:
        with pytest.raises(InvalidState, match=rf"Lines {line.pk} cannot be re-issued here"):
            _reissue(cast, line, period=dt.date(2025, 9, 1))


@pytest.mark.usefixtures("english_messages")
def test_a_line_pays_another_month_than_its_rosters_only_as_a_reissue(cast):
    october = settle(roster_in(RosterStatus.PAYING, cast), cast, failed=1)
    failed = october.lines.get(bank_status=BankResult.FAILED)
    line = LineInput(person_id=failed.person_id, basic=Decimal("143.00"), period=OCTOBER)
    with pytest.raises(InvalidInput, match="only when it re-issues"):
        draft_roster(cast, period=NOVEMBER, lines=[line])
