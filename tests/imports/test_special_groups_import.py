"""Importing special-group lists (特殊群体名单, DOMAIN glossary and §8.1 PersonCategory): a clean file
adds every membership in one INSERT … SELECT; any bad row (E19 ID rules, unknown groups, bad dates,
overlaps with the file or the registry) commits nothing; the same list again adds nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.choices import CategorySource, SpecialGroup
from enrollment.import_kinds.special_groups import SpecialGroups
from enrollment.models import Person, PersonCategory
from socialsec.core.exceptions import InvalidState
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.kinds import get_kind
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch
from socialsec.lib.resident_id import build_resident_id
from tests.factories import PersonFactory
from tests.imports.files import SPECIAL_GROUPS_HEADER as HEADER
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

KIND = "special_groups"
JAN_1 = dt.date(2024, 1, 1)


def _upload(user, path, township):
    return upload(user, path, township, kind=KIND)


def _row(person, group="低保", grade="", start="2024-01-01", end="", source="民政", name=None):
    return [person.id_number, person.name if name is None else name, group, grade, start, end, source]


def _clean_rows(persons):
    """Five ways departments write the groups and themselves: Chinese short forms, code
    identifiers, the catalog's label with full-width brackets, English labels."""
    a, b, c, d, e = persons
    return [
        _row(a, "低保", source="民政"),
        _row(b, "minimum_living_allowance", start="2023-07-01", end="2024-06-30", source="civil_affairs"),
        _row(c, "重度残疾", grade="一级", source="残联"),
        _row(d, "特困人员救助供养（特困）", source="民政局"),
        _row(e, "Orphan", grade="", source="Civil affairs"),
    ]


def _memberships(persons):
    return sorted(
        PersonCategory.objects.filter(person__in=persons).values_list(
            "person_id", "category", "disability_grade", "source", "effective_from", "effective_to"
        )
    )


# --- Clean files ----------------------------------------------------------------------------------


def test_a_clean_xlsx_adds_every_membership_once_the_clerk_confirms(cast, persons_in_a, files):
    a, b, c, d, e = persons_in_a
    batch = check(
        _upload(cast.maker_ann, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a)
    )
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)
    assert (batch.rows_total, batch.rows_valid, batch.rows_invalid) == (5, 5, 0)
    assert _memberships(persons_in_a) == []  # nothing is written before the clerk confirms

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": 5, "inserted": 5, "unchanged": 0}
    civil, disability = CategorySource.CIVIL_AFFAIRS, CategorySource.DISABILITY_FEDERATION
    assert _memberships(persons_in_a) == sorted(
        [
            (a.pk, SpecialGroup.MINIMUM_LIVING_ALLOWANCE, None, civil, JAN_1, None),
            (
                b.pk,
                SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
                None,
                civil,
                dt.date(2023, 7, 1),
                dt.date(2024, 6, 30),
            ),
            (c.pk, SpecialGroup.SEVERE_DISABILITY, 1, disability, JAN_1, None),
            (d.pk, SpecialGroup.EXTREME_POVERTY_SUPPORT, None, civil, JAN_1, None),
            (e.pk, SpecialGroup.ORPHAN, None, civil, JAN_1, None),
        ]
    )
    membership = PersonCategory.objects.get(person=a)
    assert membership.recorded_by == cast.maker_ann
    assert str(batch.pk) in membership.evidence
    # The audit trail names the batch, as for every import.
    event = membership.events.get(pgh_label="insert")
    assert event.pgh_context.metadata["import_batch"] == batch.pk


