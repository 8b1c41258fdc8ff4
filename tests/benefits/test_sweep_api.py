"""The monthly sweep's API (issue 4 "The monthly sweep", "Screens and API"; DOMAIN §5.3 SHOULD_PAY
应发尽发, §5.4 DEATH, E9): starting and reading runs, the township's work items and closing them.

Each action gets its five cases where they apply: success, 403 for a wrong role, 404 for another
township's item, 409 for a wrong state, and a constant number of queries. Runs are county
business (no township); a month already running is joined (200), not refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from benefits import sweep_services
from benefits.sweeps import SweepRun, SweepStep, WorkItem, WorkItemKind, WorkItemStatus
from socialsec.core.models import User
from socialsec.lib.resident_id import mask_resident_id
from tests.benefits.entitlement_factories import paying, pensioner
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

JUNE_2025 = dt.date(2025, 6, 1)
OVERPAID_MONTHS = [dt.date(2025, 4, 1), dt.date(2025, 5, 1), dt.date(2025, 6, 1)]


# --- Helpers (the page tests use them too) -------------------------------------------------------------


def fresh(api, user):
    # A new user object per request, as in production: no warm permission or township cache.
    return api.as_user(User.objects.get(pk=user.pk))


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return len(captured)


def sweep(month: dt.date = JUNE_2025, by=None) -> SweepRun:
    """A real run of the sweep, to the end, without a worker."""
    run = sweep_services.sweep_start(month=month, by=by, schedule=False)
    return sweep_services.sweep_run(run.pk)


def should_pay_items(cast, run: SweepRun, count: int, *, village=None) -> list[WorkItem]:
    """`count` should-pay items in a village's township, as the sweep writes them (set-based)."""
    village = village or cast.village_a
    persons = [PersonFactory(village=village) for _ in range(count)]
    return WorkItem.objects.bulk_create(
        WorkItem(
            kind=WorkItemKind.SHOULD_PAY,
            month=run.month,
            person=person,
            township_id=person.township_id,
            sweep=run,
        )
        for person in persons
    )


def overpaid_item(cast, run: SweepRun) -> WorkItem:
    """E9: an entitlement stopped on death whose April–June were paid."""
    person = pensioner(cast)
    entitlement = paying(cast, person, start_month=dt.date(2025, 1, 1))
    return WorkItem.objects.create(
        kind=WorkItemKind.DEATH_OVERPAID,
        month=run.month,
        person=person,
        township_id=person.township_id,
        entitlement=entitlement,
        overpaid_months=OVERPAID_MONTHS,
        overpaid_amount=Decimal("423.00"),
        sweep=run,
    )


def in_language(language: str, message: str) -> str:
    """The message as the given language's catalog renders it."""
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture
def run(cast) -> SweepRun:
    return sweep()


# --- POST /api/sweeps/ ---------------------------------------------------------------------------------


def test_a_section_chief_starts_a_month_and_gets_the_run_queued_for_a_worker(
    api, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "2025-06"})
    assert response.status_code == 201, response.content
    body = response.json()
    run = SweepRun.objects.get()
    assert (body["id"], body["month"], body["status"], body["progress"]) == (run.pk, "2025-06", "running", 0)
    assert body["started_by"]["username"] == "checker_ben"
    assert (run.month, run.started_by) == (JUNE_2025, cast.checker_ben)
    assert len(queued) == 1  # the task is sent once the run is committed


def test_starting_a_month_that_is_running_answers_that_run_with_200(api, cast):
    first = fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "2025-06"})
    again = fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "2025-06"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert SweepRun.objects.count() == 1


def test_a_month_swept_already_is_swept_again_as_a_new_run(api, cast, run):
    response = fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "2025-06"})
    assert response.status_code == 201
    assert response.json()["id"] != run.pk


@pytest.mark.parametrize("username", ["maker_ann", "auditor_gus", "leader_hua"])
def test_a_role_without_the_start_permission_is_403_and_nothing_starts(api, cast, username):
    response = fresh(api, getattr(cast, username)).post("/api/sweeps/", {"month": "2025-06"})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not SweepRun.objects.exists()


def test_a_month_that_is_not_yyyy_mm_is_400_in_chinese(api, cast):
    response = fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "June"})
    assert response.status_code == 400
    assert response.json()["fields"]["month"] == ["请按 YYYY-MM 格式填写月份，例如 2025-10。"]
    assert not SweepRun.objects.exists()


