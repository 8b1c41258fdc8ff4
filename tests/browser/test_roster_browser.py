"""A payout roster in real browsers (issue 4; DOMAIN §8.2, §8.3, E22): five people, each logged in as
themselves, take one month's roster from generation to PAID by pressing their own button. The clerk
generates it through the form from real paying entitlements; the accountant prepares the payment
and downloads the bank file; the cashier releases it; the accountant then uploads the bank's
receipt written from that very file. The roster's signature block shows five different names. A
receipt with a failed line leaves the roster PARTIALLY_PAID with the line listed for re-issue.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from benefits import services, views, views_finance
from benefits.choices import BenefitProgramme
from benefits.models import PayoutRoster
from socialsec.lib.spreadsheets import write_workbook
from socialsec.rosters.choices import BankResult, RosterStatus
from tests.benefits.entitlement_factories import paying, pensioner
from tests.browser.test_login_browser import log_in
from tests.rosters.factories import OCTOBER, advance, roster_in, settle

pytestmark = pytest.mark.browser

# Who presses which button after the clerk generated the roster, and the status (in Chinese) it
# shows afterwards.
E22_STEPS = (
    ("maker_ann", "submit", "待审核"),
    ("checker_ben", "check", "已审核"),
    ("approver_cai", "approve", "已审批"),
    ("accountant_dan", "prepare-payment", "已审批"),
    ("cashier_fay", "pay", "支付中"),
)


@pytest.fixture
def payees(cast) -> list:
    """Three residents drawing the resident pension since May 2025 (applied, reviewed, approved)."""
    persons = [pensioner(cast) for _ in range(3)]
    for person in persons:
        paying(cast, person)
    return persons


def switch_user(page, username: str) -> None:
    """The previous person logs out; the next logs in as themselves and lands on their work queue."""
    page.context.clear_cookies()
    log_in(page, username)
    expect(page).to_have_url(re.compile(r"/$"))


def open_from_work_queue(page, roster: PayoutRoster) -> None:
    page.locator(f'.roster-queue [data-roster="{roster.pk}"]').get_by_role("link", name=roster.number).click()
    expect(page).to_have_url(re.compile(rf"/rosters/{roster.pk}/$"))


def generate_through_the_form(page, cast) -> PayoutRoster:
    page.locator('#main-nav a[href="/rosters/"]').click()
    page.locator("#generate-roster").click()
    expect(page).to_have_url(re.compile(r"/rosters/generate/$"))
    form = page.locator("#roster-generate-form")
    form.locator('select[name="programme"]').select_option(BenefitProgramme.RESIDENT_PENSION.value)
    form.locator('input[name="month"]').fill("2025-10")
    form.locator('select[name="township"]').select_option(str(cast.township_a.pk))
    form.get_by_role("button", name="生成").click()
    expect(page).to_have_url(re.compile(r"/rosters/\d+/$"))
    roster = PayoutRoster.objects.get()
    expect(page.locator("#roster-number")).to_have_text(roster.number)
    expect(page.locator("#roster-status")).to_have_text("草稿")
    return roster


def download_bank_file(page, format_: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.locator(f"#bank-file-{format_}").click()
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def bank_file_rows(path: Path) -> list[list]:
    """The file's rows: text from the csv; text and numbers (line numbers, amounts) from the xlsx."""
    if path.suffix == ".csv":
        return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    with CalamineWorkbook.from_path(str(path)) as workbook:
        return workbook.get_sheet_by_index(0).to_python()


def upload_receipt(page, path: Path) -> None:
    form = page.locator("#receipt-form")
    form.locator('input[type="file"]').set_input_files(str(path))
    form.locator("#receipt-upload").click()


def test_e22_five_people_take_a_generated_roster_to_paid_and_five_names_sign_it(page, cast, payees, tmp_path):
    log_in(page, "maker_ann")
    roster = generate_through_the_form(page, cast)
    expect(page.locator("#roster-line-rows tr[data-seq]")).to_have_count(3)
    expect(page.locator("#total-amount")).to_have_text("493.74")  # E1: 3 × 164.58
    assert {line.entitlement.person_id for line in roster.lines.select_related("entitlement")} == {
        person.pk for person in payees
    }

    actions = page.locator("#roster-actions")
    roster_url = re.compile(rf"/rosters/{roster.pk}/$")
    bank_file = None
    for username, step, status_label in E22_STEPS:
        if username != "maker_ann":  # the clerk is still on the draft they generated
            switch_user(page, username)
            open_from_work_queue(page, roster)  # the roster waits in each person's work queue
        # Exactly one step is offered to each of them here (return and cancel aside).
        expect(actions.locator(f'[data-action="{step}"]')).to_have_count(1)
        actions.locator(f'[data-action="{step}"]').click()
        expect(page).to_have_url(roster_url)
        expect(page.locator("#roster-status")).to_have_text(status_label)
        expect(actions.locator(f'[data-action="{step}"]')).to_have_count(0)  # done; never twice
        if step == "prepare-payment":
            # DOMAIN §8.3: the payment instruction for the bank, with every line and the full IDs.
            bank_file = download_bank_file(page, "csv", tmp_path)
    assert bank_file is not None and bank_file.name == f"{PayoutRoster.objects.get().bank_batch}.csv"

    # The bank pays every line and sends the file back with its result columns added.
    header, *rows = bank_file_rows(bank_file)
    assert len(rows) == 3 and header[:2] == ["批量批次号", "序号"]
    receipt = tmp_path / "receipt.csv"
    with receipt.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "业务状态", "错误信息"])
        writer.writerows([*row, "成功", ""] for row in rows)

    switch_user(page, "accountant_dan")
    open_from_work_queue(page, roster)
    expect(actions.locator("#receipt-waiting")).to_be_visible()
    upload_receipt(page, receipt)
    expect(page).to_have_url(roster_url)
    expect(page.locator("#roster-status")).to_have_text("已支付")
    expect(page.locator("#paid-total")).to_contain_text("493.74")
    expect(page.locator("#failed-lines")).to_have_count(0)
    expect(page.locator("#receipt-form")).to_have_count(0)

    names = page.locator("#roster-signatures .signature-name")
    expect(names).to_have_count(5)
    signed = [name.strip() for name in names.all_inner_texts()]
    assert signed == ["maker_ann", "checker_ben", "approver_cai", "accountant_dan", "cashier_fay"]
    assert len(set(signed)) == 5
    # Generated, then the five steps and the bank's receipt, each once, with who took it.
    timeline = page.locator("#roster-timeline li")
    steps = [timeline.nth(i).get_attribute("data-step") for i in range(timeline.count())]
    assert steps == ["generate", "submit", "check", "approve", "prepare-payment", "pay", "bank-receipt"]
    actors = [actor.strip() for actor in page.locator("#roster-timeline .timeline-actor").all_inner_texts()]
    assert actors == ["maker_ann", *signed, "accountant_dan"]

    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAID
    assert [
        roster.made_by,
        roster.checked_by,
        roster.approved_by,
        roster.prepared_by,
        roster.released_by,
        roster.settled_by,
    ] == [
        cast.maker_ann,
        cast.checker_ben,
        cast.approver_cai,
        cast.accountant_dan,
        cast.cashier_fay,
        cast.accountant_dan,
    ]
    assert set(roster.lines.values_list("bank_status", flat=True)) == {BankResult.PAID}


