"""Writes to the registry. Every state change and every audited read goes through here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pghistory
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm

from enrollment.choices import (
    ACCOUNT_SCHEMES,
    EMPLOYMENT_PENSION_SCHEMES,
    RESIDENT_SCHEMES,
    CategorySource,
    EnrollmentStatus,
    FeeReliefKind,
    FeeReliefStatus,
    Payer,
    PeriodKind,
    Scheme,
    SizeClass,
    SpecialGroup,
    TerminationReason,
)
from enrollment.models import (
    ContributionRecord,
    Enrollment,
    FeeReliefApplication,
    FeeReliefPolicy,
    Organization,
    Person,
    PersonalAccount,
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
from socialsec.core.parameters import ParameterValue, param, parameter_trace, params_for
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


# --- Enrollment (DOMAIN §1.1, §1.6, §8.2) ---------------------------------------------------------

# DOMAIN §1.1: the resident pension is for persons aged 16 and over. No policy parameter holds
# this age yet (resident_pension.proxy_payment.min_age is the proxy-payment range, another rule).
_ENROLLMENT_MIN_AGE = "resident_pension.enrollment.min_age"  # DOMAIN §1.1, a policy parameter


def _age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years on `day`; someone born on 29 February turns a year older on 1 March."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _open_enrollments(person: Person, schemes: Iterable[str]) -> list[Enrollment]:
    return list(Enrollment.objects.filter(person=person, scheme__in=list(schemes)).open().order_by("id"))


def _refuse_conflict(conflicts: list[Enrollment], message: Any, *, rule: str) -> None:
    if conflicts:
        raise InvalidState(
            message,
            rule=rule,
            enrollment_ids=[enrollment.pk for enrollment in conflicts],
            statuses=[enrollment.status for enrollment in conflicts],
        )


@transaction.atomic
def enrollment_enroll(
    *,
    person_id: int,
    scheme: str,
    start_date: dt.date,
    by: User,
    organization_id: int | None = None,
) -> Enrollment:
    """Enrol a person in a scheme (DOMAIN §1.1, §1.6, §8.2); a clerk's step.

    Needs `enrollment.add_enrollment` (403) and a visible person (404). Refused as 400
    naming the rule: an unknown scheme, a resident pension before the 16th birthday
    (§1.1), an employer for a resident scheme or an unknown employer. Refused as 409
    naming the rule and the conflicting enrollments: a person who has died; an open
    enrollment in the same scheme; a resident pension while the person is enrolled in,
    or receiving, the employee or the government/institution pension (§1.1 exclusion,
    §1.6 Art 8 no dual receipt). The reverse stays possible: an employee enrollment while
    the resident one is open is the same-year overlap of §1.6 Art 7, settled by a refund.
    The pension schemes get their personal account here, once per person and scheme.
    """
    if not by.has_perm("enrollment.add_enrollment"):
        raise NotPermitted(_("Your role may not enrol persons."), person_id=person_id)
    # Lock the person: two enrolments of the same person are decided one at a time, so the
    # conflict checks below cannot both pass (the partial unique index stays the last word).
    person = get_visible_or_404(
        Person.objects.select_related("township").select_for_update(of=("self",)), by, pk=person_id
    )
    if scheme not in Scheme.values:
        raise InvalidInput(_("Choose a scheme."), field="scheme")
    if person.death_date is not None:
        raise InvalidState(
            _("%(name)s died on %(date)s and cannot be enrolled.")
            % {"name": person.name, "date": person.death_date.isoformat()},
            rule="person_deceased",
            person_id=person.pk,
            death_date=person.death_date.isoformat(),
        )
    if start_date < person.birth_date:
        raise InvalidInput(_("The enrollment starts before the birth date."), field="start_date")
    min_age = (
        param(_ENROLLMENT_MIN_AGE, person.township.code[:6], on=start_date).integer()
        if scheme == Scheme.RESIDENT_PENSION
        else None
    )
    if min_age is not None and _age_on(person.birth_date, start_date) < min_age:
        raise InvalidInput(
            _("The resident pension starts at age %(age)s; %(name)s is %(actual)s on %(date)s.")
            % {
                "age": min_age,
                "name": person.name,
                "actual": _age_on(person.birth_date, start_date),
                "date": start_date.isoformat(),
            },
            field="start_date",
            rule="resident_pension_min_age",
        )
    organization = None
    if organization_id is not None:
        if scheme in RESIDENT_SCHEMES:
            raise InvalidInput(
                _("Residents enrol in %(scheme)s for themselves, without an employer.")
                % {"scheme": Scheme(scheme).label},
                field="organization_id",
                rule="resident_scheme_without_employer",
            )
        # The employer may sit in another township than the person; it is reference data here.
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise InvalidInput(_("Choose an employer."), field="organization_id")
    _refuse_conflict(
        _open_enrollments(person, [scheme]),
        _("%(name)s is already enrolled in %(scheme)s.")
        % {"name": person.name, "scheme": Scheme(scheme).label},
        rule="one_open_enrollment_per_scheme",
    )
    if scheme == Scheme.RESIDENT_PENSION:
        _refuse_conflict(
            _open_enrollments(person, EMPLOYMENT_PENSION_SCHEMES),
            _(
                "%(name)s is in the employee or the government and institution pension, "
                "so cannot enrol in the resident pension."
            )
            % {"name": person.name},
            rule="resident_pension_excluded_by_employment_pension",
        )
    enrollment = Enrollment(
        person=person,
        scheme=scheme,
        pooling_area=person.township.code[:6],
        start_date=start_date,
        organization=organization,
        enrolled_by=by,
    )
    with pghistory.context(user=by.pk, action="enrollment_enroll"):
        enrollment.save()
        if scheme in ACCOUNT_SCHEMES:
            PersonalAccount.objects.get_or_create(person=person, scheme=scheme)
    return enrollment


@transaction.atomic
def enrollment_suspend(*, enrollment_id: int, by: User) -> Enrollment:
    """The person stops paying: ACTIVE → SUSPENDED_CONTRIB (DOMAIN §8.2).

    Needs `enrollment.change_enrollment` (403), a visible enrollment (404); 409 from any
    other state, naming the enrollment. Suspending a suspended enrollment again is a no-op.
    """
    return _enrollment_step(
        enrollment_id=enrollment_id,
        by=by,
        step="suspend",
        perm="enrollment.change_enrollment",
        done=EnrollmentStatus.SUSPENDED_CONTRIB,
    )


@transaction.atomic
def enrollment_resume(*, enrollment_id: int, by: User) -> Enrollment:
    """The person pays again: SUSPENDED_CONTRIB → ACTIVE (DOMAIN §8.2); otherwise as enrollment_suspend."""
    return _enrollment_step(
        enrollment_id=enrollment_id,
        by=by,
        step="resume",
        perm="enrollment.change_enrollment",
        done=EnrollmentStatus.ACTIVE,
    )


@transaction.atomic
def enrollment_terminate(
    *, enrollment_id: int, reason: str, by: User, on: dt.date | None = None, note: str = ""
) -> Enrollment:
    """End an open enrollment for a reason of DOMAIN §8.2 (death, dual scheme, transfer to employee).

    Needs `enrollment.terminate_enrollment` (403) and a visible enrollment (404). An unknown
    reason is 400; a terminated or transferred-out enrollment is 409 naming it, except the
    same termination again, which is a no-op. The end date defaults to today.
    """
    if reason not in TerminationReason.values:
        raise InvalidInput(_("Choose the reason for ending the enrollment."), field="reason")
    return _enrollment_step(
        enrollment_id=enrollment_id,
        by=by,
        step="terminate",
        perm="enrollment.terminate_enrollment",
        done=EnrollmentStatus.TERMINATED,
        kwargs={"reason": reason, "on": on or timezone.localdate()},
        note=note,
        same_reason=reason,
    )


def _enrollment_step(
    *,
    enrollment_id: int,
    by: User,
    step: str,
    perm: str,
    done: str,
    kwargs: dict[str, Any] | None = None,
    note: str = "",
    same_reason: str = "",
) -> Enrollment:
    """Lock, check, transition, save, audit (STYLE §12), inside the caller's transaction."""
    if not by.has_perm(perm):
        raise NotPermitted(_("Your role may not change enrollments this way."), enrollment_id=enrollment_id)
    # Lock before reading the status: two clerks acting at once are decided one at a time.
    enrollment = get_visible_or_404(Enrollment.objects.select_for_update(of=("self",)), by, pk=enrollment_id)
    if enrollment.status == done and enrollment.termination_reason == same_reason:
        return enrollment  # the same step again, e.g. a double click
    transition_step = getattr(enrollment, step)
    if not can_proceed(transition_step):
        raise InvalidState(
            _("Enrollment %(id)s is %(status)s; this step is not possible.")
            % {"id": enrollment.pk, "status": enrollment.get_status_display()},
            enrollment_ids=[enrollment.pk],
            status=enrollment.status,
            step=step,
        )
    ends_on = (kwargs or {}).get("on")
    if ends_on is not None and ends_on < enrollment.start_date:
        raise InvalidInput(
            _("The enrollment cannot end before it started on %(date)s.")
            % {"date": enrollment.start_date.isoformat()},
            field="on",
        )
    with pghistory.context(user=by.pk, action=f"enrollment_{step}", note=note):
        transition_step(**(kwargs or {}))
        enrollment.save()
    return enrollment


