"""Importing the province's employee-pension list (DOMAIN §1.6 Art 8, §2, §2.3, §8.1 BenefitEntitlement,
§8.2, E7): a clean file records PAYING entitlements of the programme employee_pension in one
INSERT … SELECT; any bad row commits nothing; the same list again changes nothing; new amounts for
the same pension update it in place (audited); the entitlements feed the dual-receipt rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benefits import services as benefit_services
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus, StopReason
from benefits.import_kinds.employee_pensions import MALE_AGE_KEY, EmployeePensions
from enrollment.choices import Sex
from enrollment.models import Person
from socialsec.core.exceptions import InvalidState
from socialsec.core.models import PolicyParameter
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.kinds import get_kind
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch
from socialsec.lib.resident_id import build_resident_id
from socialsec.lib.spreadsheets import read_table
from tests.benefits.entitlement_factories import pensioner
from tests.factories import PersonFactory
from tests.imports.files import EMPLOYEE_PENSIONS_HEADER as HEADER
from tests.imports.helpers import (
    assert_the_one_bad_row_is_named,
    check,
    confirm_and_commit,
    errors_of,
    import_file,
    post_upload,
    upload,
)

pytestmark = pytest.mark.django_db

KIND = "employee_pensions"
EP = BenefitProgramme.EMPLOYEE_PENSION
S = EntitlementStatus
APR_2020 = dt.date(2020, 4, 1)
COUNTY = "360121"


def _upload(user, path, township):
    return upload(user, path, township, kind=KIND)


def _row(
    person,
    scheme="企业职工基本养老保险",
    start="2020-04",
    basic="1850.00",
    account="620.35",
    top_up="",
    total="",
    region="",
    stop="",
    name=None,
):
    return [
        person.id_number,
        person.name if name is None else name,
        scheme,
        start,
        basic,
        account,
        top_up,
        total,
        region,
        stop,
    ]


def _clean_rows(persons):
    """Five ways the province writes the schemes, months and amounts (the men of persons_in_a
    were born 1960-03-15, so 60 in 2020-03)."""
    a, b, c, d, e = persons
    return [
        _row(a),
        _row(b, "机关事业单位养老保险", start="2021-01", basic="3200", account="450.5", top_up="300"),
        _row(c, "企保", start="202006", basic="1500.00", account="0", total="1500.00", region="360000"),
        _row(d, "gov_inst_pension", start="2022年7月", basic="2800.00", account="100.00", top_up="12.34"),
        _row(e, "Employee pension", start="2020-03-15", basic="1000", account="200"),
    ]


def _entitlements(persons):
    return sorted(
        BenefitEntitlement.objects.filter(person__in=persons).values_list(
            "person_id",
            "programme",
            "status",
            "region",
            "basic",
            "account",
            "top_up",
            "start_month",
            "stop_month",
        )
    )


def _committed(user, path, township):
    return confirm_and_commit(check(_upload(user, path, township)), user)


# --- Clean files ----------------------------------------------------------------------------------


def test_a_clean_xlsx_records_paying_entitlements_with_the_provinces_amounts(cast, persons_in_a, files):
    """DOMAIN §8.1 BenefitEntitlement: the split as the province computed it, PAYING from the start
    month, the pooling area the file's or the county's, and a snapshot naming the list."""
    a, b, c, d, e = persons_in_a
    batch = check(
        _upload(cast.maker_ann, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a)
    )
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)
    assert (batch.rows_total, batch.rows_valid, batch.rows_invalid) == (5, 5, 0)
    assert not BenefitEntitlement.objects.exists()  # nothing is written before the clerk confirms

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert batch.summary == {"rows": 5, "inserted": 5, "updated": 0, "stopped": 0, "unchanged": 0}
    D = Decimal
    assert _entitlements(persons_in_a) == sorted(
        [
            (a.pk, EP, S.PAYING, COUNTY, D("1850.00"), D("620.35"), D("0"), APR_2020, None),
            (b.pk, EP, S.PAYING, COUNTY, D("3200"), D("450.50"), D("300"), dt.date(2021, 1, 1), None),
            (c.pk, EP, S.PAYING, "360000", D("1500"), D("0"), D("0"), dt.date(2020, 6, 1), None),
            (d.pk, EP, S.PAYING, COUNTY, D("2800"), D("100"), D("12.34"), dt.date(2022, 7, 1), None),
            (e.pk, EP, S.PAYING, COUNTY, D("1000"), D("200"), D("0"), dt.date(2020, 3, 1), None),
        ]
    )
    first = BenefitEntitlement.objects.get(person=a)
    assert first.monthly_amount == Decimal("2470.35")
    assert first.decided_by == cast.maker_ann
    assert first.snapshot == {
        "source": "province_list",
        "scheme": "employee_pension",
        "import": {"batch": batch.pk, "file": batch.original_name, "row": 3},
    }
    assert BenefitEntitlement.objects.get(person=b).snapshot["scheme"] == "gov_inst_pension"
    # The audit trail names the batch, as for every import.
    event = first.events.get(pgh_label="insert")
    assert event.pgh_context.metadata["import_batch"] == batch.pk


def test_a_gbk_csv_with_the_alternate_headers_and_short_scheme_names_commits(cast, persons_in_a, files):
    """A csv in GBK, as the province's system exports it, with 基本养老金 for the basic pension."""
    a, b = persons_in_a[:2]
    header = [
        "身份证号码",
        "姓名",
        "险种名称",
        "待遇起始年月",
        "基本养老金",
        "个人账户养老金",
        "其他/过渡性养老金",
    ]
    path = files.csv(
        [
            [a.id_number, a.name, "企业养老", "2020/4", "1850 元", "620.35元", ""],
            [b.id_number, "李 1", "机保", "2021年1月", "3200", "450.50", "￥300"],
        ],
        header=header,
    )

    batch = _committed(cast.maker_ann, path, cast.township_a)

    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert sorted(
        BenefitEntitlement.objects.values_list("person_id", "basic", "account", "top_up", "snapshot__scheme")
    ) == sorted(
        [
            (a.pk, Decimal("1850"), Decimal("620.35"), Decimal("0"), "employee_pension"),
            (b.pk, Decimal("3200"), Decimal("450.50"), Decimal("300"), "gov_inst_pension"),
        ]
    )


