"""The roster steps, one service each, for every roster kind (the model is an argument).

A step runs in a fixed order (STYLE §12): the caller's role (403, before anything is locked);
the roster, locked, through visible_to (404); the same person repeating the same step returns
the roster unchanged (no second audit entry); the state (409 naming the roster and its state);
segregation of duties (403 naming the rule); the digest taken at submit (409 digest_mismatch);
then the transition, the save, the audit context (step and note on the row version), and the
side effects on commit (signals.roster_step_committed).

Apps wrap these for their own roster model (benefits.services). Lines are written set-based:
one INSERT … SELECT for a whole roster, never a loop over rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import pghistory
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from socialsec.core.choices import DivisionLevel
from socialsec.core.exceptions import (
    InvalidInput,
    InvalidState,
    NotPermitted,
    NotVisible,
    SegregationOfDutiesViolation,
)
from socialsec.core.models import AdministrativeDivision
from socialsec.core.scoping import assigned_township_ids, can_see_whole_county, get_visible_or_404
from socialsec.rosters import digest, workflow
from socialsec.rosters.choices import SETTLED_STATUSES, BankResult, RosterStatus, RosterStep
from socialsec.rosters.exceptions import RosterDigestMismatch
from socialsec.rosters.signals import roster_step_committed

if TYPE_CHECKING:
    from socialsec.core.models import User
    from socialsec.rosters.models import RosterBase

R = TypeVar("R", bound="RosterBase")


# --- The steps -------------------------------------------------------------------------------------


@transaction.atomic
def roster_submit(*, model: type[R], roster_id: int, by: User, note: str = "") -> R:
    """The maker submits a draft: totals and the SHA-256 digest are taken over the lines now.

    An empty roster cannot be submitted (409).
    """

    def fix_digest(roster: RosterBase) -> dict[str, Any]:
        taken = digest.compute(roster)
        if not taken.persons:
            raise InvalidState(
                _("Roster %(number)s has no lines to submit.") % {"number": roster.number},
                roster_ids=[roster.pk],
                number=roster.number,
                status=roster.status,
            )
        return {"digest": taken.digest, "persons": taken.persons, "amount": taken.amount}

    return _take_step(
        model=model, roster_id=roster_id, step=RosterStep.SUBMIT, by=by, note=note, extra=fix_digest
    )


@transaction.atomic
def roster_check(*, model: type[R], roster_id: int, by: User, note: str = "") -> R:
    """The checker (section chief, never the maker) checks a submitted roster."""
    return _take_step(model=model, roster_id=roster_id, step=RosterStep.CHECK, by=by, note=note)


@transaction.atomic
def roster_approve(*, model: type[R], roster_id: int, by: User, note: str = "") -> R:
    """The approver (leader in charge, neither maker nor checker) approves a checked roster."""
    return _take_step(model=model, roster_id=roster_id, step=RosterStep.APPROVE, by=by, note=note)


@transaction.atomic
def roster_prepare_payment(*, model: type[R], roster_id: int, by: User, note: str = "") -> R:
    """The accountant prepares the payment instruction of an approved roster (its bank batch).

    The roster stays APPROVED; the cashier releases it next. Prepared once (409 after that).
    """

    def batch(roster: RosterBase) -> dict[str, Any]:
        return {"batch": f"{roster.number}-{timezone.localdate():%Y%m%d}"}

    return _take_step(
        model=model, roster_id=roster_id, step=RosterStep.PREPARE_PAYMENT, by=by, note=note, extra=batch
    )


@transaction.atomic
def roster_pay(*, model: type[R], roster_id: int, by: User, note: str = "") -> R:
    """The cashier releases the prepared payment instruction: APPROVED → PAYING.

    The cashier is none of the other four posts (DOMAIN E22); the instruction must be prepared.
    """
    return _take_step(model=model, roster_id=roster_id, step=RosterStep.PAY, by=by, note=note)


@transaction.atomic
def roster_return(*, model: type[R], roster_id: int, by: User, reason: str) -> R:
    """Back to DRAFT with a written reason: the checker from SUBMITTED, the approver from CHECKED."""
    missing = _("Give the reason for returning the roster.")
    return _take_step_with_reason(
        RosterStep.RETURN, missing, model=model, roster_id=roster_id, by=by, reason=reason
    )


@transaction.atomic
def roster_cancel(*, model: type[R], roster_id: int, by: User, reason: str) -> R:
    """A clerk cancels a draft, with a reason; its lines stop counting (they may go on another roster)."""
    missing = _("Give the reason for cancelling the roster.")
    return _take_step_with_reason(
        RosterStep.CANCEL, missing, model=model, roster_id=roster_id, by=by, reason=reason
    )


def _take_step_with_reason(
    step: RosterStep, missing: Any, *, model: type[R], roster_id: int, by: User, reason: str
) -> R:
    """A step that needs a written reason (400 with `missing` when blank): the reason is the step's
    note and goes in its extra as well."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(missing, field="reason")
    return _take_step(
        model=model,
        roster_id=roster_id,
        step=step,
        by=by,
        note=reason,
        extra=lambda _: {"reason": reason},
    )


