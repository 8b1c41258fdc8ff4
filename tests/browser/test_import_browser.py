"""A clerk imports a death list in a real browser: errors first, then the fixed file, all rows at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from enrollment.models import Person
from tests.browser.test_login_browser import log_in
from tests.factories import PersonFactory
from tests.imports.conftest import DEATH
from tests.imports.files import FileMaker

pytestmark = pytest.mark.browser


def test_a_clerk_uploads_a_file_with_errors_reads_them_fixes_the_file_and_imports_it(
    page, cast, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    persons = [PersonFactory(village=cast.village_a, name=f"孙{index}") for index in range(3)]
    files = FileMaker(tmp_path / "files")
    rows = [[p.id_number, p.name, "2024-03-05"] for p in persons]
    broken = [
        rows[0],
        [rows[1][0], rows[1][1], "2099-12-31"],
        [rows[2][0][:17] + "Y", rows[2][1], "2024-03-05"],
    ]

    log_in(page, "maker_ann")
    page.locator('#main-nav a[href="/imports/"]').click()
    expect(page).to_have_url(re.compile(r"/imports/$"))
    page.locator('a[href="/imports/new/"]').click()
    page.locator("#id_township").select_option(str(cast.township_a.pk))
    page.locator("#id_file").set_input_files(str(files.xlsx(broken)))
    page.locator("#upload-form button[type=submit]").click()

    # The batch page lists each bad row with its row number, column, value and reason.
    expect(page.locator("#batch-status [data-status]")).to_have_attribute("data-status", "rejected")
    errors = page.locator("#error-rows")
    expect(errors.locator("tr")).to_have_count(2)
    expect(errors.locator("tr").nth(0)).to_contain_text("4")
    expect(errors.locator("tr").nth(0)).to_contain_text("2099-12-31")
    expect(errors.locator("tr").nth(1)).to_contain_text(rows[2][0][:17] + "Y")
    expect(page.locator('a[href$="/errors.xlsx"]')).to_be_visible()
    expect(page.locator('form[action$="/confirm/"]')).to_have_count(0)
    assert Person.objects.filter(death_date__isnull=False).count() == 0

    # The clerk fixes the file and uploads it again; now it can be confirmed.
    page.goto("/imports/new/")
    page.locator("#id_township").select_option(str(cast.township_a.pk))
    page.locator("#id_file").set_input_files(str(files.xlsx(rows)))
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#batch-status [data-status]")).to_have_attribute("data-status", "validated")
    page.locator('form[action$="/confirm/"] button').click()

    expect(page.locator("#batch-status [data-status]")).to_have_attribute("data-status", "committed")
    expect(page.locator("#batch-outcome")).to_contain_text("3")
    assert sorted(Person.objects.values_list("death_date", flat=True)) == [DEATH] * 3
    page.screenshot(path="/tmp/ui-import.png", full_page=True)


def test_the_progress_bar_follows_a_running_batch_and_the_page_reloads_when_it_ends(
    page, cast, settings, tmp_path
):
    from socialsec.imports import services
    from socialsec.imports.choices import ImportStatus, ProgressStep
    from socialsec.imports.models import ImportBatch

    settings.MEDIA_ROOT = tmp_path / "media"
    person = PersonFactory(village=cast.village_a)
    path = FileMaker(tmp_path / "files").xlsx([[person.id_number, person.name, "2024-03-05"]])
    # Left UPLOADED, as if waiting for a worker.
    batch = services.import_upload(
        kind="death_records",
        uploaded_file=path,
        township_id=cast.township_a.pk,
        by=cast.maker_ann,
        schedule=False,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(progress=40, progress_note=ProgressStep.CHECKING)

    log_in(page, "maker_ann")
    page.goto(f"/imports/{batch.pk}/")
    bar = page.locator("#batch-progress .progress-bar")
    expect(bar).to_have_text("40%")
    assert bar.evaluate("element => element.style.width") == "40%"  # sized by imports.js, not inline style

    services.import_validate(batch_id=batch.pk)  # the worker finishes: the next poll reloads the page
    expect(page.locator("#batch-status [data-status]")).to_have_attribute(
        "data-status", ImportStatus.VALIDATED
    )
    expect(page.locator("#batch-progress .progress-bar")).to_have_count(0)
