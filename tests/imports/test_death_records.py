"""Importing the civil-affairs death list: clean files commit, any bad row commits nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from enrollment.models import Person
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from socialsec.lib.resident_id import build_resident_id
from tests.factories import PersonFactory
from tests.imports.conftest import DEATH
from tests.imports.helpers import check, confirm_and_commit, death_dates, errors_of, upload

pytestmark = pytest.mark.django_db


def _rows(persons, day: str = "2024-03-05"):
    return [[p.id_number, p.name, day] for p in persons]


# --- Clean files ----------------------------------------------------------------------------------


def test_a_clean_xlsx_is_checked_confirmed_and_commits_every_death(cast, persons_in_a, files):
    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    assert batch.status == ImportStatus.VALIDATED
    assert (batch.rows_total, batch.rows_valid, batch.rows_invalid) == (5, 5, 0)
    assert death_dates(persons_in_a) == [None] * 5  # nothing is written before the clerk confirms

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": 5, "updated": 5, "unchanged": 0}
    assert batch.confirmed_by == cast.maker_ann
    assert death_dates(persons_in_a) == [DEATH] * 5
    assert set(
        Person.objects.filter(pk__in=[p.pk for p in persons_in_a]).values_list("death_source", flat=True)
    ) == {"民政死亡名单"}


def test_a_gbk_csv_with_lower_case_x_and_full_width_digits_commits(cast, files):
    woman = PersonFactory(
        village=cast.village_a, name="赵敏", id_number=build_resident_id("360121", dt.date(1950, 1, 2), 2)
    )
    if not woman.id_number.endswith("X"):  # find a number with an X check character for the lower-case case
        for sequence in range(2, 999, 2):
            number = build_resident_id("360121", dt.date(1950, 1, 2), sequence)
            if number.endswith("X"):
                Person.objects.filter(pk=woman.pk).update(id_number=number)
                woman.id_number = number
                break
    man = PersonFactory(village=cast.village_a, name="钱七")
    full_width = man.id_number.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    path = files.csv([[woman.id_number.lower(), "赵敏", "2024/3/5"], [full_width, "钱七", "2024年3月5日"]])

    batch = check(upload(cast.maker_ann, path, cast.township_a))
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)
    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert death_dates([woman, man]) == [DEATH, DEATH]


def test_the_same_death_already_on_record_is_left_as_it_is_and_counted(cast, persons_in_a, files):
    Person.objects.filter(pk=persons_in_a[0].pk).update(death_date=DEATH, death_source="医院")
    batch = confirm_and_commit(
        check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a)), cast.maker_ann
    )
    assert batch.summary == {"rows": 5, "updated": 4, "unchanged": 1}
    assert Person.objects.get(pk=persons_in_a[0].pk).death_source == "医院"


def test_a_county_wide_batch_reaches_every_township_and_only_county_wide_staff_see_it(
    cast, county_clerk_kim, person_in_a, person_in_b, files
):
    batch = check(upload(county_clerk_kim, files.xlsx(_rows([person_in_a, person_in_b])), None))
    assert batch.township is None and batch.status == ImportStatus.VALIDATED
    confirm_and_commit(batch, county_clerk_kim)
    assert death_dates([person_in_a, person_in_b]) == [DEATH, DEATH]

    assert list(ImportBatch.objects.visible_to(cast.auditor_gus)) == [batch]
    assert not ImportBatch.objects.visible_to(cast.maker_ann).exists()
    assert not ImportBatch.objects.visible_to(cast.outsider_eve).exists()
    assert not ImportBatch.objects.visible_to(cast.unassigned_joe).exists()


# --- Bad rows: REJECTED, nothing committed ------------------------------------------------------


def _bad_row_cases():
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    return {
        "bad_checksum": lambda p, q: [
            [p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1"), p.name, "2024-03-05"]
        ],
        "stored_as_number_cell": lambda p, q: [[float(p.id_number[:17]) * 10, p.name, "2024-03-05"]],
        "stored_as_number_text": lambda p, q: [["3.60121196003E+17", p.name, "2024-03-05"]],
        "future_date": lambda p, q: [[p.id_number, p.name, future]],
        "not_a_date": lambda p, q: [[p.id_number, p.name, "三月五日"]],
        "empty_date": lambda p, q: [[p.id_number, p.name, ""]],
        "before_birth": lambda p, q: [[p.id_number, p.name, "1950-01-01"]],
        "unknown_person": lambda p, q: [
            [build_resident_id("360121", dt.date(1970, 1, 1), 555), "无名", "2024-03-05"]
        ],
        "other_townships_person": lambda p, q: [[q.id_number, q.name, "2024-03-05"]],
        "name_differs": lambda p, q: [[p.id_number, "别人", "2024-03-05"]],
    }


EXPECTED_CODE = {
    "bad_checksum": "bad_checksum",
    "stored_as_number_cell": "stored_as_number",
    "stored_as_number_text": "stored_as_number",
    "future_date": "future_date",
    "not_a_date": "bad_date",
    "empty_date": "required",
    "before_birth": "before_birth",
    "unknown_person": "person_not_found",
    "other_townships_person": "person_not_found",
    "name_differs": "name_mismatch",
}


@pytest.mark.parametrize("case", list(EXPECTED_CODE))
def test_a_file_with_one_bad_row_is_rejected_naming_the_row_and_nothing_is_committed(
    case, cast, persons_in_a, person_in_b, files
):
    good = _rows(persons_in_a[1:])
    bad = _bad_row_cases()[case](persons_in_a[0], person_in_b)
    batch = check(upload(cast.maker_ann, files.xlsx([*good[:2], *bad, *good[2:]]), cast.township_a))

    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_invalid, batch.rows_valid) == (5, 1, 4)
    (row, column, value, code), *others = errors_of(batch)
    assert others == []
    assert (row, code) == (5, EXPECTED_CODE[case])
    assert column == (
        "姓名"
        if case == "name_differs"
        else "死亡日期"
        if "date" in case or case == "before_birth"
        else "公民身份号码"
    )  # title row, header row, two good rows, then this one
    assert value != "" or case == "empty_date"  # the clerk sees what was wrong
    # A rejected batch cannot be confirmed, so nothing can reach the registry.
    with pytest.raises(InvalidState) as refused:
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
    assert refused.value.details == {"ids": [batch.pk], "status": "rejected"}
    assert death_dates([*persons_in_a, person_in_b]) == [None] * 6


def test_a_person_already_dead_on_another_date_is_a_bad_row(cast, persons_in_a, files):
    Person.objects.filter(pk=persons_in_a[0].pk).update(death_date=dt.date(2023, 1, 1))
    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    assert batch.status == ImportStatus.REJECTED
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [
        (3, "already_dead", {"death_date": "2023-01-01"})
    ]
    assert death_dates(persons_in_a[1:]) == [None] * 4


def test_an_exact_repeat_is_an_error_naming_the_first_row_and_conflicting_dates_make_both_rows_errors(
    cast, persons_in_a, files
):
    a, b = persons_in_a[0], persons_in_a[1]
    rows = [
        [a.id_number, a.name, "2024-03-05"],  # row 3
        [b.id_number, b.name, "2024-03-05"],  # row 4
        [a.id_number, a.name, "2024-03-05"],  # row 5: same as row 3
        [b.id_number, b.name, "2024-03-06"],  # row 6: b with another date
    ]
    batch = check(upload(cast.maker_ann, files.xlsx(rows), cast.township_a))
    assert batch.status == ImportStatus.REJECTED
    found = {(e.row, e.code): e.params for e in batch.row_errors.all()}
    assert found == {
        (5, "duplicate_row"): {"first_row": 3},
        (4, "conflicting_rows"): {"rows": [4, 6]},
        (6, "conflicting_rows"): {"rows": [4, 6]},
    }
    assert death_dates([a, b]) == [None, None]


def test_a_row_with_several_problems_lists_each_and_counts_once(cast, files):
    batch = check(upload(cast.maker_ann, files.xlsx([["12345", "某", "明天"]]), cast.township_a))
    assert sorted(code for *_, code in errors_of(batch)) == ["bad_date", "bad_length"]
    assert batch.rows_invalid == 1


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (
            lambda files, p: files.xlsx([[p.id_number, "2024-03-05"]], header=["公民身份号码", "备注"]),
            "missing_columns",
        ),
        (
            lambda files, p: files.raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, ".xls"),
            "not_a_spreadsheet",
        ),
        (lambda files, p: files.raw(b"PK\x03\x04 this is not a zip at all"), "not_a_spreadsheet"),
        (lambda files, p: files.raw(b"\xff\xfe\xff\xfe\x81\x30\xff", ".csv"), "bad_encoding"),
        (lambda files, p: files.zip_bomb(), "zip_bomb"),
        (lambda files, p: files.xlsx([]), "empty"),
    ],
    ids=["missing_column", "old_xls", "broken_xlsx", "bad_encoding", "zip_bomb", "no_rows"],
)
def test_a_file_that_cannot_be_read_is_rejected_with_one_file_level_reason(
    make, code, cast, persons_in_a, files
):
    batch = check(upload(cast.maker_ann, make(files, persons_in_a[0]), cast.township_a))
    assert batch.status == ImportStatus.REJECTED
    assert [(row, c) for row, _col, _val, c in errors_of(batch)] == [(0, code)]
    assert death_dates(persons_in_a) == [None] * 5


def test_an_oversized_file_is_refused_before_it_is_stored(cast, persons_in_a, files, settings, media_root):
    settings.IMPORT_MAX_BYTES = 1000
    path = files.csv(_rows(persons_in_a) * 20, encoding="utf-8")
    with pytest.raises(InvalidInput, match="MB"):
        upload(cast.maker_ann, path, cast.township_a)
    assert not ImportBatch.objects.exists()
    assert not (media_root / "imports").exists()


# --- No duplicates, all or nothing -------------------------------------------------------------


def test_re_uploading_a_committed_file_is_refused_naming_the_earlier_batch(cast, persons_in_a, files):
    path = files.xlsx(_rows(persons_in_a))
    first = confirm_and_commit(check(upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)
    events_before = sum(p.events.count() for p in persons_in_a)

    with pytest.raises(InvalidState) as refused:
        upload(cast.maker_ann, path, cast.township_a)

    assert str(first.pk) in str(refused.value.message)
    assert refused.value.details["ids"] == [first.pk]
    assert ImportBatch.objects.count() == 1
    assert sum(p.events.count() for p in persons_in_a) == events_before


def test_a_commit_failing_halfway_changes_nothing_and_marks_the_batch_failed(
    cast, persons_in_a, files, monkeypatch
):
    from enrollment.import_kinds.death_records import DeathRecords

    real_merge = DeathRecords.merge

    def merge_then_break_a_constraint(self, batch, cursor):
        summary = real_merge(self, batch, cursor)  # every person is updated by now ...
        # ... then a row violates person_death_after_birth, as a bad staged row would.
        cursor.execute(
            "UPDATE enrollment_person SET death_date = birth_date - 1 WHERE id = %s", [persons_in_a[0].pk]
        )
        return summary

    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    monkeypatch.setattr(DeathRecords, "merge", merge_then_break_a_constraint)
    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.FAILED
    assert batch.failure_code == "database_error"
    assert "person_death_after_birth" in batch.failure_detail
    assert death_dates(persons_in_a) == [None] * 5
    assert all(p.events.filter(pgh_label="update").count() == 0 for p in persons_in_a)
    with connection.cursor() as cursor:  # the staging table went with the rolled-back transaction
        cursor.execute("SELECT to_regclass('pg_temp.imports_stage_death_records')")
        assert cursor.fetchone() == (None,)


def test_a_registry_change_after_the_check_fails_the_commit_and_lists_the_rows(cast, persons_in_a, files):
    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    # Another clerk records a different death while the batch waits for confirmation.
    Person.objects.filter(pk=persons_in_a[2].pk).update(death_date=dt.date(2024, 1, 1))

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.FAILED
    assert batch.failure_code == "changed_since_check"
    assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(5, "already_dead")]
    assert death_dates(persons_in_a) == [None, None, dt.date(2024, 1, 1), None, None]


def test_checking_or_committing_twice_does_it_once(cast, persons_in_a, files):
    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    assert check(batch).status == ImportStatus.VALIDATED  # a second check of a checked batch: nothing
    batch = confirm_and_commit(batch, cast.maker_ann)
    services.import_commit(batch_id=batch.pk)
    services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)  # a double click: no-op
    assert sum(p.events.filter(pgh_label="update").count() for p in persons_in_a) == 5


def test_a_small_upload_is_checked_and_committed_right_after_the_commit_of_the_request(
    cast, persons_in_a, files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.import_upload(
            kind="death_records",
            uploaded_file=files.xlsx(_rows(persons_in_a)),
            township_id=cast.township_a.pk,
            by=cast.maker_ann,
        )
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.VALIDATED
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.COMMITTED
    assert death_dates(persons_in_a) == [DEATH] * 5


def test_a_large_upload_goes_to_the_worker_after_the_commit(
    cast, persons_in_a, files, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from socialsec.imports import tasks

    sent = []
    monkeypatch.setattr(
        tasks.import_validate, "apply_async", lambda args, task_id: sent.append((args, task_id))
    )
    settings.IMPORT_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = services.import_upload(
            kind="death_records",
            uploaded_file=files.xlsx(_rows(persons_in_a)),
            township_id=cast.township_a.pk,
            by=cast.maker_ann,
        )
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    batch = ImportBatch.objects.get(pk=batch.pk)
    assert sent == [([batch.pk], batch.task_id)]
    assert batch.status == ImportStatus.UPLOADED


# --- Who may import what -------------------------------------------------------------------------


def test_who_may_upload_and_for_which_township(cast, county_clerk_kim, persons_in_a, files):
    path = files.xlsx(_rows(persons_in_a))
    with pytest.raises(NotPermitted):
        upload(cast.leader_hua, path, cast.township_a)  # county leader: no registry permissions
    with pytest.raises(NotPermitted):
        upload(cast.checker_ben, path, cast.township_a)  # section chief reads imports only
    with pytest.raises(NotVisible):
        upload(cast.outsider_eve, path, cast.township_a)  # another township: as if it did not exist
    with pytest.raises(NotPermitted):
        upload(cast.maker_ann, path, None)  # the whole county is for county-wide staff
    with pytest.raises(InvalidInput):
        upload(cast.maker_ann, path, cast.township_a, kind="no_such_kind")
    assert upload(county_clerk_kim, path, cast.township_b).township == cast.township_b


def test_cancel_is_allowed_until_the_batch_is_confirmed(cast, persons_in_a, files):
    rejected = check(upload(cast.maker_ann, files.xlsx([["123", "某", "2024-03-05"]]), cast.township_a))
    assert services.import_cancel(batch_id=rejected.pk, by=cast.maker_ann).status == ImportStatus.CANCELLED
    committed = confirm_and_commit(
        check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a)), cast.maker_ann
    )
    with pytest.raises(InvalidState) as refused:
        services.import_cancel(batch_id=committed.pk, by=cast.maker_ann)
    assert refused.value.details == {"ids": [committed.pk], "status": "committed"}
    with pytest.raises(NotVisible):
        services.import_cancel(batch_id=committed.pk, by=cast.outsider_eve)


def test_the_bad_rows_workbook_gives_row_column_value_reason_and_the_original_row(cast, persons_in_a, files):
    import pandas as pd
    from django.utils import translation

    rows = [
        [persons_in_a[0].id_number, persons_in_a[0].name, "2099-01-01"],
        ["=HYPERLINK(1)", "某", "2024-03-05"],
    ]
    batch = check(upload(cast.maker_ann, files.xlsx(rows), cast.township_a))
    with translation.override("en"):
        path = services.import_error_workbook(batch)
    sheet = pd.read_excel(path, dtype=str, engine="calamine")
    assert list(sheet.columns) == [
        "Row",
        "Column",
        "Value in the file",
        "Reason",
        "公民身份号码",
        "姓名",
        "死亡日期",
    ]
    assert sheet["Row"].tolist() == ["3", "4"]
    assert sheet.loc[0, "Reason"] == "The date 2099-01-01 is in the future."
    assert sheet.loc[1, "Value in the file"] == "'=HYPERLINK(1)"  # formula-safe
    with translation.override("zh-hans"):
        sheet = pd.read_excel(services.import_error_workbook(batch), dtype=str, engine="calamine")
    assert len(sheet) == 2


def test_a_date_typed_as_a_spreadsheet_day_number_or_a_date_cell_is_read_as_that_date(
    cast, persons_in_a, files
):
    import xlsxwriter

    path = files.folder / "dates.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["公民身份号码", "姓名", "死亡日期"])
    sheet.write_string(1, 0, persons_in_a[0].id_number)
    sheet.write_number(1, 2, 45356)  # Excel's day number of 2024-03-05
    sheet.write_string(2, 0, persons_in_a[1].id_number)
    sheet.write_datetime(2, 2, dt.datetime(2024, 3, 5), book.add_format({"num_format": "yyyy-mm-dd"}))
    book.close()

    batch = confirm_and_commit(check(upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert death_dates(persons_in_a[:2]) == [DEATH, DEATH]


# --- The commit re-checks the registry, not the file (issue 3: fast because set-based) ----------


def test_the_commit_re_checks_the_registry_but_not_the_file_the_check_already_read(
    cast, persons_in_a, files, monkeypatch
):
    """The stored file cannot change after the check, so the commit neither reads it nor repeats
    the file's checks; it checks the kept rows against the registry as it is inside its transaction
    (DOMAIN §5.1 deaths from civil affairs, §8.1 Person death date and source)."""
    from enrollment.import_kinds.death_records import DeathRecords

    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    services.batch_path(batch).unlink()  # the commit must not need the file any more

    def no_second_file_check(self, table, ctx):
        raise AssertionError("the commit repeated the file's checks")

    registry_checks = []
    real_check_registry = DeathRecords.check_registry

    def counting_check_registry(self, prepared, ctx):
        registry_checks.append(len(prepared))
        return real_check_registry(self, prepared, ctx)

    monkeypatch.setattr(DeathRecords, "check_file", no_second_file_check)
    monkeypatch.setattr(DeathRecords, "check_registry", counting_check_registry)
    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED, batch.failure_detail
    assert registry_checks == [5]
    assert death_dates(persons_in_a) == [DEATH] * 5


def test_a_batch_checked_without_kept_rows_is_checked_whole_again_at_the_commit(cast, persons_in_a, files):
    """A batch checked before the rows were kept (or whose copy was lost) reads its file again, and
    a death recorded meanwhile on another day still fails the commit (DOMAIN §8.1 Person)."""
    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    kept = services._cache(batch, "prepared")
    assert kept.exists()
    kept.unlink()
    Person.objects.filter(pk=persons_in_a[1].pk).update(death_date=dt.date(2024, 1, 1))

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.FAILED
    assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(4, "already_dead")]


def test_the_kept_rows_are_removed_once_the_batch_is_committed(
    cast, persons_in_a, files, django_capture_on_commit_callbacks
):
    """Checked rows hold ID numbers (DOMAIN §6.1): nothing of them stays on disk after the commit."""
    batch = check(upload(cast.maker_ann, files.xlsx(_rows(persons_in_a)), cast.township_a))
    kept = services._cache(batch, "prepared")
    assert kept.exists()
    with django_capture_on_commit_callbacks(execute=True):
        batch = confirm_and_commit(batch, cast.maker_ann)
    assert batch.status == ImportStatus.COMMITTED
    assert not kept.exists()


def test_kept_rows_keep_their_types_and_never_go_through_pickle(tmp_path):
    """What the check keeps for the commit loads as plain arrays: reading it can run no code."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "row": np.array([2, 3, 4], dtype="int64"),
            "text": pd.Series(["张三", None, "a\tb\n"], dtype="str"),
            "cells": np.array(["x", "", None], dtype=object),
            "nul": pd.Series(["a\0b", "", "c"], dtype="str"),  # a NUL in a cell: stored with lengths
            "day": np.array(["2024-03-05", "NaT", "1950-01-02"], dtype="datetime64[s]"),
            "grade": pd.array([1, None, 2], dtype="Int64"),
            "flag": np.array([True, False, True]),
        }
    )
    path = tmp_path / "kept.npz"
    services._save_frame(path, frame)
    np.load(path, allow_pickle=False).close()  # every member is a plain array

    loaded = services._load_frame(path)

    pd.testing.assert_frame_equal(loaded, frame)