# --- Contributions and personal accounts (DOMAIN §1.2, §2.1, §8.1) ------------------------------

_GRADES = "resident_pension.contribution_grades"
_SUBSIDY_MINIMUM = "resident_pension.contribution_subsidy.minimum"
_SUBSIDY_THRESHOLD = "resident_pension.contribution_subsidy.higher_grade_threshold"
_SUBSIDY_HIGHER = "resident_pension.contribution_subsidy.higher_grade_minimum"


# The parameters behind the subsidy, in the order a trace records them (parameters_used).
RESIDENT_PENSION_SUBSIDY_KEYS = (_GRADES, _SUBSIDY_MINIMUM, _SUBSIDY_THRESHOLD, _SUBSIDY_HIGHER)


def resident_pension_subsidy_by_grade(values: Mapping[str, ParameterValue]) -> dict[Decimal, Decimal]:
    """Each grade in force, in the parameter's order, with its government subsidy (DOMAIN §1.2).

    `values` is params_for(RESIDENT_PENSION_SUBSIDY_KEYS, …). The national rule has two steps:
    the minimum for grades below the threshold, the higher minimum at or above. Shared by
    resident_pension_subsidy (one record) and the contributions import (a whole file).
    """
    threshold = values[_SUBSIDY_THRESHOLD].decimal()
    lower, higher = values[_SUBSIDY_MINIMUM].decimal(), values[_SUBSIDY_HIGHER].decimal()
    return {grade: higher if grade >= threshold else lower for grade in values[_GRADES].decimals()}


