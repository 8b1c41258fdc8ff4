"""Importing enrollment batches (参保登记批量): the rules of enrollment_enroll, for a whole file.

DOMAIN §1.1 (resident pension from the minimum age of the policy parameter, not beside an open
employee or government/institution pension), §1.6 (Art 7: an employee enrollment beside an open
resident one is allowed; Art 8: no resident pension while in an employment pension), §8.2
(enrollments start ACTIVE; one open enrollment per person and scheme). A clean file commits every
row, any bad row commits nothing, and the result equals what the single-record service writes.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.db import connection

from enrollment import services as enrollment_services
from enrollment.choices import EnrollmentStatus, Scheme, TerminationReason
from enrollment.import_kinds.enrollments import Enrollments
from enrollment.models import Enrollment, PersonalAccount
from socialsec.core.exceptions import InvalidState
from socialsec.core.models import PolicyParameter
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch
from socialsec.lib.resident_id import build_resident_id
from tests.enrollment.factories import OrganizationFactory, build_credit_code
from tests.factories import PersonFactory, UserFactory
from tests.imports.files import ENROLLMENTS_HEADER
from tests.imports.helpers import check, confirm_and_commit, errors_of, import_file, post_upload, upload

pytestmark = pytest.mark.django_db

RESIDENT = "城乡居民基本养老保险"
EMPLOYEE = "职工基本养老保险"
DAY = "2024-01-01"


def _rows(persons, scheme: str = RESIDENT, day: str = DAY, code: str = ""):
    return [[p.id_number, p.name, scheme, day, code] for p in persons]


def _xlsx(files, rows):
    return files.xlsx(rows, header=ENROLLMENTS_HEADER)


def _import(cast, files, rows, user=None, township=None):
    """Upload, check and (when clean) commit; the batch as it ends."""
    user = user or cast.maker_ann
    batch = check(upload(user, _xlsx(files, rows), township or cast.township_a, kind="enrollments"))
    if batch.status != ImportStatus.VALIDATED:
        return batch
    return confirm_and_commit(batch, user)


def _open(person, scheme=Scheme.RESIDENT_PENSION):
    return Enrollment.objects.filter(person=person, scheme=scheme).open()


def _enrollment(person, scheme=Scheme.RESIDENT_PENSION, status=EnrollmentStatus.ACTIVE, **fields):
    """A row in any state, as earlier work left it."""
    if status == EnrollmentStatus.TERMINATED:
        fields.setdefault("termination_reason", TerminationReason.DEATH)
    return Enrollment.objects.create(
        person=person,
        scheme=scheme,
        status=status,
        pooling_area=person.township.code[:6],
        start_date=fields.pop("start_date", dt.date(2015, 1, 1)),
        enrolled_by=UserFactory(),
        **fields,
    )


@pytest.fixture
def employer(cast):
    return OrganizationFactory(township=cast.township_a)


# --- Clean files ----------------------------------------------------------------------------------


def test_a_clean_file_enrols_every_row_active_with_its_account_after_the_clerk_confirms(
    cast, persons_in_a, files
):
    batch = check(
        upload(cast.maker_ann, _xlsx(files, _rows(persons_in_a)), cast.township_a, kind="enrollments")
    )
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)
    assert not Enrollment.objects.exists()  # nothing before the clerk confirms

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": 5, "inserted": 5, "accounts_opened": 5, "unchanged": 0}
    enrollments = Enrollment.objects.filter(person__in=persons_in_a).order_by("id")
    assert [e.person_id for e in enrollments] == [p.pk for p in persons_in_a]  # in the file's order
    assert {(e.scheme, e.status, e.start_date, e.pooling_area, e.enrolled_by_id) for e in enrollments} == {
        (Scheme.RESIDENT_PENSION, EnrollmentStatus.ACTIVE, dt.date(2024, 1, 1), "360121", cast.maker_ann.pk)
    }
    assert (
        PersonalAccount.objects.filter(person__in=persons_in_a, scheme=Scheme.RESIDENT_PENSION).count() == 5
    )


def test_the_import_writes_what_enrollment_enroll_writes_for_the_same_data(cast, employer, files):
    """DOMAIN §8.2: the same row through the service and through the file gives the same enrollment."""
    cases = [
        (Scheme.RESIDENT_PENSION, RESIDENT, dt.date(2024, 1, 1), None),
        (Scheme.EMPLOYEE_PENSION, EMPLOYEE, dt.date(2024, 3, 1), employer),
        (Scheme.UNEMPLOYMENT, "失业保险", dt.date(2024, 3, 1), employer),  # no personal account
    ]
    by_file, by_service = [], []
    for scheme, label, day, organization in cases:
        imported, served = PersonFactory(village=cast.village_a), PersonFactory(village=cast.village_a)
        by_file.append(
            [
                imported.id_number,
                imported.name,
                label,
                day.isoformat(),
                organization.credit_code if organization else "",
            ]
        )
        enrollment_services.enrollment_enroll(
            person_id=served.pk,
            scheme=scheme,
            start_date=day,
            by=cast.maker_ann,
            organization_id=organization.pk if organization else None,
        )
        by_service.append(served)
    batch = _import(cast, files, by_file)
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)

    def written(person):
        enrollment = Enrollment.objects.get(person=person)
        accounts = list(
            PersonalAccount.objects.filter(person=person).values_list("scheme", "personal", "interest")
        )
        return (
            enrollment.scheme,
            enrollment.status,
            enrollment.pooling_area,
            enrollment.start_date,
            enrollment.end_date,
            enrollment.organization_id,
            enrollment.termination_reason,
            enrollment.enrolled_by_id,
            accounts,
        )

    imported = [Enrollment.objects.get(person__id_number=row[0]).person for row in by_file]
    assert [written(p) for p in imported] == [written(p) for p in by_service]
    assert batch.summary == {"rows": 3, "inserted": 3, "accounts_opened": 2, "unchanged": 0}


def test_schemes_are_read_by_chinese_label_code_identifier_english_label_or_usual_name(
    cast, persons_in_a, files
):
    rows = [
        [persons_in_a[0].id_number, persons_in_a[0].name, "城乡居民基本养老保险", DAY, ""],
        [persons_in_a[1].id_number, persons_in_a[1].name, "resident_pension", DAY, ""],
        [persons_in_a[2].id_number, persons_in_a[2].name, "Resident pension", DAY, ""],
        [persons_in_a[3].id_number, persons_in_a[3].name, "城乡居民养老保险", DAY, ""],
        [persons_in_a[4].id_number, persons_in_a[4].name, "城乡居民基本医疗保险", DAY, ""],
    ]
    path = files.csv(rows, header=ENROLLMENTS_HEADER)  # GBK, as Excel saves csv in a Chinese locale
    batch = confirm_and_commit(
        check(upload(cast.maker_ann, path, cast.township_a, kind="enrollments")), cast.maker_ann
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert [Enrollment.objects.get(person=p).scheme for p in persons_in_a] == [
        Scheme.RESIDENT_PENSION
    ] * 4 + [Scheme.RESIDENT_MEDICAL]


def test_the_audit_trail_has_one_insert_per_enrollment_and_account_naming_the_batch(
    cast, persons_in_a, files
):
    """pghistory's row triggers fire for the set-based INSERT … SELECT as for a save()."""
    batch = _import(cast, files, _rows(persons_in_a))
    for person in persons_in_a:
        [event] = Enrollment.objects.get(person=person).events.filter(pgh_label="insert")
        assert event.pgh_context.metadata["import_batch"] == batch.pk
        assert event.pgh_context.metadata["import_kind"] == "enrollments"
        account = PersonalAccount.objects.get(person=person)
        assert account.events.filter(pgh_label="insert").count() == 1


