"""Importing contribution batches (缴费批量): contribution_record's rules, for a whole file.

DOMAIN §1.2 (grades in force, the government subsidy for the grade from the parameters with the
rows kept in parameters_used, none for back-paid years, the grade lock), §2.2 (employee months on
a base), §8.1 (ContributionRecord, PersonalAccount by component), worked examples E2, E5, E6 and
E8 as far as they concern contributions. The central test imports a file and records the same
payments through the service, then compares every record and every account balance.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError
from django.db import connection

from enrollment import selectors
from enrollment import services as enrollment_services
from enrollment.choices import EnrollmentStatus, Payer, PeriodKind, Scheme, TerminationReason
from enrollment.import_kinds.contributions import Contributions
from enrollment.models import ContributionRecord, Enrollment, Person, PersonalAccount
from socialsec.core.exceptions import InvalidState
from socialsec.core.models import PolicyParameter
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch
from socialsec.lib.resident_id import build_resident_id
from tests.factories import PersonFactory
from tests.imports.files import CONTRIBUTIONS_HEADER
from tests.imports.helpers import check, confirm_and_commit, errors_of, import_file, post_upload, upload

pytestmark = pytest.mark.django_db

EMPLOYEE = "职工基本养老保险"
SUBSIDY_KEYS = [
    "resident_pension.contribution_grades",
    "resident_pension.contribution_subsidy.minimum",
    "resident_pension.contribution_subsidy.higher_grade_threshold",
    "resident_pension.contribution_subsidy.higher_grade_minimum",
]


def row(
    person,
    period,
    grade="",
    *,
    paid="2024-03-15",
    scheme="",
    base="",
    personal="",
    collective="",
    proxy="",
    source="",
    payer="",
    backpay="",
):
    """A row under CONTRIBUTIONS_HEADER."""
    return [
        person.id_number,
        person.name,
        scheme,
        period,
        grade,
        base,
        personal,
        collective,
        proxy,
        source,
        payer,
        paid,
        backpay,
    ]


def _xlsx(files, rows):
    return files.xlsx(rows, header=CONTRIBUTIONS_HEADER)


def _import(cast, files, rows, user=None, township=None):
    """Upload, check and (when clean) commit; the batch as it ends."""
    user = user or cast.maker_ann
    batch = check(upload(user, _xlsx(files, rows), township or cast.township_a, kind="contributions"))
    if batch.status != ImportStatus.VALIDATED:
        return batch
    return confirm_and_commit(batch, user)


def enrol(cast, person, scheme=Scheme.RESIDENT_PENSION, start=dt.date(2014, 3, 1), by=None):
    """Through the service: ACTIVE, with the account a pension scheme opens."""
    return enrollment_services.enrollment_enroll(
        person_id=person.pk, scheme=scheme, start_date=start, by=by or cast.maker_ann
    )


def account(person, scheme=Scheme.RESIDENT_PENSION):
    return PersonalAccount.objects.get(person=person, scheme=scheme)


def parts(person, scheme=Scheme.RESIDENT_PENSION):
    a = account(person, scheme)
    return (a.personal, a.collective, a.government_subsidy, a.proxy_payment, a.balance)


@pytest.fixture
def residents(cast, persons_in_a):
    """The five persons of Township A, each contributing to the resident pension since 2014."""
    for person in persons_in_a:
        enrol(cast, person)
    return persons_in_a


def county_subsidy_row(value="80", since=dt.date(2025, 1, 1)):
    """A county figure for grades of 500 and above, overriding the national 60 from `since`."""
    return PolicyParameter.objects.create(
        region_code="360121",
        scheme="resident_pension",
        key="resident_pension.contribution_subsidy.higher_grade_minimum",
        kind="decimal",
        unit="yuan_per_year",
        value=value,
        effective_from=since,
        confidence="B",
    )


# --- The import writes what contribution_record writes ------------------------------------------------


RECORD_FIELDS = [
    "period_kind",
    "period_start",
    "grade",
    "base",
    "personal_amount",
    "collective_amount",
    "government_subsidy",
    "proxy_payment_amount",
    "proxy_payment_source",
    "is_backpay",
    "payer",
    "paid_on",
    "parameters_used",
    "recorded_by_id",
]

# One person's payments, as the service takes them and as the file writes them.
PAYMENTS = [
    # §1.2 back-payment: 2022 paid in 2023, no subsidy (E6).
    {
        "scheme": Scheme.RESIDENT_PENSION,
        "period": "2022",
        "grade": "300",
        "paid": "2023-02-01",
        "backpay": "是",
    },
    # Grade 500 paid in time: subsidy 60 (E5).
    {
        "scheme": Scheme.RESIDENT_PENSION,
        "period": "2023",
        "grade": "500",
        "paid": "2023-03-15",
        "personal": "500",
    },
    # E2: proxy payment of the minimum grade by the government, plus the 30 subsidy.
    {
        "scheme": Scheme.RESIDENT_PENSION,
        "period": "2024",
        "grade": "100",
        "paid": "2024-04-01",
        "proxy": "100",
        "source": "县财政",
        "payer": "政府",
        "personal": "0",
    },
    # A collective subsidy, at a grade whose subsidy the county raised to 80 from 2025.
    {
        "scheme": Scheme.RESIDENT_PENSION,
        "period": "2025",
        "grade": "2000",
        "paid": "2025-05-06",
        "collective": "50",
    },
    {
        "scheme": Scheme.RESIDENT_PENSION,
        "period": "2026",
        "grade": "1,000",
        "paid": "2026-01-10",
        "backpay": "否",
    },
    # §2.2 employee months on a base; one paid late (the employee flag is the file's).
    {
        "scheme": Scheme.EMPLOYEE_PENSION,
        "period": "2023-03",
        "base": "4000",
        "personal": "320",
        "paid": "2023-03-15",
        "payer": "单位",
    },
    {
        "scheme": Scheme.EMPLOYEE_PENSION,
        "period": "202304",
        "base": "4000",
        "personal": "320",
        "paid": "2023-06-01",
        "payer": "单位",
        "backpay": "是",
    },
    {
        "scheme": Scheme.EMPLOYEE_PENSION,
        "period": "2024年1月",
        "base": "5000.50",
        "personal": "400.04",
        "paid": "2024-01-20",
        "payer": "employer",
    },
]
_PAYER = {"": Payer.PERSON, "政府": Payer.GOVERNMENT, "单位": Payer.EMPLOYER, "employer": Payer.EMPLOYER}


def _money(text):
    return Decimal(text.replace(",", "")) if text else None


def _pay_through_the_service(cast, enrollments, payment):
    period = payment["period"].replace("年", "-").replace("月", "")
    if len(period) == 6 and "-" not in period:
        period = f"{period[:4]}-{period[4:]}"
    year, _, month = period.partition("-")
    enrollment_services.contribution_record(
        enrollment_id=enrollments[payment["scheme"]].pk,
        period_start=dt.date(int(year), int(month or 1), 1),
        by=cast.maker_ann,
        grade=_money(payment.get("grade", "")),
        base=_money(payment.get("base", "")),
        personal_amount=_money(payment.get("personal", "")),
        collective_amount=_money(payment.get("collective", "")) or Decimal("0"),
        proxy_payment_amount=_money(payment.get("proxy", "")) or Decimal("0"),
        proxy_payment_source=payment.get("source", ""),
        is_backpay=payment.get("backpay") == "是",
        payer=_PAYER[payment.get("payer", "")],
        paid_on=dt.date.fromisoformat(payment["paid"]),
    )


def _file_row(person, payment):
    return row(
        person,
        payment["period"],
        payment.get("grade", ""),
        paid=payment["paid"],
        scheme=EMPLOYEE if payment["scheme"] == Scheme.EMPLOYEE_PENSION else "",
        base=payment.get("base", ""),
        personal=payment.get("personal", ""),
        collective=payment.get("collective", ""),
        proxy=payment.get("proxy", ""),
        source=payment.get("source", ""),
        payer=payment.get("payer", ""),
        backpay=payment.get("backpay", ""),
    )


def _records(person):
    return [
        tuple(getattr(record, field) for field in RECORD_FIELDS)
        for record in ContributionRecord.objects.filter(enrollment__person=person).order_by(
            "enrollment__scheme", "period_start"
        )
    ]


def _accounts(person):
    return list(
        PersonalAccount.objects.filter(person=person)
        .order_by("scheme")
        .values_list("scheme", "personal", "collective", "government_subsidy", "proxy_payment", "interest")
    )


def test_an_imported_file_gives_the_records_and_balances_the_service_gives_for_the_same_payments(cast, files):
    """DOMAIN §1.2, §2.2, §8.1, E2, E5, E6: record by record and account by account, the same result."""
    county_subsidy_row()  # a second stretch of parameters inside the file: 2025 and 2026 read the county row
    twins = []
    for _ in range(2):
        person = PersonFactory(village=cast.village_a)
        resident = enrol(cast, person)
        # An employee enrollment beside the resident one (§1.6 Art 7) made before accounts existed.
        employee = Enrollment.objects.create(
            person=person,
            scheme=Scheme.EMPLOYEE_PENSION,
            pooling_area="360121",
            start_date=dt.date(2023, 3, 1),
            organization=None,
            enrolled_by=cast.maker_ann,
        )
        # A year already paid through the service, so the import adds to a balance.
        enrollment_services.contribution_record(
            enrollment_id=resident.pk,
            period_start=dt.date(2021, 1, 1),
            grade=Decimal("200"),
            paid_on=dt.date(2021, 3, 1),
            by=cast.maker_ann,
        )
        twins.append((person, {Scheme.RESIDENT_PENSION: resident, Scheme.EMPLOYEE_PENSION: employee}))
    (served, served_enrollments), (imported, _) = twins
    for payment in PAYMENTS:
        _pay_through_the_service(cast, served_enrollments, payment)

    batch = _import(cast, files, [_file_row(imported, payment) for payment in PAYMENTS])

    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert batch.summary == {"rows": 8, "inserted": 8, "accounts_credited": 2, "unchanged": 0}
    assert _records(imported) == _records(served)
    assert _accounts(imported) == _accounts(served)
    # And the figures themselves, so the comparison cannot pass on two equal mistakes.
    assert parts(imported) == (
        Decimal("200") + Decimal("300") + Decimal("500") + Decimal("0") + Decimal("2000") + Decimal("1000"),
        Decimal("50"),
        Decimal("30") + Decimal("60") + Decimal("30") + Decimal("80") + Decimal("80"),
        Decimal("100"),
        Decimal("4430"),
    )
    assert parts(imported, Scheme.EMPLOYEE_PENSION)[0] == Decimal("1040.04")
    used = {
        r.period_start.year: r.parameters_used
        for r in ContributionRecord.objects.filter(enrollment__person=imported, period_kind=PeriodKind.YEAR)
    }
    assert [row["key"] for row in used[2023]] == SUBSIDY_KEYS
    assert used[2023][3]["region_code"] == "000000" and used[2025][3]["region_code"] == "360121"
    assert used[2022][3]["value"] == "60"  # a back-paid year keeps the rows read, with no subsidy


def test_the_audit_trail_has_an_insert_per_record_and_an_update_per_credited_account(cast, residents, files):
    batch = _import(cast, files, [row(p, "2024", "300") for p in residents])
    for person in residents:
        record = ContributionRecord.objects.get(enrollment__person=person)
        [event] = record.events.filter(pgh_label="insert")
        assert event.pgh_context.metadata["import_batch"] == batch.pk
        credit = account(person).events.get(pgh_label="update")
        assert credit.pgh_context.metadata["import_kind"] == "contributions"


# --- Worked examples --------------------------------------------------------------------------------


def test_e5_grade_500_for_15_years_paid_in_time_builds_an_account_of_8400(cast, person_in_a, files):
    # The national rows start in 2014; the county's own earlier rows (the same figures) cover 2012–2013.
    for key, kind, value in [
        ("resident_pension.contribution_grades", "decimal_list", ["100", "200", "300", "400", "500"]),
        ("resident_pension.contribution_subsidy.minimum", "decimal", "30"),
        ("resident_pension.contribution_subsidy.higher_grade_threshold", "decimal", "500"),
        ("resident_pension.contribution_subsidy.higher_grade_minimum", "decimal", "60"),
        ("resident_pension.enrollment.min_age", "integer", 16),
    ]:
        PolicyParameter.objects.create(
            region_code="360121",
            scheme="resident_pension",
            key=key,
            kind=kind,
            unit="years" if kind == "integer" else "yuan_per_year",
            value=value,
            effective_from=dt.date(2010, 1, 1),
            effective_to=dt.date(2014, 2, 20),
            confidence="C",
        )
    enrol(cast, person_in_a, start=dt.date(2012, 1, 1))
    batch = _import(
        cast, files, [row(person_in_a, str(year), "500", paid=f"{year}-03-15") for year in range(2012, 2027)]
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    # Principal (500 + 60) × 15 = 8,400, its parts apart (DOMAIN §8.1).
    assert parts(person_in_a) == (
        Decimal("7500"),
        Decimal("0"),
        Decimal("900"),
        Decimal("0"),
        Decimal("8400"),
    )
    [summary] = selectors.personal_account_for(person_id=person_in_a.pk, user=cast.maker_ann)
    assert summary.contribution_years == 15


def test_e6_back_paid_years_get_no_subsidy_and_reach_15_years(cast, person_in_a, files):
    enrol(cast, person_in_a)
    in_time = [row(person_in_a, str(year), "300", paid=f"{year}-04-01") for year in range(2015, 2027)]
    late = [
        row(person_in_a, str(year), "300", paid="2026-06-01", backpay="是") for year in (2012, 2013, 2014)
    ]
    batch = _import(cast, files, [*in_time, *late])
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    back_paid = ContributionRecord.objects.filter(enrollment__person=person_in_a, is_backpay=True)
    assert sorted(r.period_start.year for r in back_paid) == [2012, 2013, 2014]
    assert {r.government_subsidy for r in back_paid} == {Decimal("0")}
    assert parts(person_in_a)[:3] == (Decimal("4500"), Decimal("0"), Decimal("360"))
    [summary] = selectors.personal_account_for(person_id=person_in_a.pk, user=cast.maker_ann)
    assert summary.contribution_years == 15


def test_e2_a_proxy_paid_minimum_grade_credits_100_plus_the_30_subsidy(cast, person_in_a, files):
    enrol(cast, person_in_a)
    batch = _import(
        cast, files, [row(person_in_a, "2024", "100", proxy="100", source="县财政", payer="政府")]
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    record = ContributionRecord.objects.get(enrollment__person=person_in_a)
    assert (record.personal_amount, record.proxy_payment_amount, record.government_subsidy, record.payer) == (
        Decimal("0"),
        Decimal("100"),
        Decimal("30"),
        Payer.GOVERNMENT,
    )
    assert parts(person_in_a)[3:] == (Decimal("100"), Decimal("130"))


def test_e8_imported_resident_and_employee_records_of_one_year_give_the_250_refund(cast, person_in_a, files):
    enrol(cast, person_in_a, start=dt.date(2015, 1, 1))
    enrol(cast, person_in_a, scheme=Scheme.EMPLOYEE_PENSION, start=dt.date(2023, 3, 1))  # §1.6 Art 7: allowed
    rows = [row(person_in_a, "2023", "300", paid="2023-01-20")]
    rows += [
        row(
            person_in_a,
            f"2023-{month:02d}",
            paid=f"2023-{month:02d}-15",
            scheme=EMPLOYEE,
            base="4000",
            personal="320",
            payer="单位",
        )
        for month in range(3, 13)
    ]
    batch = _import(cast, files, rows)
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    overlap = selectors.same_year_overlap(person_id=person_in_a.pk, year=2023, user=cast.maker_ann)
    assert (overlap.overlapping_months, overlap.refund) == (10, Decimal("250.00"))
    assert parts(person_in_a, Scheme.EMPLOYEE_PENSION)[0] == Decimal("3200")


# --- DOMAIN §1.2: grades in force, the grade lock --------------------------------------------------------


def test_s1_2_a_grade_not_in_force_on_the_payment_day_is_a_bad_row_listing_the_grades(cast, residents, files):
    batch = _import(cast, files, [row(residents[0], "2024", "550")])
    [error] = batch.row_errors.all()
    assert (error.column, error.value, error.code) == ("缴费档次", "550", "grade_not_in_force")
    assert error.params["grades"][:3] == ["100", "200", "300"] and error.params["date"] == "2024-03-15"
    assert not ContributionRecord.objects.exists()


def test_s1_2_a_grade_the_county_adds_is_accepted_from_the_day_it_is_in_force(cast, residents, files):
    PolicyParameter.objects.create(
        region_code="360121",
        scheme="resident_pension",
        key="resident_pension.contribution_grades",
        kind="decimal_list",
        unit="yuan_per_year",
        value=["100", "200", "3000"],
        effective_from=dt.date(2025, 1, 1),
        confidence="B",
    )
    batch = _import(
        cast, files, [row(residents[0], "2024", "3000"), row(residents[1], "2025", "3000", paid="2025-02-01")]
    )
    assert [(e.row, e.code) for e in batch.row_errors.all()] == [(3, "grade_not_in_force")]
    batch = _import(cast, files, [row(residents[1], "2025", "3000", paid="2025-02-01")])
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert ContributionRecord.objects.get().government_subsidy == Decimal("60")


def test_s1_2_a_paid_year_again_is_unchanged_at_the_same_grade_and_locked_at_another(cast, residents, files):
    enrollment = Enrollment.objects.get(person=residents[0])
    first = enrollment_services.contribution_record(
        enrollment_id=enrollment.pk,
        period_start=dt.date(2024, 1, 1),
        grade=Decimal("500"),
        paid_on=dt.date(2024, 3, 15),
        by=cast.maker_ann,
    )
    before = parts(residents[0])

    locked = _import(cast, files, [row(residents[0], "2024", "1000")])
    assert [(e.column, e.code, e.params) for e in locked.row_errors.all()] == [
        ("缴费档次", "grade_locked", {"period": "2024", "amount": "500", "record_id": first.pk})
    ]
    other_day = _import(cast, files, [row(residents[0], "2024", "500", paid="2024-05-01")])
    assert [e.code for e in other_day.row_errors.all()] == ["period_paid_differently"]

    same = _import(cast, files, [row(residents[0], "2024", "500"), row(residents[1], "2024", "500")])
    assert same.summary == {"rows": 2, "inserted": 1, "accounts_credited": 1, "unchanged": 1}
    assert parts(residents[0]) == before
    assert ContributionRecord.objects.filter(enrollment=enrollment).get() == first


def test_s1_2_a_paid_month_on_another_base_is_locked(cast, person_in_a, files):
    employee = enrol(cast, person_in_a, scheme=Scheme.EMPLOYEE_PENSION, start=dt.date(2024, 1, 1))
    enrollment_services.contribution_record(
        enrollment_id=employee.pk,
        period_start=dt.date(2024, 5, 1),
        base=Decimal("5000"),
        personal_amount=Decimal("400"),
        paid_on=dt.date(2024, 5, 20),
        by=cast.maker_ann,
    )
    batch = _import(
        cast,
        files,
        [row(person_in_a, "2024-05", scheme=EMPLOYEE, base="6000", personal="400", paid="2024-05-20")],
    )
    assert [(e.column, e.code, e.params["amount"]) for e in batch.row_errors.all()] == [
        ("缴费基数", "grade_locked", "5000")
    ]
    # The same month and amounts, now said to be back-paid: not the record on file either.
    flagged = _import(
        cast,
        files,
        [
            row(
                person_in_a,
                "2024-05",
                scheme=EMPLOYEE,
                base="5000",
                personal="400",
                paid="2024-05-20",
                backpay="是",
            )
        ],
    )
    assert [(e.column, e.code) for e in flagged.row_errors.all()] == [
        ("个人缴费金额", "period_paid_differently")
    ]
    same = _import(
        cast,
        files,
        [row(person_in_a, "2024-05", scheme=EMPLOYEE, base="5000", personal="400", paid="2024-05-20")],
    )
    assert same.summary == {"rows": 1, "inserted": 0, "accounts_credited": 0, "unchanged": 1}


def test_a_payment_day_without_parameters_in_force_is_a_bad_row_naming_the_parameter(cast, residents, files):
    batch = _import(
        cast, files, [row(residents[0], "2013", "300", paid="2013-05-01")]
    )  # before the 2014 rows
    assert [(e.column, e.code, e.params) for e in batch.row_errors.all()] == [
        (
            "缴费日期",
            "missing_parameter",
            {"key": "resident_pension.contribution_grades", "region": "360121", "date": "2013-05-01"},
        )
    ]


# --- Bad rows: REJECTED, nothing committed ----------------------------------------------------------------


def _bad_row_cases():
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    unknown = build_resident_id("360121", dt.date(1970, 1, 1), 555)
    return {
        "empty_id": (
            lambda p, q: [["", p.name, "", "2024", "300", "", "", "", "", "", "", "2024-03-15", ""]],
            "公民身份号码",
            "required",
        ),
        "id_as_number_cell": (
            lambda p, q: [[float(p.id_number[:17]) * 10, *row(p, "2024", "300")[1:]]],
            "公民身份号码",
            "stored_as_number",
        ),
        "id_as_number_text": (
            lambda p, q: [["3.60121196003E+17", *row(p, "2024", "300")[1:]]],
            "公民身份号码",
            "stored_as_number",
        ),
        "empty_period": (lambda p, q: [row(p, "", "300")], "缴费年度", "required"),
        "bad_period": (lambda p, q: [row(p, "去年", "300")], "缴费年度", "bad_period"),
        "employee_year_without_month": (
            lambda p, q: [row(p, "2024", scheme=EMPLOYEE, base="4000", personal="320")],
            "缴费年度",
            "month_required",
        ),
        "empty_paid_on": (lambda p, q: [row(p, "2024", "300", paid="")], "缴费日期", "required"),
        "bad_paid_on": (lambda p, q: [row(p, "2024", "300", paid="2024-02-30")], "缴费日期", "bad_date"),
        "future_paid_on": (lambda p, q: [row(p, "2024", "300", paid=future)], "缴费日期", "future_date"),
        "empty_grade": (lambda p, q: [row(p, "2024", "")], "缴费档次", "required"),
        "unknown_grade": (lambda p, q: [row(p, "2024", "350")], "缴费档次", "grade_not_in_force"),
        "grade_not_a_number": (lambda p, q: [row(p, "2024", "三百")], "缴费档次", "bad_amount"),
        "three_decimals": (lambda p, q: [row(p, "2024", "300.001")], "缴费档次", "bad_amount"),
        "negative_collective": (
            lambda p, q: [row(p, "2024", "300", collective="-10")],
            "集体补助",
            "negative_amount",
        ),
        "proxy_over_grade": (
            lambda p, q: [row(p, "2024", "100", proxy="150")],
            "代缴金额",
            "subsidy_over_grade",
        ),
        "personal_not_grade_less_proxy": (
            lambda p, q: [row(p, "2024", "300", personal="200")],
            "个人缴费金额",
            "personal_amount_mismatch",
        ),
        "backpay_flag_contradicts_the_dates": (
            lambda p, q: [row(p, "2024", "300", backpay="是")],
            "是否补缴",
            "backpay_mismatch",
        ),
        "bad_backpay_flag": (lambda p, q: [row(p, "2024", "300", backpay="也许")], "是否补缴", "bad_flag"),
        "unknown_scheme": (lambda p, q: [row(p, "2024", "300", scheme="商业保险")], "险种", "unknown_scheme"),
        "unknown_payer": (lambda p, q: [row(p, "2024", "300", payer="邻居")], "缴费主体", "unknown_payer"),
        "source_too_long": (
            lambda p, q: [row(p, "2024", "300", source="县" * 101)],
            "代缴资金来源",
            "too_long",
        ),
        "base_for_resident": (
            lambda p, q: [row(p, "2024", "300", base="4000")],
            "缴费基数",
            "base_for_resident",
        ),
        "grade_for_employee": (
            lambda p, q: [row(p, "2024-03", "300", scheme=EMPLOYEE, base="4000", personal="320")],
            "缴费档次",
            "grade_for_employee",
        ),
        "employee_without_base": (
            lambda p, q: [row(p, "2024-03", scheme=EMPLOYEE, personal="320")],
            "缴费基数",
            "required",
        ),
        "employee_personal_over_base": (
            lambda p, q: [row(p, "2024-03", scheme=EMPLOYEE, base="300", personal="320")],
            "个人缴费金额",
            "personal_over_base",
        ),
        "not_enrolled_in_the_scheme": (
            lambda p, q: [row(p, "2024-03", scheme=EMPLOYEE, base="4000", personal="320")],
            "险种",
            "not_enrolled",
        ),
        "unknown_person": (
            lambda p, q: [[unknown, "无名", "", "2024", "300", "", "", "", "", "", "", "2024-03-15", ""]],
            "公民身份号码",
            "person_not_found",
        ),
        "other_townships_person": (lambda p, q: [row(q, "2024", "300")], "公民身份号码", "person_not_found"),
        "name_differs": (
            lambda p, q: [[p.id_number, "别人", *row(p, "2024", "300")[2:]]],
            "姓名",
            "name_mismatch",
        ),
    }


@pytest.mark.parametrize("case", list(_bad_row_cases()))
def test_a_file_with_one_bad_row_is_rejected_naming_the_row_and_nothing_is_committed(
    case, cast, residents, person_in_b, county_clerk_kim, files
):
    enrol(cast, person_in_b, by=county_clerk_kim)
    make, column, code = _bad_row_cases()[case]
    good = [row(p, "2024", "300") for p in residents[1:]]
    batch = check(
        upload(
            cast.maker_ann,
            _xlsx(files, [*good[:2], *make(residents[0], person_in_b), *good[2:]]),
            cast.township_a,
            kind="contributions",
        )
    )
    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_invalid, batch.rows_valid) == (5, 1, 4)
    assert [(r, col, c) for r, col, _value, c in errors_of(batch)] == [(5, column, code)]
    with pytest.raises(InvalidState):
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
    assert not ContributionRecord.objects.exists()
    assert {parts(p) for p in residents} == {(0, 0, 0, 0, 0)}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (EnrollmentStatus.SUSPENDED_CONTRIB, ""),
        (EnrollmentStatus.RECEIVING, ""),
    ],
)
def test_only_a_contributing_enrollment_takes_contributions(cast, residents, files, status, reason):
    Enrollment.objects.filter(person=residents[0]).update(status=status)
    enrollment = Enrollment.objects.get(person=residents[0])
    batch = _import(cast, files, [row(residents[0], "2024", "300")])
    assert [(e.code, e.params) for e in batch.row_errors.all()] == [
        (
            "enrollment_not_contributing",
            {"scheme": "resident_pension", "status": status, "enrollment_id": enrollment.pk},
        )
    ]


def test_a_terminated_enrollment_is_no_enrollment(cast, person_in_a, files):
    enrollment = enrol(cast, person_in_a)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=EnrollmentStatus.TERMINATED,
        termination_reason=TerminationReason.DEATH,
        end_date=dt.date(2024, 1, 1),
    )
    batch = _import(cast, files, [row(person_in_a, "2024", "300")])
    assert [e.code for e in batch.row_errors.all()] == ["not_enrolled"]


def test_an_exact_repeat_names_the_first_row_and_another_grade_for_the_year_makes_both_rows_errors(
    cast, residents, files
):
    a, b = residents[0], residents[1]
    rows = [
        row(a, "2024", "300"),  # row 3
        row(b, "2024", "300"),  # row 4
        row(a, "2024年", "300.00"),  # row 5: the same as row 3
        row(b, "2024", "500"),  # row 6: b's 2024 at another grade
        row(b, "2023", "500", paid="2023-05-01"),  # row 7: another year is fine
    ]
    batch = _import(cast, files, rows)
    assert {(e.row, e.code): e.params for e in batch.row_errors.all()} == {
        (5, "duplicate_row"): {"first_row": 3},
        (4, "conflicting_rows"): {"rows": [4, 6]},
        (6, "conflicting_rows"): {"rows": [4, 6]},
    }
    assert not ContributionRecord.objects.exists()


def test_amounts_read_as_written_in_text_or_number_cells(cast, residents, files):
    rows = [
        row(residents[0], 2024, 300, personal=300),  # number cells
        row(residents[1], "2024", "1,000.00", personal="1000元"),
        row(residents[2], "2024", "300", collective=12.5),
    ]
    batch = _import(cast, files, rows)
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert [parts(p)[:3] for p in residents[:3]] == [
        (Decimal("300"), Decimal("0"), Decimal("30")),
        (Decimal("1000"), Decimal("0"), Decimal("60")),
        (Decimal("300"), Decimal("12.50"), Decimal("30")),
    ]


# --- No duplicates, all or nothing ----------------------------------------------------------------------


def test_re_uploading_the_same_file_is_refused_and_the_same_rows_again_credit_nothing_twice(
    cast, residents, files
):
    path = _xlsx(files, [row(p, "2024", "500") for p in residents])
    first = confirm_and_commit(
        check(upload(cast.maker_ann, path, cast.township_a, kind="contributions")), cast.maker_ann
    )
    assert first.summary == {"rows": 5, "inserted": 5, "accounts_credited": 5, "unchanged": 0}
    with pytest.raises(InvalidState) as refused:
        upload(cast.maker_ann, path, cast.township_a, kind="contributions")
    assert refused.value.details["ids"] == [first.pk]

    again = confirm_and_commit(
        check(
            upload(
                cast.maker_ann,
                files.csv([row(p, "2024", "500") for p in residents], header=CONTRIBUTIONS_HEADER),
                cast.township_a,
                kind="contributions",
            )
        ),
        cast.maker_ann,
    )
    assert again.summary == {"rows": 5, "inserted": 0, "accounts_credited": 0, "unchanged": 5}
    assert ContributionRecord.objects.count() == 5
    assert {parts(p) for p in residents} == {(Decimal("500"), 0, Decimal("60"), 0, Decimal("560"))}


def test_a_suspension_between_the_check_and_the_commit_fails_the_batch_and_credits_nothing(
    cast, residents, files
):
    batch = check(
        upload(
            cast.maker_ann,
            _xlsx(files, [row(p, "2024", "300") for p in residents]),
            cast.township_a,
            kind="contributions",
        )
    )
    enrollment_services.enrollment_suspend(
        enrollment_id=Enrollment.objects.get(person=residents[3]).pk, by=cast.maker_ann
    )
    batch = confirm_and_commit(batch, cast.maker_ann)
    assert (batch.status, batch.failure_code) == (ImportStatus.FAILED, "changed_since_check")
    assert [(r, code) for r, _c, _v, code in errors_of(batch)] == [(6, "enrollment_not_contributing")]
    assert not ContributionRecord.objects.exists()
    assert {parts(p) for p in residents} == {(0, 0, 0, 0, 0)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.imports_stage_contributions')")
        assert cursor.fetchone() == (None,)


def test_a_commit_failing_in_the_database_leaves_records_and_balances_as_they_were(
    cast, residents, files, monkeypatch
):
    real_merge = Contributions.merge

    def merge_then_break_the_grade_lock(self, batch, cursor):
        summary = real_merge(self, batch, cursor)  # records and credits are written by now ...
        cursor.execute(
            "UPDATE enrollment_contributionrecord SET grade = 1000"
        )  # ... the trigger refuses this
        return summary

    batch = check(
        upload(
            cast.maker_ann,
            _xlsx(files, [row(p, "2024", "300") for p in residents]),
            cast.township_a,
            kind="contributions",
        )
    )
    monkeypatch.setattr(Contributions, "merge", merge_then_break_the_grade_lock)
    batch = confirm_and_commit(batch, cast.maker_ann)
    assert (batch.status, batch.failure_code) == (ImportStatus.FAILED, "database_error")
    assert not ContributionRecord.objects.exists()
    assert {parts(p) for p in residents} == {(0, 0, 0, 0, 0)}


def test_manage_py_import_file_imports_a_contribution_batch(cast, residents, files):
    out = StringIO()
    import_file(
        "contributions", _xlsx(files, [row(p, "2024", "200") for p in residents]), cast.township_a, out=out
    )
    batch = ImportBatch.objects.get()
    assert (
        out.getvalue().strip()
        == f"Batch {batch.pk} imported: 5 rows, 5 records changed, 0 already up to date."
    )
    assert {parts(p)[4] for p in residents} == {Decimal("230")}
    assert ContributionRecord.objects.first().events.get().pgh_context.metadata["command"] == "import_file"


def test_manage_py_import_file_prints_the_bad_rows_in_english_and_imports_nothing(cast, residents, files):
    rows = [row(p, "2024", "300") for p in residents]
    rows[1][4] = "350"
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 5 rows are bad; nothing was imported"):
        import_file("contributions", _xlsx(files, rows), cast.township_a, out=out)
    assert out.getvalue().startswith(
        "row 4, column 缴费档次, value 350: This is not a contribution grade in force on 2024-03-15; "
        "the grades are 100, 200, 300"
    )
    assert not ContributionRecord.objects.exists()


# --- Messages ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "sentence"),
    [
        ("bad_period", {}, "This is not a period."),
        ("month_required", {}, "Employee schemes are paid by month"),
        ("bad_amount", {}, "at most two decimals"),
        ("negative_amount", {}, "An amount cannot be negative."),
        ("unknown_payer", {"value": "邻居"}, "邻居 is not a payer."),
        ("bad_flag", {}, "Write 是 (yes) or 否 (no)."),
        ("base_for_resident", {}, "The resident pension is paid by grade"),
        ("grade_for_employee", {}, "Employee schemes are paid on a base"),
        ("base_not_positive", {}, "The contribution base must be more than 0."),
        ("subsidy_over_grade", {}, "A subsidy cannot exceed the grade."),
        ("personal_amount_mismatch", {"expected": "200"}, "the grade less the proxy payment: 200."),
        ("personal_over_base", {}, "cannot be more than the base"),
        ("backpay_mismatch", {"derived": True}, "so the year is back-paid: write 是."),
        ("backpay_mismatch", {"derived": False}, "so it is not back-paid: write 否."),
        ("not_enrolled", {"scheme": "employee_pension"}, "This person is not enrolled in Employee pension."),
        (
            "enrollment_not_contributing",
            {"scheme": "resident_pension", "status": "receiving"},
            "enrollment in Resident pension is Receiving benefits; only a contributing enrollment",
        ),
        ("grade_not_in_force", {"date": "2024-03-15", "grades": ["100", "200"]}, "the grades are 100, 200."),
        (
            "grade_locked",
            {"period": "2024", "amount": "500", "record_id": 7},
            "2024 is already paid at 500 (record 7); its grade is locked.",
        ),
        (
            "period_paid_differently",
            {"period": "2024-05", "record_id": 7},
            "2024-05 is already paid with other",
        ),
        (
            "missing_parameter",
            {"key": "k.x", "region": "360121", "date": "2013-05-01"},
            "No policy parameter k.x",
        ),
    ],
)
def test_every_code_of_the_kind_has_an_english_sentence(code, params, sentence):
    assert sentence in error_message(Contributions(), code, params)


# --- API ------------------------------------------------------------------------------------------------


class TestUploadApi:
    def _post(self, api, user, path, township):
        return post_upload(api, user, "contributions", path, township)

    def test_a_clerk_uploads_a_batch_and_it_is_checked_and_imported(
        self, api, cast, residents, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = self._post(
                api, cast.maker_ann, _xlsx(files, [row(p, "2024", "300") for p in residents]), cast.township_a
            )
        assert response.status_code == 201, response.json()
        assert response.json()["kind"] == "contributions"
        batch = ImportBatch.objects.get(pk=response.json()["id"])
        assert batch.status == ImportStatus.VALIDATED
        with django_capture_on_commit_callbacks(execute=True):
            assert api.as_user(cast.maker_ann).post(f"/api/imports/{batch.pk}/confirm/").status_code == 202
        assert ContributionRecord.objects.count() == 5

    def test_a_section_chief_may_not_upload(self, api, cast, residents, files):
        path = _xlsx(files, [row(p, "2024", "300") for p in residents])
        assert self._post(api, cast.checker_ben, path, cast.township_a).status_code == 403
        assert not ImportBatch.objects.exists()

    def test_another_townships_upload_is_not_found(self, api, cast, residents, files):
        path = _xlsx(files, [row(p, "2024", "300") for p in residents])
        assert self._post(api, cast.outsider_eve, path, cast.township_a).status_code == 404
        assert not ImportBatch.objects.exists()


def test_the_template_reads_back_with_every_column_and_its_rows_are_well_formed(cast):
    from socialsec.lib.spreadsheets import read_table

    kind = Contributions()
    table = read_table(
        services.import_template_workbook("contributions"), kind.columns, required=kind.required
    )
    assert list(table.frame.columns) == list(kind.columns)
    assert len(table) == len(kind.template_rows)


def test_a_county_wide_batch_reaches_every_township(cast, person_in_a, person_in_b, county_clerk_kim, files):
    kim = county_clerk_kim
    for person in (person_in_a, person_in_b):
        enrol(cast, person, by=kim)
    batch = confirm_and_commit(
        check(
            upload(
                kim,
                _xlsx(files, [row(person_in_a, "2024", "300"), row(person_in_b, "2024", "300")]),
                None,
                kind="contributions",
            )
        ),
        kim,
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert ContributionRecord.objects.filter(recorded_by=kim).count() == 2
    assert Person.objects.count() == 2