def resident_pension_subsidy(*, grade: Decimal, region: str, on: dt.date) -> Decimal:
    """The government contribution subsidy for a grade (DOMAIN §1.2), from the parameters in force.

    The grade must be one of the grades in force (400, naming the field); the amounts are
    those of resident_pension_subsidy_by_grade. Reads every parameter in one query, so an
    open parameter_trace() records all of them.
    """
    by_grade = resident_pension_subsidy_by_grade(params_for(RESIDENT_PENSION_SUBSIDY_KEYS, region, on))
    if grade not in by_grade:
        raise InvalidInput(
            _("%(grade)s is not a contribution grade in force; the grades are %(grades)s.")
            % {"grade": grade, "grades": ", ".join(str(g) for g in by_grade)},
            field="grade",
            rule="resident_pension_grades",
        )
    return by_grade[grade]


@transaction.atomic
def contribution_record(
    *,
    enrollment_id: int,
    period_start: dt.date,
    by: User,
    grade: Decimal | None = None,
    base: Decimal | None = None,
    personal_amount: Decimal | None = None,
    collective_amount: Decimal = Decimal("0"),
    proxy_payment_amount: Decimal = Decimal("0"),
    proxy_payment_source: str = "",
    is_backpay: bool = False,
    payer: str = Payer.PERSON,
    paid_on: dt.date | None = None,
) -> ContributionRecord:
    """Record one paid period and credit the personal account in the same transaction.

    Needs `enrollment.add_contributionrecord` (403) and a visible enrollment (404); the
    enrollment must be ACTIVE (409). Resident pension (DOMAIN §1.2): the period is a year
    (any day of it), the grade one of the grades in force (400); the person's part is the
    grade less the proxy payment; the government subsidy comes from the parameters in force
    on the payment day, with their rows kept in `parameters_used`, and is nothing for a
    year paid after it ended (back-payment, §1.2, E6). Employee schemes: the period is a
    month, with the base and the personal part (8% of the base by DOMAIN §2.2, given by the
    employer's payroll; no rate parameter is seeded). A period already recorded is 409 naming the record: a
    paid year's grade is locked (§1.2; trigger contribution_record_period_locked).
    """
    if not by.has_perm("enrollment.add_contributionrecord"):
        raise NotPermitted(_("Your role may not record contributions."), enrollment_id=enrollment_id)
    enrollment = get_visible_or_404(
        Enrollment.objects.select_related("person").select_for_update(of=("self",)), by, pk=enrollment_id
    )
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise InvalidState(
            _("Enrollment %(id)s is %(status)s; only a contributing enrollment takes contributions.")
            % {"id": enrollment.pk, "status": enrollment.get_status_display()},
            enrollment_ids=[enrollment.pk],
            status=enrollment.status,
        )
    paid_on = paid_on or timezone.localdate()
    for field, amount in (
        ("collective_amount", collective_amount),
        ("proxy_payment_amount", proxy_payment_amount),
    ):
        if amount < 0:
            raise InvalidInput(_("An amount cannot be negative."), field=field)
    record = ContributionRecord(
        enrollment=enrollment,
        collective_amount=collective_amount,
        proxy_payment_amount=proxy_payment_amount,
        proxy_payment_source=proxy_payment_source.strip(),
        payer=payer,
        paid_on=paid_on,
        recorded_by=by,
    )
    if enrollment.scheme == Scheme.RESIDENT_PENSION:
        _resident_year(record, enrollment, period_start, grade)
    else:
        _employee_month(record, period_start, base, personal_amount, is_backpay)
    _refuse_recorded_period(record)
    try:
        with transaction.atomic(), pghistory.context(user=by.pk, action="contribution_record"):
            record.save()
    except IntegrityError:
        _refuse_recorded_period(record)  # another writer recorded the period first
        raise
    if enrollment.scheme in ACCOUNT_SCHEMES:
        _credit_account(record, enrollment)
    return record