@dataclass(frozen=True)
class BankLineResult:
    """One line of the bank's receipt (DOMAIN §8.3 results): paid, or failed with the bank's message."""

    seq: int
    paid: bool
    message: str = ""


@transaction.atomic
def roster_record_bank_receipt(
    *, model: type[R], roster_id: int, results: Sequence[BankLineResult], by: User, note: str = ""
) -> R:
    """Finance records the bank's receipt of a PAYING roster: PAID, or PARTIALLY_PAID with failures.

    The receipt names every line once (400 otherwise). Recording the same receipt again changes
    nothing; a different receipt for a settled roster is 409. Failed lines may be re-issued once,
    on a later roster (DOMAIN E22 step 5).
    """
    seqs = [result.seq for result in results]
    if len(set(seqs)) != len(seqs):
        raise InvalidInput(_("The receipt names a line more than once."), field="results")

    def same_receipt(roster: RosterBase) -> bool:
        return roster.status in SETTLED_STATUSES and _receipt_differences(roster, results) == 0

    def write_results(roster: RosterBase) -> dict[str, Any]:
        if len(results) != roster.total_persons:
            raise InvalidInput(
                _("The receipt has %(given)s lines; roster %(number)s has %(expected)s.")
                % {"given": len(results), "number": roster.number, "expected": roster.total_persons},
                field="results",
            )
        updated = _write_bank_results(roster, results)
        if updated != roster.total_persons:
            raise InvalidInput(
                _("The receipt names lines that are not on roster %(number)s.") % {"number": roster.number},
                field="results",
            )
        return _settlement(roster)

    return _take_step(
        model=model,
        roster_id=roster_id,
        step=RosterStep.BANK_RECEIPT,
        by=by,
        note=note,
        extra=write_results,
        already_done=same_receipt,
    )


_SERVICES: dict[str, Callable[..., Any]] = {
    RosterStep.SUBMIT: roster_submit,
    RosterStep.CHECK: roster_check,
    RosterStep.APPROVE: roster_approve,
    RosterStep.PREPARE_PAYMENT: roster_prepare_payment,
    RosterStep.PAY: roster_pay,
    RosterStep.RETURN: roster_return,
    RosterStep.CANCEL: roster_cancel,
}


def roster_take_step(*, model: type[R], roster_id: int, step: str, by: User, note: str = "") -> R:
    """Any step but the receipt by its name; `note` is the reason for return and cancel."""
    service = _SERVICES[step]
    if step in (RosterStep.RETURN, RosterStep.CANCEL):
        return service(model=model, roster_id=roster_id, by=by, reason=note)
    return service(model=model, roster_id=roster_id, by=by, note=note)


# --- How a step runs -----------------------------------------------------------------------------------


def _state_refusal(roster: RosterBase, step: workflow.Step) -> InvalidState:
    return InvalidState(
        _("Roster %(number)s is %(status)s; the step “%(step)s” is not possible now.")
        % {
            "number": roster.number,
            "status": roster.get_status_display(),
            "step": RosterStep(step.name).label,
        },
        roster_ids=[roster.pk],
        number=roster.number,
        status=roster.status,
        step=step.name,
    )


