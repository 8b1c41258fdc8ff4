"""Finance on the roster page (issue 4 "Screens and API"; DOMAIN §8.3 bank file and receipt round trip,
E22 steps 4–6): the bank file downloaded as csv or xlsx once the payment instruction is prepared,
the bank's receipt uploaded by finance (PAID or PARTIALLY_PAID, the failed lines listed with the
bank's message for re-issue), a bad receipt refused naming row, column and value, the same receipt
twice changing nothing. The rules are the API's (tests/benefits/test_bank_file.py,
test_bank_receipt.py); these tests hold the pages to them: 403, 404, 409 and constant queries.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from benefits import services, views_finance
from benefits.models import PayoutRoster
from socialsec.celery import app as celery_app
from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.lib.spreadsheets import write_workbook
from socialsec.rosters.choices import BankResult, RosterStatus
from tests.factories import UserFactory
from tests.rosters.factories import NOVEMBER, draft_roster, roster_in, settle

pytestmark = pytest.mark.django_db


def detail(roster: PayoutRoster) -> str:
    return f"/rosters/{roster.pk}/"


def bank_file_url(roster: PayoutRoster, format_: str = "csv") -> str:
    return f"/rosters/{roster.pk}/bank-file/?format={format_}"


def receipt_url(roster: PayoutRoster) -> str:
    return f"/rosters/{roster.pk}/bank-receipt/"


def as_user(client, user: User, *, english: bool = False):
    client.force_login(User.objects.get(pk=user.pk))  # a fresh user: no permission cache carried over
    if english:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def xlsx_rows(content: bytes, tmp_path) -> list[list]:
    path = tmp_path / "bank.xlsx"
    path.write_bytes(content)
    with CalamineWorkbook.from_path(str(path)) as workbook:
        return workbook.get_sheet_by_index(0).to_python()


def receipt_csv(roster: PayoutRoster, *, failed: dict[int, str] | None = None) -> SimpleUploadedFile:
    """A receipt in the bank's Chinese labels: 批量批次号, 顺序号, 业务状态, 错误信息."""
    failed = failed or {}
    rows = ["批量批次号,顺序号,业务状态,错误信息"]
    for seq in roster.lines.order_by("seq").values_list("seq", flat=True):
        rows.append(f"{roster.bank_batch},{seq},{'失败' if seq in failed else '成功'},{failed.get(seq, '')}")
    return SimpleUploadedFile("receipt.csv", ("\n".join(rows) + "\n").encode(), content_type="text/csv")


def upload(client, roster: PayoutRoster, file: SimpleUploadedFile, note: str = ""):
    return client.post(receipt_url(roster), {"file": file, "note": note})


def downloads(roster: PayoutRoster) -> list[tuple[int, str]]:
    events = (
        roster.events.filter(pgh_label="bank_file_download").select_related("pgh_context").order_by("pgh_id")
    )
    return [(e.pgh_context.metadata["user"], e.pgh_context.metadata["format"]) for e in events]


# --- The bank file on the roster page ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "username", "offered"),
    [
        (RosterStatus.APPROVED, "accountant_dan", False),  # not prepared yet: no instruction to download
        ("prepared", "accountant_dan", True),
        ("prepared", "cashier_fay", True),
        (RosterStatus.PAYING, "cashier_fay", True),
        (RosterStatus.PARTIALLY_PAID, "accountant_dan", True),
        ("prepared", "approver_cai", False),
        (RosterStatus.PAYING, "maker_ann", False),
        (RosterStatus.PAYING, "auditor_gus", False),
    ],
)
def test_the_bank_file_is_offered_to_the_finance_posts_once_the_payment_is_prepared(
    client, cast, status, username, offered
):
    """DOMAIN §8.3, E22 step 4: the same rule as GET /api/rosters/{id}/bank-file/."""
    roster = roster_in(status, cast)
    html = as_user(client, getattr(cast, username)).get(detail(roster)).content.decode()
    assert ('id="bank-file-csv"' in html) is offered
    assert ('id="bank-file-xlsx"' in html) is offered
    if offered:
        assert f'href="/rosters/{roster.pk}/bank-file/?format=csv"' in html


