"""The batch's stage (services.stage_table, socialsec.imports.kinds.StagedKind): the check of a
special-group list keeps its rows in a table of the batch, and the commit writes from it.

The table lives exactly as long as the batch may still be committed; a stage a crash emptied
(UNLOGGED tables are truncated on recovery) or a registry changed since the check never makes the
commit write less than the list: the commit then reads the file again and names what changed.
Two clerks committing lists of the same persons at once: one list is imported, the other fails
naming its rows, and no person holds two overlapping memberships (DOMAIN §8.1).
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from enrollment.choices import SpecialGroup
from enrollment.import_kinds.common import copy_columns
from enrollment.models import PersonCategory
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from tests.imports.files import SPECIAL_GROUPS_HEADER as HEADER
from tests.imports.helpers import check, confirm_and_commit, errors_of, upload

KIND = "special_groups"


def _rows(persons, source="民政", start="2024-01-01"):
    return [[p.id_number, p.name, "低保", "", start, "", source] for p in persons]


def _batch(user, files, persons, township, **row) -> ImportBatch:
    return upload(user, files.xlsx(_rows(persons, **row), header=HEADER), township, kind=KIND)


def _stage_rows(batch: ImportBatch) -> int | None:
    """Rows in the batch's stage, None when it has none."""
    name = services.stage_table(batch.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT count(*) FROM {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db
class TestTheStageLivesAsLongAsTheBatchMayCommit:
    def test_the_check_keeps_every_row_and_the_commit_drops_the_stage(self, cast, persons_in_a, files):
        batch = check(_batch(cast.maker_ann, files, persons_in_a, cast.township_a))
        assert batch.status == ImportStatus.VALIDATED
        assert _stage_rows(batch) == 5

        batch = confirm_and_commit(batch, cast.maker_ann)

        assert batch.status == ImportStatus.COMMITTED
        assert batch.summary == {"rows": 5, "inserted": 5, "unchanged": 0}
        assert _stage_rows(batch) is None

    def test_a_rejected_list_keeps_no_stage(self, cast, persons_in_a, files):
        rows = _rows(persons_in_a)
        rows[2][2] = "低保户口"  # no such group
        batch = check(upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a, kind=KIND))
        assert batch.status == ImportStatus.REJECTED
        assert _stage_rows(batch) is None

    def test_a_cancelled_batch_drops_its_stage(self, cast, persons_in_a, files):
        batch = check(_batch(cast.maker_ann, files, persons_in_a, cast.township_a))
        services.import_cancel(batch_id=batch.pk, by=cast.maker_ann)
        assert _stage_rows(batch) is None

    def test_a_failed_commit_drops_the_stage_and_names_the_changed_row(self, cast, persons_in_a, files):
        batch = check(_batch(cast.maker_ann, files, persons_in_a, cast.township_a))
        PersonCategory.objects.create(  # recorded by another clerk while the batch waits
            person=persons_in_a[0],
            category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
            source="civil_affairs",
            effective_from=dt.date(2023, 1, 1),
            recorded_by=cast.checker_ben,
        )
        batch = confirm_and_commit(batch, cast.maker_ann)

        assert (batch.status, batch.failure_code) == (ImportStatus.FAILED, "changed_since_check")
        assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(3, "overlaps_membership")]
        assert _stage_rows(batch) is None
        assert PersonCategory.objects.count() == 1

    def test_a_stage_left_by_a_dead_worker_is_dropped_by_the_next_check(self, cast, persons_in_a, files):
        """A worker killed between the check and its end leaves a stage no batch will commit."""
        orphan = check(_batch(cast.maker_ann, files, persons_in_a[:2], cast.township_a))
        ImportBatch.objects.filter(pk=orphan.pk).update(status=ImportStatus.FAILED)
        assert _stage_rows(orphan) == 2

        kept = check(_batch(cast.maker_ann, files, persons_in_a[2:], cast.township_a))

        assert _stage_rows(orphan) is None
        assert _stage_rows(kept) == 3


@pytest.mark.django_db
def test_a_stage_emptied_by_a_crash_makes_the_commit_read_the_file_again(cast, persons_in_a, files):
    """PostgreSQL empties UNLOGGED tables after a crash: the commit must not import an empty list."""
    batch = check(_batch(cast.maker_ann, files, persons_in_a, cast.township_a))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {services.stage_table(batch.pk)}")

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": 5, "inserted": 5, "unchanged": 0}
    assert PersonCategory.objects.filter(person__in=persons_in_a).count() == 5


@pytest.mark.django_db
def test_the_stage_keeps_tabs_backslashes_and_line_breaks_in_text_cells():
    """copy_columns writes COPY's text format: its special characters are escaped, NULLs kept."""
    texts = ["a\tb", "back\\slash", "line\nbreak", "\\N", "", None, "张三"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copied (position integer, text text, day date, grade smallint)")
        copy_columns(
            cursor,
            "copied",
            {
                "position": list(range(len(texts))),
                "text": texts,
                "day": np.array(["2024-01-02", "NaT"] + ["2024-03-04"] * 5, "datetime64[D]"),
                "grade": pd.array([1, None, 2, None, 3, 4, None], dtype="Int64"),
            },
        )
        cursor.execute("SELECT text, day, grade FROM copied ORDER BY position")
        stored = cursor.fetchall()
    assert [text for text, _day, _grade in stored] == texts
    assert [day for _text, day, _grade in stored][:2] == [dt.date(2024, 1, 2), None]
    assert [grade for *_rest, grade in stored] == [1, None, 2, None, 3, 4, None]


@pytest.mark.django_db(transaction=True)  # real commits: the trigger's locks only matter across connections
def test_two_lists_of_the_same_persons_committed_at_once_import_one_and_name_the_others_rows(
    cast, persons_in_a, files
):
    """DOMAIN §8.1: never two memberships of one person in one group sharing a day. Both lists
    pass their check (nothing is on record yet); committed together, the first to lock the persons
    imports, the second finds the first's memberships and fails naming each of its rows. No
    deadlock, no error page: each commit ends COMMITTED or FAILED."""
    first = check(_batch(cast.maker_ann, files, persons_in_a, cast.township_a, source="民政"))
    second = check(_batch(cast.maker_ann, files, persons_in_a, cast.township_a, source="乡村振兴"))
    for batch in (first, second):
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann, schedule=False)
    start = threading.Barrier(2)

    def commit(batch_id: int) -> None:
        try:
            start.wait(timeout=30)
            services.import_commit(batch_id=batch_id)
        finally:
            connection.close()  # each thread opened its own connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(commit, [first.pk, second.pk]))

    batches = {batch.pk: batch for batch in ImportBatch.objects.filter(pk__in=[first.pk, second.pk])}
    assert sorted(batch.status for batch in batches.values()) == [ImportStatus.COMMITTED, ImportStatus.FAILED]
    failed = next(batch for batch in batches.values() if batch.status == ImportStatus.FAILED)
    assert failed.failure_code == "changed_since_check"
    assert sorted({code for *_rest, code in errors_of(failed)}) == ["overlaps_membership"]
    assert sorted(row for row, *_rest in errors_of(failed)) == [3, 4, 5, 6, 7]
    held = PersonCategory.objects.filter(
        person__in=persons_in_a, category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE
    )
    assert sorted(held.values_list("person_id", flat=True)) == sorted(p.pk for p in persons_in_a)
    assert all(_stage_rows(batch) is None for batch in batches.values())
