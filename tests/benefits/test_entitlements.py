"""Benefit entitlements (DOMAIN §8.1, §8.2 BenefitEntitlement; §1.4–§1.6, §5.4): the state machine,
applying with the resident-pension rules (E1, E4, E6, E7, E24), segregation of duties, and the
database guards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django_fsm import can_proceed

from benefits import services
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus, StopReason
from enrollment.choices import EnrollmentStatus, Scheme
from enrollment.models import Enrollment
from socialsec.core.choices import Role
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, SegregationOfDutiesViolation
from tests.benefits.entitlement_factories import COUNTY, MAY_2025, paying, pensioner
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
S = EntitlementStatus
RP = BenefitProgramme.RESIDENT_PENSION


_RAW_INSERT = """
    INSERT INTO benefits_benefitentitlement (
        created_at, updated_at, person_id, programme, status, region, account_balance, contribution_years,
        basic, account, top_up, start_month, stop_reason, suspension_reason, backpay_months, backpay_amount,
        rejection_reason, note, snapshot)
    VALUES (now(), now(), %s, %s, %s, %s, 0, 0, 2500, 0, 0, '2024-01-01', '', '', '[]', 0, '', '', '{}')
"""


def raw_insert(person, programme: str, status: str) -> None:
    """A row written past the services, as a set-based writer (an import) or a raw statement would."""
    with connection.cursor() as cursor:
        cursor.execute(_RAW_INSERT, [person.pk, programme, status, COUNTY])


# --- The state machine as a table (DOMAIN §8.2) -----------------------------------------------------

_ALLOWED = {
    ("review", S.APPLIED),
    ("approve", S.UNDER_REVIEW),
    ("start_paying", S.APPROVED),
    ("reject", S.APPLIED),
    ("reject", S.UNDER_REVIEW),
    ("suspend", S.PAYING),
    ("restore", S.SUSPENDED),
    ("stop", S.APPROVED),
    ("stop", S.PAYING),
    ("stop", S.SUSPENDED),
}


@pytest.mark.parametrize("status", S.values)
@pytest.mark.parametrize(
    "step", ["review", "approve", "start_paying", "reject", "suspend", "restore", "stop"]
)
def test_domain_8_2_each_step_is_possible_exactly_from_its_sources(status, step):
    entitlement = BenefitEntitlement(status=status, programme=RP, region=COUNTY, start_month=MAY_2025)
    assert can_proceed(getattr(entitlement, step)) is ((step, status) in _ALLOWED)


# --- Applying: the resident-pension rules (DOMAIN §1.4, §1.5, §1.6) ---------------------------------


def test_e1_applying_keeps_the_amount_split_and_the_parameter_rows_used(cast):
    person = pensioner(cast, birth_date=dt.date(1964, 3, 15), balance="3000.00")
    entitlement = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann
    )
    assert entitlement.status == S.APPLIED
    # E1: BP 143 (2025 national minimum) + 3000/139 = 21.58 → 164.58.
    assert (entitlement.basic, entitlement.account, entitlement.top_up) == (
        Decimal("143.00"),
        Decimal("21.58"),
        Decimal("0.00"),
    )
    assert entitlement.monthly_amount == Decimal("164.58")
    assert (entitlement.region, entitlement.contribution_years) == (COUNTY, 15)
    snapshot = entitlement.snapshot
    assert snapshot["eligibility"]["result"]["eligible"] is True
    keys = {row["key"] for row in snapshot["amount"]["parameters"]}
    assert "resident_pension.basic_pension.national_minimum" in keys
    assert entitlement.events.count() == 1  # pghistory: the insert, with its context


def test_e4_a_50000_account_in_2024_gives_482_71(cast):
    person = pensioner(cast, birth_date=dt.date(1960, 1, 10), balance="50000.00")
    entitlement = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=dt.date(2024, 6, 1), by=cast.maker_ann
    )
    assert (entitlement.basic, entitlement.account, entitlement.monthly_amount) == (
        Decimal("123.00"),
        Decimal("359.71"),
        Decimal("482.71"),
    )


def test_e24_the_pension_starts_the_month_after_the_60th_birthday(cast):
    person = pensioner(cast, birth_date=dt.date(1965, 7, 15))
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(
            person_id=person.pk, programme=RP, start_month=dt.date(2025, 7, 1), by=cast.maker_ann
        )
    assert refused.value.details["rule"] == "resident_pension.pension_age"
    entitlement = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=dt.date(2025, 8, 1), by=cast.maker_ann
    )
    assert entitlement.start_month == dt.date(2025, 8, 1)


def test_e6_twelve_contribution_years_are_refused_naming_the_rule(cast):
    person = pensioner(cast, birth_date=dt.date(1965, 1, 10), years=12)
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(
            person_id=person.pk, programme=RP, start_month=dt.date(2025, 6, 1), by=cast.maker_ann
        )
    assert refused.value.details["rule"] == "resident_pension.minimum_contribution_years"
    assert not BenefitEntitlement.objects.exists()


def test_e7_a_person_receiving_the_employee_pension_is_refused_the_resident_pension(cast):
    person = pensioner(cast)
    Enrollment.objects.create(
        person=person,
        scheme=Scheme.EMPLOYEE_PENSION,
        status=EnrollmentStatus.RECEIVING,
        pooling_area=COUNTY,
        start_date=dt.date(2010, 1, 1),
        enrolled_by=cast.maker_ann,
    )
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann)
    assert refused.value.details["rule"] == "resident_pension.no_dual_receipt"


def test_e7_an_imported_paying_employee_pension_also_refuses_the_resident_pension(cast):
    """The province's employee-pension list (import employee_pensions) feeds the dual-receipt rule."""
    person = pensioner(cast)
    raw_insert(person, BenefitProgramme.EMPLOYEE_PENSION, S.PAYING)  # as the import writes it
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann)
    assert refused.value.details["rule"] == "resident_pension.no_dual_receipt"


