"""The database guards, each refusing a raw SQL statement (issue 4; DOMAIN §8.2 frozen lines, E22).

Raw SQL is the door that bypasses every service: these are what stands behind them. Each refusal
runs in a savepoint so the test can go on and show the roster unchanged.
"""

from __future__ import annotations

import pgtrigger
import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from benefits.models import PayoutLine, PayoutRoster
from socialsec.core import audit
from socialsec.rosters.choices import BankResult, RosterStatus
from socialsec.rosters.triggers import StatusEdges
from tests.rosters.factories import NOVEMBER, draft_roster, payees, roster_in, settle

pytestmark = pytest.mark.django_db

LINES, ROSTERS = PayoutLine._meta.db_table, PayoutRoster._meta.db_table


def sql(statement: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def refused(statement: str, params: list | None = None, *, match: str, error=IntegrityError) -> None:
    with pytest.raises(error, match=match), transaction.atomic():
        sql(statement, params)


def copy_line(roster: PayoutRoster, *, person_id: int | None = None, period=None) -> str:
    """A raw INSERT of a line like the roster's first one (line number 99)."""
    line = roster.lines.order_by("seq").first()
    return f"""
        INSERT INTO {LINES} (roster_id, seq, person_id, programme, period, basic, account, top_up,
                             back_pay, deduction, net, account_number, bank_name, roster_cancelled,
                             bank_status, bank_message)
        VALUES ({roster.pk}, 99, {person_id or line.person_id}, '{line.programme}', '{period or line.period}',
                1, 0, 0, 0, 0, 1, '6217000000000000009', '', false, 'pending', '')
    """


# --- Lines are frozen once the roster leaves DRAFT ----------------------------------------------------


def test_a_line_cannot_be_added_to_a_submitted_roster(cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    newcomer = payees(cast.village_a, 1)[0]
    refused(copy_line(roster, person_id=newcomer.pk), match="lines are added only to a draft roster")
    assert roster.lines.count() == 3


@pytest.mark.parametrize("status", [RosterStatus.SUBMITTED, RosterStatus.APPROVED, RosterStatus.PAID])
def test_lines_cannot_be_changed_or_deleted_once_submitted(cast, status):
    roster = roster_in(status, cast)
    refused(
        f"UPDATE {LINES} SET account_number = '6217999999999999999' WHERE roster_id = %s",
        [roster.pk],
        match="its lines are frozen",
    )
    refused(f"DELETE FROM {LINES} WHERE roster_id = %s", [roster.pk], match="its lines are frozen")
    # An UPDATE that changes nothing is not a change.
    assert sql(f"UPDATE {LINES} SET net = net WHERE roster_id = %s", [roster.pk]) == 3


def test_a_drafts_lines_may_be_corrected_or_removed(cast):
    draft = draft_roster(cast)
    assert (
        sql(f"UPDATE {LINES} SET deduction = 1, net = net - 1 WHERE roster_id = %s AND seq = 1", [draft.pk])
        == 1
    )
    assert sql(f"DELETE FROM {LINES} WHERE roster_id = %s AND seq = 2", [draft.pk]) == 1


def test_while_paying_only_the_bank_result_of_a_line_changes(cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    assert (
        sql(
            f"UPDATE {LINES} SET bank_status = 'failed', bank_message = '户名不符' "
            "WHERE roster_id = %s AND seq = 1",
            [roster.pk],
        )
        == 1
    )
    refused(
        f"UPDATE {LINES} SET net = net + 100, basic = basic + 100 WHERE roster_id = %s AND seq = 2",
        [roster.pk],
        match="only the bank result changes while paying",
    )


def test_a_draft_line_cannot_pose_as_cancelled_or_failed_to_dodge_the_double_payment_index(cast):
    draft = draft_roster(cast)
    refused(
        f"UPDATE {LINES} SET roster_cancelled = true WHERE roster_id = %s",
        [draft.pk],
        match="flagged cancelled",
    )
    refused(
        f"UPDATE {LINES} SET bank_status = 'failed' WHERE roster_id = %s", [draft.pk], match="bank result"
    )


def test_a_line_never_moves_to_another_roster(cast):
    first = draft_roster(cast)
    second = draft_roster(cast, period=NOVEMBER)
    refused(
        f"UPDATE {LINES} SET roster_id = %s, seq = 99 WHERE roster_id = %s AND seq = 1",
        [second.pk, first.pk],
        match="never moves",
    )


# --- The roster's state, record and existence ------------------------------------------------------------


def test_the_status_moves_only_along_the_workflows_edges(cast):
    draft = draft_roster(cast)
    refused(
        f"UPDATE {ROSTERS} SET status = 'approved' WHERE id = %s",
        [draft.pk],
        match="may not move from draft to approved",
    )
    paid = roster_in(RosterStatus.PAID, cast, period=NOVEMBER)
    refused(
        f"UPDATE {ROSTERS} SET status = 'draft' WHERE id = %s",
        [paid.pk],
        match="may not move from paid to draft",
    )


def test_a_roster_row_starts_as_a_draft(cast):
    draft = draft_roster(cast)
    refused(
        f"""INSERT INTO {ROSTERS} (created_at, updated_at, number, programme, period, status, total_persons,
                total_amount, digest, bank_batch, paid_persons, paid_amount, failed_persons, failed_amount,
                return_reason, cancel_reason)
            VALUES (now(), now(), 'X-1', 'employee_pension', '2025-10-01', 'paid', 0, 0, '', '',
                    0, 0, 0, 0, '', '')""",
        match="starts as draft, not paid",
    )
    assert PayoutRoster.objects.get() == draft


def test_the_edges_trigger_is_generated_from_the_fsm_and_installed_as_generated(cast):
    assert StatusEdges(name="x").edges(PayoutRoster) == sorted(
        [
            ("approved", "paying"),
            ("checked", "approved"),
            ("checked", "draft"),
            ("draft", "cancelled"),
            ("draft", "submitted"),
            ("paying", "paid"),
            ("paying", "partially_paid"),
            ("submitted", "checked"),
            ("submitted", "draft"),
        ]
    )
    # The installed trigger is the one the current transitions render: a changed lifecycle without
    # a migration would show OUTDATED here (and makemigrations --check would fail).
    for uri in ("benefits.PayoutRoster:roster_status_edges", "benefits.PayoutLine:lines_update_guard"):
        model, trigger = pgtrigger.registered(uri)[0]
        assert trigger.get_installation_status(model) == ("INSTALLED", True)


def test_what_a_roster_is_and_who_took_its_steps_never_change_outside_a_step(cast):
    roster = roster_in(RosterStatus.APPROVED, cast)
    refused(f"UPDATE {ROSTERS} SET number = 'RP-X' WHERE id = %s", [roster.pk], match="never change")
    refused(
        f"UPDATE {ROSTERS} SET made_by_id = %s WHERE id = %s",
        [cast.admin_ivy.pk, roster.pk],
        match="made_by, made_at change only with their step",
    )
    refused(
        f"UPDATE {ROSTERS} SET total_amount = total_amount + 1 WHERE id = %s",
        [roster.pk],
        match="totals and digest are fixed",
    )


def test_a_roster_is_never_deleted(cast):
    roster = draft_roster(cast)
    assert sql(f"DELETE FROM {LINES} WHERE roster_id = %s", [roster.pk]) == 3  # a draft's lines may go
    refused(f"DELETE FROM {ROSTERS} WHERE id = %s", [roster.pk], match="Cannot delete", error=InternalError)


# --- Segregation of duties and the sums, in the database (E22) ----------------------------------------


def test_the_database_refuses_a_cashier_who_prepared_the_payment(cast):
    roster = roster_in("prepared", cast)
    # A raw release by the accountant: the edge is allowed, the five-people rule is not.
    refused(
        f"UPDATE {ROSTERS} SET status = 'paying', released_by_id = prepared_by_id, released_at = now() "
        "WHERE id = %s",
        [roster.pk],
        match="cashier_not_other_posts",
    )


@pytest.mark.parametrize(
    ("post", "other", "constraint"),
    [
        ("checked_by_id", "made_by_id", "checker_not_maker"),
        ("approved_by_id", "checked_by_id", "approver_not_maker_checker"),
        ("prepared_by_id", "approved_by_id", "accountant_not_business"),
        ("released_by_id", "made_by_id", "cashier_not_other_posts"),
    ],
)
def test_a_paid_roster_has_five_different_people_in_the_database_too(cast, post, other, constraint):
    roster = roster_in(RosterStatus.PAID, cast)
    # Even with the step-columns guard switched off, the CHECK constraints hold.
    with pgtrigger.ignore("benefits.PayoutRoster:roster_record_frozen"):
        refused(f"UPDATE {ROSTERS} SET {post} = {other} WHERE id = %s", [roster.pk], match=constraint)


def test_a_settled_roster_adds_up_in_the_database(cast):
    roster = settle(roster_in(RosterStatus.PAYING, cast), cast, failed=1)
    with pgtrigger.ignore("benefits.PayoutRoster:roster_record_frozen"):
        refused(
            f"UPDATE {ROSTERS} SET paid_amount = paid_amount + 1 WHERE id = %s",
            [roster.pk],
            match="settled_adds_up",
        )


def test_the_database_refuses_a_second_counting_line_for_a_person_and_month(cast):
    october = draft_roster(cast)
    november = draft_roster(cast, period=NOVEMBER)
    person = october.lines.get(seq=1).person_id
    # A November line paying October, not as a re-issue:
    newcomer = payees(cast.village_a, 1)[0]
    raw = copy_line(november, person_id=newcomer.pk, period=october.period)
    refused(raw, match="month is not the roster")
    # Forced past the line guard, the unique index still refuses it.
    with pgtrigger.ignore("benefits.PayoutLine:lines_insert_guard"):
        refused(copy_line(november, person_id=person, period=october.period), match="paid_once")


def test_a_failed_line_is_reissued_once_in_the_database_too(cast):
    from benefits import services
    from socialsec.rosters.services import LineInput

    october = settle(roster_in(RosterStatus.PAYING, cast), cast, failed=1)
    failed = october.lines.get(bank_status=BankResult.FAILED)
    line = LineInput(
        person_id=failed.person_id, back_pay=failed.net, period=failed.period, reissue_of_id=failed.pk
    )
    november = services.payout_roster_create_draft(
        programme=october.programme,
        period=NOVEMBER,
        township_id=cast.township_a.pk,
        lines=[line],
        by=cast.maker_ann,
    )
    december = draft_roster(cast, period=november.period.replace(month=12), count=1)
    with pgtrigger.ignore("benefits.PayoutLine:lines_insert_guard"):
        refused(
            f"""INSERT INTO {LINES} (roster_id, seq, person_id, programme, period, basic, account, top_up,
                    back_pay, deduction, net, account_number, bank_name, roster_cancelled, bank_status,
                    bank_message, reissue_of_id)
                SELECT %s, 2, person_id, programme, period, 0, 0, 0, net, 0, net, account_number, '', false,
                    'pending', '', id FROM {LINES} WHERE id = %s""",
            [december.pk, failed.pk],
            match="reissued_once|paid_once",
        )


# --- The audit trail is append-only, every event table of the project ------------------------------------


def test_every_event_table_has_the_append_only_guards_installed():
    tables = {model._meta.db_table for model in audit.event_models()}
    assert {"core_userevent", "enrollment_personevent", "benefits_payoutrosterevent"} <= tables
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, array_agg(t.tgname::text)
               FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE c.relname = ANY(%s) AND NOT t.tgisinternal GROUP BY c.relname""",
            [sorted(tables)],
        )
        installed = {table: names for table, names in cursor.fetchall()}
    missing = [
        table
        for table in sorted(tables)
        if not any(n.startswith("pgtrigger_append_only_truncate_") for n in installed.get(table, []))
        or not any(
            n.startswith("pgtrigger_append_only_") and "truncate" not in n for n in installed.get(table, [])
        )
    ]
    assert missing == []


@pytest.mark.parametrize("table", ["benefits_payoutrosterevent", "core_userevent", "enrollment_personevent"])
def test_an_event_table_refuses_update_delete_and_truncate(cast, table):
    from tests.factories import PersonFactory

    roster_in(RosterStatus.SUBMITTED, cast)
    PersonFactory(village=cast.village_a)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        (before,) = cursor.fetchone()
    assert before > 0
    refused(
        f"UPDATE {table} SET pgh_label = 'tampered'", match="Cannot update or delete", error=InternalError
    )
    refused(f"DELETE FROM {table}", match="Cannot update or delete", error=InternalError)
    refused(f"TRUNCATE {table}", match="append-only; TRUNCATE refused", error=ProgrammingError)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == before


def test_emptying_history_on_purpose_goes_through_one_door(cast):
    from socialsec.core.models import UserEvent

    with transaction.atomic():
        with audit.history_truncation_allowed([UserEvent]):
            sql("TRUNCATE core_userevent")
        assert not UserEvent.objects.exists()
        refused("TRUNCATE enrollment_personevent", match="TRUNCATE refused", error=ProgrammingError)
        transaction.set_rollback(True)