def test_manage_py_import_file_imports_an_enrollment_batch(cast, persons_in_a, files):
    out = StringIO()
    import_file("enrollments", _xlsx(files, _rows(persons_in_a)), cast.township_a, out=out)
    batch = ImportBatch.objects.get()
    assert (
        out.getvalue().strip()
        == f"Batch {batch.pk} imported: 5 rows, 5 records changed, 0 already up to date."
    )
    assert all(_open(p).exists() for p in persons_in_a)
    event = Enrollment.objects.get(person=persons_in_a[0]).events.get(pgh_label="insert")
    assert event.pgh_context.metadata["command"] == "import_file"


def test_manage_py_import_file_prints_the_bad_rows_and_imports_nothing(cast, persons_in_a, files):
    from django.core.management import CommandError

    rows = _rows(persons_in_a)
    rows[2][2] = "养老"
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 5 rows are bad; nothing was imported"):
        import_file("enrollments", _xlsx(files, rows), cast.township_a, out=out)
    assert out.getvalue().startswith("row 5, column 险种, value 养老: 养老 is not a scheme.")
    assert not Enrollment.objects.exists()


# --- No duplicates ------------------------------------------------------------------------------------


def test_re_uploading_the_same_file_is_refused_and_another_file_with_the_same_rows_changes_nothing(
    cast, persons_in_a, files
):
    path = _xlsx(files, _rows(persons_in_a))
    first = confirm_and_commit(
        check(upload(cast.maker_ann, path, cast.township_a, kind="enrollments")), cast.maker_ann
    )
    with pytest.raises(InvalidState) as refused:
        upload(cast.maker_ann, path, cast.township_a, kind="enrollments")
    assert refused.value.details["ids"] == [first.pk]

    # The same rows in another file (a csv this time): already open with the same data = unchanged.
    again = confirm_and_commit(
        check(
            upload(
                cast.maker_ann,
                files.csv(_rows(persons_in_a), header=ENROLLMENTS_HEADER),
                cast.township_a,
                kind="enrollments",
            )
        ),
        cast.maker_ann,
    )
    assert again.status == ImportStatus.COMMITTED
    assert again.summary == {"rows": 5, "inserted": 0, "accounts_opened": 0, "unchanged": 5}
    assert Enrollment.objects.count() == 5
    assert PersonalAccount.objects.count() == 5