def test_a_gbk_csv_with_lower_case_x_full_width_digits_and_day_numbers_commits(cast, files):
    """DOMAIN §6.1 / E19: a lower-case x and full-width digits are the same ID number."""
    with_x = next(
        number
        for sequence in range(2, 999, 2)
        if (number := build_resident_id("360121", dt.date(1950, 1, 2), sequence)).endswith("X")
    )
    woman = PersonFactory(
        village=cast.village_a, name="赵敏", id_number=with_x, birth_date=dt.date(1950, 1, 2)
    )
    man = PersonFactory(village=cast.village_a, name="钱七")
    full_width = man.id_number.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    path = files.csv(
        [
            [woman.id_number.lower(), "赵敏", "低收入", "", "2024/1/1", "", "民政"],
            [full_width, "钱 七", "重度残疾", "2", "2024年1月1日", "20251231", "残联"],
        ],
        header=HEADER,
    )

    batch = confirm_and_commit(check(_upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert _memberships([woman, man]) == sorted(
        [
            (woman.pk, SpecialGroup.LOW_INCOME, None, CategorySource.CIVIL_AFFAIRS, JAN_1, None),
            (
                man.pk,
                SpecialGroup.SEVERE_DISABILITY,
                2,
                CategorySource.DISABILITY_FEDERATION,
                JAN_1,
                dt.date(2025, 12, 31),
            ),
        ]
    )


def test_a_person_may_hold_several_groups_and_successive_periods_of_one_group(cast, person_in_a, files):
    """DOMAIN §8.1: several groups at once; one group again after the earlier period ended."""
    rows = [
        _row(person_in_a, "低保", start="2020-01-01", end="2021-12-31"),
        _row(person_in_a, "低保", start="2022-01-01"),
        _row(person_in_a, "已脱贫", start="2020-01-01", source="乡村振兴"),
    ]
    batch = confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a)), cast.maker_ann
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert PersonCategory.objects.filter(person=person_in_a).count() == 3


def test_s4_3_a_severe_disability_is_grade_1_or_2_as_certificates_write_it_and_grade_3_is_refused(
    cast, persons_in_a, files
):
    """DOMAIN §4.3: the care subsidy's severe disability is grade 1 or 2; §8.1 DisabilityCertificate:
    grades 1-4, which certificates write 一级, 2级, 贰…; a grade-3 row names the column and commits
    nothing."""
    a, b, c, *_ = persons_in_a
    grades = [
        _row(a, "重度残疾", grade="一级", source="残联"),
        _row(b, "重度残疾", grade="2级", source="残联"),
    ]
    batch = confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx(grades, header=HEADER), cast.township_a)), cast.maker_ann
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert sorted(
        PersonCategory.objects.filter(category=SpecialGroup.SEVERE_DISABILITY).values_list(
            "person_id", "disability_grade"
        )
    ) == sorted([(a.pk, 1), (b.pk, 2)])

    third = [_row(c, "重度残疾", grade="三级", source="残联")]
    batch = check(_upload(cast.maker_ann, files.xlsx(third, header=HEADER), cast.township_a))
    assert batch.status == ImportStatus.REJECTED
    assert [(e.row, e.column, e.value, e.code) for e in batch.row_errors.all()] == [
        (3, "残疾等级", "三级", "severe_grade")  # the files' header is on row 2
    ]
    assert not PersonCategory.objects.filter(person=c).exists()


# --- Bad rows: REJECTED, nothing committed ------------------------------------------------------