def _condition_refusal(roster: RosterBase, step: workflow.Step) -> InvalidState:
    if step.name == RosterStep.PAY:
        message = _("The payment instruction of roster %(number)s has not been prepared yet.")
    else:
        message = _("The payment instruction of roster %(number)s has already been prepared.")
    return InvalidState(
        message % {"number": roster.number},
        roster_ids=[roster.pk],
        number=roster.number,
        status=roster.status,
        step=step.name,
    )


def _require_role(model: type[RosterBase], step: workflow.Step, by: User, roster_id: int) -> None:
    actions = ("check", "approve") if step.name == RosterStep.RETURN else (step.permission,)
    if not any(by.has_perm(workflow.permission_name(model, action)) for action in actions):
        raise NotPermitted(
            _("Your role may not take the step “%(step)s” on a roster.")
            % {"step": RosterStep(step.name).label},
            rule="role",
            roster_ids=[roster_id],
        )


def _take_step(
    *,
    model: type[R],
    roster_id: int,
    step: str,
    by: User,
    note: str = "",
    extra: Callable[[RosterBase], dict[str, Any]] | None = None,
    already_done: Callable[[RosterBase], bool] | None = None,
) -> R:
    """Lock, check, transition, save, audit, then side effects on commit; in the caller's transaction."""
    spec = workflow.STEPS[step]
    _require_role(model, spec, by, roster_id)
    # Lock before reading the status: fifty clicks on "approve" are decided one at a time, and
    # each later one reads the first one's result. Only the roster row is locked.
    roster = get_visible_or_404(model.objects.select_for_update(of=("self",)), by, pk=roster_id)
    done = (
        already_done(roster)
        if already_done
        else (roster.status in spec.done_statuses and getattr(roster, f"{spec.by_field}_id") == by.pk)
    )
    if done:
        return roster  # the same step again (a double click, a retried request): nothing changes
    method = getattr(roster, spec.method)
    if not can_proceed(method, check_conditions=False):
        raise _state_refusal(roster, spec)
    refused = workflow.refusal(roster, spec.name, by)
    if refused is not None:
        error = SegregationOfDutiesViolation if refused.segregation else NotPermitted
        raise error(refused.message, rule=refused.rule, roster_ids=[roster.pk], number=roster.number)
    if not can_proceed(method):  # the payment instruction prepared (or not yet)
        raise _condition_refusal(roster, spec)
    if spec.verifies_digest and not digest.matches(roster):
        raise RosterDigestMismatch(
            _("The lines of roster %(number)s no longer match the digest taken when it was submitted.")
            % {"number": roster.number},
            roster_ids=[roster.pk],
            number=roster.number,
            status=roster.status,
        )
    kwargs = extra(roster) if extra else {}
    # The row-version trigger writes the audit entry; the context says who, which step and why.
    with pghistory.context(user=by.pk, actor=by.username, step=spec.name, note=note, roster=roster.number):
        method(by=by, at=timezone.now(), **kwargs)
        roster.save()
    transaction.on_commit(
        partial(roster_step_committed.send, sender=model, roster_id=roster.pk, step=spec.name, by_id=by.pk)
    )
    return roster


# --- The bank's receipt, set-based ---------------------------------------------------------------------


def _line_sql(roster: RosterBase) -> tuple[type[Any], Callable[[str], str], str]:
    line_model = roster._meta.get_field("lines").related_model
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(line_model._meta.get_field(name).column)

    return line_model, column, quote(line_model._meta.db_table)


def _stage_receipt(results: Sequence[BankLineResult]) -> str:
    """COPY the receipt into a temporary table (once), for the comparison and the UPDATE."""
    rows = (
        (result.seq, BankResult.PAID if result.paid else BankResult.FAILED, result.message.strip()[:200])
        for result in results
    )
    return _stage("_roster_receipt", "seq integer, status text, message text", rows, not_null=("message",))