def test_a_month_that_is_not_yyyy_mm_is_400_in_english_for_an_english_caller(api, cast):
    response = fresh(api, cast.checker_ben).post(
        "/api/sweeps/", {"month": "2025-13"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["month"] == ["Give the month as YYYY-MM, for example 2025-10."]


def test_starting_runs_the_same_number_of_queries_with_one_run_before_and_with_six(api, cast):
    sweep(dt.date(2025, 1, 1))
    few = queries(lambda: fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "2025-07"}))
    for month in (2, 3, 4, 5, 6):
        sweep(dt.date(2025, month, 1))
    many = queries(lambda: fresh(api, cast.checker_ben).post("/api/sweeps/", {"month": "2025-08"}))
    assert few == many


# --- GET /api/sweeps/ and /api/sweeps/{id}/ ------------------------------------------------------------


def test_the_runs_come_newest_first_to_every_role_that_may_view_them(api, cast):
    older = sweep(dt.date(2025, 5, 1))
    newer = sweep_services.sweep_start(month=JUNE_2025, by=cast.checker_ben, schedule=False)
    for user in (cast.maker_ann, cast.outsider_eve, cast.checker_ben, cast.auditor_gus):
        body = fresh(api, user).get("/api/sweeps/").json()
        assert [row["id"] for row in body["results"]] == [newer.pk, older.pk], user.username
    row = fresh(api, cast.maker_ann).get("/api/sweeps/").json()["results"][0]
    assert (row["status"], row["started_by"]["username"], row["finished_at"]) == (
        "running",
        "checker_ben",
        None,
    )


def test_the_runs_are_403_without_the_view_permission(api, cast, run):
    assert fresh(api, cast.leader_hua).get("/api/sweeps/").status_code == 403
    assert fresh(api, cast.leader_hua).get(f"/api/sweeps/{run.pk}/").status_code == 403


def test_a_run_shows_status_step_progress_steps_done_counts_who_and_when(api, cast):
    pensioner(cast, birth_date=dt.date(1964, 3, 15))  # newly eligible in June 2025 (E24)
    run = sweep(by=cast.checker_ben)
    body = fresh(api, cast.maker_ann).get(f"/api/sweeps/{run.pk}/").json()
    assert (body["status"], body["status_label"], body["step"], body["progress"]) == (
        "done",
        "已完成",
        "",
        100,
    )
    assert body["steps_done"] == [str(step) for step in SweepStep]
    assert {step: body["counts"].get(step, 0) for step in body["steps_done"]} == {
        "should_pay": 1,
        "death_stop": 0,
        "unemployment_stop": 0,
        "overpaid": 0,
        "rosters": 0,
    }
    assert body["started_by"]["username"] == "checker_ben"
    assert body["started_at"] and body["finished_at"]