def _resident_year(
    record: ContributionRecord, enrollment: Enrollment, period_start: dt.date, grade: Decimal | None
) -> None:
    if grade is None:
        raise InvalidInput(_("Choose the contribution grade."), field="grade")
    year_start = dt.date(period_start.year, 1, 1)
    if record.proxy_payment_amount > grade or record.collective_amount > grade:
        raise InvalidInput(_("A subsidy cannot exceed the grade."), field="proxy_payment_amount")
    # DOMAIN §1.2 "Late back-payment": a year paid after it ended is back-paid and gets no subsidy.
    is_backpay = record.paid_on > dt.date(year_start.year, 12, 31)
    # The grades and subsidy in force when the year is paid: a back-payment is made at today's grades.
    with parameter_trace() as trace:
        subsidy = resident_pension_subsidy(grade=grade, region=enrollment.pooling_area, on=record.paid_on)
    record.period_kind = PeriodKind.YEAR
    record.period_start = year_start
    record.grade = grade
    record.personal_amount = grade - record.proxy_payment_amount
    record.is_backpay = is_backpay
    record.government_subsidy = Decimal("0") if is_backpay else subsidy
    record.parameters_used = trace.as_snapshot()


def _employee_month(
    record: ContributionRecord,
    period_start: dt.date,
    base: Decimal | None,
    personal_amount: Decimal | None,
    is_backpay: bool,
) -> None:
    if base is None or base <= 0:
        raise InvalidInput(_("Give the contribution base."), field="base")
    if personal_amount is None or not 0 <= personal_amount <= base:
        raise InvalidInput(_("Give the personal contribution, at most the base."), field="personal_amount")
    record.period_kind = PeriodKind.MONTH
    record.period_start = first_of_month(period_start)
    record.base = base
    record.personal_amount = personal_amount
    record.is_backpay = is_backpay


def _refuse_recorded_period(record: ContributionRecord) -> None:
    existing = (
        ContributionRecord.objects.filter(
            enrollment_id=record.enrollment_id, period_start=record.period_start
        )
        .values_list("pk", "grade")
        .first()
    )
    if existing is not None:
        raise InvalidState(
            _("The period %(period)s is already paid (record %(id)s); its grade is locked.")
            % {"period": record.period_start.isoformat(), "id": existing[0]},
            rule="contribution_period_locked",
            contribution_ids=[existing[0]],
            grade=str(existing[1]) if existing[1] is not None else None,
        )


def _credit_account(record: ContributionRecord, enrollment: Enrollment) -> None:
    # One set-based UPDATE in the contribution's transaction: concurrent credits add up in the
    # database rather than overwrite a balance read in Python.
    credited = PersonalAccount.objects.filter(
        person_id=enrollment.person_id, scheme=enrollment.scheme
    ).update(
        personal=F("personal") + record.personal_amount,
        collective=F("collective") + record.collective_amount,
        government_subsidy=F("government_subsidy") + record.government_subsidy,
        proxy_payment=F("proxy_payment") + record.proxy_payment_amount,
        updated_at=timezone.now(),
    )
    if not credited:  # an enrollment made before accounts existed (an import): open it now
        PersonalAccount.objects.create(
            person_id=enrollment.person_id,
            scheme=enrollment.scheme,
            personal=record.personal_amount,
            collective=record.collective_amount,
            government_subsidy=record.government_subsidy,
            proxy_payment=record.proxy_payment_amount,
        )