def test_a_frame_holding_objects_is_refused_rather_than_pickled_or_turned_into_text(tmp_path):
    from decimal import Decimal

    import pandas as pd

    with pytest.raises(TypeError, match="without pickle"):
        services._save_frame(tmp_path / "kept.npz", pd.DataFrame({"amount": [Decimal("1.50"), None]}))


# --- The import benchmarks (make bench) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the seeder loads through COPY; the scenarios vacuum
def test_the_import_benchmarks_write_as_many_rows_as_their_references():
    """make bench compares each import with a reference doing the same writes: a special-group
    list (DOMAIN glossary, §8.1 PersonCategory) and a death list (§5.1, §8.1 Person)."""
    import json
    from io import StringIO

    from django.core.management import call_command

    stdout, stderr = StringIO(), StringIO()
    call_command(
        "perfbench",
        persons=1500,
        rounds=1,
        scenarios=["import_xlsx", "import_csv", "import_deaths_xlsx"],
        stdout=stdout,
        stderr=stderr,
    )
    lines = {line["scenario"]: line for line in map(json.loads, stdout.getvalue().splitlines())}
    assert set(lines) == {"import_xlsx", "import_csv", "import_deaths_xlsx"}
    for line in lines.values():
        assert line["same_result"] is True, line
        assert 1000 < line["rows"] <= 1500  # the living persons of the county, one row each