def test_amounts_and_months_in_number_cells_read_as_shown(cast, persons_in_a, files):
    a = persons_in_a[0]
    batch = _committed(
        cast.maker_ann,
        files.xlsx(
            [[a.id_number, a.name, "企保", 202004, 1850.5, 620, 0.35, 2470.85, 360121, ""]], header=HEADER
        ),
        cast.township_a,
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert _entitlements([a]) == [
        (a.pk, EP, S.PAYING, COUNTY, Decimal("1850.50"), Decimal("620"), Decimal("0.35"), APR_2020, None)
    ]


# --- Bad rows: REJECTED, nothing committed ------------------------------------------------------


def _bad_row_cases():
    other_id = build_resident_id(COUNTY, dt.date(1950, 1, 1), 555)
    return {
        "empty_id": (lambda p, q: ["", *_row(p)[1:]], "公民身份号码", "required"),
        "id_stored_as_number": (
            lambda p, q: [float(p.id_number[:17]) * 10, *_row(p)[1:]],
            "公民身份号码",
            "stored_as_number",
        ),
        "bad_checksum": (
            lambda p, q: [p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1"), *_row(p)[1:]],
            "公民身份号码",
            "bad_checksum",
        ),
        "empty_name": (lambda p, q: _row(p, name=""), "姓名", "required"),
        "name_differs": (lambda p, q: _row(p, name="别人"), "姓名", "name_mismatch"),
        "empty_scheme": (lambda p, q: _row(p, scheme=""), "险种", "required"),
        "unknown_scheme": (lambda p, q: _row(p, scheme="商业养老保险"), "险种", "unknown_scheme"),
        "resident_scheme": (lambda p, q: _row(p, scheme="城乡居民养老保险"), "险种", "not_a_pension_scheme"),
        "empty_start": (lambda p, q: _row(p, start=""), "待遇开始年月", "required"),
        "year_only": (lambda p, q: _row(p, start="2020"), "待遇开始年月", "bad_month"),
        "month_13": (lambda p, q: _row(p, start="2020-13"), "待遇开始年月", "bad_month"),
        "future_start": (lambda p, q: _row(p, start="2099-01"), "待遇开始年月", "future_month"),
        "before_pension_age": (lambda p, q: _row(p, start="2020-02"), "待遇开始年月", "before_pension_age"),
        "empty_basic": (lambda p, q: _row(p, basic=""), "基础养老金", "required"),
        "unreadable_basic": (lambda p, q: _row(p, basic="一千"), "基础养老金", "bad_amount"),
        "three_decimals": (lambda p, q: _row(p, account="620.355"), "个人账户养老金", "bad_amount"),
        "negative_account": (lambda p, q: _row(p, account="-1"), "个人账户养老金", "negative_amount"),
        "empty_account": (lambda p, q: _row(p, account=""), "个人账户养老金", "required"),
        "nothing_paid": (lambda p, q: _row(p, basic="0", account="0.00"), "基础养老金", "zero_pension"),
        "total_differs": (lambda p, q: _row(p, total="2470.36"), "养老金合计", "total_mismatch"),
        "bad_region": (lambda p, q: _row(p, region="3601"), "统筹区", "bad_region"),
        "unreadable_stop": (lambda p, q: _row(p, stop="下个月"), "终止年月", "bad_month"),
        "stop_before_start": (lambda p, q: _row(p, stop="2020-03"), "终止年月", "stop_before_start"),
        "unknown_person": (
            lambda p, q: [other_id, "无名", *_row(p)[2:]],
            "公民身份号码",
            "person_not_found",
        ),
        "other_townships_person": (lambda p, q: _row(q), "公民身份号码", "person_not_found"),
    }


@pytest.mark.parametrize("case", list(_bad_row_cases()))
def test_a_file_with_one_bad_row_is_rejected_naming_row_column_value_and_nothing_is_committed(
    case, cast, persons_in_a, person_in_b, files
):
    make, column, code = _bad_row_cases()[case]
    good = [_row(p) for p in persons_in_a[1:]]
    bad = make(persons_in_a[0], person_in_b)
    batch = check(
        _upload(cast.maker_ann, files.xlsx([*good[:2], bad, *good[2:]], header=HEADER), cast.township_a)
    )

    assert_the_one_bad_row_is_named(batch, bad, column, code, HEADER, cast.maker_ann)
    if not isinstance(bad[HEADER.index(column)], str):
        assert errors_of(batch)[0][2] != persons_in_a[0].id_number
    assert not BenefitEntitlement.objects.exists()


def test_a_row_with_several_problems_lists_each_and_counts_once(cast, persons_in_a, files):
    a = persons_in_a[0]
    rows = [_row(a, scheme="工伤保险", start="2020", basic="-5"), *[_row(p) for p in persons_in_a[1:]]]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))
    assert sorted((row, column, code) for row, column, _value, code in errors_of(batch)) == [
        (3, "基础养老金", "negative_amount"),
        (3, "待遇开始年月", "bad_month"),
        (3, "险种", "not_a_pension_scheme"),
    ]
    assert (batch.rows_invalid, batch.rows_valid) == (1, 4)


