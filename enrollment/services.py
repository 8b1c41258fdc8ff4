"""Writes to the registry. Every state change and every audited read goes through here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pghistory
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm

from enrollment.choices import CategorySource, FeeReliefKind, FeeReliefStatus, SizeClass, SpecialGroup
from enrollment.models import (
    FeeReliefApplication,
    FeeReliefPolicy,
    Organization,
    Person,
    PersonCategory,
    first_of_month,
)
from socialsec.core.choices import DivisionLevel
from socialsec.core.exceptions import (
    InvalidInput,
    InvalidState,
    NotPermitted,
    NotVisible,
    SegregationOfDutiesViolation,
)
from socialsec.core.identifiers import credit_code_error_message
from socialsec.core.models import AdministrativeDivision
from socialsec.core.scoping import assigned_township_ids, can_see_whole_county, get_visible_or_404
from socialsec.lib.credit_code import CreditCodeError, parse_credit_code

if TYPE_CHECKING:
    from socialsec.core.models import User


@transaction.atomic
def person_unmask_id_number(*, person_id: int, by: User) -> str:
    """The full resident ID number, for a user allowed to see it; every look is recorded.

    Needs `core.unmask_personal_data` (NotPermitted, 403, otherwise) and a person in one
    of the user's townships (NotVisible, 404, otherwise). The audit event is written in
    the same transaction as the read, so no one sees a number without a record of it.
    """
    # The permission first: a user without it learns nothing, not even whether the id exists.
    if not by.has_perm("core.unmask_personal_data"):
        raise NotPermitted(_("Your role may not see full resident ID numbers."), person_id=person_id)
    person = get_visible_or_404(Person.objects.all(), by, pk=person_id)
    with pghistory.context(user=by.pk, action="unmask"):
        pghistory.create_event(person, label="unmask_id_number")
    return person.id_number


@transaction.atomic
def person_unmask_bank_account(*, person_id: int, by: User) -> str:
    """The full bank account number benefits are paid to; every look is recorded.

    The rules of person_unmask_id_number: `core.unmask_personal_data` (403), a visible
    person (404), one "unmask_bank_account" event naming the user, in the same
    transaction. A person with no account on file is 409, and nothing is recorded.
    """
    if not by.has_perm("core.unmask_personal_data"):
        raise NotPermitted(_("Your role may not see full bank account numbers."), person_id=person_id)
    person = get_visible_or_404(Person.objects.all(), by, pk=person_id)
    if not person.bank_account_number:
        raise InvalidState(
            _("No bank account is recorded for %(name)s.") % {"name": person.name}, person_id=person.pk
        )
    with pghistory.context(user=by.pk, action="unmask_bank_account"):
        pghistory.create_event(person, label="unmask_bank_account")
    return person.bank_account_number


@transaction.atomic
def person_confirm_address_code(*, person_id: int, by: User) -> Person:
    """A section chief confirms an address code the resident ID validator does not know.

    DOMAIN §6.1 gap 4: such a number is accepted with `address_code_unverified` set, and a
    human confirms it. Needs `enrollment.confirm_address_code` (403) and a visible person
    (404). Only a flagged person can be confirmed (409, naming the person and any earlier
    confirmation); the same chief confirming twice is a no-op. The update event carries
    the chief in its context.
    """
    if not by.has_perm("enrollment.confirm_address_code"):
        raise NotPermitted(_("Only a section chief may confirm an address code."), person_id=person_id)
    # Lock the row: two chiefs confirming at once are decided one at a time.
    person = get_visible_or_404(Person.objects.select_for_update(of=("self",)), by, pk=person_id)
    if not person.address_code_unverified:
        if person.address_code_confirmed_by_id == by.pk:
            return person  # the same confirmation by the same chief, e.g. a double click
        raise InvalidState(
            _("The address code of %(name)s is not awaiting confirmation.") % {"name": person.name},
            person_id=person.pk,
            address_code_confirmed_by=person.address_code_confirmed_by_id,
            address_code_confirmed_at=(
                person.address_code_confirmed_at.isoformat() if person.address_code_confirmed_at else None
            ),
        )
    person.address_code_unverified = False
    person.address_code_confirmed_by = by
    person.address_code_confirmed_at = timezone.now()
    with pghistory.context(user=by.pk, action="confirm_address_code"):
        person.save(
            update_fields=[
                "address_code_unverified",
                "address_code_confirmed_by",
                "address_code_confirmed_at",
                "updated_at",
            ]
        )
    return person


@transaction.atomic
def person_record_death(*, person_id: int, death_date: dt.date, source: str, by: User) -> Person:
    """Record a death reported by a source dataset (civil affairs, hospital, police…).

    A clerk's step (`enrollment.change_person`, 403 otherwise). The date must fall between
    the birth date and today (400). A death already on record is not overwritten: a
    correction is a different, reviewed step (409 naming the recorded date).
    """
    if not by.has_perm("enrollment.change_person"):
        raise NotPermitted(_("Your role may not record deaths."), person_id=person_id)
    # Lock the row: two clerks recording the same death at once are decided one at a time.
    person = get_visible_or_404(Person.objects.select_for_update(), by, pk=person_id)
    if person.death_date is not None:
        raise InvalidState(
            _("%(name)s is already recorded as dead on %(date)s.")
            % {"name": person.name, "date": person.death_date},
            person_id=person.pk,
            death_date=person.death_date.isoformat(),
        )
    if death_date > timezone.localdate():
        raise InvalidInput(
            _("The date of death %(date)s is in the future.") % {"date": death_date}, field="death_date"
        )
    if death_date < person.birth_date:
        raise InvalidInput(
            _("The date of death %(date)s is before the birth date %(birth)s.")
            % {"date": death_date, "birth": person.birth_date},
            field="death_date",
        )
    person.death_date = death_date
    person.death_source = source
    person.save(update_fields=["death_date", "death_source", "updated_at"])
    return person


# --- Organizations (employers) -------------------------------------------------------------------


@transaction.atomic
def organization_register(
    *,
    credit_code: str,
    name: str,
    size_class: str,
    size_class_year: int,
    township_id: int,
    by: User,
    size_class_basis: str = "",
    industry: str = "",
) -> Organization:
    """Register an employer under its unified social credit code (DOMAIN §6.2, §8.1).

    A clerk's step (`enrollment.add_organization`, 403 otherwise), in one of the clerk's
    townships (404 otherwise). The code passes the §6.2 wrapper, which accepts the
    letter-prefixed codes python-stdnum refuses; it is stored normalized, with positions
    1–2 as registration authority and entity type. A code already registered is refused
    naming the organization that holds it (400).
    """
    if not by.has_perm("enrollment.add_organization"):
        raise NotPermitted(_("Your role may not register organizations."))
    township = _township_for(by, township_id)
    try:
        parsed = parse_credit_code(credit_code)
    except CreditCodeError as error:
        raise InvalidInput(
            credit_code_error_message(error), field="credit_code", reason=error.code
        ) from error
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter the name of the organization."), field="name")
    if size_class not in SizeClass.values:
        raise InvalidInput(_("Choose a size class."), field="size_class")
    if not 1990 <= size_class_year <= timezone.localdate().year:
        raise InvalidInput(
            _("The size classification year %(year)s is not a past or current year.")
            % {"year": size_class_year},
            field="size_class_year",
        )
    # Not scoped on purpose: a code is unique in the whole county, so a clerk must learn
    # that another township already holds it rather than be told nothing.
    _refuse_duplicate_credit_code(parsed.code)
    organization = Organization(
        credit_code=parsed.code,
        registration_authority=parsed.registration_authority,
        entity_type=parsed.entity_type,
        name=name,
        size_class=size_class,
        size_class_basis=size_class_basis.strip(),
        size_class_year=size_class_year,
        industry=industry.strip(),
        township=township,
    )
    try:
        # A savepoint: two clerks registering the same code at once meet the unique index.
        with transaction.atomic(), pghistory.context(user=by.pk, action="organization_register"):
            organization.save()
    except IntegrityError:
        _refuse_duplicate_credit_code(parsed.code)
        raise
    return organization


def _township_for(user: User, township_id: int) -> AdministrativeDivision:
    """A township the user works for; any other id is NotVisible, like a missing one."""
    townships = AdministrativeDivision.objects.filter(pk=township_id, level=DivisionLevel.TOWNSHIP)
    if not can_see_whole_county(user):
        townships = townships.filter(pk__in=assigned_township_ids(user))
    township = townships.first()
    if township is None:
        raise NotVisible(model="administrativedivision")
    return township


def _refuse_duplicate_credit_code(code: str) -> None:
    existing = Organization.objects.filter(credit_code=code).only("pk", "name").first()
    if existing is not None:
        raise InvalidInput(
            _("The credit code %(code)s is already registered to %(name)s (organization %(id)s).")
            % {"code": code, "name": existing.name, "id": existing.pk},
            field="credit_code",
            organization_id=existing.pk,
        )


# --- Fee relief (减免缓) ---------------------------------------------------------------------------

# An application blocks another for the same months while it is open or once it is granted.
_BLOCKING_STATUSES = (FeeReliefStatus.FILED, FeeReliefStatus.APPROVED)


@transaction.atomic
def fee_relief_file(
    *, organization_id: int, policy_id: int, period_from: dt.date, period_to: dt.date, by: User
) -> FeeReliefApplication:
    """A clerk files an employer's fee-relief application under a policy (DOMAIN §8.1, E23).

    Needs `enrollment.add_feereliefapplication` (403) and an organization the clerk can
    see (404). The policy must cover the organization's size class and industry and every
    month applied for, and a deferral may not be longer than the policy allows (400,
    naming the field). An application of the same organization that is still open, or
    approved, for any of the same months is a conflict (409, naming it). The relief (kind,
    rate, months, late fee) is computed from the policy row and kept with the application.
    """
    if not by.has_perm("enrollment.add_feereliefapplication"):
        raise NotPermitted(_("Your role may not file fee relief applications."))
    # Lock the organization: two filings for the same employer are decided one at a time,
    # so the overlap check below cannot be passed by both.
    organization = get_visible_or_404(
        Organization.objects.select_for_update(of=("self",)), by, pk=organization_id
    )
    policy = FeeReliefPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise InvalidInput(_("Choose a fee relief policy."), field="policy_id")
    period_from, period_to = first_of_month(period_from), first_of_month(period_to)
    if period_to < period_from:
        raise InvalidInput(_("The last month comes before the first month."), field="period_to")
    if not policy.covers_organization(organization):
        raise InvalidInput(
            _("The policy %(policy)s does not cover %(size_class)s enterprises of this industry.")
            % {"policy": policy.name, "size_class": organization.get_size_class_display()},
            field="policy_id",
        )
    for field, month in (("period_from", period_from), ("period_to", period_to)):
        if not policy.period_from <= month <= policy.period_to:
            raise InvalidInput(
                _("The month %(month)s is outside the policy period %(start)s to %(end)s.")
                % {
                    "month": f"{month:%Y-%m}",
                    "start": f"{policy.period_from:%Y-%m}",
                    "end": f"{policy.period_to:%Y-%m}",
                },
                field=field,
            )
    relief = policy.relief_for(period_from, period_to)
    if policy.kind == FeeReliefKind.DEFERRAL and relief.months > (policy.max_deferral_months or 0):
        raise InvalidInput(
            _("A deferral under this policy lasts at most %(max)s months; %(months)s were requested.")
            % {"max": policy.max_deferral_months, "months": relief.months},
            field="period_to",
        )
    overlapping = list(
        FeeReliefApplication.objects.filter(organization=organization, status__in=_BLOCKING_STATUSES)
        .overlapping(period_from, period_to)
        .order_by("id")
        .values_list("pk", "status")
    )
    if overlapping:
        raise InvalidState(
            _("Application %(id)s (%(status)s) already covers some of these months.")
            % {"id": overlapping[0][0], "status": FeeReliefStatus(overlapping[0][1]).label},
            application_ids=[pk for pk, _status in overlapping],
            statuses=[status for _pk, status in overlapping],
        )
    application = FeeReliefApplication(
        organization=organization,
        policy=policy,
        kind=relief.kind,
        period_from=period_from,
        period_to=period_to,
        months=relief.months,
        rate=relief.rate,
        waives_late_fee=relief.waives_late_fee,
        filed_by=by,
        filed_at=timezone.now(),
    )
    with pghistory.context(user=by.pk, action="fee_relief_file"):
        application.save()
    return application


@transaction.atomic
def fee_relief_approve(*, application_id: int, by: User, note: str = "") -> FeeReliefApplication:
    """A section chief approves a filed application; never one they filed (DOMAIN §8.2).

    403 without `enrollment.decide_feereliefapplication` or for the filer; 404 outside
    the chief's townships; 409 unless FILED. The same chief approving again is a no-op.
    """
    return _fee_relief_decide(application_id=application_id, by=by, step="approve", reason=note.strip())


@transaction.atomic
def fee_relief_refuse(*, application_id: int, by: User, reason: str) -> FeeReliefApplication:
    """A section chief refuses a filed application, with a reason (400 without one).

    Otherwise as fee_relief_approve; the same chief refusing again is a no-op.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give the reason for refusing."), field="reason")
    return _fee_relief_decide(application_id=application_id, by=by, step="refuse", reason=reason)