def test_e22_the_accountant_downloads_the_bank_file_as_csv_the_same_as_the_api_and_it_is_audited(
    client, api, cast
):
    roster = roster_in("prepared", cast)
    response = as_user(client, cast.accountant_dan).get(bank_file_url(roster))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{roster.bank_batch}.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    from_api = csv_rows(api.as_user(cast.cashier_fay).get(f"/api/rosters/{roster.pk}/bank-file/?format=csv"))
    assert rows == from_api
    assert rows[0][:2] == ["批量批次号", "序号"]
    first = roster.lines.select_related("person").get(seq=1)
    assert rows[1][:4] == [roster.bank_batch, "1", "2025-10", first.person.id_number]
    assert len(rows) == 4
    assert downloads(roster) == [(cast.accountant_dan.pk, "csv"), (cast.cashier_fay.pk, "csv")]


def test_the_cashier_downloads_the_xlsx_bank_file_with_the_same_rows(client, cast, tmp_path):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = as_user(client, cast.cashier_fay).get(bank_file_url(roster, "xlsx"))
    assert response.status_code == 200
    assert f'filename="{roster.bank_batch}.xlsx"' in response["Content-Disposition"]
    header, *rows = xlsx_rows(response.content, tmp_path)
    assert header[0] == "批量批次号"
    assert [row[1] for row in rows] == [1, 2, 3]
    assert rows[0][3] == roster.lines.select_related("person").get(seq=1).person.id_number
    assert downloads(roster) == [(cast.cashier_fay.pk, "xlsx")]