def test_an_exact_repeat_names_the_first_row_and_other_figures_make_both_rows_errors(
    cast, persons_in_a, files
):
    a, b = persons_in_a[:2]
    rows = [_row(a), _row(b), _row(a), _row(b, basic="1900.00")]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))
    assert [(e.row, e.code, e.params) for e in batch.row_errors.order_by("row")] == [
        (4, "conflicting_rows", {"rows": [4, 6]}),
        (5, "duplicate_row", {"first_row": 3}),
        (6, "conflicting_rows", {"rows": [4, 6]}),
    ]


# --- DOMAIN §2.3: not before the original retirement age ------------------------------------------


def test_s2_3_a_man_may_start_in_the_month_he_turns_60_not_the_month_before(cast, files):
    man = PersonFactory(village=cast.village_a, name="王五", birth_date=dt.date(1962, 8, 31))
    before = check(
        _upload(cast.maker_ann, files.xlsx([_row(man, start="2022-07")], header=HEADER), cast.township_a)
    )
    assert [(e.column, e.code, e.params) for e in before.row_errors.all()] == [
        ("待遇开始年月", "before_pension_age", {"age": 60, "month": "2022-08"})
    ]
    on_time = _committed(
        cast.maker_ann, files.xlsx([_row(man, start="2022-08")], header=HEADER), cast.township_a
    )
    assert on_time.status == ImportStatus.COMMITTED, errors_of(on_time)