_STEP_TARGETS = {"approve": FeeReliefStatus.APPROVED, "refuse": FeeReliefStatus.REFUSED}


def _fee_relief_decide(*, application_id: int, by: User, step: str, reason: str) -> FeeReliefApplication:
    """Lock, check, transition, save, audit (STYLE §12), inside the caller's transaction."""
    if not by.has_perm("enrollment.decide_feereliefapplication"):
        raise NotPermitted(
            _("Your role may not decide fee relief applications."), application_id=application_id
        )
    # Lock the row before reading its status: two chiefs deciding at once go one at a time,
    # and the second reads the first one's decision. Only this table's row is locked.
    application = get_visible_or_404(
        FeeReliefApplication.objects.select_for_update(of=("self",)), by, pk=application_id
    )
    if application.status == _STEP_TARGETS[step] and application.decided_by_id == by.pk:
        return application  # the same decision by the same chief, e.g. a double click
    transition_step = getattr(application, step)
    if not can_proceed(transition_step):
        raise InvalidState(
            _("Application %(id)s is %(status)s and can no longer be decided.")
            % {"id": application.pk, "status": application.get_status_display()},
            application_ids=[application.pk],
            status=application.status,
        )
    if not has_transition_perm(transition_step, by):  # the role is checked above: only the filer is left
        raise SegregationOfDutiesViolation(
            _("You filed application %(id)s, so someone else must decide it.") % {"id": application.pk},
            application_id=application.pk,
        )
    with pghistory.context(user=by.pk, action=f"fee_relief_{step}", note=reason):
        if step == "approve":
            application.approve(by=by, at=timezone.now(), note=reason)
        else:
            application.refuse(by=by, at=timezone.now(), reason=reason)
        application.save()
    return application