def _bad_row_cases():
    return {
        "empty_id": (
            lambda p, q: ["", p.name, "低保", "", "2024-01-01", "", "民政"],
            "公民身份号码",
            "required",
        ),
        "id_stored_as_number": (
            lambda p, q: [float(p.id_number[:17]) * 10, p.name, "低保", "", "2024-01-01", "", "民政"],
            "公民身份号码",
            "stored_as_number",
        ),
        "bad_checksum": (
            lambda p, q: [
                p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1"),
                p.name,
                "低保",
                "",
                "2024-01-01",
                "",
                "民政",
            ],
            "公民身份号码",
            "bad_checksum",
        ),
        "empty_name": (lambda p, q: _row(p, name=""), "姓名", "required"),
        "name_differs": (lambda p, q: _row(p, name="别人"), "姓名", "name_mismatch"),
        "empty_group": (lambda p, q: _row(p, group=""), "人员类别", "required"),
        "unknown_group": (lambda p, q: _row(p, group="困难户"), "人员类别", "unknown_category"),
        "empty_source": (lambda p, q: _row(p, source=""), "来源部门", "required"),
        "unknown_source": (lambda p, q: _row(p, source="公安局"), "来源部门", "unknown_source"),
        "severe_without_grade": (lambda p, q: _row(p, group="重度残疾"), "残疾等级", "severe_grade"),
        "severe_with_grade_3": (
            lambda p, q: _row(p, group="重度残疾", grade="三级"),
            "残疾等级",
            "severe_grade",
        ),
        "grade_5": (lambda p, q: _row(p, group="低保", grade="五级"), "残疾等级", "bad_grade"),
        "empty_start": (lambda p, q: _row(p, start=""), "起始日期", "required"),
        "impossible_start": (lambda p, q: _row(p, start="2024-02-30"), "起始日期", "bad_date"),
        "unreadable_end": (lambda p, q: _row(p, end="下个月"), "终止日期", "bad_date"),
        "end_before_start": (
            lambda p, q: _row(p, start="2024-05-01", end="2024-04-30"),
            "终止日期",
            "dates_reversed",
        ),
        "before_birth": (lambda p, q: _row(p, start="1950-01-01"), "起始日期", "before_birth"),
        "unknown_person": (
            lambda p, q: [
                build_resident_id("360121", dt.date(1970, 1, 1), 555),
                "无名",
                "低保",
                "",
                "2024-01-01",
                "",
                "民政",
            ],
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
    assert not PersonCategory.objects.exists()


def test_a_membership_starting_after_the_death_is_a_bad_row(cast, persons_in_a, files):
    Person.objects.filter(pk=persons_in_a[0].pk).update(death_date=dt.date(2023, 6, 1))
    batch = check(
        _upload(cast.maker_ann, files.xlsx([_row(p) for p in persons_in_a], header=HEADER), cast.township_a)
    )
    assert [(e.row, e.column, e.code, e.params) for e in batch.row_errors.all()] == [
        (3, "起始日期", "after_death", {"date": "2024-01-01", "death": "2023-06-01"})
    ]
    assert not PersonCategory.objects.exists()


@pytest.mark.usefixtures("english_messages")
def test_a_row_overlapping_a_membership_on_record_is_a_bad_row_naming_it(cast, persons_in_a, files):
    """The trigger person_category_no_overlap would refuse the whole commit; the check names the row."""
    on_record = PersonCategory.objects.create(
        person=persons_in_a[0],
        category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
        source=CategorySource.CIVIL_AFFAIRS,
        effective_from=dt.date(2023, 1, 1),
        recorded_by=cast.maker_ann,
    )
    rows = [_row(p) for p in persons_in_a]
    rows[0] = _row(persons_in_a[0], start="2024-01-01", end="2024-12-31")  # inside the open one on record
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))

    assert batch.status == ImportStatus.REJECTED
    (error,) = batch.row_errors.all()
    assert (error.row, error.column, error.value, error.code) == (
        3,
        "起始日期",
        "2024-01-01",
        "overlaps_membership",
    )
    assert error.params == {
        "id": on_record.pk,
        "group": "minimum_living_allowance",
        "start": "2023-01-01",
        "end": "",
    }
    assert error_message(get_kind(KIND), error.code, error.params, error.value) == (
        f"This person already belongs to Minimum living allowance from 2023-01-01 to open (membership "
        f"{on_record.pk}), which shares days with this row. "
        "An import does not change a membership on record; end it on the person page first."
    )
    assert PersonCategory.objects.count() == 1


def test_a_closed_membership_on_record_does_not_block_a_later_one(cast, person_in_a, files):
    PersonCategory.objects.create(
        person=person_in_a,
        category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
        source=CategorySource.CIVIL_AFFAIRS,
        effective_from=dt.date(2022, 1, 1),
        effective_to=dt.date(2023, 12, 31),
        recorded_by=cast.maker_ann,
    )
    batch = confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx([_row(person_in_a)], header=HEADER), cast.township_a)),
        cast.maker_ann,
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert PersonCategory.objects.filter(person=person_in_a).count() == 2


def test_an_exact_repeat_names_the_first_row_and_overlapping_rows_name_each_other(cast, persons_in_a, files):
    a, b, c = persons_in_a[:3]
    rows = [
        _row(a),  # row 3
        _row(b, start="2024-01-01", end="2024-06-30"),  # row 4
        _row(a),  # row 5: same as row 3
        _row(b, start="2024-06-30"),  # row 6: shares 30 June with row 4
        _row(c, start="2020-01-01", end="2020-12-31"),  # row 7
        _row(c, group="特困", start="2020-06-01"),  # row 8: another group, no clash
    ]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))

    assert batch.status == ImportStatus.REJECTED
    found = {(e.row, e.column, e.code): e.params for e in batch.row_errors.all()}
    assert found == {
        (5, "公民身份号码", "duplicate_row"): {"first_row": 3},
        (4, "起始日期", "overlapping_rows"): {"rows": [4, 6], "group": "minimum_living_allowance"},
        (6, "起始日期", "overlapping_rows"): {"rows": [4, 6], "group": "minimum_living_allowance"},
    }
    assert not PersonCategory.objects.exists()