def test_e22_a_receipt_with_a_failed_line_leaves_the_roster_partially_paid_with_the_line_listed(
    page, cast, payees, tmp_path
):
    """E22 step 5: the line the bank refused is FAILED with its message, listed for re-issue."""
    roster = services.roster_generate(
        programme=BenefitProgramme.RESIDENT_PENSION,
        month=OCTOBER,
        township_id=cast.township_a.pk,
        by=cast.maker_ann,
    )
    roster = advance(roster, cast, RosterStatus.PAYING)

    switch_user(page, "cashier_fay")  # either finance post may fetch the file and record the receipt
    open_from_work_queue(page, roster)
    bank_file = download_bank_file(page, "xlsx", tmp_path)
    header, *rows = bank_file_rows(bank_file)
    assert [row[1] for row in rows] == [1, 2, 3]
    assert rows[0][0] == roster.bank_batch and rows[0][3] == roster.lines.get(seq=1).person.id_number
    # The bank refuses line 2: the account was closed.
    receipt = tmp_path / "receipt.xlsx"
    write_workbook(
        receipt,
        [*header, "业务状态", "错误信息"],
        [
            [*row[:1], int(row[1]), *row[2:], *(("失败", "账户已销户") if row[1] == 2 else ("成功", ""))]
            for row in rows
        ],
    )
    upload_receipt(page, receipt)
    expect(page).to_have_url(re.compile(rf"/rosters/{roster.pk}/$"))
    expect(page.locator("#roster-status")).to_have_text("部分支付")
    expect(page.locator("#failed-total")).to_contain_text("164.58")
    failed = page.locator("#failed-line-rows tr[data-failed-seq]")
    expect(failed).to_have_count(1)
    expect(failed.first).to_have_attribute("data-failed-seq", "2")
    expect(failed.first.locator(".bank-message")).to_have_text("账户已销户")
    page.screenshot(path="/tmp/ui-roster-partially-paid.png", full_page=True)

    roster.refresh_from_db()
    assert (roster.status, roster.failed_persons, roster.paid_persons) == (RosterStatus.PARTIALLY_PAID, 1, 2)
    assert roster.lines.get(seq=2).bank_status == BankResult.FAILED


def test_show_more_brings_each_tables_next_lines_into_that_table(page, cast, monkeypatch):
    """The keyset "show more" row (benefits/_show_more_row.html) in a browser: htmx names the row it
    replaces in HX-Target, so the roster's lines (DOMAIN §8.3) and the lines failed at the bank
    (E22 step 5) each get their own next page, and the last page has no "show more"."""
    monkeypatch.setattr(views, "LINE_PAGE_SIZE", 2)
    monkeypatch.setattr(views_finance, "FAILED_PAGE_SIZE", 1)
    roster = settle(roster_in(RosterStatus.PAYING, cast, count=3), cast, failed=2)

    log_in(page, "checker_ben")  # everyone who sees the roster sees what failed
    page.goto(f"/rosters/{roster.pk}/")
    lines = page.locator("#roster-line-rows tr[data-seq]")
    failed = page.locator("#failed-line-rows tr[data-failed-seq]")
    expect(lines).to_have_count(2)
    expect(failed).to_have_count(1)

    page.locator("#next-lines").get_by_role("link").click()
    expect(lines).to_have_count(3)
    expect(page.locator("#next-lines")).to_have_count(0)
    expect(failed).to_have_count(1)  # the other table is left as it was

    page.locator("#next-failed-lines").get_by_role("link").click()
    expect(failed).to_have_count(2)
    assert [row.get_attribute("data-failed-seq") for row in failed.all()] == ["2", "3"]
    expect(page.locator("#next-failed-lines")).to_have_count(0)
    expect(lines).to_have_count(3)