def test_s2_3_a_woman_may_start_at_50_the_lowest_original_age(cast, files):
    woman = PersonFactory(village=cast.village_a, name="赵敏", sex=Sex.FEMALE, birth_date=dt.date(1970, 5, 2))
    early = check(
        _upload(cast.maker_ann, files.xlsx([_row(woman, start="2020-04")], header=HEADER), cast.township_a)
    )
    assert [(e.code, e.params) for e in early.row_errors.all()] == [
        ("before_pension_age", {"age": 50, "month": "2020-05"})
    ]
    batch = _committed(
        cast.maker_ann, files.xlsx([_row(woman, start="2020-05")], header=HEADER), cast.township_a
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)


def test_s2_3_the_ages_are_the_policy_parameters_of_the_rows_pooling_area(cast, persons_in_a, files):
    """No original age in force for the region: the row names the parameter, nothing is guessed."""
    PolicyParameter.objects.filter(key=MALE_AGE_KEY).delete()
    batch = check(
        _upload(
            cast.maker_ann,
            files.xlsx([_row(persons_in_a[0], region="360000")], header=HEADER),
            cast.township_a,
        )
    )
    assert [(e.column, e.code, e.params) for e in batch.row_errors.all()] == [
        (
            "待遇开始年月",
            "missing_parameter",
            {"key": MALE_AGE_KEY, "region": "360000", "date": str(timezone.localdate())},
        )
    ]


# --- Death (DOMAIN §8.2 PAYING → STOPPED) -------------------------------------------------------


def test_a_pension_starting_after_the_death_month_is_a_bad_row(cast, persons_in_a, files):
    Person.objects.filter(pk=persons_in_a[0].pk).update(death_date=dt.date(2021, 6, 10))
    rows = [_row(persons_in_a[0], start="2021-07", stop="2021-08")]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))
    assert [(e.row, e.column, e.code, e.params) for e in batch.row_errors.all()] == [
        (3, "待遇开始年月", "after_death", {"date": "2021-06-10"})
    ]


def test_a_person_who_died_is_recorded_only_with_the_stop_month(cast, persons_in_a, files):
    a = persons_in_a[0]
    Person.objects.filter(pk=a.pk).update(death_date=dt.date(2024, 3, 10))
    without = check(_upload(cast.maker_ann, files.xlsx([_row(a)], header=HEADER), cast.township_a))
    assert [(e.column, e.code, e.params) for e in without.row_errors.all()] == [
        ("终止年月", "person_deceased", {"date": "2024-03-10"})
    ]

    batch = _committed(cast.maker_ann, files.xlsx([_row(a, stop="2024-04")], header=HEADER), cast.township_a)

    assert batch.summary == {"rows": 1, "inserted": 1, "updated": 0, "stopped": 1, "unchanged": 0}
    entitlement = BenefitEntitlement.objects.get(person=a)
    assert (entitlement.status, entitlement.stop_month, entitlement.stop_reason) == (
        S.STOPPED,
        dt.date(2024, 4, 1),
        StopReason.OTHER,
    )
    assert entitlement.snapshot["stop"] == {
        "reason": "other",
        "stop_month": "2024-04-01",
        "source": "province_list",
        "import": {"batch": batch.pk, "file": batch.original_name, "row": 3},
    }
    # Recorded PAYING, then stopped along the edge the status trigger allows: two row versions.
    assert list(entitlement.events.order_by("pgh_id").values_list("pgh_label", "status")) == [
        ("insert", S.PAYING),
        ("update", S.STOPPED),
    ]


# --- The same list again; new figures ------------------------------------------------------------


def test_re_uploading_the_committed_file_is_refused_naming_the_earlier_batch(cast, persons_in_a, files):
    path = files.xlsx(_clean_rows(persons_in_a), header=HEADER)
    first = _committed(cast.maker_ann, path, cast.township_a)
    with pytest.raises(InvalidState) as refused:
        _upload(cast.maker_ann, path, cast.township_a)
    assert refused.value.details["ids"] == [first.pk]
    assert BenefitEntitlement.objects.count() == 5