# --- Special groups (DOMAIN glossary, §8.1 PersonCategory) -----------------------------------------

# 重度残疾 is disability grade 1 or 2 (DOMAIN §4.3); other groups may note any grade 1–4.
SEVERE_DISABILITY_GRADES = (1, 2)


@transaction.atomic
def person_category_add(
    *,
    person_id: int,
    category: str,
    source: str,
    effective_from: dt.date,
    by: User,
    effective_to: dt.date | None = None,
    disability_grade: int | None = None,
    evidence: str = "",
) -> PersonCategory:
    """Record that a person belongs to a special group from a department's list (DOMAIN §8.1).

    A clerk's step (`enrollment.add_personcategory`, 403) on a visible person (404). Bad
    input is 400 naming the field: an unknown group or source, dates out of order, a
    membership starting before birth or after death, a severe disability without grade 1
    or 2, a grade outside 1–4. A membership of the same group that shares a day with this
    one is 409 naming it; the trigger person_category_no_overlap says the same in the
    database. Different groups may be held at once.
    """
    if not by.has_perm("enrollment.add_personcategory"):
        raise NotPermitted(_("Your role may not record special-group memberships."), person_id=person_id)
    # Lock the person: two clerks adding the same group at once are decided one at a time,
    # so the overlap check below cannot be passed by both (the trigger stays the last word).
    person = get_visible_or_404(Person.objects.select_for_update(of=("self",)), by, pk=person_id)
    if category not in SpecialGroup.values:
        raise InvalidInput(_("Choose a special group."), field="category")
    if source not in CategorySource.values:
        raise InvalidInput(_("Choose the department the list comes from."), field="source")
    _check_membership_dates(person, effective_from, effective_to)
    _check_disability_grade(category, disability_grade)
    _refuse_overlap(person, category, effective_from, effective_to)
    membership = PersonCategory(
        person=person,
        category=category,
        source=source,
        effective_from=effective_from,
        effective_to=effective_to,
        disability_grade=disability_grade,
        evidence=evidence.strip(),
        recorded_by=by,
    )
    try:
        with transaction.atomic(), pghistory.context(user=by.pk, action="person_category_add"):
            membership.save()
    except IntegrityError:
        # Only a writer past this service (an import, raw SQL) can get here first.
        _refuse_overlap(person, category, effective_from, effective_to)
        raise
    return membership