def _write_bank_results(roster: RosterBase, results: Sequence[BankLineResult]) -> int:
    """One UPDATE … FROM the staged receipt; returns the number of lines it matched."""
    _, column, table = _line_sql(roster)
    staged = _stage_receipt(results)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} l SET {column("bank_status")} = r.status, {column("bank_message")} = r.message,
                   {column("bank_recorded_at")} = now()
            FROM {staged} r
            WHERE l.{column("roster")} = %s AND l.{column("seq")} = r.seq
            """,
            [roster.pk],
        )
        return cursor.rowcount


def _receipt_differences(roster: RosterBase, results: Sequence[BankLineResult]) -> int:
    """How many lines of a settled roster the receipt would record differently."""
    _, column, table = _line_sql(roster)
    staged = _stage_receipt(results)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM (SELECT * FROM {table} WHERE {column("roster")} = %s) l
            FULL JOIN {staged} r ON l.{column("seq")} = r.seq
            WHERE l.id IS NULL OR r.seq IS NULL
               OR l.{column("bank_status")} <> r.status OR l.{column("bank_message")} <> r.message
            """,
            [roster.pk],
        )
        return cursor.fetchone()[0]


def _stage(name: str, columns: str, rows: Iterable[Sequence[Any]], *, not_null: Sequence[str] = ()) -> str:
    """A temporary table `name` holding exactly `rows`, loaded with one COPY; dropped at commit."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    force = f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else ""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DROP")
        cursor.execute(f"TRUNCATE {name}")  # a second call in the same transaction
        # An empty text stays empty (FORCE_NOT_NULL); an empty date or id is NULL.
        cursor.copy_expert(f"COPY {name} FROM STDIN WITH (FORMAT csv{force})", buffer)
        cursor.execute(f"ANALYZE {name}")  # the checks and the INSERT plan on real row counts
    return name


def _settlement(roster: RosterBase) -> dict[str, Any]:
    _, column, table = _line_sql(roster)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE {column("bank_status")} = %s),
                   COALESCE(sum({column("net")}) FILTER (WHERE {column("bank_status")} = %s), 0),
                   count(*) FILTER (WHERE {column("bank_status")} = %s),
                   COALESCE(sum({column("net")}) FILTER (WHERE {column("bank_status")} = %s), 0)
            FROM {table} WHERE {column("roster")} = %s
            """,
            [BankResult.PAID, BankResult.PAID, BankResult.FAILED, BankResult.FAILED, roster.pk],
        )
        paid_persons, paid_amount, failed_persons, failed_amount = cursor.fetchone()
    return {
        "paid_persons": paid_persons,
        "paid_amount": Decimal(paid_amount),
        "failed_persons": failed_persons,
        "failed_amount": Decimal(failed_amount),
    }