def test_an_account_left_from_an_earlier_enrollment_is_kept_not_doubled(cast, person_in_a, files):
    """§1.6 Art 6: after a closed resident enrollment the person may enrol again; the account stays."""
    _enrollment(person_in_a, status=EnrollmentStatus.TERMINATED, end_date=dt.date(2020, 1, 1))
    PersonalAccount.objects.create(person=person_in_a, scheme=Scheme.RESIDENT_PENSION, personal=500)
    batch = _import(cast, files, _rows([person_in_a]))
    assert batch.summary == {"rows": 1, "inserted": 1, "accounts_opened": 0, "unchanged": 0}
    assert PersonalAccount.objects.get(person=person_in_a).personal == 500


# --- Bad rows: REJECTED, nothing committed --------------------------------------------------------------


def _bad_row_cases():
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    unknown = build_resident_id("360121", dt.date(1970, 1, 1), 555)
    return {
        "empty_id": (lambda p, q: [["", p.name, RESIDENT, DAY, ""]], "公民身份号码", "required"),
        "id_as_number_cell": (
            lambda p, q: [[float(p.id_number[:17]) * 10, p.name, RESIDENT, DAY, ""]],
            "公民身份号码",
            "stored_as_number",
        ),
        "id_as_number_text": (
            lambda p, q: [["3.60121196003E+17", p.name, RESIDENT, DAY, ""]],
            "公民身份号码",
            "stored_as_number",
        ),
        "bad_checksum": (
            lambda p, q: [
                [p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1"), p.name, RESIDENT, DAY, ""]
            ],
            "公民身份号码",
            "bad_checksum",
        ),
        "empty_scheme": (lambda p, q: [[p.id_number, p.name, "", DAY, ""]], "险种", "required"),
        "unknown_scheme": (
            lambda p, q: [[p.id_number, p.name, "商业保险", DAY, ""]],
            "险种",
            "unknown_scheme",
        ),
        "empty_date": (lambda p, q: [[p.id_number, p.name, RESIDENT, "", ""]], "参保日期", "required"),
        "bad_date": (
            lambda p, q: [[p.id_number, p.name, RESIDENT, "2024-02-30", ""]],
            "参保日期",
            "bad_date",
        ),
        "future_date": (
            lambda p, q: [[p.id_number, p.name, RESIDENT, future, ""]],
            "参保日期",
            "future_date",
        ),
        "before_birth": (
            lambda p, q: [[p.id_number, p.name, EMPLOYEE, "1950-01-01", ""]],
            "参保日期",
            "starts_before_birth",
        ),
        "unknown_person": (
            lambda p, q: [[unknown, "无名", RESIDENT, DAY, ""]],
            "公民身份号码",
            "person_not_found",
        ),
        "other_townships_person": (
            lambda p, q: [[q.id_number, q.name, RESIDENT, DAY, ""]],
            "公民身份号码",
            "person_not_found",
        ),
        "name_differs": (lambda p, q: [[p.id_number, "别人", RESIDENT, DAY, ""]], "姓名", "name_mismatch"),
        "resident_scheme_with_employer": (
            lambda p, q: [[p.id_number, p.name, RESIDENT, DAY, build_credit_code("91", "MA0000001")]],
            "单位统一社会信用代码",
            "resident_scheme_without_employer",
        ),
        "unknown_employer": (
            lambda p, q: [[p.id_number, p.name, EMPLOYEE, DAY, build_credit_code("91", "MA7777777")]],
            "单位统一社会信用代码",
            "organization_not_found",
        ),
        "mistyped_credit_code": (
            lambda p, q: [[p.id_number, p.name, EMPLOYEE, DAY, "91360121MA0000001X"]],
            "单位统一社会信用代码",
            "credit_code_bad_checksum",
        ),
    }


@pytest.mark.parametrize("case", list(_bad_row_cases()))
def test_a_file_with_one_bad_row_is_rejected_naming_the_row_and_nothing_is_committed(
    case, cast, persons_in_a, person_in_b, files
):
    make, column, code = _bad_row_cases()[case]
    good = _rows(persons_in_a[1:])
    batch = check(
        upload(
            cast.maker_ann,
            _xlsx(files, [*good[:2], *make(persons_in_a[0], person_in_b), *good[2:]]),
            cast.township_a,
            kind="enrollments",
        )
    )
    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_invalid, batch.rows_valid) == (5, 1, 4)
    assert [(row, col, c) for row, col, _value, c in errors_of(batch)] == [(5, column, code)]
    with pytest.raises(InvalidState):
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
    assert not Enrollment.objects.exists()
    assert not PersonalAccount.objects.exists()