def test_the_same_list_in_another_file_changes_nothing_and_counts_each_row_unchanged(
    cast, persons_in_a, files
):
    rows = _clean_rows(persons_in_a)
    rows[0][-1] = "2026-01"  # a stopped pension sent again is unchanged too
    _committed(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a)
    before = list(BenefitEntitlement.objects.order_by("pk").values())
    events = BenefitEntitlement.pgh_event_models["insert"].objects.count()

    again = _committed(cast.maker_ann, files.csv(rows, header=HEADER), cast.township_a)

    assert again.status == ImportStatus.COMMITTED, errors_of(again)
    assert again.summary == {"rows": 5, "inserted": 0, "updated": 0, "stopped": 0, "unchanged": 5}
    assert list(BenefitEntitlement.objects.order_by("pk").values()) == before
    assert BenefitEntitlement.pgh_event_models["insert"].objects.count() == events


def test_new_amounts_for_the_same_pension_update_it_in_place_keeping_the_old_ones(cast, persons_in_a, files):
    """The province's annual adjustment: same person, scheme and start month, other amounts."""
    a, b = persons_in_a[:2]
    first = _committed(cast.maker_ann, files.xlsx([_row(a), _row(b)], header=HEADER), cast.township_a)
    entitlement = BenefitEntitlement.objects.get(person=a)

    adjusted = _committed(
        cast.maker_ann,
        files.xlsx([_row(a, basic="1920.00", top_up="15.00", region="360000"), _row(b)], header=HEADER),
        cast.township_a,
    )

    assert adjusted.summary == {"rows": 2, "inserted": 0, "updated": 1, "stopped": 0, "unchanged": 1}
    entitlement.refresh_from_db()
    assert (
        entitlement.status,
        entitlement.basic,
        entitlement.account,
        entitlement.top_up,
        entitlement.region,
    ) == (
        S.PAYING,
        Decimal("1920.00"),
        Decimal("620.35"),
        Decimal("15.00"),
        "360000",
    )
    assert entitlement.snapshot["import"]["batch"] == first.pk
    assert entitlement.snapshot["updated"] == {
        "batch": adjusted.pk,
        "file": adjusted.original_name,
        "row": 3,
        "previous": {"basic": "1850.00", "account": "620.35", "top_up": "0.00", "region": COUNTY},
    }
    update = entitlement.events.get(pgh_label="update")
    assert (update.basic, update.pgh_context.metadata["import_batch"]) == (Decimal("1920.00"), adjusted.pk)
    assert BenefitEntitlement.objects.count() == 2


def test_a_stop_month_for_a_paying_pension_stops_it(cast, persons_in_a, files):
    a = persons_in_a[0]
    _committed(cast.maker_ann, files.xlsx([_row(a)], header=HEADER), cast.township_a)
    batch = _committed(cast.maker_ann, files.xlsx([_row(a, stop="2025-09")], header=HEADER), cast.township_a)
    assert batch.summary == {"rows": 1, "inserted": 0, "updated": 1, "stopped": 1, "unchanged": 0}
    entitlement = BenefitEntitlement.objects.get(person=a)
    assert (entitlement.status, entitlement.stop_month) == (S.STOPPED, dt.date(2025, 9, 1))


def test_a_suspended_pension_gets_new_amounts_and_stays_suspended(cast, persons_in_a, files):
    a = persons_in_a[0]
    _committed(cast.maker_ann, files.xlsx([_row(a)], header=HEADER), cast.township_a)
    entitlement = BenefitEntitlement.objects.get(person=a)
    benefit_services.entitlement_suspend(
        entitlement_id=entitlement.pk,
        by=cast.checker_ben,
        reason="certification_missed",
        month=dt.date(2025, 7, 1),
    )
    batch = _committed(cast.maker_ann, files.xlsx([_row(a, basic="1900")], header=HEADER), cast.township_a)
    assert batch.summary["updated"] == 1
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.suspended_from, entitlement.basic) == (
        S.SUSPENDED,
        dt.date(2025, 7, 1),
        Decimal("1900"),
    )