# --- A draft from a set of lines -----------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One payee of a new draft. Amounts in yuan (Decimal, 2 places); net is computed.

    An empty account number takes the person's bank account, else their card number, as it is
    now (the roster keeps that snapshot). `period` is the roster's month unless the line re-issues
    a line that failed at the bank (`reissue_of_id`), which pays that line's month.
    """

    person_id: int
    basic: Decimal = Decimal("0")
    account: Decimal = Decimal("0")
    top_up: Decimal = Decimal("0")
    back_pay: Decimal = Decimal("0")
    deduction: Decimal = Decimal("0")
    account_number: str = ""
    bank_name: str = ""
    period: dt.date | None = None
    reissue_of_id: int | None = None

    @property
    def net(self) -> Decimal:
        return self.basic + self.account + self.top_up + self.back_pay - self.deduction


@transaction.atomic
def roster_create_draft(
    *,
    model: type[R],
    programme: str,
    period: dt.date,
    township_id: int | None,
    lines: Sequence[LineInput],
    by: User,
    note: str = "",
) -> R:
    """A DRAFT roster of one programme and month for a township (None: the whole county).

    The lines are COPied once into a temporary table; the checks and one INSERT … SELECT read it
    (no loop over rows). Refused: a month that already
    has a roster that counts (409 naming it), a person paid for that month on another roster
    (409 naming it), persons outside the township, without an account, or twice (400), a re-issue
    of anything but a failed line of an earlier roster (409).
    """
    if not by.has_perm(workflow.permission_name(model, "add")):
        raise NotPermitted(_("Your role may not generate rosters."), rule="role")
    if programme not in dict(model._meta.get_field("programme").choices):
        raise InvalidInput(_("Choose a programme."), field="programme")
    if period.day != 1:
        raise InvalidInput(_("A roster is for a month: give its first day."), field="period")
    township = roster_township(by, township_id)
    _refuse_second_roster(model, programme, period, township)
    src = _stage_lines(lines) if lines else ""
    _refuse_bad_lines(model, programme, period, township, lines, src)
    roster = model(
        number=roster_number(model, programme, period, township),
        programme=programme,
        period=period,
        township=township,
        created_by=by,
        total_persons=len(lines),
        total_amount=sum((line.net for line in lines), Decimal("0")),
    )
    with pghistory.context(user=by.pk, actor=by.username, step=RosterStep.GENERATE, note=note):
        try:
            with transaction.atomic():
                roster.save()
        except IntegrityError:  # another clerk generated the same month a moment ago
            _refuse_second_roster(model, programme, period, township)
            raise
        try:
            with transaction.atomic():
                _insert_lines(roster, lines, src)
        except IntegrityError:  # a line of the same month went onto another roster a moment ago
            _refuse_bad_lines(model, programme, period, township, lines, src)
            raise
    return roster


def roster_township(user: User, township_id: int | None) -> AdministrativeDivision | None:
    """The township a new roster is for, as `user` may generate it; None for the whole county.

    None (the county) only for county-wide staff (403 rule "county"); a township id that is not a
    township, or not one of the user's, is 404. Every roster kind's generation resolves it here.
    """
    if township_id is None:
        if not can_see_whole_county(user):
            raise NotPermitted(
                _("Only county-wide staff generate a roster of the whole county."), rule="county"
            )
        return None
    townships = AdministrativeDivision.objects.filter(pk=township_id, level=DivisionLevel.TOWNSHIP)
    if not can_see_whole_county(user):
        townships = townships.filter(pk__in=assigned_township_ids(user))
    township = townships.first()
    if township is None:
        raise NotVisible(model="administrativedivision")
    return township


def roster_number(
    model: type[RosterBase], programme: str, period: dt.date, township: AdministrativeDivision | None
) -> str:
    """The number of a new roster: prefix, month, division (township code or county), sequence.

    E.g. RP-202510-<9-digit township>-1; the sequence counts the kind's rosters of the same
    programme, month and township so far (cancelled ones included), so a number is never reused.
    """
    division = township.code[:9] if township else settings.COUNTY_CODE
    prefix = model.NUMBER_PREFIXES.get(programme, programme.upper())
    earlier = model.objects.filter(programme=programme, period=period, township=township).count()
    return f"{prefix}-{period:%Y%m}-{division}-{earlier + 1}"


def _refuse_second_roster(
    model: type[RosterBase], programme: str, period: dt.date, township: AdministrativeDivision | None
) -> None:
    # A county roster and a township roster of the same month would overlap too.
    rosters = model.objects.open().filter(programme=programme, period=period)
    if township is not None:
        rosters = rosters.filter(township__isnull=True) | rosters.filter(township=township)
    existing = rosters.order_by("pk").first()
    if existing is not None:
        raise InvalidState(
            _("Roster %(number)s already covers this programme and month; it is %(status)s.")
            % {"number": existing.number, "status": existing.get_status_display()},
            roster_ids=[existing.pk],
            number=existing.number,
            status=existing.status,
        )


def _stage_lines(lines: Sequence[LineInput]) -> str:
    """COPY the new lines into a temporary table (once) for the checks and the INSERT … SELECT."""
    rows = (
        (
            seq,
            line.person_id,
            line.basic,
            line.account,
            line.top_up,
            line.back_pay,
            line.deduction,
            line.account_number.strip(),
            line.bank_name.strip(),
            line.period.isoformat() if line.period else "",
            line.reissue_of_id if line.reissue_of_id is not None else "",
        )
        for seq, line in enumerate(lines, start=1)
    )
    columns = (
        "seq integer, person_id bigint, basic numeric, account numeric, top_up numeric, back_pay numeric, "
        "deduction numeric, account_number text, bank_name text, period date, reissue_of_id bigint"
    )
    return _stage("_roster_line_input", columns, rows, not_null=("account_number", "bank_name"))


def _person_table() -> str:
    from enrollment.models import Person

    return connection.ops.quote_name(Person._meta.db_table)


def _refuse_bad_lines(
    model: type[RosterBase],
    programme: str,
    period: dt.date,
    township: AdministrativeDivision | None,
    lines: Sequence[LineInput],
    src: str,
) -> None:
    """Set-based checks over the staged lines `src`, with a message a clerk can act on.

    The database refuses the same anyway (constraints and the lines guard).
    """
    keys = [(line.person_id, line.period or period) for line in lines]
    if len(set(keys)) != len(keys):
        raise InvalidInput(_("A person appears twice for the same month."), field="lines")
    if any(line.net < 0 for line in lines):
        raise InvalidInput(_("A line's deduction is larger than what it pays."), field="lines")
    if any(line.period not in (None, period) and line.reissue_of_id is None for line in lines):
        raise InvalidInput(
            _("A line pays another month than its roster's only when it re-issues a line that failed."),
            field="lines",
        )
    if not lines:
        return
    line_model = model._meta.get_field("lines").related_model
    quote = connection.ops.quote_name
    lines_table, roster_table = quote(line_model._meta.db_table), quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT src.person_id FROM {src} src LEFT JOIN {_person_table()} p ON p.id = src.person_id
            WHERE p.id IS NULL OR (%s::bigint IS NOT NULL AND p.township_id IS DISTINCT FROM %s::bigint)
            ORDER BY src.seq LIMIT 5
            """,
            [township and township.pk, township and township.pk],
        )
        outside = [row[0] for row in cursor.fetchall()]
        if outside:
            raise InvalidInput(
                _("Persons %(ids)s are not registered in this roster's township.")
                % {"ids": ", ".join(map(str, outside))},
                field="lines",
                person_ids=outside,
            )
        cursor.execute(
            f"""
            SELECT src.person_id FROM {src} src JOIN {_person_table()} p ON p.id = src.person_id
            WHERE src.account_number = '' AND p.bank_account_number = '' AND p.card_number = ''
            ORDER BY src.seq LIMIT 5
            """,
        )
        no_account = [row[0] for row in cursor.fetchall()]
        if no_account:
            raise InvalidInput(
                _("Persons %(ids)s have no card or bank account to pay into.")
                % {"ids": ", ".join(map(str, no_account))},
                field="lines",
                person_ids=no_account,
            )
        # DOMAIN: one payment per programme, person and month (the database's paid_once index).
        cursor.execute(
            f"""
            SELECT r.number, l.person_id FROM {src} src
            JOIN {lines_table} l ON l.person_id = src.person_id AND l.period = COALESCE(src.period, %s)
            JOIN {roster_table} r ON r.id = l.roster_id
            WHERE l.programme = %s AND NOT l.roster_cancelled AND l.bank_status <> %s
            ORDER BY r.number, l.person_id LIMIT 5
            """,
            [period, programme, BankResult.FAILED],
        )
        paid = cursor.fetchall()
        if paid:
            raise InvalidState(
                _("Persons %(ids)s are already on roster %(number)s for this month.")
                % {"ids": ", ".join(str(person) for _, person in paid), "number": paid[0][0]},
                number=paid[0][0],
                person_ids=[person for _, person in paid],
            )
        # A re-issue: a failed line of an earlier roster, same person and month, not re-issued yet.
        cursor.execute(
            f"""
            SELECT src.reissue_of_id FROM {src} src
            LEFT JOIN {lines_table} o ON o.id = src.reissue_of_id
            LEFT JOIN {roster_table} ro ON ro.id = o.roster_id
            WHERE src.reissue_of_id IS NOT NULL AND NOT COALESCE(
                o.bank_status = %s AND ro.status = %s AND o.programme = %s AND o.person_id = src.person_id
                AND o.period = src.period AND ro.period < %s
                AND NOT EXISTS (
                    SELECT 1 FROM {lines_table} again
                    WHERE again.reissue_of_id = o.id AND NOT again.roster_cancelled
                ), false)
            ORDER BY src.seq LIMIT 5
            """,
            [BankResult.FAILED, RosterStatus.PARTIALLY_PAID, programme, period],
        )
        bad_reissues = [row[0] for row in cursor.fetchall()]
        if bad_reissues:
            raise InvalidState(
                _(
                    "Lines %(ids)s cannot be re-issued here: only a line that failed at the bank, "
                    "once, on a later roster, for the same person and month."
                )
                % {"ids": ", ".join(map(str, bad_reissues))},
                line_ids=bad_reissues,
            )