def test_one_open_entitlement_per_person_and_programme_in_the_service_and_the_database(cast):
    person = pensioner(cast)
    first = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann
    )
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann)
    assert refused.value.details["entitlement_ids"] == [first.pk]
    with pytest.raises(IntegrityError, match="entitlement_one_open_per_programme"), transaction.atomic():
        BenefitEntitlement.objects.create(person=person, programme=RP, region=COUNTY, start_month=MAY_2025)


def test_only_a_clerk_applies_and_only_in_their_township(cast, person_in_b):
    person = pensioner(cast)
    with pytest.raises(NotPermitted):
        services.entitlement_apply(person_id=person.pk, programme=RP, by=cast.checker_ben)
    from socialsec.core.exceptions import NotVisible

    with pytest.raises(NotVisible):
        services.entitlement_apply(person_id=person.pk, programme=RP, by=cast.outsider_eve)


# --- Decisions and segregation of duties (DOMAIN §8.2) -------------------------------------------------


def test_review_then_approve_by_a_section_chief_starts_paying_when_the_month_has_come(cast):
    entitlement = paying(cast, pensioner(cast))
    assert entitlement.status == S.PAYING
    assert (entitlement.reviewed_by, entitlement.approved_by) == (cast.checker_ben, cast.checker_ben)
    steps = list(entitlement.events.order_by("pgh_id").values_list("status", flat=True))
    assert steps == [S.APPLIED, S.UNDER_REVIEW, S.APPROVED, S.PAYING]


def test_the_applicant_may_not_review_approve_or_reject_their_own_application(cast):
    both = UserFactory(
        username="clerk_and_chief", roles=[Role.CLERK, Role.SECTION_CHIEF], townships=[cast.township_a]
    )
    person = pensioner(cast)
    entitlement = services.entitlement_apply(person_id=person.pk, programme=RP, start_month=MAY_2025, by=both)
    with pytest.raises(SegregationOfDutiesViolation) as refused:
        services.entitlement_review(entitlement_id=entitlement.pk, by=both)
    assert refused.value.details["rule"] == "applicant_not_decider"
    with pytest.raises(SegregationOfDutiesViolation):
        services.entitlement_reject(entitlement_id=entitlement.pk, by=both, reason="材料不全")
    services.entitlement_review(entitlement_id=entitlement.pk, by=cast.checker_ben)
    with pytest.raises(SegregationOfDutiesViolation):
        services.entitlement_approve(entitlement_id=entitlement.pk, by=both)


def test_a_rejection_needs_written_reasons_and_frees_the_person_for_a_new_application(cast):
    person = pensioner(cast)
    entitlement = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann
    )
    with pytest.raises(InvalidInput):
        services.entitlement_reject(entitlement_id=entitlement.pk, by=cast.checker_ben, reason="  ")
    rejected = services.entitlement_reject(
        entitlement_id=entitlement.pk, by=cast.checker_ben, reason="户籍不符"
    )
    assert (rejected.status, rejected.rejection_reason) == (S.REJECTED, "户籍不符")
    with pytest.raises(InvalidState):
        services.entitlement_approve(entitlement_id=entitlement.pk, by=cast.checker_ben)
    again = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann
    )
    assert again.pk != entitlement.pk


def test_the_same_chief_repeating_a_step_changes_nothing(cast):
    entitlement = paying(cast, pensioner(cast))
    events = entitlement.events.count()
    services.entitlement_approve(entitlement_id=entitlement.pk, by=cast.checker_ben)
    assert entitlement.events.count() == events