def test_what_an_import_does_not_change_is_a_bad_row_naming_the_entitlement(cast, persons_in_a, files):
    """Another start month, the other scheme, or a stopped entitlement with other figures."""
    a, b, c = persons_in_a[:3]
    _committed(
        cast.maker_ann,
        files.xlsx([_row(a), _row(b), _row(c, stop="2024-01")], header=HEADER),
        cast.township_a,
    )
    ids = dict(BenefitEntitlement.objects.values_list("person_id", "pk"))
    rows = [_row(a, start="2020-05"), _row(b, scheme="机关事业单位养老保险"), _row(c, stop="2024-02")]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))
    assert [(e.row, e.column, e.code, e.params["id"]) for e in batch.row_errors.order_by("row")] == [
        (3, "待遇开始年月", "other_start", ids[a.pk]),
        (4, "险种", "other_scheme", ids[b.pk]),
        (5, "终止年月", "already_stopped", ids[c.pk]),
    ]


def test_a_pension_the_county_stopped_stands_when_the_list_has_not_caught_up(cast, persons_in_a, files):
    """DOMAIN §8.2, E9: the county stops a pension on death; the province's next list still has the
    row without a stop month, which is unchanged, not an error and not a reopening."""
    a = persons_in_a[0]
    _committed(cast.maker_ann, files.xlsx([_row(a)], header=HEADER), cast.township_a)
    entitlement = BenefitEntitlement.objects.get(person=a)
    Person.objects.filter(pk=a.pk).update(death_date=dt.date(2025, 3, 10))
    benefit_services.entitlement_stop(
        entitlement_id=entitlement.pk, by=cast.checker_ben, reason=StopReason.DEATH
    )

    batch = _committed(cast.maker_ann, files.csv([_row(a)], header=HEADER), cast.township_a)

    assert batch.summary == {"rows": 1, "inserted": 0, "updated": 0, "stopped": 0, "unchanged": 1}
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_reason) == (S.STOPPED, StopReason.DEATH)


def test_a_pension_made_between_the_check_and_the_commit_fails_the_batch_and_writes_nothing(
    cast, persons_in_a, files
):
    a, b = persons_in_a[:2]
    batch = check(_upload(cast.maker_ann, files.xlsx([_row(a), _row(b)], header=HEADER), cast.township_a))
    _committed(cast.maker_ann, files.xlsx([_row(a, start="2021-01")], header=HEADER), cast.township_a)
    held = list(BenefitEntitlement.objects.values_list("pk", flat=True))

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert (batch.status, batch.failure_code) == (ImportStatus.FAILED, "changed_since_check")
    assert [(row, code) for row, _column, _value, code in errors_of(batch)] == [(3, "other_start")]
    assert list(BenefitEntitlement.objects.values_list("pk", flat=True)) == held


# --- DOMAIN §1.6 Art 8, E7: the dual-receipt rule reads them ----------------------------------------


def test_e7_an_imported_pension_makes_the_dual_receipt_rule_refuse_the_resident_pension(cast, files):
    person = pensioner(cast)  # enrolled in the resident pension with 15 years, born 1964-03-15
    assert benefit_services.other_basic_pensions(person.pk) == []

    _committed(
        cast.maker_ann,
        files.xlsx([_row(person, scheme="企业职工基本养老保险", start="2024-03")], header=HEADER),
        cast.township_a,
    )

    assert benefit_services.other_basic_pensions(person.pk) == ["employee_pension"]
    with pytest.raises(InvalidState) as refused:
        benefit_services.entitlement_apply(
            person_id=person.pk,
            programme=BenefitProgramme.RESIDENT_PENSION,
            start_month=dt.date(2025, 5, 1),
            by=cast.maker_ann,
        )
    assert refused.value.details["rule"] == "resident_pension.no_dual_receipt"


def test_e7_an_imported_institution_pension_is_named_as_such_by_the_dual_receipt_rule(cast, files):
    person = pensioner(cast)
    _committed(
        cast.maker_ann,
        files.xlsx([_row(person, scheme="机关事业单位养老保险", start="2024-03")], header=HEADER),
        cast.township_a,
    )
    assert benefit_services.other_basic_pensions(person.pk) == ["gov_inst_pension"]


def test_e7_a_stopped_pension_no_longer_counts_as_another_basic_pension(cast, files):
    person = pensioner(cast)
    _committed(
        cast.maker_ann,
        files.xlsx([_row(person, start="2024-03", stop="2024-09")], header=HEADER),
        cast.township_a,
    )
    assert benefit_services.other_basic_pensions(person.pk) == []