def test_the_bank_file_is_403_for_the_business_posts_and_the_auditor_and_nothing_is_recorded(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    for user in (cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.auditor_gus, cast.leader_hua):
        response = as_user(client, user).get(bank_file_url(roster))
        assert response.status_code == 403, user.username
    assert downloads(roster) == []


def test_another_townships_bank_file_is_404_like_a_missing_one(client, cast):
    roster = roster_in("prepared", cast)
    accountant_b = UserFactory(
        username="accountant_b", roles=[Role.FINANCE, Role.ACCOUNTANT], townships=[cast.township_b]
    )
    assert as_user(client, accountant_b).get(bank_file_url(roster)).status_code == 404
    missing = f"/rosters/{roster.pk + 999}/bank-file/?format=csv"
    assert as_user(client, cast.accountant_dan).get(missing).status_code == 404


@pytest.mark.parametrize("status", [RosterStatus.CHECKED, RosterStatus.APPROVED])
def test_before_the_payment_instruction_is_prepared_the_bank_file_is_409_naming_the_roster(
    client, cast, status
):
    roster = roster_in(status, cast)
    response = as_user(client, cast.accountant_dan).get(bank_file_url(roster))
    assert response.status_code == 409
    html = response.content.decode()
    assert roster.number in html and 'data-error-code="invalid_state"' in html


@pytest.mark.usefixtures("english_messages")
def test_an_unknown_bank_file_format_is_400(client, cast):
    roster = roster_in("prepared", cast)
    response = as_user(client, cast.accountant_dan, english=True).get(bank_file_url(roster, "pdf"))
    assert response.status_code == 400
    assert "Choose the format csv or xlsx." in response.content.decode()


@pytest.mark.parametrize("format_", ["csv", "xlsx"])
def test_the_download_runs_the_same_queries_for_three_lines_and_for_thirty(client, cast, format_):
    small = roster_in("prepared", cast, count=3)
    large = roster_in("prepared", cast, count=30, period=NOVEMBER)

    def count(roster: PayoutRoster) -> int:
        page = as_user(client, cast.accountant_dan)
        with CaptureQueriesContext(connection) as captured:
            response = page.get(bank_file_url(roster, format_))
            if format_ == "csv":
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(captured)

    assert count(small) == count(large)


@pytest.fixture
def tasks_run_here():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.mark.usefixtures("english_messages")
def test_a_long_rosters_xlsx_is_built_in_celery_and_its_page_offers_it_when_ready(
    client, cast, settings, tmp_path, tasks_run_here, django_capture_on_commit_callbacks
):
    settings.ROSTER_XLSX_INLINE_MAX_LINES = 2
    settings.MEDIA_ROOT = tmp_path / "media"
    roster = roster_in("prepared", cast, count=3)
    client = as_user(client, cast.accountant_dan, english=True)
    assert "built in the background" in client.get(detail(roster)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(bank_file_url(roster, "xlsx"))
    assert response.status_code == 302
    export_page = response["Location"]
    token = re.fullmatch(rf"/rosters/{roster.pk}/bank-file/(bank-[0-9a-f]{{32}})/", export_page).group(1)
    assert downloads(roster) == []  # nothing delivered yet
    html = client.get(export_page).content.decode()
    assert 'data-status="ready"' in html
    file_url = f"/api/rosters/{roster.pk}/exports/{token}/file/"
    assert f'href="{file_url}"' in html
    # htmx polls the status alone.
    partial = client.get(export_page, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="bank-export"') and "<nav" not in partial
    rows = xlsx_rows(b"".join(client.get(file_url).streaming_content), tmp_path)
    assert [row[1] for row in rows[1:]] == [1, 2, 3]
    assert downloads(roster) == [(cast.accountant_dan.pk, "xlsx")]
    # The export page is the finance posts', and a token is only ever a bank export of this roster.
    assert as_user(client, cast.checker_ben).get(export_page).status_code == 403
    client = as_user(client, cast.accountant_dan)
    assert client.get(f"/rosters/{roster.pk}/bank-file/bank-{'0' * 32}/").status_code == 404
    assert client.get(f"/rosters/{roster.pk}/bank-file/roster-{'0' * 32}/").status_code == 404


def test_while_the_xlsx_is_being_built_its_page_polls_itself(client, cast, settings, tmp_path):
    settings.ROSTER_XLSX_INLINE_MAX_LINES = 2
    settings.MEDIA_ROOT = tmp_path / "media"
    roster = roster_in("prepared", cast, count=3)
    client = as_user(client, cast.accountant_dan)
    # No on-commit here: the task is queued only when the test's transaction commits, which it never does.
    response = client.get(bank_file_url(roster, "xlsx"))
    html = client.get(response["Location"]).content.decode()
    assert 'data-status="pending"' in html
    assert f'hx-get="{response["Location"]}" hx-trigger="every 2s"' in html


# --- The bank's receipt --------------------------------------------------------------------------------


def test_the_receipt_form_is_on_the_page_of_a_paying_roster_for_finance_only(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    for user in (cast.accountant_dan, cast.cashier_fay):
        html = as_user(client, user).get(detail(roster)).content.decode()
        assert (
            f'action="/rosters/{roster.pk}/bank-receipt/"' in html and 'enctype="multipart/form-data"' in html
        )
    for user in (cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.auditor_gus):
        html = as_user(client, user).get(detail(roster)).content.decode()
        assert 'id="receipt-form"' not in html, user.username
    prepared = roster_in("prepared", cast, period=NOVEMBER)
    assert (
        'id="receipt-form"' not in as_user(client, cast.accountant_dan).get(detail(prepared)).content.decode()
    )


@pytest.mark.usefixtures("english_messages")
def test_e22_a_receipt_with_failed_lines_makes_the_roster_partially_paid_and_lists_them_for_re_issue(
    client, cast
):
    """E22 step 5–6: the two refused lines become FAILED with the bank's message, the roster
    PARTIALLY_PAID, and Σ paid + Σ failed = the roster's total."""
    roster = roster_in(RosterStatus.PAYING, cast, count=4)
    client = as_user(client, cast.accountant_dan, english=True)
    response = upload(
        client, roster, receipt_csv(roster, failed={2: "账户已销户", 4: "户名不符"}), note="十月回盘"
    )
    assert (response.status_code, response["Location"]) == (302, detail(roster))
    roster.refresh_from_db()
    assert (roster.status, roster.settled_by) == (RosterStatus.PARTIALLY_PAID, cast.accountant_dan)
    assert (roster.paid_persons, roster.failed_persons) == (2, 2)
    assert roster.paid_amount + roster.failed_amount == roster.total_amount
    html = client.get(detail(roster)).content.decode()
    assert 'data-status="partially_paid"' in html
    assert (
        f"The bank&#x27;s receipt is recorded: roster {roster.number} is partially paid. 2 lines "
        f"({roster.failed_amount}) failed at the bank; they are listed below for re-issue."
    ) in html
    failed = re.findall(
        r'<tr data-failed-seq="(\d+)">.*?<td class="text-danger bank-message">([^<]*)</td>', html, re.S
    )
    assert failed == [("2", "账户已销户"), ("4", "户名不符")]
    person = roster.lines.select_related("person").get(seq=2).person
    assert person.id_number not in html  # masked in the failed list too
    assert "十月回盘" in html  # the note is on the timeline
    assert 'id="receipt-form"' not in html  # settled: nothing more to upload


def test_a_receipt_with_every_line_paid_makes_the_roster_paid_with_no_failed_list(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    client = as_user(client, cast.cashier_fay)
    assert upload(client, roster, receipt_csv(roster)).status_code == 302
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAID
    assert set(roster.lines.values_list("bank_status", flat=True)) == {BankResult.PAID}
    html = client.get(detail(roster)).content.decode()
    assert 'data-status="paid">已支付<' in html
    assert 'id="failed-lines"' not in html
    assert 'id="receipt-recorded"' in html


def test_an_xlsx_receipt_with_english_headers_is_read_too(client, cast, tmp_path):
    roster = roster_in(RosterStatus.PAYING, cast)
    path = tmp_path / "receipt.xlsx"
    write_workbook(
        path,
        ["Line sequence", "Status", "Bank message"],
        [[1, "success", ""], [2, "OK", ""], [3, "failed", "closed"]],
    )
    response = upload(
        as_user(client, cast.accountant_dan), roster, SimpleUploadedFile("r.xlsx", path.read_bytes())
    )
    assert response.status_code == 302
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PARTIALLY_PAID
    assert roster.lines.get(seq=3).bank_message == "closed"


def test_the_downloaded_bank_file_with_two_columns_added_comes_back_as_the_receipt(client, cast):
    """DOMAIN §8.3: the receipt round trip, from our own file."""
    roster = roster_in(RosterStatus.PAYING, cast)
    client = as_user(client, cast.accountant_dan)
    header, *rows = csv_rows(client.get(bank_file_url(roster)))
    lines = [",".join([*header, "银行回盘结果", "银行反馈信息"])]
    lines += [",".join([*row, "成功", ""]) for row in rows]
    file = SimpleUploadedFile("back.csv", ("\n".join(lines) + "\n").encode())
    assert upload(client, roster, file).status_code == 302
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAID


@pytest.mark.usefixtures("english_messages")
def test_the_same_receipt_twice_changes_nothing_and_says_so(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    client = as_user(client, cast.accountant_dan, english=True)
    assert upload(client, roster, receipt_csv(roster, failed={1: "账户冻结"})).status_code == 302
    events = roster.events.count()
    line_events = apps.get_model("benefits", "PayoutLineEvent").objects.count()
    client = as_user(client, cast.cashier_fay, english=True)
    again = upload(client, roster, receipt_csv(roster, failed={1: "账户冻结"}))
    assert (again.status_code, again["Location"]) == (302, detail(roster))
    html = client.get(detail(roster)).content.decode()
    assert f"This receipt of roster {roster.number} was recorded already; nothing has changed." in html
    assert roster.events.count() == events
    assert apps.get_model("benefits", "PayoutLineEvent").objects.count() == line_events
    roster.refresh_from_db()
    assert (roster.status, roster.settled_by) == (RosterStatus.PARTIALLY_PAID, cast.accountant_dan)


def _bad_receipt(roster: PayoutRoster) -> SimpleUploadedFile:
    batch = roster.bank_batch
    text = (
        "花名册回执,,,\n"  # a title row above the header, as banks send
        "批量批次号,顺序号,业务状态,错误信息\n"
        f"{batch},1,成功,\n"
        f"{batch},,成功,\n"  # row 4: no line number
        f"{batch},99,成功,\n"  # row 5: no such line
        f"{batch},2,也许,\n"  # row 6: not a result
        "OTHER-BATCH,3,失败,账户冻结\n"  # row 7: another batch
    )
    return SimpleUploadedFile("bad.csv", text.encode())


def bad_cells(html: str) -> list[tuple[str, str, str, str]]:
    cell = r"\s*<td[^>]*>([^<]*)</td>"
    return re.findall(rf'<tr data-row="(\d+)">\s*<td[^>]*>\d+</td>{cell}{cell}{cell}', html)


def test_a_bad_receipt_is_400_naming_row_column_value_and_reason_in_chinese_and_nothing_is_recorded(
    client, cast
):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = upload(as_user(client, cast.accountant_dan), roster, _bad_receipt(roster))
    assert response.status_code == 400
    html = response.content.decode()
    assert [(row, column, value) for row, column, value, _reason in bad_cells(html)] == [
        ("4", "序号", ""),
        ("5", "序号", "99"),
        ("6", "银行回盘结果", "也许"),
        ("7", "批量批次号", "OTHER-BATCH"),
    ]
    assert bad_cells(html)[0][3] == "此单元格为空，必须填写。"
    assert 'id="receipt-form"' in html  # to upload the corrected file
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING
    assert set(roster.lines.values_list("bank_status", flat=True)) == {BankResult.PENDING}


@pytest.mark.usefixtures("english_messages")
def test_a_bad_receipt_reads_in_english_for_a_user_who_chose_english(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    client = as_user(client, cast.accountant_dan, english=True)
    html = upload(client, roster, _bad_receipt(roster)).content.decode()
    assert "The receipt has 4 bad cells; nothing was recorded. Correct them and upload it again." in html
    assert bad_cells(html)[1] == ("5", "line number", "99", f"Roster {roster.number} has no line 99.")
    assert bad_cells(html)[3][1:3] == ("bank batch number", "OTHER-BATCH")


@pytest.mark.usefixtures("english_messages")
def test_a_receipt_that_leaves_out_lines_is_400_naming_them(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    client = as_user(client, cast.accountant_dan, english=True)
    response = upload(client, roster, SimpleUploadedFile("r.csv", "顺序号,业务状态\n1,成功\n".encode()))
    assert response.status_code == 400
    assert f"The receipt lacks 2 lines of roster {roster.number} (2, 3); it must name every line." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "content",
    [
        "姓名,金额\n张三,1\n".encode(),  # not the receipt's columns
        "回执\n顺序号,业务状态,错误信息\n1,成功,\n".encode(),  # ragged lines
        b"\x00\x01\x02 not a spreadsheet",
    ],
)
def test_a_file_that_is_not_a_receipt_is_400_with_a_sentence_not_a_crash(client, cast, content):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = upload(as_user(client, cast.accountant_dan), roster, SimpleUploadedFile("x.csv", content))
    assert response.status_code == 400
    assert 'id="receipt-error" data-error-code="invalid_input"' in response.content.decode()
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING


def test_no_file_is_400_with_the_error_next_to_the_field(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = as_user(client, cast.accountant_dan).post(receipt_url(roster), {"note": ""})
    assert response.status_code == 400
    assert 'id="file-errors"' in response.content.decode()


def test_recording_the_receipt_is_403_for_every_role_but_finance(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    for user in (cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.auditor_gus, cast.leader_hua):
        response = upload(as_user(client, user), roster, receipt_csv(roster))
        assert response.status_code == 403, user.username
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING


def test_finance_who_approved_the_roster_may_not_record_its_receipt(client, cast):
    """DOMAIN §8.2 segregation of duties: finance is none of the business posts."""
    both = UserFactory(
        username="both_lin", roles=[Role.LEADER_IN_CHARGE, Role.FINANCE], townships=[cast.township_a]
    )
    roster = draft_roster(cast)
    for step, user in (
        ("submit", cast.maker_ann),
        ("check", cast.checker_ben),
        ("approve", both),
        ("prepare-payment", cast.accountant_dan),
        ("pay", cast.cashier_fay),
    ):
        services.payout_roster_take_step(roster_id=roster.pk, step=step, by=user)
    response = upload(as_user(client, both), roster, receipt_csv(roster))
    assert response.status_code == 403
    assert 'data-error-code="segregation_of_duties"' in response.content.decode()
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING


def test_another_townships_roster_receipt_is_404(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    finance_b = UserFactory(
        username="finance_b", roles=[Role.FINANCE, Role.CASHIER], townships=[cast.township_b]
    )
    assert upload(as_user(client, finance_b), roster, receipt_csv(roster)).status_code == 404
    missing = PayoutRoster(pk=roster.pk + 999)
    assert upload(as_user(client, cast.accountant_dan), missing, receipt_csv(roster)).status_code == 404


@pytest.mark.parametrize("status", [RosterStatus.CHECKED, "prepared"])
def test_before_the_payment_is_released_a_receipt_is_409_naming_the_roster_and_its_state(
    client, cast, status
):
    roster = roster_in(status, cast)
    response = upload(as_user(client, cast.accountant_dan), roster, receipt_csv(roster))
    assert response.status_code == 409
    html = response.content.decode()
    assert roster.number in html and 'data-error-code="invalid_state"' in html
    roster.refresh_from_db()
    assert roster.settled_at is None


def test_a_different_receipt_for_a_settled_roster_is_409_and_changes_nothing(client, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    client = as_user(client, cast.accountant_dan)
    assert upload(client, roster, receipt_csv(roster)).status_code == 302
    response = upload(client, roster, receipt_csv(roster, failed={1: "账户已销户"}))
    assert response.status_code == 409
    assert roster.number in response.content.decode()
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAID
    assert roster.lines.get(seq=1).bank_status == BankResult.PAID


def test_the_upload_runs_the_same_queries_for_three_lines_and_for_thirty(client, cast):
    small = roster_in(RosterStatus.PAYING, cast, count=3)
    large = roster_in(RosterStatus.PAYING, cast, count=30, period=NOVEMBER)

    def count(roster: PayoutRoster) -> int:
        page = as_user(client, cast.accountant_dan)
        file = receipt_csv(roster, failed={2: "账户已销户"})
        with CaptureQueriesContext(connection) as captured:
            response = upload(page, roster, file)
        assert response.status_code == 302
        return len(captured)

    assert count(small) == count(large)


# --- The failed lines on the roster page ---------------------------------------------------------------


def test_the_roster_page_with_failed_lines_runs_the_same_queries_for_one_failed_line_and_for_twelve(
    client, cast
):
    few = settle(roster_in(RosterStatus.PAYING, cast, count=3), cast, failed=1)
    many = settle(roster_in(RosterStatus.PAYING, cast, count=20, period=NOVEMBER), cast, failed=12)

    def count(roster: PayoutRoster, user: User) -> tuple[int, str]:
        page = as_user(client, user)
        with CaptureQueriesContext(connection) as captured:
            response = page.get(detail(roster))
        assert response.status_code == 200
        return len(captured), response.content.decode()

    for user in (cast.accountant_dan, cast.maker_ann):
        (few_queries, few_html), (many_queries, many_html) = count(few, user), count(many, user)
        assert few_queries == many_queries, user.username
        assert len(re.findall(r"<tr data-failed-seq=", few_html)) == 1
        assert len(re.findall(r"<tr data-failed-seq=", many_html)) == 12


def test_the_failed_lines_come_in_keyset_pages_and_htmx_gets_the_next_rows_only(client, cast, monkeypatch):
    monkeypatch.setattr(views_finance, "FAILED_PAGE_SIZE", 2)
    roster = settle(roster_in(RosterStatus.PAYING, cast, count=6), cast, failed=5)
    client = as_user(client, cast.checker_ben)  # everyone who sees the roster sees what failed
    html = client.get(detail(roster)).content.decode()
    assert re.findall(r'<tr data-failed-seq="(\d+)"', html) == ["2", "3"]
    rest = client.get(
        f"{detail(roster)}?after=3", headers={"HX-Request": "true", "HX-Target": "next-failed-lines"}
    ).content.decode()
    assert re.findall(r'<tr data-failed-seq="(\d+)"', rest) == ["4", "5"]
    assert 'id="next-failed-lines"' in rest and "?after=5" in rest and "<nav" not in rest
    assert (
        as_user(client, cast.outsider_eve)
        .get(f"{detail(roster)}?after=3", headers={"HX-Request": "true", "HX-Target": "next-failed-lines"})
        .status_code
        == 404
    )