def _insert_lines(roster: RosterBase, lines: Sequence[LineInput], src: str) -> None:
    """One INSERT … SELECT from the staged lines (see _stage_lines)."""
    if not lines:
        return
    _, column, table = _line_sql(roster)
    names = [
        "roster", "seq", "person", "programme", "period", "basic", "account", "top_up", "back_pay",
        "deduction", "net", "account_number", "bank_name", "roster_cancelled", "bank_status",
        "bank_message", "reissue_of",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} ({", ".join(column(name) for name in names)})
            SELECT %s, src.seq, src.person_id, %s, COALESCE(src.period, %s), src.basic, src.account,
                   src.top_up, src.back_pay, src.deduction,
                   src.basic + src.account + src.top_up + src.back_pay - src.deduction,
                   COALESCE(NULLIF(src.account_number, ''), NULLIF(p.bank_account_number, ''), p.card_number),
                   CASE WHEN src.account_number <> '' THEN src.bank_name
                        WHEN p.bank_account_number <> '' THEN p.bank_name ELSE '' END,
                   false, %s, '', src.reissue_of_id
            FROM {src} src JOIN {_person_table()} p ON p.id = src.person_id
            """,
            [roster.pk, roster.programme, roster.period, BankResult.PENDING],
        )
        if cursor.rowcount != len(lines):  # the checks above make this unreachable; never pay a partial set
            raise InvalidInput(_("Some lines could not be written."), field="lines")


# --- A draft from an SQL SELECT (generation) ----------------------------------------------------------


@dataclass(frozen=True)
class LineSelect:
    """The lines of a new draft as one SELECT, for generation in one INSERT … SELECT.

    `sql` yields, in order: seq, person_id, basic, account, top_up, back_pay, deduction,
    account_number, bank_name, line_period, reissue_of_id, then one column per name in `extra`
    (further line fields of the concrete line model, e.g. the entitlement paid). Amounts in yuan,
    2 places; net is computed. line_period is NULL for the roster's month; a line that re-issues
    a line failed at the bank gives that line's month and id (the reissued_once index holds it
    to once).
    """

    sql: str
    params: Sequence[Any] = ()
    extra: Sequence[str] = ()


_SELECT_COLUMNS = (
    "seq", "person_id", "basic", "account", "top_up", "back_pay", "deduction", "account_number", "bank_name",
    "line_period", "reissue_of_id",
)  # fmt: skip


@transaction.atomic
def roster_create_draft_from_select(
    *,
    model: type[R],
    programme: str,
    period: dt.date,
    township_id: int | None,
    select: Callable[[AdministrativeDivision | None], LineSelect],
    by: User,
    note: str = "",
) -> R:
    """A DRAFT roster whose lines one INSERT … SELECT writes (the rules of roster_create_draft).

    `select(township)` builds the SELECT once the township is resolved and visible to `by`.
    Refused: the caller's role (403), a township not theirs (404), a month that already has a
    roster that counts (409 naming it), a person already paid for the month on another roster
    (409 naming it; the database's paid_once index decides). Totals come from the same statement.
    """
    if not by.has_perm(workflow.permission_name(model, "add")):
        raise NotPermitted(_("Your role may not generate rosters."), rule="role")
    if programme not in dict(model._meta.get_field("programme").choices):
        raise InvalidInput(_("Choose a programme."), field="programme")
    if period.day != 1:
        raise InvalidInput(_("A roster is for a month: give its first day."), field="period")
    township = roster_township(by, township_id)
    _refuse_second_roster(model, programme, period, township)
    lines = select(township)
    roster = model(
        number=roster_number(model, programme, period, township),
        programme=programme,
        period=period,
        township=township,
        created_by=by,
    )
    with pghistory.context(user=by.pk, actor=by.username, step=RosterStep.GENERATE, note=note):
        try:
            with transaction.atomic():
                roster.save()
        except IntegrityError:  # another clerk generated the same month a moment ago
            _refuse_second_roster(model, programme, period, township)
            raise
        try:
            with transaction.atomic():
                persons, amount = _insert_selected_lines(roster, lines)
        except IntegrityError:  # a payee of the month is on another roster already
            _refuse_paid_elsewhere(roster, lines)
            raise
        if persons:
            roster.total_persons, roster.total_amount = persons, amount
            roster.save(update_fields=["total_persons", "total_amount", "updated_at"])
    return roster


def _insert_selected_lines(roster: RosterBase, lines: LineSelect) -> tuple[int, Decimal]:
    """One statement: the INSERT … SELECT, and the count and sum of what it wrote."""
    _, column, table = _line_sql(roster)
    names = [
        "roster", "seq", "person", "programme", "period", "basic", "account", "top_up", "back_pay",
        "deduction", "net", "account_number", "bank_name", "roster_cancelled", "bank_status", "bank_message",
        "reissue_of", *lines.extra,
    ]  # fmt: skip
    extra = "".join(f", src.x{index}" for index in range(len(lines.extra)))
    aliases = ", ".join([*_SELECT_COLUMNS, *(f"x{index}" for index in range(len(lines.extra)))])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {table} ({", ".join(column(name) for name in names)})
                SELECT %s, src.seq, src.person_id, %s, COALESCE(src.line_period, %s), src.basic, src.account,
                       src.top_up, src.back_pay, src.deduction,
                       src.basic + src.account + src.top_up + src.back_pay - src.deduction,
                       src.account_number, src.bank_name, false, %s, '', src.reissue_of_id{extra}
                FROM ({lines.sql}) AS src ({aliases})
                RETURNING {column("net")} AS net
            )
            SELECT count(*), COALESCE(sum(net), 0) FROM written
            """,
            [roster.pk, roster.programme, roster.period, BankResult.PENDING, *lines.params],
        )
        persons, amount = cursor.fetchone()
    return persons, Decimal(amount)