def test_a_row_with_several_problems_lists_each_and_counts_once(cast, files):
    batch = check(
        _upload(
            cast.maker_ann,
            files.xlsx([["12345", "", "贫困", "", "明天", "", "民政"]], header=HEADER),
            cast.township_a,
        )
    )
    assert sorted(code for *_, code in errors_of(batch)) == [
        "bad_date",
        "bad_length",
        "required",
        "unknown_category",
    ]
    assert batch.rows_invalid == 1


def test_a_file_without_the_group_column_is_refused_naming_it(cast, persons_in_a, files):
    header = ["公民身份号码", "姓名", "起始日期", "来源部门"]
    rows = [[p.id_number, p.name, "2024-01-01", "民政"] for p in persons_in_a]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=header), cast.township_a))
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [
        (0, "missing_columns", {"row": 2, "missing": ["人员类别"]})
    ]


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "value", "expected"),
    [
        ("unknown_category", {}, "困难户", "Unknown special group. Write one of: Minimum living allowance、"),
        ("unknown_source", {}, "公安局", "Unknown source department. Write one of: Civil affairs、"),
        ("severe_grade", {}, "", "A severe disability is grade 1 or 2; give the grade on the certificate."),
        ("bad_grade", {}, "五级", "A disability grade is 1, 2, 3 or 4."),
        ("dates_reversed", {}, "2024-04-30", "The last day in force comes before the first."),
        (
            "name_mismatch",
            {"registered": "李0"},
            "别人",
            "The registry has this ID number under the name 李0.",
        ),
        (
            "before_birth",
            {"date": "1950-01-01", "birth": "1960-03-15"},
            "1950-01-01",
            "The membership starts 1950-01-01, before the birth date 1960-03-15.",
        ),
        (
            "overlapping_rows",
            {"rows": [4, 6], "group": "orphan"},
            "2024-06-30",
            "Rows 4、6 give the same person in Orphan for periods that share days; keep one row per period.",
        ),
        ("required", {}, "", "This cell is empty; it must be filled in."),
        (
            "person_not_found",
            {"township": "莲塘镇"},
            "x",
            "No person with this ID number is registered in 莲塘镇.",
        ),
    ],
)
def test_every_reason_reads_as_a_sentence_in_english(code, params, value, expected):
    assert error_message(SpecialGroups(), code, params, value).startswith(expected)


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "what_to_do"),
    [
        ("dates_reversed", {}, "Correct whichever of the two dates is wrong."),
        ("before_birth", {"date": "1950-01-01", "birth": "1960-03-15"}, "Check the date and the ID number."),
        ("after_death", {"date": "2024-01-01", "death": "2023-06-01"}, "Check the date and the ID number."),
    ],
)
def test_a_refused_date_tells_the_clerk_what_to_fix(code, params, what_to_do):
    """The error list shows row, column and value; the sentence adds what to check."""
    assert what_to_do in error_message(SpecialGroups(), code, params, "x")


def test_reasons_are_in_chinese_by_default(cast, files, person_in_a, settings):
    from django.utils import translation

    batch = check(
        _upload(cast.maker_ann, files.xlsx([_row(person_in_a, name="别人")], header=HEADER), cast.township_a)
    )
    (error,) = batch.row_errors.all()
    assert settings.LANGUAGE_CODE == "zh-hans"
    # The project's default language, set explicitly: import_file --language activates its
    # language for the rest of the thread, so an earlier command test could leave English on.
    with translation.override(settings.LANGUAGE_CODE):
        reason = error_message(get_kind(KIND), error.code, error.params, error.value)
    assert reason == "系统中该身份号码登记的姓名为 李明。"


# --- The same list again: no duplicates ---------------------------------------------------------


def test_re_uploading_the_committed_file_is_refused_naming_the_earlier_batch(cast, persons_in_a, files):
    path = files.xlsx(_clean_rows(persons_in_a), header=HEADER)
    first = confirm_and_commit(check(_upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)
    with pytest.raises(InvalidState) as refused:
        _upload(cast.maker_ann, path, cast.township_a)
    assert refused.value.details["ids"] == [first.pk]
    assert PersonCategory.objects.count() == 5


def test_the_same_list_in_another_file_adds_nothing_and_counts_each_row_unchanged(cast, persons_in_a, files):
    rows = _clean_rows(persons_in_a)
    confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a)), cast.maker_ann
    )
    before = _memberships(persons_in_a)

    again = confirm_and_commit(
        check(_upload(cast.maker_ann, files.csv(rows, header=HEADER), cast.township_a)), cast.maker_ann
    )

    assert again.status == ImportStatus.COMMITTED
    assert again.summary == {"rows": 5, "inserted": 0, "unchanged": 5}
    assert _memberships(persons_in_a) == before


