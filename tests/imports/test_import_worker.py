"""A large batch through a real Celery worker: checked and committed in the worker, audited as the task."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker

from enrollment.models import Person
from socialsec.celery import app as celery_app
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from socialsec.lib.resident_id import build_resident_id

ROWS = 3_000  # above INLINE_MAX_ROWS: the commit goes to the worker too


def _wait_for(batch_id: int, statuses: tuple[str, ...], timeout: float = 60) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in statuses:
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} stayed {batch.status}")


@pytest.mark.django_db(transaction=True)
def test_a_large_batch_is_checked_and_committed_by_the_worker(cast, files, settings):
    settings.IMPORT_INLINE_MAX_BYTES = 1024
    birth = dt.date(1950, 6, 1)
    numbers = [
        build_resident_id("360121", birth + dt.timedelta(days=i // 500), i % 500 * 2 + 1) for i in range(ROWS)
    ]
    Person.objects.bulk_create(
        Person(
            id_number=n,
            name="某",
            sex="male",
            birth_date=birth + dt.timedelta(days=i // 500),
            registration_type="rural",
            township=cast.township_a,
            village=cast.village_a,
        )
        for i, n in enumerate(numbers)
    )
    path = files.csv([[n, "", "2024-03-05"] for n in numbers], encoding="utf-8")

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        batch = services.import_upload(
            kind="death_records", uploaded_file=path, township_id=cast.township_a.pk, by=cast.maker_ann
        )
        assert batch.task_id
        batch = _wait_for(batch.pk, (ImportStatus.VALIDATED, ImportStatus.REJECTED, ImportStatus.FAILED))
        assert batch.status == ImportStatus.VALIDATED
        assert (batch.rows_total, batch.progress) == (ROWS, 100)
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
        batch = _wait_for(batch.pk, (ImportStatus.COMMITTED, ImportStatus.FAILED))

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": ROWS, "updated": ROWS, "unchanged": 0}
    assert Person.objects.filter(death_date=dt.date(2024, 3, 5)).count() == ROWS
    event = Person.objects.get(id_number=numbers[0]).events.get(pgh_label="update")
    assert event.pgh_context.metadata["task"] == "socialsec.imports.tasks.import_commit"
    assert event.pgh_context.metadata["task_id"] == ImportBatch.objects.get(pk=batch.pk).task_id