def test_e9_stop_on_death_uses_the_death_month_rule(cast):
    person = pensioner(cast)
    entitlement = paying(cast, person, start_month=dt.date(2025, 1, 1))
    person.death_date = dt.date(2025, 3, 10)
    person.save(update_fields=["death_date"])
    stopped = services.entitlement_stop(
        entitlement_id=entitlement.pk, by=cast.checker_ben, reason=StopReason.DEATH
    )
    # E9: the death month is payable (seeded rule) → stop from 2025-04.
    assert (stopped.status, stopped.stop_month, stopped.stop_reason) == (
        S.STOPPED,
        dt.date(2025, 4, 1),
        "death",
    )
    assert stopped.snapshot["stop"]["result"]["stop_month"] == "2025-04-01"


def test_stop_on_death_without_a_recorded_death_is_refused(cast):
    entitlement = paying(cast, pensioner(cast))
    with pytest.raises(InvalidState):
        services.entitlement_stop(entitlement_id=entitlement.pk, by=cast.checker_ben, reason=StopReason.DEATH)


# --- Database guards ---------------------------------------------------------------------------------


def test_the_database_refuses_a_status_jump_off_the_state_machine(cast):
    person = pensioner(cast)
    entitlement = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann
    )
    with (
        pytest.raises(IntegrityError, match="may not move from applied to paying"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE benefits_benefitentitlement SET status = 'paying' WHERE id = %s", [entitlement.pk]
        )


def test_the_database_refuses_a_new_row_that_starts_approved(cast):
    person = pensioner(cast)
    with pytest.raises(IntegrityError, match="starts as"), transaction.atomic():
        raw_insert(person, RP, S.APPROVED)


# --- Refusals a clerk can act on (DOMAIN §8.1, §8.2, E10) -------------------------------------------


@pytest.mark.usefixtures("english_messages")
def test_a_second_application_names_the_open_entitlement_and_says_what_to_do(cast):
    """DOMAIN §8.1: one open entitlement per person and programme; the refusal names it, its
    state, and the way on (carry on with it, or apply once it is stopped or rejected)."""
    person = pensioner(cast)
    first = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann
    )
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann)
    message = str(refused.value.message)
    assert f"entitlement {first.pk}" in message and "(Applied)" in message
    assert "once it is stopped or rejected" in message


@pytest.mark.usefixtures("english_messages")
def test_a_person_not_enrolled_in_the_resident_pension_is_sent_to_the_registry_first(cast):
    """DOMAIN §1.5, §8.2 Enrollment ACTIVE → RECEIVING: the entitlement rests on an open enrollment."""
    person = PersonFactory(village=cast.village_a, birth_date=dt.date(1964, 3, 15))
    with pytest.raises(InvalidState) as refused:
        services.entitlement_apply(person_id=person.pk, programme=RP, start_month=MAY_2025, by=cast.maker_ann)
    assert refused.value.details["rule"] == "resident_pension.enrolled"
    assert "enrol them in the registry first" in str(refused.value.message)


@pytest.mark.usefixtures("english_messages")
def test_stop_on_death_without_a_recorded_death_says_to_record_it_or_choose_another_reason(cast):
    """DOMAIN §5.4 DEATH, E9: the stop month comes from the date of death, so it must be recorded."""
    entitlement = paying(cast, pensioner(cast))
    with pytest.raises(InvalidState) as refused:
        services.entitlement_stop(entitlement_id=entitlement.pk, by=cast.checker_ben, reason=StopReason.DEATH)
    assert refused.value.details["rule"] == "benefit.deceased"
    assert "record the date of death" in str(refused.value.message)
    entitlement.refresh_from_db()
    assert entitlement.status == S.PAYING


@pytest.mark.usefixtures("english_messages")
def test_e10_restoring_before_the_suspension_month_is_refused_naming_that_month(cast):
    """DOMAIN §8.2 SUSPENDED → PAYING with back-pay, E10: the months owed run from the suspension
    month, so the restoration cannot come before it; the refusal names the month to give."""
    entitlement = paying(cast, pensioner(cast))
    services.entitlement_suspend(
        entitlement_id=entitlement.pk,
        by=cast.checker_ben,
        reason="certification_missed",
        month=dt.date(2025, 7, 1),
    )
    with pytest.raises(InvalidInput) as refused:
        services.entitlement_restore(
            entitlement_id=entitlement.pk, by=cast.checker_ben, month=dt.date(2025, 6, 1)
        )
    assert refused.value.details["field"] == "month"
    assert "suspended from 2025-07" in str(refused.value.message)
    restored = services.entitlement_restore(
        entitlement_id=entitlement.pk, by=cast.checker_ben, month=dt.date(2025, 7, 1)
    )
    assert (restored.status, restored.restored_month) == (S.PAYING, dt.date(2025, 7, 1))