def _refuse_paid_elsewhere(roster: RosterBase, lines: LineSelect) -> None:
    """409 naming the roster that already pays one of the selected persons for the month."""
    _, column, table = _line_sql(roster)
    roster_table = connection.ops.quote_name(type(roster)._meta.db_table)
    aliases = ", ".join([*_SELECT_COLUMNS, *(f"x{index}" for index in range(len(lines.extra)))])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.number, l.{column("person")} FROM ({lines.sql}) AS src ({aliases})
            JOIN {table} l ON l.{column("person")} = src.person_id
             AND l.{column("period")} = COALESCE(src.line_period, %s)
            JOIN {roster_table} r ON r.id = l.{column("roster")}
            WHERE l.{column("programme")} = %s AND NOT l.{column("roster_cancelled")}
              AND l.{column("bank_status")} <> %s AND r.id <> %s
            ORDER BY r.number, l.{column("person")} LIMIT 5
            """,
            [*lines.params, roster.period, roster.programme, BankResult.FAILED, roster.pk],
        )
        paid = cursor.fetchall()
    if paid:
        raise InvalidState(
            _("Persons %(ids)s are already on roster %(number)s for this month.")
            % {"ids": ", ".join(str(person) for _, person in paid), "number": paid[0][0]},
            number=paid[0][0],
            person_ids=[person for _, person in paid],
        )