def test_a_longer_list_adds_only_its_new_rows(cast, persons_in_a, files):
    rows = [_row(p) for p in persons_in_a]
    confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx(rows[:3], header=HEADER), cast.township_a)), cast.maker_ann
    )
    batch = confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a)), cast.maker_ann
    )
    assert batch.summary == {"rows": 5, "inserted": 2, "unchanged": 3}
    assert PersonCategory.objects.count() == 5


def test_the_same_membership_from_another_department_is_an_overlap_not_unchanged(cast, person_in_a, files):
    confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx([_row(person_in_a)], header=HEADER), cast.township_a)),
        cast.maker_ann,
    )
    batch = check(
        _upload(
            cast.maker_ann, files.xlsx([_row(person_in_a, source="乡村振兴")], header=HEADER), cast.township_a
        )
    )
    assert [code for *_, code in errors_of(batch)] == ["overlaps_membership"]


def test_a_membership_recorded_after_the_check_fails_the_commit_and_lists_the_row(cast, persons_in_a, files):
    batch = check(
        _upload(cast.maker_ann, files.xlsx([_row(p) for p in persons_in_a], header=HEADER), cast.township_a)
    )
    # Another clerk records an overlapping membership while the batch waits for confirmation.
    PersonCategory.objects.create(
        person=persons_in_a[2],
        category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
        source=CategorySource.CIVIL_AFFAIRS,
        effective_from=dt.date(2023, 1, 1),
        recorded_by=cast.checker_ben,
    )

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.FAILED
    assert batch.failure_code == "changed_since_check"
    assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(5, "overlaps_membership")]
    assert PersonCategory.objects.count() == 1
    with connection.cursor() as cursor:  # the staging table went with the rolled-back transaction
        cursor.execute("SELECT to_regclass('pg_temp.imports_stage_special_groups')")
        assert cursor.fetchone() == (None,)