def test_a_missing_run_is_404(api, cast, run):
    response = fresh(api, cast.maker_ann).get(f"/api/sweeps/{run.pk + 1000}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_runs_list_runs_the_same_number_of_queries_for_one_run_and_for_six(api, cast):
    sweep(dt.date(2025, 1, 1), by=cast.checker_ben)
    few = queries(lambda: fresh(api, cast.maker_ann).get("/api/sweeps/"))
    for month in (2, 3, 4, 5, 6):
        sweep(dt.date(2025, month, 1), by=cast.checker_ben)
    many = queries(lambda: fresh(api, cast.maker_ann).get("/api/sweeps/"))
    assert few == many


# --- GET /api/work-items/ ------------------------------------------------------------------------------


def test_the_sweeps_findings_reach_the_clerks_of_their_township_with_the_id_masked(api, cast):
    """DOMAIN §5.3 SHOULD_PAY: a person found by the real sweep is a work item of their township."""
    mine = pensioner(cast, birth_date=dt.date(1964, 3, 15))
    theirs = pensioner(cast, village=cast.village_b, birth_date=dt.date(1964, 3, 15))
    sweep()
    body = fresh(api, cast.maker_ann).get("/api/work-items/").json()
    assert [row["person"]["id"] for row in body["results"]] == [mine.pk]
    row = body["results"][0]
    assert (row["kind"], row["status"], row["month"], row["township"]["code"]) == (
        "should_pay",
        "open",
        "2025-06",
        cast.township_a.code,
    )
    assert row["person"] == {
        "id": mine.pk,
        "name": mine.name,
        "id_number_masked": mask_resident_id(mine.id_number),
    }
    assert mine.id_number not in str(body)
    assert [
        row["person"]["id"] for row in fresh(api, cast.outsider_eve).get("/api/work-items/").json()["results"]
    ] == [theirs.pk]
    county = fresh(api, cast.auditor_gus).get("/api/work-items/").json()["results"]
    assert {row["person"]["id"] for row in county} == {mine.pk, theirs.pk}


def test_the_work_items_are_403_without_the_view_permission(api, cast, run):
    should_pay_items(cast, run, 1)
    assert fresh(api, cast.leader_hua).get("/api/work-items/").status_code == 403


def test_a_user_without_a_township_sees_no_work_item(api, cast, run):
    should_pay_items(cast, run, 2)
    assert fresh(api, cast.unassigned_joe).get("/api/work-items/").json()["results"] == []


def test_the_work_items_filter_by_kind_status_month_and_township(api, cast, run):
    open_item, closed_item = should_pay_items(cast, run, 2)
    sweep_services.work_item_close(item_id=closed_item.pk, by=cast.maker_ann, note="已申请")
    overpaid = overpaid_item(cast, run)
    july = sweep(dt.date(2025, 7, 1))
    (in_july,) = should_pay_items(cast, july, 1)
    (in_b,) = should_pay_items(cast, run, 1, village=cast.village_b)
    client = fresh(api, cast.auditor_gus)

    def ids(query: str) -> set[int]:
        return {row["id"] for row in client.get(f"/api/work-items/?{query}").json()["results"]}

    assert ids("kind=death_overpaid") == {overpaid.pk}
    assert ids("status=closed") == {closed_item.pk}
    assert ids("month=2025-07") == {in_july.pk}
    assert ids(f"township={cast.township_b.code}") == {in_b.pk}
    assert ids("kind=should_pay&status=open&month=2025-06") == {open_item.pk, in_b.pk}
    assert ids("month=June") == set()


def test_the_work_items_run_the_same_number_of_queries_for_two_and_for_twelve(api, cast, run):
    should_pay_items(cast, run, 1)
    overpaid_item(cast, run)
    few = queries(lambda: fresh(api, cast.maker_ann).get("/api/work-items/"))
    should_pay_items(cast, run, 10)
    many = queries(lambda: fresh(api, cast.maker_ann).get("/api/work-items/"))
    assert few == many


# --- GET /api/work-items/{id}/ -------------------------------------------------------------------------


def test_a_paid_after_death_item_shows_the_months_and_the_sum(api, cast, run):
    """E9: the months paid from the stop month on, and their sum."""
    item = overpaid_item(cast, run)
    body = fresh(api, cast.maker_ann).get(f"/api/work-items/{item.pk}/").json()
    assert (body["kind"], body["kind_label"]) == ("death_overpaid", str(WorkItemKind.DEATH_OVERPAID.label))
    assert (body["overpaid_months"], body["overpaid_amount"]) == (["2025-04", "2025-05", "2025-06"], "423.00")
    assert (body["entitlement"], body["sweep"]) == (item.entitlement_id, run.pk)


def test_another_townships_item_is_404_like_a_missing_one(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    other = fresh(api, cast.outsider_eve).get(f"/api/work-items/{item.pk}/")
    missing = fresh(api, cast.outsider_eve).get(f"/api/work-items/{item.pk + 1000}/")
    assert (other.status_code, missing.status_code) == (404, 404)
    assert other.json() == missing.json()


def test_an_item_is_403_without_the_view_permission(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    assert fresh(api, cast.leader_hua).get(f"/api/work-items/{item.pk}/").status_code == 403


def test_an_item_runs_the_same_number_of_queries_whatever_the_queue(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    few = queries(lambda: fresh(api, cast.maker_ann).get(f"/api/work-items/{item.pk}/"))
    should_pay_items(cast, run, 10)
    many = queries(lambda: fresh(api, cast.maker_ann).get(f"/api/work-items/{item.pk}/"))
    assert few == many


# --- POST /api/work-items/{id}/close/ ------------------------------------------------------------------


@pytest.mark.parametrize("username", ["maker_ann", "checker_ben"])
def test_a_clerk_or_section_chief_closes_an_item_with_a_note(api, cast, run, username):
    item = overpaid_item(cast, run)
    user = getattr(cast, username)
    response = fresh(api, user).post(f"/api/work-items/{item.pk}/close/", {"note": " 已启动追回 "})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["close_note"], body["closed_by"]["username"]) == (
        "closed",
        "已启动追回",
        username,
    )
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.close_note) == (WorkItemStatus.CLOSED, user, "已启动追回")
    assert item.closed_at is not None


def test_an_auditor_may_read_but_not_close_an_item_403(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    client = fresh(api, cast.auditor_gus)
    assert client.get(f"/api/work-items/{item.pk}/").status_code == 200
    response = client.post(f"/api/work-items/{item.pk}/close/", {"note": "看过了"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OPEN


def test_closing_another_townships_item_is_404_and_leaves_it_open(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    response = fresh(api, cast.outsider_eve).post(f"/api/work-items/{item.pk}/close/", {"note": "不是我的"})
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OPEN


def test_closing_a_closed_item_is_409_naming_it(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    sweep_services.work_item_close(item_id=item.pk, by=cast.maker_ann, note="已申请")
    response = fresh(api, cast.checker_ben).post(f"/api/work-items/{item.pk}/close/", {"note": "再关一次"})
    assert response.status_code == 409
    assert (response.json()["error"], response.json()["ids"], response.json()["status"]) == (
        "invalid_state",
        [item.pk],
        "closed",
    )
    item.refresh_from_db()
    assert (item.closed_by, item.close_note) == (cast.maker_ann, "已申请")


def test_closing_without_a_note_is_400_in_the_callers_language(api, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    chinese = fresh(api, cast.maker_ann).post(f"/api/work-items/{item.pk}/close/", {"note": "   "})
    english = fresh(api, cast.maker_ann).post(
        f"/api/work-items/{item.pk}/close/", {}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert (chinese.status_code, english.status_code) == (400, 400)
    assert chinese.json() == {
        "error": "invalid_input",
        "detail": in_language("zh-hans", "Say why the item is closed."),
        "field": "note",
    }
    assert english.json()["detail"] == "Say why the item is closed."
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OPEN


def test_closing_runs_the_same_number_of_queries_whatever_the_queue(api, cast, run):
    first, second, *_ = should_pay_items(cast, run, 2)
    few = queries(
        lambda: fresh(api, cast.maker_ann).post(f"/api/work-items/{first.pk}/close/", {"note": "已申请"})
    )
    should_pay_items(cast, run, 10)
    many = queries(
        lambda: fresh(api, cast.maker_ann).post(f"/api/work-items/{second.pk}/close/", {"note": "已申请"})
    )
    assert few == many


# --- Schema --------------------------------------------------------------------------------------------


def test_the_sweep_endpoints_are_in_the_schema(api, cast):
    schema = fresh(api, cast.maker_ann).get("/api/schema/?format=json").json()
    assert {
        "/api/sweeps/",
        "/api/sweeps/{id}/",
        "/api/work-items/",
        "/api/work-items/{id}/",
        "/api/work-items/{id}/close/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/sweeps/"]) >= {"get", "post"}


def test_the_schema_with_the_sweep_endpoints_validates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


class Killed(BaseException):
    """What a worker's shutdown raises through the task: not an Exception, so the run stays RUNNING."""


def run_cut_short(cast, month: dt.date = JUNE_2025, *, by=None) -> SweepRun:
    """A run whose worker died on its first chunk after the first step finished: it still reads RUNNING
    (with persons in the registry that chunk is the second step's)."""

    def stop_in_second_step(current: SweepRun) -> None:
        if SweepStep.SHOULD_PAY in current.steps_done:
            raise Killed

    run = sweep_services.sweep_start(month=month, by=by, schedule=False)
    with pytest.raises(Killed):
        sweep_services.sweep_run(run.pk, on_chunk=stop_in_second_step)
    run.refresh_from_db()
    return run


def test_a_running_run_reads_as_running_with_its_step_and_what_it_found_so_far(api, cast):
    pensioner(cast, birth_date=dt.date(1964, 3, 15))
    run = run_cut_short(cast, by=cast.checker_ben)
    body = fresh(api, cast.checker_ben).get(f"/api/sweeps/{run.pk}/").json()
    assert (body["status"], body["step"], body["steps_done"], body["finished_at"]) == (
        "running",
        "death_stop",
        ["should_pay"],
        None,
    )
    assert 0 < body["progress"] < 100
    assert body["counts"]["should_pay"] == 1