@transaction.atomic
def person_category_end(*, membership_id: int, effective_to: dt.date, by: User) -> PersonCategory:
    """Close an open membership on its last day in force (inclusive).

    Needs `enrollment.change_personcategory` (403) and a visible membership (404). The
    last day may not precede the first (400). A membership already closed is 409 naming
    it and its last day; closing it again on the same day is a no-op.
    """
    if not by.has_perm("enrollment.change_personcategory"):
        raise NotPermitted(_("Your role may not end special-group memberships."), membership_id=membership_id)
    membership = get_visible_or_404(
        PersonCategory.objects.select_for_update(of=("self",)), by, pk=membership_id
    )
    if membership.effective_to == effective_to:
        return membership  # the same end again, e.g. a double click
    if membership.effective_to is not None:
        raise InvalidState(
            _("Membership %(id)s already ended on %(date)s.")
            % {"id": membership.pk, "date": membership.effective_to.isoformat()},
            membership_ids=[membership.pk],
            effective_to=membership.effective_to.isoformat(),
        )
    if effective_to < membership.effective_from:
        raise InvalidInput(
            _("The last day %(date)s is before the first day in force %(start)s.")
            % {"date": effective_to.isoformat(), "start": membership.effective_from.isoformat()},
            field="effective_to",
        )
    membership.effective_to = effective_to
    with pghistory.context(user=by.pk, action="person_category_end"):
        membership.save(update_fields=["effective_to", "updated_at"])
    return membership


