"""The audit foundation: row versions with request and task context (foundation issue)."""

from __future__ import annotations

import datetime as dt

import pghistory
import pytest
from celery.contrib.testing.worker import start_worker

from enrollment.models import Person
from socialsec.celery import app as celery_app
from tests.factories import PersonFactory


@celery_app.task(name="tests.rename_person")
def rename_person(person_id: int, name: str) -> str:
    Person.objects.filter(pk=person_id).update(name=name)
    return name


@pytest.mark.django_db
def test_every_change_to_a_person_is_a_row_version(cast, person_in_a):
    person_in_a.name = "李明明"
    person_in_a.save()
    labels = list(person_in_a.events.order_by("pgh_id").values_list("pgh_label", "name"))
    assert labels == [("insert", "李明"), ("update", "李明明")]


@pytest.mark.django_db
def test_a_bulk_update_is_audited_too(cast, person_in_a):
    # Triggers, not signals: a queryset update() cannot slip past the trail.
    Person.objects.filter(pk=person_in_a.pk).update(death_date=dt.date(2025, 1, 1))
    assert person_in_a.events.filter(pgh_label="update", death_date=dt.date(2025, 1, 1)).count() == 1


@pytest.mark.django_db
def test_township_assignments_and_divisions_are_audited(cast):
    from django.apps import apps

    from socialsec.core.models import TownshipAssignment

    assignment = TownshipAssignment.objects.get(user=cast.maker_ann)
    pk = assignment.pk
    assignment.delete()
    events = apps.get_model("core", "TownshipAssignmentEvent").objects.filter(pgh_obj_id=pk)
    assert sorted(events.values_list("pgh_label", flat=True)) == ["delete", "insert"]
    cast.township_a.name = "莲塘镇(新)"
    cast.township_a.save()
    assert pghistory.models.Events.objects.tracks(cast.township_a).filter(pgh_label="update").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_records_its_name_in_the_audit_context_through_a_real_worker(cast):
    person = PersonFactory(village=cast.village_a, name="周一")
    # A real worker thread consuming from the Redis broker of the settings.
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = rename_person.delay(person.pk, "周二")
        assert result.get(timeout=30) == "周二"
    event = person.events.filter(pgh_label="update").get()
    assert event.name == "周二"
    assert event.pgh_context.metadata["task"] == "tests.rename_person"
    assert event.pgh_context.metadata["task_id"] == result.id


@pytest.mark.django_db(transaction=True)
def test_analyze_runs_in_the_worker_after_bulk_writes(cast):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = celery_app.send_task("socialsec.core.tasks.analyze_tables", args=[["enrollment.Person"]])
        assert result.get(timeout=30) == ["enrollment_person"]