# --- Scope ----------------------------------------------------------------------------------------


def test_a_county_wide_batch_reaches_every_township(cast, county_clerk_kim, person_in_a, person_in_b, files):
    batch = _committed(
        county_clerk_kim, files.xlsx([_row(person_in_a), _row(person_in_b)], header=HEADER), None
    )
    assert batch.summary["inserted"] == 2
    assert set(BenefitEntitlement.objects.values_list("person_id", flat=True)) == {
        person_in_a.pk,
        person_in_b.pk,
    }


def test_the_check_and_the_commit_cost_the_same_queries_for_2_or_20_rows(cast, files):
    def queries(count: int) -> tuple[int, int]:
        persons = [PersonFactory(village=cast.village_a) for _ in range(count)]
        batch = _upload(
            cast.maker_ann, files.xlsx([_row(p) for p in persons], header=HEADER), cast.township_a
        )
        with CaptureQueriesContext(connection) as checking:
            batch = check(batch)
        with CaptureQueriesContext(connection) as committing:
            confirm_and_commit(batch, cast.maker_ann)
        return len(checking), len(committing)

    assert queries(2) == queries(20)


# --- Messages, template, command, API -------------------------------------------------------------


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "expected"),
    [
        (
            "unknown_scheme",
            {},
            "Unknown scheme. Write Employee pension or Government and institution pension",
        ),
        (
            "not_a_pension_scheme",
            {"scheme": "resident_pension"},
            "Resident pension is not paid on this list: it records the employee pension and the government "
            "and institution pension.",
        ),
        ("bad_month", {}, "This is not a month. Write months as 2024-03."),
        ("future_month", {}, "The pension starts after the current month; import it once it has started."),
        ("stop_before_start", {"start": "2020-04"}, "The stop month comes before the start month 2020-04."),
        ("bad_amount", {}, "This is not an amount in yuan with at most two decimals, such as 300 or 320.50."),
        ("negative_amount", {}, "An amount cannot be negative."),
        ("zero_pension", {}, "The amounts of this row add up to 0; a pension pays something."),
        (
            "total_mismatch",
            {"sum": "2470.35"},
            "The amounts of this row add up to 2470.35, not to this total.",
        ),
        ("bad_region", {}, "A pooling area is a 6-digit division code, such as 360121 or 360000;"),
        ("after_death", {"date": "2021-06-10"}, "The pension starts after the death on 2021-06-10."),
        (
            "before_pension_age",
            {"age": 60, "month": "2020-03"},
            "The pension starts before 2020-03, when this person reaches 60, the earliest age at which a "
            "basic pension can start.",
        ),
        (
            "person_deceased",
            {"date": "2024-03-10"},
            "This person died on 2024-03-10: give the month the province stopped the pension.",
        ),
        (
            "other_start",
            {"id": 7, "status": "paying", "start": "2020-04"},
            "This person already has entitlement 7 to the employee pension from 2020-04 (Paying). "
            "An import does not change its start month; stop it first.",
        ),
        (
            "entitlement_not_paying",
            {"id": 7, "status": "applied"},
            "Entitlement 7 of this person is Applied; an import changes only a paying or suspended pension.",
        ),
        (
            "other_scheme",
            {"id": 7, "scheme": "employee_pension"},
            "Entitlement 7 of this person is for the Employee pension; an import does not change the scheme.",
        ),
        (
            "already_stopped",
            {"id": 7, "start": "2020-04", "stop": "2024-01"},
            "Entitlement 7 from 2020-04 was stopped from 2024-01. An import does not reopen or change a "
            "stopped entitlement.",
        ),
        ("name_mismatch", {"registered": "李0"}, "The registry has this ID number under the name 李0."),
        (
            "missing_parameter",
            {
                "key": "employee_pension.retirement.male.original_age",
                "region": "360121",
                "date": "2026-01-01",
            },
            "No policy parameter employee_pension.retirement.male.original_age is in force",
        ),
    ],
)
def test_every_code_of_the_kind_reads_as_a_sentence_in_english(code, params, expected):
    assert error_message(EmployeePensions(), code, params, "x").startswith(expected)


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "what_to_do"),
    [
        ("negative_amount", {}, "Write the monthly amount on the province's list, such as 320.50."),
        ("zero_pension", {}, "Copy the basic and the personal-account pension from the province's list."),
        ("total_mismatch", {"sum": "2470.35"}, "Correct the amount that is wrong, or leave the total empty."),
        ("stop_before_start", {"start": "2020-04"}, "Correct whichever of the two months is wrong."),
        ("after_death", {"date": "2021-06-10"}, "Check the start month and the ID number."),
        ("before_pension_age", {"age": 60, "month": "2020-03"}, "Check the start month and the ID number."),
        ("entitlement_not_paying", {"id": 7, "status": "applied"}, "Finish its review first"),
        ("other_scheme", {"id": 7, "scheme": "employee_pension"}, "Check the scheme column;"),
        ("already_stopped", {"id": 7, "start": "2020-04", "stop": "2024-01"}, "Leave this row out."),
    ],
)
def test_a_refused_row_tells_the_clerk_what_to_fix(code, params, what_to_do):
    """The error list shows row, column and value; the sentence adds what to write instead."""
    assert what_to_do in error_message(EmployeePensions(), code, params, "x")