def test_a_person_who_has_died_is_a_bad_row_naming_the_date(cast, persons_in_a, files):
    from enrollment.models import Person

    Person.objects.filter(pk=persons_in_a[1].pk).update(death_date=dt.date(2023, 5, 1))
    batch = _import(cast, files, _rows(persons_in_a))
    assert batch.status == ImportStatus.REJECTED
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [
        (4, "person_deceased", {"date": "2023-05-01"})
    ]
    assert not Enrollment.objects.exists()


def test_an_exact_repeat_names_the_first_row_and_another_date_makes_both_rows_errors(
    cast, persons_in_a, files
):
    a, b = persons_in_a[0], persons_in_a[1]
    rows = [
        [a.id_number, a.name, RESIDENT, DAY, ""],  # row 3
        [b.id_number, b.name, RESIDENT, DAY, ""],  # row 4
        [a.id_number, a.name, "resident_pension", DAY, ""],  # row 5: the same as row 3
        [b.id_number, b.name, RESIDENT, "2024-02-01", ""],  # row 6: b with another date
        [b.id_number, b.name, "城乡居民基本医疗保险", DAY, ""],  # row 7: another scheme is fine
    ]
    batch = _import(cast, files, rows)
    assert batch.status == ImportStatus.REJECTED
    assert {(e.row, e.code): e.params for e in batch.row_errors.all()} == {
        (5, "duplicate_row"): {"first_row": 3},
        (4, "conflicting_rows"): {"rows": [4, 6]},
        (6, "conflicting_rows"): {"rows": [4, 6]},
    }
    assert not Enrollment.objects.exists()


def test_a_row_with_several_problems_lists_each_and_counts_once(cast, files):
    batch = _import(cast, files, [["12345", "某", "养老", "明天", ""]])
    assert sorted(code for *_, code in errors_of(batch)) == ["bad_date", "bad_length", "unknown_scheme"]
    assert batch.rows_invalid == 1


# --- DOMAIN §1.1: the resident pension's minimum age, a policy parameter -----------------------------------


