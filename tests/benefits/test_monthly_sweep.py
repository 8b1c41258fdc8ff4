"""The monthly sweep (issue 4 "The monthly sweep"; DOMAIN §1.5, §5.3 SHOULD_PAY 应发尽发, §5.4 DEATH,
E6, E7, E9, E24): who becomes a work item, stops on death with the overpaid months, the month's
draft rosters; a second run creates nothing; a run cut short resumes; two runners never overlap;
the command, the beat entry and a real Celery worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from decimal import Decimal
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from benefits import sweep_services
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus, StopReason
from benefits.models import PayoutLine, PayoutRoster
from benefits.sweeps import SweepRun, SweepStatus, SweepStep, WorkItem, WorkItemKind
from enrollment.choices import EnrollmentStatus, Scheme
from enrollment.models import Enrollment, Person
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted
from socialsec.rosters.choices import RosterStatus
from tests.benefits.entitlement_factories import COUNTY, paying, pensioner
from tests.benefits.test_calculations_parameters import set_parameter
from tests.rosters.factories import advance, settle

RP = BenefitProgramme.RESIDENT_PENSION
JUNE_2025 = dt.date(2025, 6, 1)


def sweep(month: dt.date, by=None) -> SweepRun:
    run = sweep_services.sweep_start(month=month, by=by, schedule=False)
    return sweep_services.sweep_run(run.pk)


def items(kind: str) -> list[tuple[int, int]]:
    return sorted(WorkItem.objects.filter(kind=kind).values_list("person_id", "township_id"))


@pytest.fixture
def county(cast):
    """Pensioners of every case the rule (a) must tell apart, in both townships."""
    born_1964 = dt.date(1964, 3, 15)  # 60 in March 2024: first payable month April 2024 (E24)
    people = {
        "eligible": pensioner(cast, birth_date=born_1964),
        "eligible_in_b": pensioner(cast, village=cast.village_b, birth_date=born_1964),
        "twelve_years": pensioner(cast, birth_date=born_1964, years=12),  # E6: short of 15
        "fifty_nine": pensioner(cast, birth_date=dt.date(1966, 1, 20)),  # 60 only in 2026
        "already_paid": pensioner(cast, birth_date=born_1964),
        "dead": pensioner(cast, birth_date=born_1964),
        "employee_pensioner": pensioner(cast, birth_date=born_1964),  # E7
        "receiving_institution": pensioner(cast, birth_date=born_1964),
    }
    paying(cast, people["already_paid"], start_month=dt.date(2024, 4, 1))
    Person.objects.filter(pk=people["dead"].pk).update(death_date=dt.date(2025, 1, 5))
    BenefitEntitlement.objects.create(
        person=people["employee_pensioner"],
        programme=BenefitProgramme.EMPLOYEE_PENSION,
        status=EntitlementStatus.PAYING,
        region=COUNTY,
        basic=Decimal("2100.00"),
        start_month=dt.date(2024, 4, 1),
    )
    Enrollment.objects.create(
        person=people["receiving_institution"],
        scheme=Scheme.GOV_INST_PENSION,
        status=EnrollmentStatus.RECEIVING,
        pooling_area=COUNTY,
        start_date=dt.date(1990, 1, 1),
        enrolled_by=cast.maker_ann,
    )
    return people


def test_should_pay_lists_exactly_the_newly_eligible_for_their_townships_clerks(cast, county):
    """DOMAIN §5.3 SHOULD_PAY, §1.5: pension age reached (E24), 15 years (E6), no other basic
    pension (E7), alive, not already paid."""
    run = sweep(JUNE_2025)

    assert run.status == SweepStatus.DONE
    assert run.steps_done == list(SweepStep)
    assert items(WorkItemKind.SHOULD_PAY) == sorted(
        [
            (county["eligible"].pk, cast.township_a.pk),
            (county["eligible_in_b"].pk, cast.township_b.pk),
        ]
    )
    assert run.counts[SweepStep.SHOULD_PAY] == 2


def test_e24_a_person_is_not_listed_before_the_first_payable_month(cast):
    person = pensioner(cast, birth_date=dt.date(1965, 6, 10))  # 60 in June 2025: payable from July
    sweep(JUNE_2025)
    assert items(WorkItemKind.SHOULD_PAY) == []
    sweep(dt.date(2025, 7, 1))
    assert items(WorkItemKind.SHOULD_PAY) == [(person.pk, cast.township_a.pk)]


def test_running_the_same_month_again_creates_nothing(cast, county):
    first = sweep(JUNE_2025)
    counts = {kind: items(kind) for kind in WorkItemKind}
    rosters = sorted(PayoutRoster.objects.values_list("pk", flat=True))

    second = sweep(JUNE_2025)

    assert second.pk != first.pk and second.status == SweepStatus.DONE
    assert {kind: items(kind) for kind in WorkItemKind} == counts
    assert sorted(PayoutRoster.objects.values_list("pk", flat=True)) == rosters
    assert all(value == 0 for value in second.counts.values()), second.counts


def test_e9_the_sweep_stops_the_entitlement_of_the_dead_and_lists_the_months_paid_after(cast):
    """DOMAIN §5.4 DEATH, E9: died 2025-03-10 with the death month payable → stop from 2025-04;
    April–June, paid on released rosters, are the overpayment, with their sum."""
    person = pensioner(cast)
    entitlement = paying(cast, person, start_month=dt.date(2025, 1, 1))
    paid = {}
    for month in range(1, 7):
        roster = sweep_services_roster(cast, dt.date(2025, month, 1))
        advance(roster, cast, RosterStatus.PAYING)
        settle(roster, cast)
        paid[dt.date(2025, month, 1)] = PayoutLine.objects.get(roster=roster, person=person).net
    Person.objects.filter(pk=person.pk).update(death_date=dt.date(2025, 3, 10))

    run = sweep(dt.date(2025, 7, 1))

    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_month, entitlement.stop_reason) == (
        EntitlementStatus.STOPPED,
        dt.date(2025, 4, 1),
        StopReason.DEATH,
    )
    item = WorkItem.objects.get(kind=WorkItemKind.DEATH_OVERPAID)
    overpaid = [dt.date(2025, 4, 1), dt.date(2025, 5, 1), dt.date(2025, 6, 1)]
    assert (item.entitlement_id, item.person_id, item.township_id) == (
        entitlement.pk,
        person.pk,
        cast.township_a.pk,
    )
    assert item.overpaid_months == overpaid
    assert item.overpaid_amount == sum(paid[month] for month in overpaid)
    assert (run.counts[SweepStep.DEATH_STOP], run.counts[SweepStep.OVERPAID]) == (1, 1)
    # Nobody is left to pay in July: no roster for the dead.
    assert not PayoutRoster.objects.filter(period=dt.date(2025, 7, 1)).exists()


def test_a_death_whose_stop_month_has_not_come_is_stopped_by_a_later_sweep(cast):
    """DOMAIN §5.4 DEATH, E9 (the death month payable): died 20 June, June is paid; the June sweep
    leaves the entitlement paying, the July sweep stops it from July, and nothing is overpaid."""
    person = pensioner(cast)
    entitlement = paying(cast, person, start_month=dt.date(2025, 1, 1))
    Person.objects.filter(pk=person.pk).update(death_date=dt.date(2025, 6, 20))  # payable through June

    sweep(JUNE_2025)
    entitlement.refresh_from_db()
    assert entitlement.status == EntitlementStatus.PAYING
    assert PayoutLine.objects.filter(person=person, period=JUNE_2025).exists()  # the death month is paid

    sweep(dt.date(2025, 7, 1))
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.stop_month) == (EntitlementStatus.STOPPED, dt.date(2025, 7, 1))
    assert not WorkItem.objects.filter(kind=WorkItemKind.DEATH_OVERPAID).exists()  # nothing paid after


def sweep_services_roster(cast, month):
    from benefits.services import roster_generate

    return roster_generate(programme=RP, month=month, township_id=cast.township_a.pk, by=cast.maker_ann)


def test_the_sweep_generates_the_months_draft_rosters_once_per_township_and_programme(cast):
    for person in [pensioner(cast) for _ in range(2)]:
        paying(cast, person, start_month=dt.date(2025, 1, 1))
    existing = sweep_services_roster(cast, JUNE_2025)

    run = sweep(dt.date(2025, 7, 1))

    july = PayoutRoster.objects.get(period=dt.date(2025, 7, 1))
    assert (july.township_id, july.status, july.total_persons) == (cast.township_a.pk, RosterStatus.DRAFT, 2)
    assert july.created_by.username == sweep_services.SWEEP_USERNAME
    assert run.counts[SweepStep.ROSTERS] == 1
    assert PayoutRoster.objects.filter(period=JUNE_2025).get() == existing


def test_only_a_role_with_the_permission_starts_a_sweep_and_a_running_month_is_joined(cast):
    with pytest.raises(NotPermitted):
        sweep_services.sweep_start(month=JUNE_2025, by=cast.maker_ann, schedule=False)
    first = sweep_services.sweep_start(month=JUNE_2025, by=cast.checker_ben, schedule=False)
    again = sweep_services.sweep_start(month=JUNE_2025, by=None, schedule=False)
    assert again.pk == first.pk and first.started_by == cast.checker_ben


def test_starting_tells_a_new_run_from_the_running_one_it_joins(cast):
    """One run of a month at a time (issue 4 "The monthly sweep"): the API answers 201 for a new
    run and 200 for the one joined, from what the service decided under its lock."""
    first, joined_first = sweep_services.sweep_start_or_join(
        month=JUNE_2025, by=cast.checker_ben, schedule=False
    )
    again, joined_again = sweep_services.sweep_start_or_join(month=JUNE_2025, by=None, schedule=False)
    assert (joined_first, joined_again, again.pk) == (False, True, first.pk)


@pytest.mark.usefixtures("english_messages")
def test_an_unknown_start_month_rule_fails_the_run_naming_the_parameter_to_correct(cast):
    """DOMAIN §0.2, §0.4, §1.5: the first payable month follows the pooling area's start-month
    rule; a value the sweep does not know stops the run (FAILED) with what to correct."""
    pensioner(cast)
    set_parameter("resident_pension.benefit.start_month_rule", COUNTY, "next_quarter", kind="text")
    run = sweep_services.sweep_start(month=JUNE_2025, by=None, schedule=False)
    with pytest.raises(InvalidState) as refused:
        sweep_services.sweep_run(run.pk)
    message = str(refused.value.message)
    assert COUNTY in message and "next_quarter" in message
    assert "resident_pension.benefit.start_month_rule" in message and "month_after_pension_age" in message
    run.refresh_from_db()
    assert run.status == SweepStatus.FAILED
    assert not WorkItem.objects.exists()


def test_a_month_left_out_is_the_current_month_and_a_bad_one_is_refused():
    """Beat sends no month on the 1st and the command's --month is optional: the current month in
    the county's time zone (DOMAIN §0.4: months are YYYY-MM, stored as their first day)."""
    this_month = timezone.localdate().replace(day=1)
    assert sweep_services.parse_sweep_month(None) == this_month
    assert sweep_services.parse_sweep_month("") == this_month
    assert sweep_services.parse_sweep_month(" 2025-06 ") == JUNE_2025
    assert sweep_services.parse_sweep_month(dt.date(2025, 6, 17)) == JUNE_2025
    with pytest.raises(InvalidInput):
        sweep_services.parse_sweep_month("2025-13")


