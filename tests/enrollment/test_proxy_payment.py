"""The proxy-payment (代缴) roster, end to end through the services (DOMAIN §1.3, §0.5, §1.2; E1, E2, E3;
issue 4 "Rosters → Proxy payment"): generation from the rules, the five-post workflow, and the
contribution records with the proxy-payment component once the bank has paid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.choices import CategorySource, EnrollmentStatus, Payer, PeriodKind, Scheme, SpecialGroup
from enrollment.models import ContributionRecord, Enrollment, Person, PersonalAccount, PersonCategory
from enrollment.proxy_payment import ProxyPaymentRoster
from enrollment.proxy_payment_services import (
    proxy_payment_contributions_record,
    proxy_payment_roster_generate,
    proxy_payment_roster_record_bank_receipt,
    proxy_payment_roster_take_step,
)
from socialsec.core.choices import Role
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from socialsec.core.models import User
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.services import BankLineResult
from tests.benefits.test_calculations_parameters import set_parameter
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

COUNTY = "360121"
# Proxy payments are recorded on the day the bank's receipt is: this year's roster is paid in time.
YEAR = timezone.localdate().year
RULES = "resident_pension.proxy_payment.rules"
_accounts = iter(range(10**6))


def born(age: int, year: int = YEAR) -> dt.date:
    """Aged `age` in `year` (the age reached in the year, the seeded age basis)."""
    return dt.date(year - age, 4, 2)


def person(cast, *, age: int, groups=(), village=None, enrolled=True, account=True, status=None):
    """A resident of village A (by default) in some special groups, enrolled in the resident pension."""
    someone = PersonFactory(
        village=village or cast.village_a,
        birth_date=born(age),
        bank_account_number=f"62170000{next(_accounts):011d}" if account else "",
        bank_name="农商银行" if account else "",
    )
    for group in groups:
        PersonCategory.objects.create(
            person=someone,
            category=group,
            disability_grade=1 if group == SpecialGroup.SEVERE_DISABILITY else None,
            source=CategorySource.DISABILITY_FEDERATION
            if group == SpecialGroup.SEVERE_DISABILITY
            else CategorySource.CIVIL_AFFAIRS,
            effective_from=dt.date(2015, 1, 1),
            recorded_by=cast.maker_ann,
        )
    if enrolled:
        Enrollment.objects.create(
            person=someone,
            scheme=Scheme.RESIDENT_PENSION,
            status=status or EnrollmentStatus.ACTIVE,
            pooling_area=COUNTY,
            start_date=dt.date(2015, 1, 1),
            enrolled_by=cast.maker_ann,
        )
    return someone


def make_county(cast) -> dict:
    """E2, E3 and those who are not proxy-paid: E1 (61), not enrolled, receiving, another township."""
    return {
        "e2": person(cast, age=45, groups=[SpecialGroup.EXTREME_POVERTY_SUPPORT]),
        "e3": person(cast, age=35, groups=[SpecialGroup.SEVERE_DISABILITY]),
        "e1": person(cast, age=61, groups=[SpecialGroup.MINIMUM_LIVING_ALLOWANCE]),
        "not_enrolled": person(cast, age=40, groups=[SpecialGroup.EXTREME_POVERTY_SUPPORT], enrolled=False),
        "receiving": person(
            cast, age=50, groups=[SpecialGroup.MINIMUM_LIVING_ALLOWANCE], status=EnrollmentStatus.RECEIVING
        ),
        "no_group": person(cast, age=30),
        "in_b": person(cast, age=40, groups=[SpecialGroup.EXTREME_POVERTY_SUPPORT], village=cast.village_b),
    }


@pytest.fixture
def county(cast):
    return make_county(cast)


def generate(cast, year: int = YEAR, township="a", by=None):
    township_id = {"a": cast.township_a.pk, "b": cast.township_b.pk, None: None}[township]
    return proxy_payment_roster_generate(year=year, township_id=township_id, by=by or cast.maker_ann)


def walk_to_paying(cast, roster: ProxyPaymentRoster) -> ProxyPaymentRoster:
    """The five posts of DOMAIN E22: maker, checker, approver, accountant, cashier."""
    for step, actor in (
        ("submit", cast.maker_ann),
        ("check", cast.checker_ben),
        ("approve", cast.approver_cai),
        ("prepare-payment", cast.accountant_dan),
        ("pay", cast.cashier_fay),
    ):
        roster = proxy_payment_roster_take_step(roster_id=roster.pk, step=step, by=actor)
    return roster


def receipt(roster: ProxyPaymentRoster, failed_seqs=()) -> list[BankLineResult]:
    return [
        BankLineResult(
            seq=seq, paid=seq not in failed_seqs, message="账户已冻结" if seq in failed_seqs else ""
        )
        for seq in roster.lines.order_by("seq").values_list("seq", flat=True)
    ]


def pay(cast, roster: ProxyPaymentRoster, failed_seqs=()) -> ProxyPaymentRoster:
    roster = walk_to_paying(cast, roster)
    return proxy_payment_roster_record_bank_receipt(
        roster_id=roster.pk, results=receipt(roster, failed_seqs), by=cast.accountant_dan
    )


def account(someone) -> PersonalAccount:
    return PersonalAccount.objects.get(person=someone, scheme=Scheme.RESIDENT_PENSION)


def record(someone, year: int = YEAR) -> ContributionRecord:
    return ContributionRecord.objects.get(enrollment__person=someone, period_start=dt.date(year, 1, 1))


# --- Generation ----------------------------------------------------------------------------------------


def test_e2_e3_generation_puts_the_proxy_paid_of_the_township_on_one_draft_and_nobody_else(cast, county):
    # DOMAIN §1.3, §0.5: enrolled and contributing, aged 16-59 in the year, in a group the rules pay.
    generated = generate(cast)
    roster = generated.roster
    assert roster.status == RosterStatus.DRAFT
    assert (roster.number, roster.period, roster.year) == (
        f"PP-{YEAR}01-360121100-1",
        dt.date(YEAR, 1, 1),
        YEAR,
    )
    lines = {line.person_id: line for line in roster.lines.all()}
    assert set(lines) == {county["e2"].pk, county["e3"].pk}  # not E1 (61), not enrolled, receiving, B
    e2, e3 = lines[county["e2"].pk], lines[county["e3"].pk]
    assert (e2.category, e2.share, e2.grade, e2.net, e2.government_subsidy) == (
        "extreme_poverty_support",
        "full",
        Decimal(100),
        Decimal(100),
        Decimal(30),
    )
    assert (e3.category, e3.share, e3.net) == ("severe_disability", "full", Decimal(100))
    assert e2.account_number == county["e2"].bank_account_number
    assert (roster.total_persons, roster.total_amount) == (2, Decimal(200))
    assert roster.parameters_used[COUNTY]  # the parameter rows read, kept for the records
    assert generated.without_account == 0


def test_e1_a_61_year_old_and_a_person_not_enrolled_are_not_on_the_roster(cast, county):
    # DOMAIN E1 and §0.5: at 60 and over the person receives a pension, no 代缴; §1.3 enrolled only.
    persons = set(generate(cast).roster.lines.values_list("person_id", flat=True))
    assert county["e1"].pk not in persons
    assert county["not_enrolled"].pk not in persons


def test_persons_without_a_card_or_account_are_left_off_and_counted(cast, county):
    nowhere = person(cast, age=30, groups=[SpecialGroup.MINIMUM_LIVING_ALLOWANCE], account=False)
    generated = generate(cast)
    assert (generated.without_account, generated.without_account_person_ids) == (1, [nowhere.pk])
    assert nowhere.pk not in set(generated.roster.lines.values_list("person_id", flat=True))


def test_a_card_number_is_paid_into_when_there_is_no_bank_account(cast, county):
    carded = person(cast, age=30, groups=[SpecialGroup.MINIMUM_LIVING_ALLOWANCE], account=False)
    carded.card_number = "A12345678"
    carded.save(update_fields=["card_number"])
    line = generate(cast).roster.lines.get(person=carded)
    assert line.account_number == "A12345678"


@pytest.mark.usefixtures("english_messages")
def test_a_second_generation_for_the_year_is_refused_naming_the_existing_roster(cast, county):
    # Issue 4: "a roster for a period that already has one is refused with the existing roster's number".
    first = generate(cast).roster
    with pytest.raises(InvalidState) as error:
        generate(cast)
    assert error.value.details["number"] == first.number
    assert first.number in str(error.value.message)
    county_clerk = UserFactory(username="county_clerk", roles=[Role.CLERK], county_wide=True)
    with pytest.raises(InvalidState) as overlapping:  # the county's roster would cover township A too
        generate(cast, township=None, by=county_clerk)
    assert overlapping.value.details["number"] == first.number


def test_after_cancelling_the_draft_the_year_can_be_generated_again(cast, county):
    first = generate(cast).roster
    proxy_payment_roster_take_step(roster_id=first.pk, step="cancel", by=cast.maker_ann, note="重新生成")
    second = generate(cast).roster
    assert second.number.endswith("-2")
    assert set(second.lines.values_list("person_id", flat=True)) == {county["e2"].pk, county["e3"].pk}


def test_a_year_already_proxy_paid_or_recorded_is_not_generated_again(cast, county):
    # DOMAIN §1.3 "代缴 is paid only once per year": a record of the year (an import, say) excludes.
    enrollment = Enrollment.objects.get(person=county["e2"])
    ContributionRecord.objects.create(
        enrollment=enrollment,
        period_kind=PeriodKind.YEAR,
        period_start=dt.date(YEAR, 1, 1),
        grade=Decimal(100),
        personal_amount=Decimal(0),
        proxy_payment_amount=Decimal(100),
        payer=Payer.GOVERNMENT,
        paid_on=timezone.localdate(),
        recorded_by=cast.maker_ann,
    )
    persons = set(generate(cast).roster.lines.values_list("person_id", flat=True))
    assert persons == {county["e3"].pk}


def test_generation_refusals_role_township_year_and_nobody(cast, county):
    with pytest.raises(NotPermitted):
        generate(cast, by=cast.checker_ben)
    with pytest.raises(NotVisible):
        generate(cast, township="b")  # maker_ann works for township A only
    with pytest.raises(NotPermitted):
        generate(cast, township=None)  # a county roster: county-wide staff only
    with pytest.raises(InvalidInput):
        generate(cast, year=2013)
    PersonCategory.objects.filter(person=county["in_b"]).delete()  # township B: nobody to proxy-pay
    with pytest.raises(InvalidState):
        generate(cast, township="b", by=cast.outsider_eve)
    assert not ProxyPaymentRoster.objects.exists()


def test_the_database_refuses_a_second_line_for_a_person_and_year(cast, county):
    # The shared workflow's no-double-payment index (programme, person, period) over lines that count.
    line = generate(cast).roster.lines.order_by("seq").first()
    other = ProxyPaymentRoster.objects.create(
        number="PP-test", period=line.period, township=cast.township_b, created_by=cast.maker_ann
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        other.lines.create(
            seq=1,
            person_id=line.person_id,
            period=line.period,
            basic=line.basic,
            net=line.net,
            account_number=line.account_number,
            enrollment_id=line.enrollment_id,
            category=line.category,
            share=line.share,
            grade=line.grade,
        )


def test_the_lines_are_frozen_once_submitted_whatever_the_door(cast, county):
    # The shared guard (lines_update_guard) on this roster kind's table too.
    roster = generate(cast).roster
    proxy_payment_roster_take_step(roster_id=roster.pk, step="submit", by=cast.maker_ann)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE enrollment_proxypaymentline SET grade = 200 WHERE roster_id = %s", [roster.pk])


def test_generation_runs_the_same_queries_for_two_and_for_twelve_persons(cast, county):
    def count(year: int) -> int:
        maker = User.objects.get(pk=cast.maker_ann.pk)  # no warm permission or township cache
        with CaptureQueriesContext(connection) as captured:
            generate(cast, year=year, by=maker)
        return len(captured)

    small = count(YEAR)
    for _ in range(10):
        person(cast, age=30, groups=[SpecialGroup.RETURNED_TO_POVERTY])
    large = count(YEAR - 1)
    assert ProxyPaymentRoster.objects.get(period=dt.date(YEAR - 1, 1, 1)).total_persons == 12
    assert small == large


# --- Paid: the contribution records --------------------------------------------------------------------


def test_e2_paid_makes_a_record_of_100_by_the_government_and_the_account_grows_by_130(cast, county):
    # DOMAIN E2: full minimum grade 100 (cfg), + the 30 subsidy where the county credits it → 130.
    roster = pay(cast, generate(cast).roster)
    assert roster.status == RosterStatus.PAID
    e2 = record(county["e2"])
    assert (e2.period_kind, e2.grade, e2.proxy_payment_amount, e2.personal_amount) == (
        PeriodKind.YEAR,
        Decimal(100),
        Decimal(100),
        Decimal(0),
    )
    assert (e2.government_subsidy, e2.payer, e2.is_backpay) == (Decimal(30), Payer.GOVERNMENT, False)
    assert e2.proxy_payment_source == f"extreme_poverty_support {roster.number}"
    assert (e2.paid_on, e2.recorded_by_id) == (timezone.localdate(roster.settled_at), cast.accountant_dan.pk)
    assert {row["key"] for row in e2.parameters_used} >= {"resident_pension.proxy_payment.grade_amount"}
    balance = account(county["e2"])
    assert (balance.proxy_payment, balance.government_subsidy, balance.personal) == (
        Decimal(100),
        Decimal(30),
        Decimal(0),
    )
    assert balance.balance == Decimal(130)


def test_e2_without_the_subsidy_flag_the_account_grows_by_100(cast, county):
    # DOMAIN §1.3 "Subsidy on top of 代缴": a flag (unconfirmed nationally).
    set_parameter("resident_pension.proxy_payment.with_contribution_subsidy", COUNTY, False, kind="boolean")
    pay(cast, generate(cast).roster)
    assert record(county["e2"]).government_subsidy == Decimal(0)
    assert account(county["e2"]).balance == Decimal(100)


def test_e3_a_grade_1_disability_is_proxy_paid_the_full_grade(cast, county):
    # DOMAIN E3: "part or all of the minimum grade"; the seeded county rule: FULL 100.
    pay(cast, generate(cast).roster)
    e3 = record(county["e3"])
    assert (e3.grade, e3.proxy_payment_amount, e3.personal_amount, e3.payer) == (
        Decimal(100),
        Decimal(100),
        Decimal(0),
        Payer.GOVERNMENT,
    )
    assert e3.proxy_payment_source.startswith("severe_disability ")
    assert account(county["e3"]).proxy_payment == Decimal(100)


def test_e3_where_the_county_pays_part_of_the_grade_the_record_has_the_partial_amount(cast, county):
    # DOMAIN §1.3 ProxyPaymentRule(share = PARTIAL, partial_amount), e.g. 50 (unconfirmed, local).
    set_parameter(
        RULES,
        COUNTY,
        [
            {"category": "extreme_poverty_support", "share": "full"},
            {"category": "severe_disability", "share": "partial", "partial_amount": "50"},
        ],
        kind="table",
    )
    roster = generate(cast).roster
    line = roster.lines.get(person=county["e3"])
    assert (line.share, line.net, line.grade) == ("partial", Decimal(50), Decimal(100))
    assert roster.total_amount == Decimal(150)
    pay(cast, roster)
    e3 = record(county["e3"])
    # The year is at the grade; the government's part is 50, the person's the rest.
    assert (e3.grade, e3.proxy_payment_amount, e3.personal_amount) == (Decimal(100), Decimal(50), Decimal(50))
    assert account(county["e3"]).proxy_payment == Decimal(50)


def test_partially_paid_only_the_lines_the_bank_paid_become_records(cast, county):
    roster = generate(cast).roster
    failed = roster.lines.get(person=county["e3"]).seq
    roster = pay(cast, roster, failed_seqs=[failed])
    assert roster.status == RosterStatus.PARTIALLY_PAID
    assert record(county["e2"]).proxy_payment_amount == Decimal(100)
    assert not ContributionRecord.objects.filter(enrollment__person=county["e3"]).exists()
    assert not PersonalAccount.objects.filter(person=county["e3"]).exists()


def test_paid_twice_creates_nothing_new(cast, county):
    # Idempotent: the receipt again, and the record step again (the receiver's door), add nothing.
    roster = pay(cast, generate(cast).roster)
    before = (ContributionRecord.objects.count(), account(county["e2"]).balance)
    again = proxy_payment_contributions_record(roster_id=roster.pk)
    assert (again.inserted, again.accounts_credited, again.conflicting_line_ids) == (0, 0, [])
    proxy_payment_roster_record_bank_receipt(
        roster_id=roster.pk, results=receipt(roster), by=cast.accountant_dan
    )
    assert (ContributionRecord.objects.count(), account(county["e2"]).balance) == before
    assert ContributionRecord.objects.filter(enrollment__person=county["e2"]).count() == 1


def test_a_year_recorded_otherwise_before_the_bank_paid_is_kept_and_the_line_reported(cast, county):
    roster = walk_to_paying(cast, generate(cast).roster)
    enrollment = Enrollment.objects.get(person=county["e2"])
    mine = ContributionRecord.objects.create(
        enrollment=enrollment,
        period_kind=PeriodKind.YEAR,
        period_start=dt.date(YEAR, 1, 1),
        grade=Decimal(200),
        personal_amount=Decimal(200),
        payer=Payer.PERSON,
        paid_on=timezone.localdate(),
        recorded_by=cast.maker_ann,
    )
    roster = proxy_payment_roster_record_bank_receipt(
        roster_id=roster.pk, results=receipt(roster), by=cast.accountant_dan
    )
    assert list(ContributionRecord.objects.filter(enrollment=enrollment)) == [mine]
    line = roster.lines.get(person=county["e2"])
    assert proxy_payment_contributions_record(roster_id=roster.pk).conflicting_line_ids == [line.pk]


def test_last_years_roster_paid_this_year_is_back_paid_without_subsidy(cast, county):
    # DOMAIN §1.2 "Late back-payment": a year paid after it ended gets no government subsidy.
    pay(cast, generate(cast, year=YEAR - 1).roster)
    e2 = record(county["e2"], YEAR - 1)
    assert (e2.is_backpay, e2.government_subsidy, e2.proxy_payment_amount) == (True, Decimal(0), Decimal(100))


def test_records_are_not_made_before_the_bank_has_paid(cast, county):
    roster = walk_to_paying(cast, generate(cast).roster)
    with pytest.raises(InvalidState):
        proxy_payment_contributions_record(roster_id=roster.pk)
    assert not ContributionRecord.objects.exists()


def test_recording_the_contributions_runs_the_same_queries_for_two_and_for_twelve_lines(cast, county):
    def count(year: int) -> int:
        roster = walk_to_paying(cast, generate(cast, year=year).roster)
        results = receipt(roster)
        finance = User.objects.get(pk=cast.accountant_dan.pk)  # no warm permission cache
        with CaptureQueriesContext(connection) as captured:
            proxy_payment_roster_record_bank_receipt(roster_id=roster.pk, results=results, by=finance)
        return len(captured)

    small = count(YEAR)
    for _ in range(10):
        person(cast, age=30, groups=[SpecialGroup.RETURNED_TO_POVERTY])
    large = count(YEAR - 1)
    assert ContributionRecord.objects.filter(period_start=dt.date(YEAR - 1, 1, 1)).count() == 12
    assert small == large


def test_a_receipt_recorded_through_the_shared_service_makes_the_records_after_commit(
    cast, county, django_capture_on_commit_callbacks
):
    # Another door (the shared receipt service, e.g. a generic bank-receipt endpoint): the
    # roster_step_committed receiver records the contributions once the receipt has committed.
    from socialsec.rosters.services import roster_record_bank_receipt

    roster = walk_to_paying(cast, generate(cast).roster)
    with django_capture_on_commit_callbacks(execute=True):
        roster_record_bank_receipt(
            model=ProxyPaymentRoster, roster_id=roster.pk, results=receipt(roster), by=cast.accountant_dan
        )
    assert record(county["e2"]).proxy_payment_amount == Decimal(100)
    assert account(county["e2"]).balance == Decimal(130)


# --- Re-issue of a line the bank refused (issue 4 "Payment"; DOMAIN §8.3, §1.2) ----------------------


def test_a_refused_line_is_reissued_once_on_the_next_years_roster_after_the_account_is_corrected(
    cast, county
):
    """DOMAIN §1.3, §8.3, E22 step 5: a proxy-payment line the bank refused is re-issued once, on the
    next year's roster after the account is corrected; its contribution is recorded for its own
    year, late and without the subsidy (§1.2)."""
    last_year = generate(cast, year=YEAR - 1).roster
    refused = last_year.lines.get(person=county["e3"])
    pay(cast, last_year, failed_seqs=[refused.seq])
    refused.refresh_from_db()

    # The refused account is still on record: nothing to re-issue yet.
    draft = generate(cast).roster
    assert not draft.lines.filter(reissue_of__isnull=False).exists()
    proxy_payment_roster_take_step(roster_id=draft.pk, step="cancel", by=cast.maker_ann, note="账户待更正")

    Person.objects.filter(pk=county["e3"].pk).update(bank_account_number="6217000000000777666")
    roster = generate(cast).roster
    reissue = roster.lines.get(reissue_of=refused)
    assert (reissue.period, reissue.net, reissue.account_number) == (
        dt.date(YEAR - 1, 1, 1),
        refused.net,
        "6217000000000777666",
    )
    assert roster.lines.filter(person=county["e3"], period=dt.date(YEAR, 1, 1)).exists()  # this year too
    assert roster.total_persons == roster.lines.count()

    pay(cast, roster)
    # Last year's contribution, recorded for last year, late: without the government subsidy (§1.2).
    late = record(county["e3"], YEAR - 1)
    assert (late.is_backpay, late.government_subsidy, late.proxy_payment_amount) == (
        True,
        Decimal(0),
        refused.net,
    )
    assert not record(county["e3"]).is_backpay
    # Once only: next year's roster re-issues nothing.
    following = generate(cast, year=YEAR + 1).roster
    assert not following.lines.filter(reissue_of__isnull=False).exists()