@pytest.fixture
def turning_16(cast):
    """Born 2008-06-10: 16 on 2024-06-10."""
    return PersonFactory(village=cast.village_a, birth_date=dt.date(2008, 6, 10), name="赵小")


def test_s1_1_the_resident_pension_is_refused_the_day_before_the_16th_birthday(cast, turning_16, files):
    batch = _import(cast, files, _rows([turning_16], day="2024-06-09"))
    assert batch.status == ImportStatus.REJECTED
    assert [(e.code, e.params) for e in batch.row_errors.all()] == [
        ("resident_pension_min_age", {"age": 16, "actual": 15})
    ]


def test_s1_1_the_resident_pension_is_open_on_the_16th_birthday_and_other_schemes_have_no_such_age(
    cast, turning_16, files
):
    batch = _import(
        cast,
        files,
        [*_rows([turning_16], day="2024-06-10"), *_rows([turning_16], scheme="失业保险", day="2024-06-01")],
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert _open(turning_16).get().start_date == dt.date(2024, 6, 10)


def test_s1_1_a_county_minimum_age_in_force_on_the_enrollment_date_overrides_the_national_one(
    cast, turning_16, files
):
    PolicyParameter.objects.create(
        region_code="360121",
        scheme="resident_pension",
        key="resident_pension.enrollment.min_age",
        kind="integer",
        unit="years",
        value=17,
        effective_from=dt.date(2024, 7, 1),
        confidence="B",
    )
    older = PersonFactory(village=cast.village_a, birth_date=dt.date(2007, 9, 1), name="钱小")
    rows = [
        *_rows([turning_16], day="2024-06-20"),  # 16, before the county row: the national 16 applies
        *_rows([older], day="2024-08-01"),  # 16 on a day the county's 17 is in force
    ]
    batch = _import(cast, files, rows)
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [
        (4, "resident_pension_min_age", {"age": 17, "actual": 16})
    ]


def test_s1_1_a_minimum_age_missing_for_the_date_is_a_bad_row_naming_the_parameter(cast, person_in_a, files):
    batch = _import(cast, files, _rows([person_in_a], day="2010-01-01"))  # before the seeded row (2014)
    assert [(e.code, e.params) for e in batch.row_errors.all()] == [
        (
            "missing_parameter",
            {"key": "resident_pension.enrollment.min_age", "region": "360121", "date": "2010-01-01"},
        )
    ]


# --- DOMAIN §1.6 and one open enrollment per scheme ------------------------------------------------------


@pytest.mark.parametrize("scheme", [Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION])
@pytest.mark.parametrize("status", [EnrollmentStatus.ACTIVE, EnrollmentStatus.RECEIVING])
def test_s1_6_the_resident_pension_is_refused_while_in_an_employment_pension(
    cast, person_in_a, files, scheme, status
):
    held = _enrollment(person_in_a, scheme=scheme, status=status)
    batch = _import(cast, files, _rows([person_in_a]))
    assert [(e.column, e.code, e.params) for e in batch.row_errors.all()] == [
        (
            "险种",
            "excluded_by_employment_pension",
            {"scheme": scheme, "enrollment_id": held.pk},
        )
    ]
    assert not _open(person_in_a).exists()


def test_s1_6_a_closed_employee_pension_lets_the_person_enrol_as_a_resident(cast, person_in_a, files):
    _enrollment(
        person_in_a,
        scheme=Scheme.EMPLOYEE_PENSION,
        status=EnrollmentStatus.TRANSFERRED_OUT,
        end_date=dt.date(2020, 1, 1),
    )
    assert _import(cast, files, _rows([person_in_a])).status == ImportStatus.COMMITTED
    assert _open(person_in_a).exists()


def test_s1_6_art7_an_employee_enrollment_beside_an_open_resident_one_is_allowed(
    cast, person_in_a, employer, files
):
    _enrollment(person_in_a)
    batch = _import(
        cast, files, _rows([person_in_a], scheme=EMPLOYEE, day="2024-03-01", code=employer.credit_code)
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert _open(person_in_a, Scheme.EMPLOYEE_PENSION).get().organization == employer
    assert _open(person_in_a).exists()


def test_s1_6_a_file_enrolling_a_person_in_both_pensions_refuses_the_resident_row(
    cast, person_in_a, employer, files
):
    rows = [
        *_rows([person_in_a], scheme=EMPLOYEE, day="2024-03-01", code=employer.credit_code),  # row 3
        *_rows([person_in_a]),  # row 4
    ]
    batch = _import(cast, files, rows)
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [
        (4, "resident_pension_excluded_in_file", {"rows": [3]})
    ]
    assert not Enrollment.objects.exists()


def test_an_open_enrollment_with_the_same_data_is_unchanged_and_with_other_data_an_error(
    cast, persons_in_a, employer, files
):
    same = _enrollment(persons_in_a[0], start_date=dt.date(2024, 1, 1))
    other = _enrollment(
        persons_in_a[1], start_date=dt.date(2019, 5, 1), status=EnrollmentStatus.SUSPENDED_CONTRIB
    )
    _enrollment(
        persons_in_a[2], scheme=Scheme.EMPLOYEE_PENSION, start_date=dt.date(2024, 1, 1)
    )  # no employer
    rows = [
        *_rows(persons_in_a[:2]),
        *_rows([persons_in_a[2]], scheme=EMPLOYEE, code=employer.credit_code),  # same date, another employer
    ]
    batch = _import(cast, files, rows)
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [
        (
            4,
            "already_enrolled",
            {
                "scheme": "resident_pension",
                "date": "2019-05-01",
                "status": "suspended_contrib",
                "enrollment_id": other.pk,
            },
        ),
        (
            5,
            "already_enrolled",
            {
                "scheme": "employee_pension",
                "date": "2024-01-01",
                "status": "active",
                "enrollment_id": _open(persons_in_a[2], Scheme.EMPLOYEE_PENSION).get().pk,
            },
        ),
    ]
    # Only the first row alone: already open with the same data, nothing to write.
    batch = _import(cast, files, _rows(persons_in_a[:1]))
    assert batch.summary == {"rows": 1, "inserted": 0, "accounts_opened": 0, "unchanged": 1}
    assert list(Enrollment.objects.filter(person=persons_in_a[0])) == [same]


def test_an_enrollment_made_between_the_check_and_the_commit_fails_the_batch_and_writes_nothing(
    cast, persons_in_a, files
):
    batch = check(
        upload(cast.maker_ann, _xlsx(files, _rows(persons_in_a)), cast.township_a, kind="enrollments")
    )
    # Another clerk enrols the third person at another date while the batch waits.
    enrollment_services.enrollment_enroll(
        person_id=persons_in_a[2].pk,
        scheme=Scheme.RESIDENT_PENSION,
        start_date=dt.date(2023, 1, 1),
        by=cast.maker_ann,
    )
    batch = confirm_and_commit(batch, cast.maker_ann)
    assert batch.status == ImportStatus.FAILED
    assert batch.failure_code == "changed_since_check"
    assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(5, "already_enrolled")]
    assert Enrollment.objects.count() == 1
    with connection.cursor() as cursor:  # the staging table went with the rolled-back transaction
        cursor.execute("SELECT to_regclass('pg_temp.imports_stage_enrollments')")
        assert cursor.fetchone() == (None,)


def test_a_county_wide_batch_enrols_persons_of_every_township(cast, person_in_a, person_in_b, files):
    kim = UserFactory(username="county_clerk_kim", roles=["clerk"], county_wide=True)
    batch = confirm_and_commit(
        check(upload(kim, _xlsx(files, _rows([person_in_a, person_in_b])), None, kind="enrollments")), kim
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert {e.pooling_area for e in Enrollment.objects.all()} == {"360121"}
    assert Enrollment.objects.count() == 2


# --- Messages ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "sentence"),
    [
        ("unknown_scheme", {"value": "养老"}, "养老 is not a scheme. Write one of: Employee pension、"),
        ("person_deceased", {"date": "2023-05-01"}, "This person died on 2023-05-01 and cannot be enrolled."),
        (
            "starts_before_birth",
            {"date": "1960-03-15"},
            "The enrollment date is before the birth date 1960-03-15.",
        ),
        (
            "resident_pension_min_age",
            {"age": 16, "actual": 15},
            "The resident pension starts at age 16; this person is 15 on the enrollment date.",
        ),
        (
            "resident_scheme_without_employer",
            {"scheme": "resident_pension"},
            "Residents enrol in Resident pension for themselves",
        ),
        ("organization_not_found", {"value": "91360121MA00000019"}, "No employer with the credit code"),
        (
            "already_enrolled",
            {"scheme": "resident_pension", "date": "2019-05-01", "status": "suspended_contrib"},
            "already enrolled in Resident pension since 2019-05-01 (Contributions suspended)",
        ),
        (
            "excluded_by_employment_pension",
            {"scheme": "employee_pension"},
            "This person is in the Employee pension, so cannot enrol in the resident pension.",
        ),
        (
            "resident_pension_excluded_in_file",
            {"rows": [3, 9]},
            "Rows 3、9 of this file enrol the same person",
        ),
        (
            "missing_parameter",
            {"key": "resident_pension.enrollment.min_age", "region": "360121", "date": "2010-01-01"},
            "No policy parameter resident_pension.enrollment.min_age is in force for region 360121 "
            "on 2010-01-01",
        ),
        ("credit_code_bad_checksum", {"value": "91360121MA0000001X"}, "has a wrong check character"),
        ("name_mismatch", {"registered": "李明"}, "The registry has this ID number under the name 李明."),
    ],
)
def test_every_code_of_the_kind_has_an_english_sentence(code, params, sentence):
    assert sentence in error_message(Enrollments(), code, params)


@pytest.mark.parametrize(
    "code",
    [
        "unknown_scheme",
        "person_deceased",
        "starts_before_birth",
        "resident_pension_min_age",
        "resident_scheme_without_employer",
        "organization_not_found",
        "already_enrolled",
        "excluded_by_employment_pension",
        "resident_pension_excluded_in_file",
        "missing_parameter",
        "name_mismatch",
    ],
)
def test_every_code_of_the_kind_has_its_own_sentence_not_the_fallback(code):
    assert f"({code})" not in error_message(Enrollments(), code, {"scheme": "resident_pension"})


# --- API ------------------------------------------------------------------------------------------------


class TestUploadApi:
    def _post(self, api, user, path, township):
        return post_upload(api, user, "enrollments", path, township)

    def test_a_clerk_uploads_a_batch_and_it_is_checked_and_imported(
        self, api, cast, persons_in_a, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = self._post(api, cast.maker_ann, _xlsx(files, _rows(persons_in_a)), cast.township_a)
        assert response.status_code == 201, response.json()
        assert response.json()["kind"] == "enrollments"
        batch = ImportBatch.objects.get(pk=response.json()["id"])
        assert batch.status == ImportStatus.VALIDATED
        with django_capture_on_commit_callbacks(execute=True):
            confirmed = api.as_user(cast.maker_ann).post(f"/api/imports/{batch.pk}/confirm/")
        assert confirmed.status_code == 202
        assert Enrollment.objects.count() == 5

    def test_a_section_chief_may_not_upload(self, api, cast, persons_in_a, files):
        assert (
            self._post(api, cast.checker_ben, _xlsx(files, _rows(persons_in_a)), cast.township_a).status_code
            == 403
        )
        assert not ImportBatch.objects.exists()

    def test_another_townships_upload_is_not_found(self, api, cast, persons_in_a, files):
        assert (
            self._post(api, cast.outsider_eve, _xlsx(files, _rows(persons_in_a)), cast.township_a).status_code
            == 404
        )
        assert not ImportBatch.objects.exists()

    def test_the_kind_is_offered_with_its_columns(self, api, cast):
        body = api.as_user(cast.maker_ann).get("/api/import-kinds/").json()
        kind = next(k for k in body if k["name"] == "enrollments")
        assert kind["columns"] == ["公民身份号码", "姓名", "险种", "参保日期", "单位统一社会信用代码"]
        assert kind["required"] == ["公民身份号码", "险种", "参保日期"]


def test_the_template_reads_back_as_a_file_with_the_kinds_columns(cast):
    from socialsec.lib.spreadsheets import read_table

    kind = Enrollments()
    table = read_table(services.import_template_workbook("enrollments"), kind.columns, required=kind.required)
    assert list(table.frame.columns) == list(kind.columns)
    assert len(table) == len(kind.template_rows)
