"""Writes to the payout rosters: the steps of socialsec.rosters.services for PayoutRoster.

Each service keeps the rule of the generic one (see its docstring): role 403, other township
404, wrong state 409 naming the roster and its state, segregation of duties 403 naming the rule,
the same person repeating a step is a no-op.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pghistory
from django.db import connection, transaction
from django.db.models import TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from benefits.calculations import (
    death_stop,
    death_stop_month_sql,
    death_stop_sql,
    resident_pension_amount,
    resident_pension_amount_sql,
    resident_pension_eligibility,
    resident_pension_rates_sql,
    unemployment_benefit_amount,
    unemployment_benefit_duration,
    unemployment_benefit_eligibility,
    unemployment_subsidy_decision,
)
from benefits.choices import OTHER_BASIC_PENSION_SCHEMES, BenefitProgramme
from benefits.entitlements import (
    BenefitEntitlement,
    EntitlementStatus,
    StopReason,
    SuspensionReason,
)
from benefits.models import PayoutLine, PayoutRoster
from enrollment.choices import CLOSED_ENROLLMENT_STATUSES, EnrollmentStatus, PeriodKind, Scheme
from socialsec.core.calculations import add_months, month_start
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, SegregationOfDutiesViolation
from socialsec.core.scoping import get_visible_or_404
from socialsec.rosters import services as rosters
from socialsec.rosters.choices import SETTLED_STATUSES, BankResult
from socialsec.rosters.services import BankLineResult, LineInput, LineSelect

if TYPE_CHECKING:
    from enrollment.models import Person
    from socialsec.core.models import AdministrativeDivision, User

__all__ = [
    "BankLineResult",
    "LineInput",
    "entitlement_apply",
    "entitlement_approve",
    "entitlement_reject",
    "entitlement_restore",
    "entitlement_review",
    "entitlement_stop",
    "entitlement_suspend",
    "entitlement_take_step",
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
    "roster_generate",
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


# --- Entitlements (DOMAIN §8.1 BenefitEntitlement, §8.2) --------------------------------------------

_DECIDE = "benefits.decide_benefitentitlement"
_SUSPEND = "benefits.suspend_benefitentitlement"
# The permission of each step (DOMAIN §8.2): the clerk applies, a section chief decides, suspends,
# restores and stops. The API asks for the same before calling the service.
ENTITLEMENT_STEP_PERMISSIONS = {
    "apply": "benefits.add_benefitentitlement",
    "review": _DECIDE,
    "approve": _DECIDE,
    "reject": _DECIDE,
    "suspend": _SUSPEND,
    "restore": _SUSPEND,
    "stop": "benefits.stop_benefitentitlement",
}


def _require(by: User, step: str) -> None:
    if not by.has_perm(ENTITLEMENT_STEP_PERMISSIONS[step]):
        raise NotPermitted(
            _("Your role may not take the step “%(step)s” on an entitlement.") % {"step": step}, rule="role"
        )


def _lock_entitlement(entitlement_id: int, by: User) -> BenefitEntitlement:
    # Lock before reading the status: two clicks are decided one at a time. Only the entitlement row.
    return get_visible_or_404(
        BenefitEntitlement.objects.select_for_update(of=("self",)), by, pk=entitlement_id
    )


def _state_refusal(entitlement: BenefitEntitlement, step: str) -> InvalidState:
    return InvalidState(
        _("Entitlement %(id)s is %(status)s; the step “%(step)s” is not possible now.")
        % {"id": entitlement.pk, "status": entitlement.get_status_display(), "step": step},
        entitlement_ids=[entitlement.pk],
        status=entitlement.status,
        step=step,
    )


def _not_the_applicant(entitlement: BenefitEntitlement, by: User, step: str) -> None:
    """DOMAIN §8.2 segregation of duties: whoever applied does not review, approve or reject it."""
    if entitlement.applied_by_id is not None and entitlement.applied_by_id == by.pk:
        raise SegregationOfDutiesViolation(
            _("The person who applied for entitlement %(id)s may not take the step “%(step)s” on it.")
            % {"id": entitlement.pk, "step": step},
            rule="applicant_not_decider",
            entitlement_ids=[entitlement.pk],
        )


def _take(
    entitlement: BenefitEntitlement, method: Any, *, step: str, by: User, note: str, **kwargs: Any
) -> None:
    if not can_proceed(method):
        raise _state_refusal(entitlement, step)
    # The row-version trigger writes the audit entry; the context says who, which step and why.
    with pghistory.context(user=by.pk, actor=by.username, step=step, note=note):
        method(by=by, **kwargs)
        entitlement.save()


def _month(value: dt.date | None) -> dt.date:
    return month_start(value or timezone.localdate())


def _lock_applicant(*, person_id: int, programme: str, by: User) -> Person:
    """The person applied for, visible to the clerk (404) and locked, so that two clerks applying
    at once are decided one at a time; refused (409, naming it) while an entitlement of the
    programme is open (DOMAIN §8.1: one open entitlement per person and programme)."""
    from enrollment.models import Person

    person = get_visible_or_404(Person.objects.select_for_update(of=("self",)), by, pk=person_id)
    existing = (
        BenefitEntitlement.objects.open().filter(person=person, programme=programme).order_by("pk").first()
    )
    if existing is not None:
        raise InvalidState(
            _(
                "Person %(person)s already has entitlement %(id)s to this programme (%(status)s). "
                "Carry on with that one; apply again only once it is stopped or rejected."
            )
            % {"person": person.pk, "id": existing.pk, "status": existing.get_status_display()},
            entitlement_ids=[existing.pk],
            status=existing.status,
        )
    return person


def _periods_paid(person: Person, *, scheme: str, period_kind: str) -> int:
    """How many distinct periods (years or months) of `scheme` the registry records as paid."""
    from enrollment.models import ContributionRecord

    return (
        ContributionRecord.objects.filter(
            enrollment__person=person, enrollment__scheme=scheme, period_kind=period_kind
        )
        .values("period_start")
        .distinct()
        .count()
    )


def _record_application(*, by: User, note: str, **fields: Any) -> BenefitEntitlement:
    """The APPLIED entitlement of these fields, applied for by `by` with `note`, in the audit trail."""
    entitlement = BenefitEntitlement(**fields, note=note, applied_by=by)
    with pghistory.context(user=by.pk, actor=by.username, step="apply", note=note):
        entitlement.save()
    return entitlement


def other_basic_pensions(person_id: int) -> list[str]:
    """The other basic pensions a person draws: receiving enrollments and paying employee-pension
    entitlements (the province's figures, benefits.imports employee_pensions). DOMAIN §1.6 Art 8."""
    from enrollment.models import Enrollment

    drawn = set(
        Enrollment.objects.filter(
            person_id=person_id, scheme__in=OTHER_BASIC_PENSION_SCHEMES, status=EnrollmentStatus.RECEIVING
        ).values_list("scheme", flat=True)
    )
    # The province's list records employee and government/institution pensions alike as the
    # employee_pension programme, with the scheme in the snapshot (benefits.import_kinds).
    drawn.update(
        BenefitEntitlement.objects.filter(
            person_id=person_id, programme=BenefitProgramme.EMPLOYEE_PENSION, status=EntitlementStatus.PAYING
        ).values_list(
            Coalesce(
                KeyTextTransform("scheme", "snapshot"),
                Value(Scheme.EMPLOYEE_PENSION.value),
                output_field=TextField(),
            ),
            flat=True,
        )
    )
    return sorted(drawn)


@transaction.atomic
def entitlement_apply(
    *,
    person_id: int,
    programme: str,
    by: User,
    start_month: dt.date | None = None,
    receiving_at_scheme_start: bool = False,
    left_involuntarily: bool = False,
    registered_unemployed: bool = False,
    carried_over_months: int = 0,
    note: str = "",
) -> BenefitEntitlement:
    """A clerk applies for a person's benefit: APPLIED, with the decision's snapshot.

    Resident pension: see _apply_resident_pension; unemployment benefit (DOMAIN §3): see
    _apply_unemployment_benefit; the unemployment subsidy (§3.5): see _apply_unemployment_subsidy.
    One open entitlement per person and programme (409 naming it). Employee pensions come from the
    province's list (benefits.imports), not from an application (400). The start month defaults
    to this month.
    """
    _require(by, "apply")
    month = _month(start_month)
    if programme == BenefitProgramme.RESIDENT_PENSION:
        return _apply_resident_pension(
            person_id=person_id,
            by=by,
            month=month,
            receiving_at_scheme_start=receiving_at_scheme_start,
            note=note,
        )
    if programme == BenefitProgramme.UNEMPLOYMENT_BENEFIT:
        return _apply_unemployment_benefit(
            person_id=person_id,
            by=by,
            month=month,
            left_involuntarily=left_involuntarily,
            registered_unemployed=registered_unemployed,
            carried_over_months=carried_over_months,
            note=note,
        )
    if programme == BenefitProgramme.UNEMPLOYMENT_SUBSIDY:
        return _apply_unemployment_subsidy(
            person_id=person_id,
            by=by,
            month=month,
            left_involuntarily=left_involuntarily,
            registered_unemployed=registered_unemployed,
            note=note,
        )
    raise InvalidInput(
        _("Employee pensions are not applied for here: they come from the province's list (imports)."),
        field="programme",
    )


def _apply_resident_pension(
    *, person_id: int, by: User, month: dt.date, receiving_at_scheme_start: bool, note: str
) -> BenefitEntitlement:
    """Resident pension (DOMAIN §1.4, §1.5, §1.6): the person's open resident-pension enrollment
    gives the pooling area; the eligibility rule runs for the start month and a refusal is 409
    naming every unmet rule (pension age E24, contribution years E6, dual receipt E7, death). The
    amount is computed for the start month (E1, E4)."""
    from enrollment.models import Enrollment, PersonalAccount

    programme = BenefitProgramme.RESIDENT_PENSION
    person = _lock_applicant(person_id=person_id, programme=programme, by=by)
    enrollment = (
        Enrollment.objects.filter(person=person, scheme=Scheme.RESIDENT_PENSION)
        .exclude(status__in=CLOSED_ENROLLMENT_STATUSES)
        .first()
    )
    if enrollment is None:
        raise InvalidState(
            _(
                "Person %(person)s is not enrolled in the resident pension: enrol them in the "
                "registry first, then apply."
            )
            % {"person": person.pk},
            rule="resident_pension.enrolled",
            person_ids=[person.pk],
        )
    region = enrollment.pooling_area
    years = _periods_paid(person, scheme=Scheme.RESIDENT_PENSION, period_kind=PeriodKind.YEAR)
    decision = resident_pension_eligibility(
        region=region,
        month=month,
        birth_date=person.birth_date,
        contribution_years=years,
        other_basic_pensions=other_basic_pensions(person.pk),
        receiving_at_scheme_start=receiving_at_scheme_start,
        death_date=person.death_date,
    )
    decision.raise_if_refused(person_ids=[person.pk])
    account = PersonalAccount.objects.filter(person=person, scheme=Scheme.RESIDENT_PENSION).first()
    balance = account.balance if account else Decimal("0")
    calculation = resident_pension_amount(
        region=region, month=month, account_balance=balance, contribution_years=years
    )
    parts = calculation.components
    return _record_application(
        by=by,
        note=note,
        person=person,
        programme=programme,
        region=region,
        account_balance=balance,
        contribution_years=years,
        basic=parts["basic_pension"],
        account=parts["account_pension"],
        top_up=parts["long_contribution_topup"],
        start_month=month,
        snapshot={"eligibility": decision.snapshot, "amount": calculation.snapshot},
    )


def _unemployment_case(*, person_id: int, programme: str, by: User) -> tuple[Person, str, int]:
    """What both unemployment programmes read first: the person (locked, visible), no open
    entitlement of the programme, an unemployment-insurance enrollment (its pooling area), no basic
    pension drawn (§3.4, E14), and the months of contributions paid (DOMAIN §3.1)."""
    from enrollment.models import Enrollment

    person = _lock_applicant(person_id=person_id, programme=programme, by=by)
    enrollment = (
        Enrollment.objects.filter(person=person, scheme=Scheme.UNEMPLOYMENT)
        .order_by("-start_date", "-pk")
        .first()
    )
    if enrollment is None:
        raise InvalidState(
            _(
                "Person %(person)s was never insured against unemployment: record their "
                "unemployment-insurance enrollment and contributions in the registry first."
            )
            % {"person": person.pk},
            rule="unemployment_benefit.insured",
            person_ids=[person.pk],
        )
    pensions = other_basic_pensions(person.pk)
    if (
        BenefitEntitlement.objects.paying()
        .filter(person=person, programme=BenefitProgramme.RESIDENT_PENSION)
        .exists()
    ):
        pensions = sorted({*pensions, Scheme.RESIDENT_PENSION})
    if pensions:
        raise InvalidState(
            _("Person %(person)s draws a basic pension, which ends unemployment benefit.")
            % {"person": person.pk},
            rule="unemployment_benefit.pension_started",
            person_ids=[person.pk],
            pensions=pensions,
        )
    months_paid = _periods_paid(person, scheme=Scheme.UNEMPLOYMENT, period_kind=PeriodKind.MONTH)
    return person, enrollment.pooling_area, months_paid


def _apply_unemployment_benefit(
    *,
    person_id: int,
    by: User,
    month: dt.date,
    left_involuntarily: bool,
    registered_unemployed: bool,
    carried_over_months: int,
    note: str,
) -> BenefitEntitlement:
    """Unemployment benefit (DOMAIN §3): the person's unemployment-insurance enrollment gives the
    pooling area and its monthly contribution records the months paid; the three conditions of
    §3.1 (E11 granted; E12 under a year, E13 resigned: refused), no basic pension being drawn
    (§3.4, E14), the duration from the region's table plus the months left of an earlier claim
    (§3.2, E11, E15) and the amount from the minimum wage and the 低保 floor (§3.3). The
    duration is kept on the entitlement: rosters stop paying, and the monthly sweep stops it,
    when it runs out.
    """
    if carried_over_months < 0:
        raise InvalidInput(_("Months carried over cannot be negative."), field="carried_over_months")
    programme = BenefitProgramme.UNEMPLOYMENT_BENEFIT
    person, region, months_paid = _unemployment_case(person_id=person_id, programme=programme, by=by)
    decision = unemployment_benefit_eligibility(
        region=region,
        on=month,
        contribution_months=months_paid,
        left_involuntarily=left_involuntarily,
        registered_unemployed=registered_unemployed,
    )
    decision.raise_if_refused(person_ids=[person.pk])
    duration = unemployment_benefit_duration(
        region=region, on=month, contribution_months=months_paid, remaining_months=carried_over_months
    )
    amount = unemployment_benefit_amount(region=region, month=month)
    return _record_application(
        by=by,
        note=note,
        person=person,
        programme=programme,
        region=region,
        basic=amount.amount,
        start_month=month,
        duration_months=duration.months,
        snapshot={"eligibility": decision.snapshot, "duration": duration.snapshot, "amount": amount.snapshot},
    )


def _apply_unemployment_subsidy(
    *,
    person_id: int,
    by: User,
    month: dt.date,
    left_involuntarily: bool,
    registered_unemployed: bool,
    note: str,
) -> BenefitEntitlement:
    """The temporary unemployment subsidy (DOMAIN §3.5, E12, E13): only while a policy is in force
    in the start month (parameters with dates), for the registered insured unemployed who receive
    no unemployment benefit and either used it up or do not qualify; the amount and the months
    from the local tiers; once where the region says so. What the registry knows is read here: a
    benefit used up (stopped, duration exhausted), one being received, a subsidy before."""
    programme = BenefitProgramme.UNEMPLOYMENT_SUBSIDY
    person, region, months_paid = _unemployment_case(person_id=person_id, programme=programme, by=by)
    earlier = BenefitEntitlement.objects.filter(person=person)
    decision = unemployment_subsidy_decision(
        region=region,
        month=month,
        contribution_months=months_paid,
        left_involuntarily=left_involuntarily,
        registered_unemployed=registered_unemployed,
        benefit_exhausted=earlier.filter(
            programme=BenefitProgramme.UNEMPLOYMENT_BENEFIT, stop_reason=StopReason.DURATION_EXHAUSTED
        ).exists(),
        receiving_unemployment_benefit=earlier.open()
        .filter(programme=BenefitProgramme.UNEMPLOYMENT_BENEFIT)
        .exists(),
        received_subsidy_before=earlier.filter(programme=programme)
        .exclude(status=EntitlementStatus.REJECTED)
        .exists(),
    )
    decision.raise_if_refused(person_ids=[person.pk])
    return _record_application(
        by=by,
        note=note,
        person=person,
        programme=programme,
        region=region,
        basic=decision.amount,
        start_month=month,
        duration_months=decision.max_months,
        snapshot={"decision": decision.snapshot},
    )


@transaction.atomic
def entitlement_review(*, entitlement_id: int, by: User, note: str = "") -> BenefitEntitlement:
    """A section chief, not the applicant, takes an application up: APPLIED → UNDER_REVIEW."""
    _require(by, "review")
    entitlement = _lock_entitlement(entitlement_id, by)
    if entitlement.status == EntitlementStatus.UNDER_REVIEW and entitlement.reviewed_by_id == by.pk:
        return entitlement
    if not can_proceed(entitlement.review):
        raise _state_refusal(entitlement, "review")
    _not_the_applicant(entitlement, by, "review")
    _take(entitlement, entitlement.review, step="review", by=by, note=note)
    return entitlement


@transaction.atomic
def entitlement_approve(*, entitlement_id: int, by: User, note: str = "") -> BenefitEntitlement:
    """A section chief, not the applicant, approves a reviewed application: UNDER_REVIEW → APPROVED,
    and PAYING at once when the start month has come (later, the first roster's generation does it)."""
    _require(by, "approve")
    entitlement = _lock_entitlement(entitlement_id, by)
    if entitlement.status in (EntitlementStatus.APPROVED, EntitlementStatus.PAYING) and (
        entitlement.approved_by_id == by.pk
    ):
        return entitlement
    if not can_proceed(entitlement.approve):
        raise _state_refusal(entitlement, "approve")
    _not_the_applicant(entitlement, by, "approve")
    _take(entitlement, entitlement.approve, step="approve", by=by, note=note, at=timezone.now())
    if entitlement.start_month <= _month(None):
        _take(entitlement, entitlement.start_paying, step="start_paying", by=by, note=note)
    return entitlement


@transaction.atomic
def entitlement_reject(*, entitlement_id: int, by: User, reason: str) -> BenefitEntitlement:
    """A section chief, not the applicant, rejects an application with written reasons (DOMAIN §8.2)."""
    _require(by, "reject")
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give the reason for rejecting the application."), field="reason")
    entitlement = _lock_entitlement(entitlement_id, by)
    if entitlement.status == EntitlementStatus.REJECTED and entitlement.decided_by_id == by.pk:
        return entitlement
    if not can_proceed(entitlement.reject):
        raise _state_refusal(entitlement, "reject")
    _not_the_applicant(entitlement, by, "reject")
    _take(entitlement, entitlement.reject, step="reject", by=by, note=reason, reason=reason)
    return entitlement


@transaction.atomic
def entitlement_suspend(
    *, entitlement_id: int, by: User, reason: str, month: dt.date | None = None, note: str = ""
) -> BenefitEntitlement:
    """PAYING → SUSPENDED from `month` (default this month): rosters from then on leave it out (E10)."""
    _require(by, "suspend")
    if reason not in SuspensionReason.values:
        raise InvalidInput(_("Choose the reason for the suspension."), field="reason")
    entitlement = _lock_entitlement(entitlement_id, by)
    if entitlement.status == EntitlementStatus.SUSPENDED and entitlement.decided_by_id == by.pk:
        return entitlement
    _take(
        entitlement, entitlement.suspend, step="suspend", by=by, note=note, month=_month(month), reason=reason
    )
    return entitlement


@transaction.atomic
def entitlement_restore(
    *, entitlement_id: int, by: User, month: dt.date | None = None, note: str = ""
) -> BenefitEntitlement:
    """SUSPENDED → PAYING from `month` (default this month), with back-pay (DOMAIN §8.2, E10).

    The suspended months before `month` that no roster paid are recorded with their amounts
    (resident pension: each month's own parameters, §1.4); the next roster of `month` or later
    pays them as back-pay, once.
    """
    _require(by, "restore")
    entitlement = _lock_entitlement(entitlement_id, by)
    restored = _month(month)
    if entitlement.status == EntitlementStatus.PAYING and (
        entitlement.decided_by_id == by.pk and entitlement.restored_month == restored
    ):
        return entitlement
    if not can_proceed(entitlement.restore):
        raise _state_refusal(entitlement, "restore")
    if restored < entitlement.suspended_from:
        raise InvalidInput(
            _(
                "Entitlement %(id)s is suspended from %(month)s: give that month or a later one "
                "as the month it is restored from."
            )
            % {"id": entitlement.pk, "month": f"{entitlement.suspended_from:%Y-%m}"},
            field="month",
        )
    paid = set(
        PayoutLine.objects.filter(
            person_id=entitlement.person_id, programme=entitlement.programme, roster_cancelled=False
        ).values_list("period", flat=True)
    )
    owed: list[dt.date] = []
    current = max(entitlement.suspended_from, entitlement.start_month)
    while current < restored:
        if current not in paid:
            owed.append(current)
        current = add_months(current, 1)
    amounts = {month_owed: _monthly_amount(entitlement, month_owed) for month_owed in owed}
    total = sum((calculation[0] for calculation in amounts.values()), Decimal("0"))
    entitlement.snapshot = {
        **entitlement.snapshot,
        "restorations": [
            *entitlement.snapshot.get("restorations", []),
            {
                "restored_month": restored.isoformat(),
                "suspended_from": entitlement.suspended_from.isoformat(),
                "months_owed": [m.isoformat() for m in owed],
                "back_pay": str(total),
                "months": {m.isoformat(): snapshot for m, (_amount, snapshot) in amounts.items()},
            },
        ],
    }
    _take(
        entitlement,
        entitlement.restore,
        step="restore",
        by=by,
        note=note,
        month=restored,
        months_owed=[m.isoformat() for m in owed],
        amount_owed=total,
    )
    return entitlement


def _monthly_amount(entitlement: BenefitEntitlement, month: dt.date) -> tuple[Decimal, dict[str, Any]]:
    """What the entitlement pays for `month`: the resident pension from that month's parameters."""
    if entitlement.programme == BenefitProgramme.RESIDENT_PENSION:
        calculation = resident_pension_amount(
            region=entitlement.region,
            month=month,
            account_balance=entitlement.account_balance,
            contribution_years=entitlement.contribution_years,
        )
        return calculation.amount, calculation.snapshot
    return entitlement.monthly_amount, {
        "rule": "entitlement.monthly_amount",
        "amount": str(entitlement.monthly_amount),
    }


@transaction.atomic
def entitlement_stop(
    *, entitlement_id: int, by: User, reason: str, month: dt.date | None = None, note: str = ""
) -> BenefitEntitlement:
    """Stop an entitlement from `month` (DOMAIN §8.2), with the reason.

    On death the stop month is the death-month rule's (DOMAIN §5.4, E9: died 2025-03-10, the
    death month payable → stop from 2025-04); the months paid after the last payable one are
    recorded with their amount as the overpayment to recover.
    """
    _require(by, "stop")
    if reason not in StopReason.values:
        raise InvalidInput(_("Choose the reason for stopping."), field="reason")
    entitlement = _lock_entitlement(entitlement_id, by)
    if entitlement.status == EntitlementStatus.STOPPED and entitlement.decided_by_id == by.pk:
        return entitlement
    if not can_proceed(entitlement.stop):
        raise _state_refusal(entitlement, "stop")
    if reason == StopReason.DEATH:
        death_date = entitlement.person.death_date
        if death_date is None:
            raise InvalidState(
                _(
                    "No death is recorded for person %(person)s: record the date of death in the "
                    "registry first, or choose another reason for stopping."
                )
                % {"person": entitlement.person_id},
                rule="benefit.deceased",
                entitlement_ids=[entitlement.pk],
            )
        paid = dict(
            PayoutLine.objects.filter(
                person_id=entitlement.person_id, programme=entitlement.programme, roster_cancelled=False
            )
            .exclude(bank_status=BankResult.FAILED)
            .values_list("period", "net")
        )
        decided = death_stop(region=entitlement.region, death_date=death_date, paid_months=paid)
        stop_month = decided.stop_month
        entitlement.snapshot = {**entitlement.snapshot, "stop": decided.snapshot}
    else:
        stop_month = _month(month)
        entitlement.snapshot = {
            **entitlement.snapshot,
            "stop": {"reason": reason, "stop_month": stop_month.isoformat()},
        }
    stop_month = max(stop_month, entitlement.start_month)
    _take(entitlement, entitlement.stop, step="stop", by=by, note=note, month=stop_month, reason=reason)
    return entitlement


_ENTITLEMENT_STEPS: dict[str, Any] = {
    "review": entitlement_review,
    "approve": entitlement_approve,
    "reject": entitlement_reject,
    "suspend": entitlement_suspend,
    "restore": entitlement_restore,
    "stop": entitlement_stop,
}


def entitlement_take_step(*, entitlement_id: int, step: str, by: User, **inputs: Any) -> BenefitEntitlement:
    return _ENTITLEMENT_STEPS[step](entitlement_id=entitlement_id, by=by, **inputs)


# --- Generating a roster from the paying entitlements (issue 4 "Rosters") -----------------------------


def roster_generate(
    *,
    programme: str,
    month: dt.date,
    township_id: int | None,
    by: User,
    note: str = "",
    regions: Collection[str] | None = None,
    staged: str | None = None,
) -> PayoutRoster:
    """The month's DRAFT roster of a programme for a township (None: the county), in one statement.

    One line per PAYING entitlement of the programme whose start month has come and whose stop
    month has not, the person alive in the month by the death-month rule and with a card or an
    account (the line keeps that account as it is now). Amounts are computed in the INSERT …
    SELECT: the resident pension from the entitlement (region, account balance at award,
    contribution years) and the month's parameters (resident_pension_rates_sql), other
    programmes from the entitlement's split; back-pay of restored months once; deduction 0.
    APPROVED entitlements whose start month has come start PAYING first (one UPDATE).
    A month that already has a roster is refused with its number (409). `regions`: the pooling
    areas of the programme's paying entitlements, when the caller (the monthly sweep, generating
    every township's roster) has read them already; any superset will do. `staged`: the table
    roster_lines_stage() filled with the county's lines of this programme and month, from which
    the township's lines are cut (the sweep: one scan of the entitlements for every township).
    """
    period = month_start(month)

    def select(township: AdministrativeDivision | None) -> LineSelect:
        if staged is not None:
            return _staged_select(staged, township)
        _start_paying_due(programme=programme, period=period, township=township, by=by)
        return _generation_select(programme=programme, period=period, township=township, regions=regions)

    return rosters.roster_create_draft_from_select(
        model=PayoutRoster,
        programme=programme,
        period=period,
        township_id=township_id,
        select=select,
        by=by,
        note=note,
    )


def _start_paying_due(
    *, programme: str, period: dt.date, township: AdministrativeDivision | None, by: User
) -> int:
    due = BenefitEntitlement.objects.filter(
        programme=programme, status=EntitlementStatus.APPROVED, start_month__lte=period
    )
    if township is not None:
        due = due.filter(person__township=township)
    # The status column is protected (django-fsm): one UPDATE along the approved → paying edge,
    # which the status-edges trigger allows; the row-version trigger records each row. The ids
    # stay in the database (UPDATE … WHERE id IN (SELECT …)), never a list in Python.
    with pghistory.context(user=by.pk, actor=by.username, step="start_paying"):
        return due.update(status=EntitlementStatus.PAYING, decided_by=by, updated_at=timezone.now())


def _paying_regions(programme: str, township: AdministrativeDivision | None) -> list[str]:
    regions = BenefitEntitlement.objects.filter(programme=programme, status=EntitlementStatus.PAYING)
    if township is not None:
        regions = regions.filter(person__township=township)
    return sorted(regions.order_by().values_list("region", flat=True).distinct())


_LINE_COLUMNS = (
    "person_id, basic, account, top_up, back_pay, deduction, account_number, bank_name, line_period, "
    "reissue_of_id, entitlement_id"
)
_LINE_ORDER = "ORDER BY village_id, person_id, line_period NULLS FIRST"
# Where a line is paid (DOMAIN §8.3): the person's bank account, else their social-security card
# (a card with a financial function, [S1 Art7, Art62]); a person with neither gets no line. The
# line keeps the account as it is when the roster is generated.
_PAYEE_ACCOUNT = "COALESCE(NULLIF(p.bank_account_number, ''), p.card_number)"
_PAYEE_BANK = "CASE WHEN p.bank_account_number <> '' THEN p.bank_name ELSE '' END"
_HAS_PAYEE_ACCOUNT = "(p.bank_account_number <> '' OR p.card_number <> '')"


def _generation_select(
    *,
    programme: str,
    period: dt.date,
    township: AdministrativeDivision | None,
    regions: Collection[str] | None = None,
) -> LineSelect:
    """The month's lines (one per paying entitlement due) and the re-issues (see _reissue_select),
    numbered together by village and person."""
    rows, params = _generation_rows(programme=programme, period=period, township=township, regions=regions)
    sql = f"SELECT row_number() OVER ({_LINE_ORDER}), {_LINE_COLUMNS} FROM ({rows}) AS u"
    return LineSelect(sql=sql, params=params, extra=("entitlement",))


def _staged_select(table: str, township: AdministrativeDivision | None) -> LineSelect:
    if not table.isidentifier():
        raise ValueError(f"not a table name: {table!r}")
    where, params = ("WHERE township_id = %s", [township.pk]) if township is not None else ("", [])
    sql = f"SELECT row_number() OVER ({_LINE_ORDER}), {_LINE_COLUMNS} FROM {table} {where}"
    return LineSelect(sql=sql, params=params, extra=("entitlement",))


def roster_lines_stage(*, programme: str, month: dt.date, by: User, table: str) -> int:
    """The county's lines of a programme and month, as roster_generate would write them, into the
    session's temporary `table` (kept until the session ends or the caller drops it), with the
    township of each; APPROVED entitlements whose month has come start paying first. Returns the
    rows. For roster_generate(staged=table), township by township (the monthly sweep)."""
    if not table.isidentifier():
        raise ValueError(f"not a table name: {table!r}")
    period = month_start(month)
    _start_paying_due(programme=programme, period=period, township=None, by=by)
    rows, params = _generation_rows(programme=programme, period=period, township=None)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {rows}", params)
        count = cursor.rowcount
        cursor.execute(f"CREATE INDEX ON {table} (township_id)")
        cursor.execute(f"ANALYZE {table}")
    return count


def _generation_rows(
    *,
    programme: str,
    period: dt.date,
    township: AdministrativeDivision | None,
    regions: Collection[str] | None = None,
) -> tuple[str, list[Any]]:
    """The lines due and the re-issues, unnumbered, each with its person's township and village."""
    from enrollment.models import Person

    quote = connection.ops.quote_name
    entitlements = quote(BenefitEntitlement._meta.db_table)
    persons = quote(Person._meta.db_table)
    lines = quote(PayoutLine._meta.db_table)
    regions = sorted(regions) if regions is not None else _paying_regions(programme, township)
    reissues, reissue_params = _reissue_select(programme=programme, period=period, township=township)
    township_rule = "AND p.township_id = %s" if township is not None else ""
    if regions:
        joins, params = [], []
        death = death_stop_sql(regions=regions, on=period, alias="ds")
        joins.append(f"JOIN {death.sql} ON ds.region_code = e.region")
        params += death.params
        if programme == BenefitProgramme.RESIDENT_PENSION:
            rates = resident_pension_rates_sql(month=period, regions=regions, alias="rp")
            joins.append(f"JOIN {rates.sql} ON rp.region_code = e.region")
            params += rates.params
            parts = resident_pension_amount_sql(
                account_balance="e.account_balance", contribution_years="e.contribution_years", alias="rp"
            )
            basic, account, top_up = (
                parts["basic_pension"],
                parts["account_pension"],
                parts["long_contribution_topup"],
            )
        else:
            basic, account, top_up = "e.basic", "e.account", "e.top_up"
        due = f"""
            SELECT p.township_id, p.village_id, e.person_id, {basic}, {account}, {top_up},
                   CASE WHEN e.backpay_amount > 0 AND e.restored_month <= %s AND NOT EXISTS (
                            SELECT 1 FROM {lines} l
                            WHERE l.person_id = e.person_id AND l.period >= e.restored_month
                              AND l.programme = e.programme AND l.back_pay > 0 AND NOT l.roster_cancelled
                        ) THEN e.backpay_amount ELSE 0 END,
                   0::numeric,
                   {_PAYEE_ACCOUNT},
                   {_PAYEE_BANK},
                   NULL::date, NULL::bigint, e.id
            FROM {entitlements} e
            JOIN {persons} p ON p.id = e.person_id
            {" ".join(joins)}
            WHERE e.programme = %s AND e.status = %s AND e.start_month <= %s
              AND (e.stop_month IS NULL OR e.stop_month > %s)
              AND (e.duration_months IS NULL
                   OR %s < e.start_month + make_interval(months => e.duration_months))
              AND {_HAS_PAYEE_ACCOUNT}
              AND (p.death_date IS NULL OR %s < {death_stop_month_sql("p.death_date", alias="ds")})
              {township_rule}
        """
        due_params = [period, *params, programme, EntitlementStatus.PAYING, period, period, period, period]
        if township is not None:
            due_params.append(township.pk)
    else:  # no payee this month; failed lines may still wait for re-issue
        due = (
            "SELECT 0::bigint, 0::bigint, 0::bigint, 0::numeric, 0::numeric, 0::numeric, 0::numeric, "
            "0::numeric, '', '', NULL::date, NULL::bigint, 0::bigint WHERE false"
        )
        due_params = []
    sql = f"""
        SELECT * FROM ({due} UNION ALL {reissues})
             AS u (township_id, village_id, person_id, basic, account, top_up, back_pay, deduction,
                   account_number, bank_name, line_period, reissue_of_id, entitlement_id)
    """
    return sql, [*due_params, *reissue_params]


def _reissue_select(
    *, programme: str, period: dt.date, township: AdministrativeDivision | None
) -> tuple[str, list[Any]]:
    """Lines that failed at the bank on a settled roster of an earlier month, re-issued once, by
    reference (issue 4, DOMAIN §8.3), with their amounts, to the account the person has now, but
    only once that account is another than the one the bank refused (a clerk corrected it): the
    same account would fail again. A month paid meanwhile on another roster is not re-issued."""
    from enrollment.models import Person

    quote = connection.ops.quote_name
    lines = quote(PayoutLine._meta.db_table)
    rosters = quote(PayoutRoster._meta.db_table)
    persons = quote(Person._meta.db_table)
    township_rule = "AND p.township_id = %s" if township is not None else ""
    sql = f"""
        SELECT p.township_id, p.village_id, f.person_id, f.basic, f.account, f.top_up, f.back_pay,
               f.deduction,
               {_PAYEE_ACCOUNT},
               {_PAYEE_BANK},
               f.period, f.id, f.entitlement_id
        FROM {lines} f
        JOIN {rosters} r ON r.id = f.roster_id
        JOIN {persons} p ON p.id = f.person_id
        WHERE f.programme = %s AND f.bank_status = %s AND NOT f.roster_cancelled AND f.period < %s
          AND r.status = ANY (%s)
          AND {_HAS_PAYEE_ACCOUNT}
          AND {_PAYEE_ACCOUNT} <> f.account_number
          AND NOT EXISTS (SELECT 1 FROM {lines} again
                           WHERE again.reissue_of_id = f.id AND NOT again.roster_cancelled)
          AND NOT EXISTS (SELECT 1 FROM {lines} paid
                           WHERE paid.person_id = f.person_id AND paid.period = f.period
                             AND paid.programme = f.programme AND NOT paid.roster_cancelled
                             AND paid.bank_status <> %s)
          {township_rule}
    """
    params: list[Any] = [programme, BankResult.FAILED, period, list(SETTLED_STATUSES), BankResult.FAILED]
    if township is not None:
        params.append(township.pk)
    return sql, params