def _check_membership_dates(person: Person, effective_from: dt.date, effective_to: dt.date | None) -> None:
    if effective_to is not None and effective_to < effective_from:
        raise InvalidInput(_("The last day in force comes before the first."), field="effective_to")
    if effective_from < person.birth_date:
        raise InvalidInput(
            _("The membership starts %(date)s, before the birth date %(birth)s.")
            % {"date": effective_from.isoformat(), "birth": person.birth_date.isoformat()},
            field="effective_from",
        )
    if person.death_date is not None and effective_from > person.death_date:
        raise InvalidInput(
            _("The membership starts %(date)s, after the date of death %(death)s.")
            % {"date": effective_from.isoformat(), "death": person.death_date.isoformat()},
            field="effective_from",
        )


def _check_disability_grade(category: str, grade: int | None) -> None:
    if grade is not None and not 1 <= grade <= 4:
        raise InvalidInput(_("A disability grade is 1, 2, 3 or 4."), field="disability_grade")
    if category == SpecialGroup.SEVERE_DISABILITY and grade not in SEVERE_DISABILITY_GRADES:
        raise InvalidInput(
            _("A severe disability is grade 1 or 2; give the grade on the certificate."),
            field="disability_grade",
        )


def _refuse_overlap(
    person: Person, category: str, effective_from: dt.date, effective_to: dt.date | None
) -> None:
    overlapping = list(
        PersonCategory.objects.filter(person=person, category=category)
        .overlapping(effective_from, effective_to)
        .order_by("id")
        .values_list("pk", "effective_from", "effective_to")
    )
    if overlapping:
        pk, start, end = overlapping[0]
        raise InvalidState(
            _("%(name)s already belongs to %(group)s in membership %(id)s (%(start)s to %(end)s).")
            % {
                "name": person.name,
                "group": SpecialGroup(category).label,
                "id": pk,
                "start": start.isoformat(),
                "end": end.isoformat() if end else _("open"),
            },
            membership_ids=[row[0] for row in overlapping],
        )