def test_the_overlap_trigger_still_guards_the_rows_that_reach_the_merge(cast, person_in_a):
    """DOMAIN §8.1: person_category_no_overlap stays the last word for an import; the merge's
    trigger setting (fire_row_triggers_cheaply) ignores no trigger."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd
    from django.db import DatabaseError, transaction

    kind = SpecialGroups()
    staged = pd.DataFrame(
        {
            "row": [3, 4],
            "person_id": [person_in_a.pk, person_in_a.pk],
            "category": [SpecialGroup.ORPHAN, SpecialGroup.ORPHAN],
            "disability_grade": pd.array([None, None], dtype="Int64"),
            "source": [CategorySource.CIVIL_AFFAIRS] * 2,
            "effective_from": np.array(["2024-01-01", "2024-06-01"], dtype="datetime64[D]"),
            "effective_to": np.array(["NaT", "NaT"], dtype="datetime64[D]"),
            "unchanged": [False, False],
        }
    )
    batch = SimpleNamespace(pk=0, township_id=None, confirmed_by_id=cast.maker_ann.pk, original_name="x.xlsx")
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        assert kind.stage(staged, batch, cursor) == 2
        kind.merge(batch, cursor)  # the two rows share days: the trigger refuses the second
    assert refused.value.__cause__.pgcode == "23P01"  # exclusion_violation
    assert not PersonCategory.objects.exists()


def test_the_check_and_the_commit_cost_the_same_queries_for_2_or_20_rows(cast, files):
    """Set-based: one lookup of persons, one of memberships, one COPY and one INSERT … SELECT."""
    persons = [PersonFactory(village=cast.village_a) for _ in range(22)]

    def queries(chosen) -> tuple[int, int]:
        batch = _upload(cast.maker_ann, files.xlsx([_row(p) for p in chosen], header=HEADER), cast.township_a)
        with CaptureQueriesContext(connection) as checking:
            services.import_validate(batch_id=batch.pk)
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann, schedule=False)
        with CaptureQueriesContext(connection) as committing:
            services.import_commit(batch_id=batch.pk)
        assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.COMMITTED
        return len(checking), len(committing)

    assert queries(persons[:2]) == queries(persons[2:])


# --- Who may import what -------------------------------------------------------------------------


@pytest.mark.usefixtures("english_messages")
def test_a_township_clerk_cannot_add_memberships_for_another_townships_persons(
    cast, persons_in_a, person_in_b, files
):
    """Scoping, as for death records: B's person is 'not found' in A's batch, and nothing is written."""
    rows = [_row(p) for p in persons_in_a] + [_row(person_in_b)]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))

    assert batch.status == ImportStatus.REJECTED
    (error,) = batch.row_errors.all()
    assert (error.row, error.value, error.code) == (8, person_in_b.id_number, "person_not_found")
    assert error_message(get_kind(KIND), error.code, error.params, error.value) == (
        "No person with this ID number is registered in 莲塘镇."
    )
    assert not PersonCategory.objects.exists()


def test_a_county_wide_batch_reaches_every_township(cast, county_clerk_kim, person_in_a, person_in_b, files):
    path = files.xlsx([_row(person_in_a), _row(person_in_b)], header=HEADER)
    batch = confirm_and_commit(check(_upload(county_clerk_kim, path, None)), county_clerk_kim)
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert PersonCategory.objects.filter(person__in=[person_in_a, person_in_b]).count() == 2


# --- Template, command line ----------------------------------------------------------------------


def test_the_template_has_every_column_and_example_rows_that_only_lack_their_persons(cast, files):
    import pandas as pd

    from socialsec.lib.spreadsheets import read_table

    path = services.import_template_workbook(KIND)
    sheet = pd.read_excel(path, dtype=str, engine="calamine", keep_default_na=False)
    assert list(sheet.columns) == HEADER
    assert len(sheet) == len(SpecialGroups.template_rows)
    # Read and checked as a clerk's file: the only complaint is that nobody in it is registered.
    kind = SpecialGroups()
    batch = check(_upload(cast.maker_ann, path, cast.township_a))
    assert {code for *_, code in errors_of(batch)} == {"person_not_found"}
    assert len(read_table(path, kind.columns, required=kind.required)) == len(kind.template_rows)


def test_the_command_imports_a_clean_file_for_a_township(cast, persons_in_a, files):
    path = files.xlsx(_clean_rows(persons_in_a), header=HEADER)
    out = StringIO()
    import_file(KIND, path, cast.township_a, out=out)
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.status) == (KIND, ImportStatus.COMMITTED)
    assert (
        out.getvalue().strip()
        == f"Batch {batch.pk} imported: 5 rows, 5 records changed, 0 already up to date."
    )
    event = PersonCategory.objects.get(person=persons_in_a[0]).events.get(pgh_label="insert")
    assert event.pgh_context.metadata["command"] == "import_file"


def test_the_command_prints_each_bad_row_and_imports_nothing(cast, persons_in_a, files):
    rows = [_row(p) for p in persons_in_a]
    rows[1][2] = "困难户"
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 5 rows are bad; nothing was imported"):
        import_file(KIND, files.xlsx(rows, header=HEADER), cast.township_a, out=out)
    (line,) = out.getvalue().splitlines()
    assert line.startswith("row 4, column 人员类别, value 困难户: Unknown special group.")
    assert not PersonCategory.objects.exists()


def test_the_command_imports_a_county_wide_list_for_county_wide_staff(
    cast, county_clerk_kim, person_in_a, person_in_b, files
):
    path = files.csv([_row(person_in_a), _row(person_in_b)], header=HEADER, encoding="utf-8")
    call_command(
        "import_file", KIND, str(path), "--county", "--user", "county_clerk_kim", "--yes", stdout=StringIO()
    )
    assert PersonCategory.objects.count() == 2


# --- API -----------------------------------------------------------------------------------------


class TestUploadApi:
    def _post(self, api, user, path, township):
        return post_upload(api, user, KIND, path, township)

    def test_a_clerk_uploads_a_list_which_is_checked_and_then_imported_on_confirmation(
        self, api, cast, persons_in_a, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = self._post(
                api, cast.maker_ann, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a
            )
        assert response.status_code == 201, response.json()
        batch_id = response.json()["id"]
        assert response.json()["kind"] == KIND
        assert ImportBatch.objects.get(pk=batch_id).status == ImportStatus.VALIDATED
        with django_capture_on_commit_callbacks(execute=True):
            confirmed = api.as_user(cast.maker_ann).post(f"/api/imports/{batch_id}/confirm/")
        assert confirmed.status_code == 202
        assert ImportBatch.objects.get(pk=batch_id).summary == {"rows": 5, "inserted": 5, "unchanged": 0}

    def test_a_section_chief_may_not_upload(self, api, cast, persons_in_a, files):
        response = self._post(
            api, cast.checker_ben, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a
        )
        assert response.status_code == 403
        assert not ImportBatch.objects.exists()

    def test_another_townships_upload_is_not_found(self, api, cast, persons_in_a, files):
        response = self._post(
            api, cast.outsider_eve, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a
        )
        assert response.status_code == 404
        assert not ImportBatch.objects.exists()

    def test_confirming_a_rejected_list_is_a_conflict(
        self, api, cast, persons_in_a, files, django_capture_on_commit_callbacks
    ):
        rows = [_row(p, group="困难户") for p in persons_in_a]
        with django_capture_on_commit_callbacks(execute=True):
            batch_id = self._post(
                api, cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a
            ).json()["id"]
        response = api.as_user(cast.maker_ann).post(f"/api/imports/{batch_id}/confirm/")
        assert response.status_code == 409
        assert (response.json()["ids"], response.json()["status"]) == ([batch_id], "rejected")

    def test_the_errors_endpoint_gives_row_column_value_and_reason_in_the_callers_language(
        self, api, cast, persons_in_a, files, django_capture_on_commit_callbacks
    ):
        rows = [_row(p) for p in persons_in_a]
        rows[2][4] = "2024-13-01"
        with django_capture_on_commit_callbacks(execute=True):
            batch_id = self._post(
                api, cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a
            ).json()["id"]
        body = (
            api.as_user(cast.maker_ann)
            .get(f"/api/imports/{batch_id}/errors/", HTTP_ACCEPT_LANGUAGE="en")
            .json()
        )
        assert [(e["row"], e["column"], e["value"], e["code"], e["reason"]) for e in body["results"]] == [
            (5, "起始日期", "2024-13-01", "bad_date", "2024-13-01 is not a date. Write dates as 2024-03-05.")
        ]

    def test_the_kinds_endpoint_offers_the_list_with_its_columns(self, api, cast):
        body = api.as_user(cast.maker_ann).get("/api/import-kinds/").json()
        kind = next(kind for kind in body if kind["name"] == KIND)
        assert kind["columns"] == HEADER
        assert kind["required"] == ["公民身份号码", "姓名", "人员类别", "起始日期", "来源部门"]


# --- The commit's two paths ------------------------------------------------------------------------


def test_an_unchanged_registry_commits_in_one_checked_write_without_the_python_recheck(
    cast, persons_in_a, files, monkeypatch
):
    """commit_prepared writes a clean batch with check_registry's rules in its SQL; the Python
    re-check (two registry queries and the pandas comparison) is not run."""
    batch = check(
        _upload(cast.maker_ann, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a)
    )

    def refuse(*_args, **_kwargs):
        raise AssertionError("check_registry ran at the commit")

    monkeypatch.setattr(SpecialGroups, "check_registry", refuse)
    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": 5, "inserted": 5, "unchanged": 0}


@pytest.mark.parametrize("change", ["name", "death", "township"])
def test_a_person_changed_after_the_check_falls_back_to_the_recheck_which_names_the_row(
    cast, persons_in_a, files, change
):
    """The checked write refuses a row whose person changed since the check (another name, dead
    before the first day, moved away): nothing is written and the clerk reads the row's error."""
    batch = check(
        _upload(cast.maker_ann, files.xlsx(_clean_rows(persons_in_a), header=HEADER), cast.township_a)
    )
    person = persons_in_a[1]  # row 4 (under the title and header rows), in force from 2023-07-01
    updates = {
        "name": {"name": "改名"},
        "death": {"death_date": dt.date(2023, 1, 1)},
        "township": {"township": cast.township_b, "village": cast.village_b},
    }[change]
    Person.objects.filter(pk=person.pk).update(**updates)

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert (batch.status, batch.failure_code) == (ImportStatus.FAILED, "changed_since_check")
    expected = {"name": "name_mismatch", "death": "after_death", "township": "person_not_found"}[change]
    assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(4, expected)]
    assert _memberships(persons_in_a) == []