def test_the_template_has_every_column_and_example_rows_that_only_lack_their_persons(cast, files):
    path = services.import_template_workbook(KIND)
    kind = get_kind(KIND)
    batch = check(_upload(cast.maker_ann, path, cast.township_a))
    assert {code for *_, code in errors_of(batch)} == {"person_not_found"}
    assert len(read_table(path, kind.columns, required=kind.required)) == len(kind.template_rows)


def test_manage_py_import_file_imports_the_list_for_a_township(cast, persons_in_a, files):
    out = StringIO()
    import_file(KIND, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a, out=out)
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.status) == (KIND, ImportStatus.COMMITTED)
    assert (
        out.getvalue().strip()
        == f"Batch {batch.pk} imported: 5 rows, 5 records changed, 0 already up to date."
    )
    event = BenefitEntitlement.objects.get(person=persons_in_a[0]).events.get(pgh_label="insert")
    assert event.pgh_context.metadata["command"] == "import_file"


def test_manage_py_import_file_prints_each_bad_row_and_imports_nothing(cast, persons_in_a, files):
    rows = [_row(p) for p in persons_in_a]
    rows[1][4] = "一千"
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 5 rows are bad; nothing was imported"):
        import_file(KIND, files.xlsx(rows, header=HEADER), cast.township_a, out=out)
    (line,) = out.getvalue().splitlines()
    assert line.startswith("row 4, column 基础养老金, value 一千: This is not an amount in yuan")
    assert not BenefitEntitlement.objects.exists()


class TestUploadApi:
    def test_a_clerk_uploads_the_list_which_is_checked_and_imported_on_confirmation(
        self, api, cast, persons_in_a, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_upload(
                api,
                cast.maker_ann,
                KIND,
                files.xlsx(_clean_rows(persons_in_a), header=HEADER),
                cast.township_a,
            )
        assert response.status_code == 201, response.json()
        batch_id = response.json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            confirmed = api.as_user(cast.maker_ann).post(f"/api/imports/{batch_id}/confirm/")
        assert confirmed.status_code == 202
        assert ImportBatch.objects.get(pk=batch_id).summary["inserted"] == 5
        assert BenefitEntitlement.objects.paying().count() == 5

    def test_another_townships_upload_is_not_found(self, api, cast, persons_in_a, files):
        response = post_upload(
            api,
            cast.outsider_eve,
            KIND,
            files.xlsx(_clean_rows(persons_in_a), header=HEADER),
            cast.township_a,
        )
        assert response.status_code == 404
        assert not ImportBatch.objects.exists()

    def test_the_kinds_endpoint_offers_the_list_with_its_columns(self, api, cast):
        body = api.as_user(cast.maker_ann).get("/api/import-kinds/").json()
        kind = next(kind for kind in body if kind["name"] == KIND)
        assert kind["columns"] == HEADER
        assert kind["required"] == [
            "公民身份号码",
            "姓名",
            "险种",
            "待遇开始年月",
            "基础养老金",
            "个人账户养老金",
        ]