# --- Cut short, and run twice at once (real PostgreSQL, committed transactions) -----------------------


class Killed(BaseException):
    """What a worker's shutdown raises through the task: not an Exception, so the run stays RUNNING."""


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_halfway_resumes_after_its_last_finished_step_and_ends_as_one_run(cast, county):
    run = sweep_services.sweep_start(month=JUNE_2025, by=None, schedule=False)
    chunks = []

    def stop_when_first_step_is_done(current):
        chunks.append(current.step)
        if current.step == SweepStep.DEATH_STOP:
            raise Killed

    with pytest.raises(Killed):
        sweep_services.sweep_run(run.pk, on_chunk=stop_when_first_step_is_done)
    run.refresh_from_db()
    assert run.status == SweepStatus.RUNNING
    assert run.steps_done == [SweepStep.SHOULD_PAY]
    found = items(WorkItemKind.SHOULD_PAY)
    assert len(found) == 2

    resumed = sweep_services.sweep_run(run.pk)

    assert (resumed.pk, resumed.status, resumed.steps_done) == (run.pk, SweepStatus.DONE, list(SweepStep))
    assert items(WorkItemKind.SHOULD_PAY) == found
    assert resumed.counts[SweepStep.SHOULD_PAY] == 2  # not counted twice


@pytest.mark.django_db(transaction=True)
def test_a_second_runner_of_the_same_month_is_refused_while_the_first_holds_it(cast, county):
    run = sweep_services.sweep_start(month=JUNE_2025, by=None, schedule=False)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # another worker, mid-run
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [4_101_001, 202506])
        with pytest.raises(sweep_services.SweepBusy):
            sweep_services.sweep_run(run.pk)
        assert WorkItem.objects.count() == 0
    finally:
        with other.cursor() as cursor:  # the first worker ends: its lock goes (closing alone may lag)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [4_101_001, 202506])
        other.close()
    assert sweep_services.sweep_run(run.pk).status == SweepStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_started_at_once_make_one_set_of_findings(cast, county):
    errors = []

    def start():
        try:
            run = sweep_services.sweep_start(month=JUNE_2025, by=None, schedule=False)
            with contextlib.suppress(sweep_services.SweepBusy):  # another thread is on it
                sweep_services.sweep_run(run.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert SweepRun.objects.filter(month=JUNE_2025).count() == 1
    assert len(items(WorkItemKind.SHOULD_PAY)) == 2


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_the_sweep_started_by_a_section_chief(cast, county):
    from socialsec.celery import app as celery_app

    with start_worker(celery_app, perform_ping_check=False, pool="solo"):
        run = sweep_services.sweep_start(month=JUNE_2025, by=cast.checker_ben)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status != SweepStatus.RUNNING:
                break
            time.sleep(0.1)
    assert (run.status, run.progress) == (SweepStatus.DONE, 100)
    assert len(items(WorkItemKind.SHOULD_PAY)) == 2


# --- Command and schedule -------------------------------------------------------------------------------


def test_the_command_sweeps_a_month_and_prints_what_it_found(cast, county):
    out = StringIO()
    call_command("run_monthly_sweep", "--month", "2025-06", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (result["month"], result[SweepStep.SHOULD_PAY]) == ("2025-06", 2)


def test_the_command_refuses_a_month_it_cannot_read(cast):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("run_monthly_sweep", "--month", "June")


@pytest.mark.django_db
def test_beat_runs_the_sweep_at_0130_on_the_first_in_the_countys_time():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="monthly_sweep")
    crontab = task.crontab
    assert (task.task, task.enabled) == ("benefits.tasks.monthly_sweep", True)
    assert (crontab.minute, crontab.hour, crontab.day_of_month, str(crontab.timezone)) == (
        "30",
        "1",
        "1",
        "Asia/Shanghai",
    )


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_inside_a_step_redoes_that_step_without_duplicates_or_double_counts(
    cast, county, settings
):
    """Chunks of two person ids: the kill comes after some of should_pay's chunks committed."""
    settings.SWEEP_CHUNK_PERSONS = 2
    run = sweep_services.sweep_start(month=JUNE_2025, by=None, schedule=False)
    seen = []

    def kill_on_the_third_chunk(current):
        seen.append(current.progress)
        if len(seen) == 3:
            raise Killed

    with pytest.raises(Killed):
        sweep_services.sweep_run(run.pk, on_chunk=kill_on_the_third_chunk)
    run.refresh_from_db()
    assert (run.status, run.step, run.steps_done) == (SweepStatus.RUNNING, SweepStep.SHOULD_PAY, [])
    assert 0 < run.progress < 100

    resumed = sweep_services.sweep_run(run.pk)

    assert resumed.status == SweepStatus.DONE
    assert len(items(WorkItemKind.SHOULD_PAY)) == 2
    assert resumed.counts[SweepStep.SHOULD_PAY] == 2
