"""Coverage (全民参保, issue 3) is refreshed without anyone asking: nightly by beat, and after imports.

The beat entry is a row of django-celery-beat's tables (the database scheduler), made by
migration enrollment 0010 and editable in /admin/. An import whose kind touches persons or
enrollments queues enrollment.tasks.coverage_refresh once its batch has committed
(socialsec.imports.signals.import_committed, received in enrollment/receivers.py).
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from enrollment.coverage import coverage_refresh
from enrollment.models import CoverageRollup
from socialsec.celery import app as celery_app
from socialsec.imports import services as imports
from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from socialsec.imports.signals import import_committed
from tests.factories import PersonFactory
from tests.imports.files import FileMaker

TASK = "enrollment.tasks.coverage_refresh"
schedule_migration = importlib.import_module("enrollment.migrations.0010_coverage_schedule")


def _county_row() -> CoverageRollup | None:
    return CoverageRollup.objects.filter(township__isnull=True).first()


# --- Nightly ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_beat_runs_the_coverage_refresh_every_night_at_half_past_two_shanghai_time():
    entry = PeriodicTask.objects.select_related("crontab").get(task=TASK)
    assert entry.enabled
    assert (entry.args, entry.kwargs) == ("[]", "{}")  # the task takes today's date itself
    crontab = entry.crontab
    fields = (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week)
    assert " ".join(fields) == "30 2 * * *"
    assert str(crontab.timezone) == "Asia/Shanghai"
    celery_app.loader.import_default_modules()  # what a worker and beat do on start: find the tasks
    assert TASK in celery_app.tasks  # the name beat sends is a registered task


@pytest.mark.django_db
def test_the_schedule_migration_run_again_keeps_one_entry_and_the_admins_changes():
    entry = PeriodicTask.objects.get(task=TASK)
    entry.enabled = False  # an admin switched it off
    entry.save()
    schedule_migration.schedule(django_apps, None)
    assert PeriodicTask.objects.filter(task=TASK).count() == 1
    assert not PeriodicTask.objects.get(task=TASK).enabled


@pytest.mark.django_db
def test_the_county_admin_sees_and_changes_the_schedule_in_the_admin_site(client, cast):
    entry = PeriodicTask.objects.get(task=TASK)
    client.force_login(cast.admin_ivy)
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200
    assert client.get(f"/admin/django_celery_beat/periodictask/{entry.pk}/change/").status_code == 200
    client.force_login(cast.maker_ann)  # a clerk is no admin
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 302


# --- After imports ------------------------------------------------------------------------------------


@pytest.fixture
def tasks_run_here():
    """Celery runs tasks in the caller (task_always_eager), so the refresh happens before delay() returns."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def _send(touches: list[str]) -> None:
    import_committed.send(sender=ImportBatch, kind="a_kind", batch_id=1, township_id=None, touches=touches)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "touches", [["enrollment.Person"], ["enrollment.Enrollment", "enrollment.PersonalAccount"]]
)
def test_an_import_of_persons_or_enrollments_refreshes_the_coverage(
    cast, person_in_a, tasks_run_here, touches
):
    assert _county_row() is None
    _send(touches)
    county = _county_row()
    assert county is not None
    assert (county.as_of, county.residents) == (timezone.localdate(), 1)


@pytest.mark.django_db
@pytest.mark.parametrize("touches", [[], ["enrollment.Organization"], ["enrollment.PersonCategory"]])
def test_an_import_touching_neither_persons_nor_enrollments_leaves_the_coverage_alone(
    cast, person_in_a, tasks_run_here, touches
):
    _send(touches)
    assert not CoverageRollup.objects.exists()


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)
def test_a_committed_death_records_import_has_the_worker_refresh_the_coverage(cast, settings, tmp_path: Path):
    """End to end: the clerk's import commits, the receiver queues the task, a real worker runs it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    persons = [
        PersonFactory(village=cast.village_a, name=f"李{i}", birth_date=dt.date(1950, 1, 1 + i))
        for i in range(3)
    ]
    coverage_refresh(as_of=timezone.localdate())
    assert _county_row().residents == 3
    path = FileMaker(tmp_path / "files").csv([[persons[0].id_number, persons[0].name, "2024-03-05"]])

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        batch = imports.import_upload(
            kind="death_records", uploaded_file=path, township_id=cast.township_a.pk, by=cast.maker_ann
        )
        _wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.VALIDATED)
        imports.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
        _wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.COMMITTED)
        # The dead person no longer counts: only a refresh after the commit can know that.
        _wait_for(lambda: _county_row().residents == 2)
    assert _county_row().as_of == timezone.localdate()
