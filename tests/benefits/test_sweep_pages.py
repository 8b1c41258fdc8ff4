"""The monthly sweep's pages (issue 4 "The monthly sweep", "Screens and API"; DOMAIN §5.3 SHOULD_PAY
应发尽发, §5.4 DEATH, E9): the runs with their progress and counts, starting a month, and the
township's work-item queue with its close form.

Each page gets its five cases where they apply: success, 403 for a wrong role, 404 for another
township's item, 409 for a wrong state, and a constant number of queries at two sizes. Starting a
month from the page is followed through a real Celery worker to the end of the run.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone, translation

from benefits import sweep_services, views_sweep
from benefits.sweeps import SweepRun, SweepStatus, SweepStep, WorkItem, WorkItemStatus
from socialsec.core.models import User
from socialsec.lib.resident_id import mask_resident_id
from tests.benefits.entitlement_factories import pensioner
from tests.benefits.test_sweep_api import (
    JUNE_2025,
    in_language,
    overpaid_item,
    run_cut_short,
    should_pay_items,
    sweep,
)

pytestmark = pytest.mark.django_db

RUNS = "/sweeps/"
START = "/sweeps/start/"
ITEMS = "/sweeps/work-items/"
HTMX = {"HX-Request": "true"}


def as_user(client, user: User):
    client.force_login(user)
    return client


def close_url(item: WorkItem) -> str:
    return f"/sweeps/work-items/{item.pk}/close/"


def progress_url(run: SweepRun) -> str:
    return f"/sweeps/{run.pk}/progress/"


def count_queries(client, url: str, method: str = "get", **kwargs) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code < 400, response.content.decode()[:2000]
    return len(captured)


def row_of(html: str, element_id: str) -> str:
    match = re.search(rf'<tr id="{element_id}".*?</tr>', html, re.S)
    assert match, f"no row {element_id}"
    return match.group(0)


@pytest.fixture
def run(cast) -> SweepRun:
    return sweep()


# --- /sweeps/: the runs --------------------------------------------------------------------------------


def test_the_runs_page_shows_each_runs_counts_per_step_and_who_started_it(client, cast):
    """DOMAIN §5.3: the run found one newly eligible person and made nothing else."""
    pensioner(cast, birth_date=dt.date(1964, 3, 15))
    run = sweep(by=cast.checker_ben)
    html = as_user(client, cast.maker_ann).get(RUNS).content.decode()
    row = row_of(html, f"run-{run.pk}")
    assert 'data-status="done"' in row and "hx-get" not in row  # an ended run does not poll
    counts = dict(re.findall(r'data-step-count="(\w+)" data-state="done">\s*(\d+)', row))
    assert counts == {
        "should_pay": "1",
        "death_stop": "0",
        "unemployment_stop": "0",
        "overpaid": "0",
        "rosters": "0",
    }
    assert "2025-06" in row and "checker_ben" in row


def test_a_running_run_polls_its_progress_and_a_reload_shows_it_again(client, cast):
    pensioner(cast, birth_date=dt.date(1964, 3, 15))
    run = run_cut_short(cast, by=cast.checker_ben)
    client = as_user(client, cast.checker_ben)
    for _ in range(2):  # the page, then the page reloaded: the progress lives in the database
        row = row_of(client.get(RUNS).content.decode(), f"run-{run.pk}")
        assert f'hx-get="{progress_url(run)}" hx-trigger="every 1s" hx-swap="outerHTML"' in row
        assert f'data-progress="{run.progress}"' in row and 0 < run.progress < 100
        assert 'data-step="death_stop"' in row
        assert re.search(r'data-step-count="should_pay" data-state="done">\s*1', row)
        assert 'data-step-count="death_stop" data-state="running"' in row


def test_the_polled_row_stops_polling_once_the_run_has_ended(client, cast):
    run = run_cut_short(cast)
    client = as_user(client, cast.maker_ann)
    assert "hx-trigger" in client.get(progress_url(run), headers=HTMX).content.decode()
    sweep_services.sweep_run(run.pk)  # the redelivered task resumes and finishes it
    row = client.get(progress_url(run), headers=HTMX).content.decode()
    assert 'data-status="done"' in row and "hx-trigger" not in row and "<nav" not in row


def test_the_runs_page_and_the_progress_are_403_without_the_view_permission(client, cast, run):
    client = as_user(client, cast.leader_hua)
    assert client.get(RUNS).status_code == 403
    assert client.get(progress_url(run)).status_code == 403


def test_the_progress_of_a_missing_run_is_404(client, cast, run):
    response = as_user(client, cast.maker_ann).get(f"/sweeps/{run.pk + 1000}/progress/")
    assert response.status_code == 404


def test_a_section_chief_gets_the_start_form_set_to_the_current_month_and_a_clerk_does_not(client, cast):
    chief = as_user(client, cast.checker_ben).get(RUNS).content.decode()
    assert 'id="sweep-start-form"' in chief
    assert f'value="{timezone.localdate():%Y-%m}"' in chief
    clerk = as_user(client, cast.maker_ann).get(RUNS).content.decode()
    assert 'id="sweep-start-form"' not in clerk


def test_the_runs_page_runs_the_same_number_of_queries_for_one_run_and_for_six(client, cast):
    sweep(dt.date(2025, 1, 1), by=cast.checker_ben)
    few = count_queries(as_user(client, User.objects.get(pk=cast.checker_ben.pk)), RUNS)
    for month in (2, 3, 4, 5):
        sweep(dt.date(2025, month, 1), by=cast.checker_ben)
    run_cut_short(cast, by=cast.checker_ben)
    many = count_queries(as_user(client, User.objects.get(pk=cast.checker_ben.pk)), RUNS)
    assert few == many


def test_the_runs_page_pages_by_keyset(client, cast, monkeypatch):
    monkeypatch.setattr(views_sweep, "RUN_PAGE_SIZE", 2)
    runs = [sweep(dt.date(2025, month, 1)) for month in (1, 2, 3)]
    client = as_user(client, cast.maker_ann)
    first = client.get(RUNS).content.decode()
    assert f'id="run-{runs[2].pk}"' in first and f'id="run-{runs[0].pk}"' not in first
    assert f"?after={runs[1].pk}" in first
    rest = client.get(f"{RUNS}?after={runs[1].pk}").content.decode()
    assert f'id="run-{runs[0].pk}"' in rest and f'id="run-{runs[1].pk}"' not in rest


# --- /sweeps/start/ ------------------------------------------------------------------------------------


def test_a_section_chief_starts_a_month_and_lands_on_its_row(
    client, cast, django_capture_on_commit_callbacks
):
    client = as_user(client, cast.checker_ben)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(START, {"month": "2025-06"})
    run = SweepRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{RUNS}?started={run.pk}#run-{run.pk}"
    assert (run.month, run.status, run.started_by) == (JUNE_2025, SweepStatus.RUNNING, cast.checker_ben)
    assert len(queued) == 1  # the task goes to the broker once the run is committed
    row = row_of(client.get(response["Location"]).content.decode(), f"run-{run.pk}")
    assert 'class="table-active"' in row and "hx-trigger" in row


def test_starting_a_month_that_is_running_joins_it(client, cast):
    client = as_user(client, cast.checker_ben)
    client.post(START, {"month": "2025-06"})
    response = client.post(START, {"month": "2025-06"}, follow=True)
    assert response.status_code == 200
    assert SweepRun.objects.count() == 1
    assert 'class="alert alert-info' in response.content.decode()


def test_a_clerk_may_not_start_the_sweep_403(client, cast):
    assert as_user(client, cast.maker_ann).post(START, {"month": "2025-06"}).status_code == 403
    assert not SweepRun.objects.exists()


def test_a_month_that_is_not_yyyy_mm_is_400_next_to_the_field_in_chinese(client, cast):
    response = as_user(client, cast.checker_ben).post(START, {"month": "2025/6"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请按 YYYY-MM 格式填写月份，例如 2025-10。" in html and "is-invalid" in html
    assert not SweepRun.objects.exists()


def test_a_month_that_is_not_yyyy_mm_is_refused_in_english_for_an_english_user(client, cast, settings):
    client = as_user(client, cast.checker_ben)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(START, {"month": "June"})
    assert response.status_code == 400
    assert "Give the month as YYYY-MM, for example 2025-10." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_month_started_from_the_page_is_run_by_a_real_worker_and_its_row_ends_done(client, cast):
    """DOMAIN §5.3: the chief starts June 2025; the worker finds the eligible person of each township."""
    from socialsec.celery import app as celery_app

    pensioner(cast, birth_date=dt.date(1964, 3, 15))
    pensioner(cast, village=cast.village_b, birth_date=dt.date(1964, 3, 15))
    client = as_user(client, cast.checker_ben)
    with start_worker(celery_app, perform_ping_check=False, pool="solo"):
        response = client.post(START, {"month": "2025-06"})
        run = SweepRun.objects.get()
        assert response["Location"].endswith(f"#run-{run.pk}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = client.get(progress_url(run), headers=HTMX).content.decode()
            if 'data-status="running"' not in row:
                break
            time.sleep(0.2)
    assert 'data-status="done"' in row and "hx-trigger" not in row
    assert re.search(r'data-step-count="should_pay" data-state="done">\s*2', row)
    run.refresh_from_db()
    assert (run.status, run.progress, run.started_by_id) == (SweepStatus.DONE, 100, cast.checker_ben.pk)
    assert WorkItem.objects.count() == 2


# --- /sweeps/work-items/ -------------------------------------------------------------------------------


def test_the_queue_shows_the_townships_items_with_masked_ids_and_what_to_do(client, cast, run):
    """§5.3 SHOULD_PAY links to the person to apply; §5.4 DEATH (E9) shows the months and the sum."""
    (should_pay,) = should_pay_items(cast, run, 1)
    overpaid = overpaid_item(cast, run)
    (elsewhere,) = should_pay_items(cast, run, 1, village=cast.village_b)
    html = as_user(client, cast.maker_ann).get(ITEMS).content.decode()
    assert f'id="work-item-{elsewhere.pk}"' not in html and elsewhere.person.name not in html

    row = row_of(html, f"work-item-{should_pay.pk}")
    person = should_pay.person
    assert f'<a href="/persons/{person.pk}/">{person.name}</a>' in row
    assert mask_resident_id(person.id_number) in row and person.id_number not in html
    assert f'data-apply href="/persons/{person.pk}/"' in row

    row = row_of(html, f"work-item-{overpaid.pk}")
    assert '<span class="font-monospace" data-overpaid-months>2025-04, 2025-05, 2025-06</span>' in row
    assert '<span class="font-monospace" data-overpaid-amount>423.00</span>' in row
    assert "data-apply" not in row
    assert f'hx-post="{close_url(overpaid)}"' in row


def test_the_queue_is_403_without_the_view_permission(client, cast, run):
    should_pay_items(cast, run, 1)
    assert as_user(client, cast.leader_hua).get(ITEMS).status_code == 403


def test_an_auditor_sees_every_township_but_no_close_form(client, cast, run):
    items = [*should_pay_items(cast, run, 1), *should_pay_items(cast, run, 1, village=cast.village_b)]
    html = as_user(client, cast.auditor_gus).get(ITEMS).content.decode()
    assert all(f'id="work-item-{item.pk}"' in html for item in items)
    assert "work-item-close" not in html


def test_the_queue_shows_open_items_unless_asked_and_filters_by_kind(client, cast, run):
    open_item, closed_item = should_pay_items(cast, run, 2)
    sweep_services.work_item_close(item_id=closed_item.pk, by=cast.maker_ann, note="已申请")
    overpaid = overpaid_item(cast, run)
    client = as_user(client, cast.maker_ann)

    def shown(query: str = "") -> set[int]:
        html = client.get(f"{ITEMS}?{query}").content.decode()
        return {int(pk) for pk in re.findall(r'data-work-item="(\d+)"', html)}

    assert shown() == {open_item.pk, overpaid.pk}
    assert shown("status=closed") == {closed_item.pk}
    assert shown("status=all") == {open_item.pk, closed_item.pk, overpaid.pk}
    assert shown("kind=death_overpaid") == {overpaid.pk}
    assert shown("kind=should_pay&status=all") == {open_item.pk, closed_item.pk}
    assert shown("kind=nonsense&status=nonsense") == {open_item.pk, overpaid.pk}  # ignored, not an error


def test_the_queue_pages_by_keyset_and_htmx_gets_the_next_rows_only(client, cast, run, monkeypatch):
    monkeypatch.setattr(views_sweep, "ITEM_PAGE_SIZE", 2)
    items = should_pay_items(cast, run, 3)
    client = as_user(client, cast.maker_ann)
    first = client.get(f"{ITEMS}?kind=should_pay").content.decode()
    assert f'id="work-item-{items[2].pk}"' in first and f'id="work-item-{items[0].pk}"' not in first
    assert f"kind=should_pay&amp;status=open&amp;after={items[1].pk}" in first
    rest = client.get(f"{ITEMS}?kind=should_pay&status=open&after={items[1].pk}", headers=HTMX)
    html = rest.content.decode()
    assert f'id="work-item-{items[0].pk}"' in html and f'id="work-item-{items[1].pk}"' not in html
    assert "<nav" not in html


def test_the_queue_runs_the_same_number_of_queries_for_two_items_and_for_twelve(client, cast, run):
    should_pay_items(cast, run, 1)
    overpaid_item(cast, run)
    few = count_queries(as_user(client, User.objects.get(pk=cast.maker_ann.pk)), ITEMS)
    should_pay_items(cast, run, 10)
    many = count_queries(as_user(client, User.objects.get(pk=cast.maker_ann.pk)), ITEMS)
    assert few == many


# --- /sweeps/work-items/{id}/close/ --------------------------------------------------------------------


def test_a_clerk_closes_an_item_with_a_note_and_comes_back_to_the_queue(client, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    client = as_user(client, cast.maker_ann)
    response = client.post(close_url(item), {f"close-{item.pk}-note": "已代为申请养老金"})
    assert (response.status_code, response["Location"]) == (302, ITEMS)
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.close_note) == (
        WorkItemStatus.CLOSED,
        cast.maker_ann,
        "已代为申请养老金",
    )
    assert f'id="work-item-{item.pk}"' not in client.get(ITEMS).content.decode()  # the queue shows open ones


def test_closing_through_htmx_swaps_in_the_closed_row(client, cast, run):
    item = overpaid_item(cast, run)
    response = as_user(client, cast.checker_ben).post(
        close_url(item), {f"close-{item.pk}-note": "已启动追回"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<nav" not in html
    row = row_of(html, f"work-item-{item.pk}")
    assert 'data-status="closed"' in row and "<form" not in row
    assert '<div class="small" data-close-note>已启动追回</div>' in row


def test_the_close_page_shows_the_item_and_its_form(client, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    html = as_user(client, cast.maker_ann).get(close_url(item)).content.decode()
    assert f'id="work-item-{item.pk}"' in html and 'name="close-' in html


def test_closing_without_a_note_is_400_next_to_the_field_in_the_users_language(client, cast, run, settings):
    (item,) = should_pay_items(cast, run, 1)
    client = as_user(client, cast.maker_ann)
    chinese = client.post(close_url(item), {f"close-{item.pk}-note": "  "}, headers=HTMX)
    assert chinese.status_code == 400
    row = row_of(chinese.content.decode(), f"work-item-{item.pk}")
    assert in_language("zh-hans", "Say why the item is closed.") in row and "is-invalid" in row
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.post(close_url(item), {f"close-{item.pk}-note": ""})
    assert english.status_code == 400
    assert "Say why the item is closed." in english.content.decode()
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OPEN


def test_an_auditor_may_not_close_an_item_403(client, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    response = as_user(client, cast.auditor_gus).post(close_url(item), {f"close-{item.pk}-note": "看过"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OPEN


def test_closing_another_townships_item_is_404(client, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    client = as_user(client, cast.outsider_eve)
    assert client.post(close_url(item), {f"close-{item.pk}-note": "不是我的"}).status_code == 404
    assert client.get(close_url(item)).status_code == 404
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OPEN


def test_closing_a_closed_item_is_409_naming_it(client, cast, run):
    (item,) = should_pay_items(cast, run, 1)
    sweep_services.work_item_close(item_id=item.pk, by=cast.maker_ann, note="已申请")
    response = as_user(client, cast.checker_ben).post(close_url(item), {f"close-{item.pk}-note": "再关"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-error-code="invalid_state"' in html
    assert f'<span class="font-monospace">{item.pk}</span>' in html


def test_closing_runs_the_same_number_of_queries_whatever_the_queue(client, cast, run):
    first, second = should_pay_items(cast, run, 2)
    user = User.objects.get(pk=cast.maker_ann.pk)
    few = count_queries(
        as_user(client, user),
        close_url(first),
        "post",
        data={f"close-{first.pk}-note": "已申请"},
        headers=HTMX,
    )
    should_pay_items(cast, run, 10)
    many = count_queries(
        as_user(client, user),
        close_url(second),
        "post",
        data={f"close-{second.pk}-note": "已申请"},
        headers=HTMX,
    )
    assert few == many


def test_the_sweep_step_labels_head_the_runs_table(client, cast):
    html = as_user(client, cast.maker_ann).get(RUNS).content.decode()
    with translation.override("zh-hans"):
        labels = [str(step.label) for step in SweepStep]
    assert re.findall(r'<th scope="col" class="text-end">([^<]+)</th>', html) == labels


@pytest.mark.parametrize("path", [RUNS, ITEMS])
def test_the_sweep_pages_carry_no_inline_script_or_style(client, cast, path):
    """The CSP allows scripts and styles from 'self' only; the progress bars are sized by imports.js."""
    run = run_cut_short(cast)
    should_pay_items(cast, run, 1)
    overpaid_item(cast, run)
    html = as_user(client, cast.checker_ben).get(path).content.decode()
    assert all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html)
    if path == RUNS:
        assert 'data-progress="' in html and "/static/js/imports.js" in html
