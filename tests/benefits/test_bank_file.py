"""GET /api/rosters/{id}/bank-file/ (issue 4 "Payment"; DOMAIN §8.3 bank file fields, E22 step 4):
the finance posts download the payment instruction once the accountant prepared it; every download
is audited like an unmask; csv by COPY, xlsx inline or, for a long roster, from a Celery task.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from socialsec.celery import app as celery_app
from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.services import LineInput
from tests.factories import PersonFactory, UserFactory
from tests.rosters.factories import NOVEMBER, draft_roster, lines_for, payees, roster_in

pytestmark = pytest.mark.django_db


def fresh(api, user):
    return api.as_user(User.objects.get(pk=user.pk))


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def read_xlsx(content: bytes, tmp_path) -> list[list]:
    path = tmp_path / "file.xlsx"
    path.write_bytes(content)
    with CalamineWorkbook.from_path(str(path)) as workbook:
        return workbook.get_sheet_by_index(0).to_python()


@pytest.fixture
def tasks_run_here():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def test_e22_the_accountant_downloads_the_bank_file_with_every_field_of_domain_8_3(api, cast):
    roster = roster_in("prepared", cast)
    response = fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{roster.bank_batch}.csv"' in response["Content-Disposition"]
    header, *rows = read_csv(response)
    # zh-hans by default: 批量批次号, 序号, 发放年月, 公民身份号码, 姓名, 社保卡号或银行账号, 金额, 区划代码
    assert header == [
        "批量批次号",
        "序号",
        "发放年月",
        "公民身份号码",
        "姓名",
        "社保卡号或银行账号",
        "金额",
        "区划代码",
    ]
    lines = list(roster.lines.select_related("person", "person__village").order_by("seq"))
    assert rows == [
        [
            roster.bank_batch,
            str(line.seq),
            "2025-10",
            line.person.id_number,  # in full: the bank pays by it
            line.person.name,
            line.account_number,
            f"{line.net:.2f}",
            line.person.village.code,
        ]
        for line in lines
    ]
    assert roster.bank_batch.startswith(roster.number)


def test_every_download_is_recorded_in_the_audit_trail_naming_the_user(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    fresh(api, cast.cashier_fay).get(f"/api/rosters/{roster.pk}/bank-file/?format=csv")
    fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/?format=xlsx")
    events = (
        roster.events.filter(pgh_label="bank_file_download").select_related("pgh_context").order_by("pgh_id")
    )
    assert [(e.pgh_context.metadata["user"], e.pgh_context.metadata["format"]) for e in events] == [
        (cast.cashier_fay.pk, "csv"),
        (cast.accountant_dan.pk, "xlsx"),
    ]
    # Not a workflow step: the roster's timeline stays the steps only.
    body = fresh(api, cast.cashier_fay).get(f"/api/rosters/{roster.pk}/").json()
    assert [entry["step"] for entry in body["timeline"]][-1] == "pay"


def test_the_xlsx_bank_file_holds_the_same_rows_with_ids_as_text(api, cast, tmp_path):
    roster = roster_in(RosterStatus.PAID, cast)
    response = fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/?format=xlsx")
    assert response.status_code == 200
    header, *rows = read_xlsx(response.content, tmp_path)
    assert header[0] == "批量批次号"
    first = roster.lines.select_related("person").get(seq=1)
    assert rows[0][:4] == [roster.bank_batch, 1, "2025-10", first.person.id_number]
    assert rows[0][6] == float(first.net)
    assert len(rows) == 3


def test_names_and_accounts_that_a_spreadsheet_would_run_are_neutralised_in_csv_and_xlsx(api, cast, tmp_path):
    evil = PersonFactory(village=cast.village_a, name='=HYPERLINK("http://x","点我")')
    lines = [
        LineInput(person_id=evil.pk, basic=Decimal("143.00"), account_number="+6217000000000000001"),
        *lines_for(payees(cast.village_a, 1)),
    ]
    roster = roster_in("prepared", cast, lines=lines)
    client = fresh(api, cast.accountant_dan)
    rows = read_csv(client.get(f"/api/rosters/{roster.pk}/bank-file/?format=csv"))
    assert rows[1][4] == '\'=HYPERLINK("http://x","点我")'
    assert rows[1][5] == "'+6217000000000000001"
    sheet = read_xlsx(client.get(f"/api/rosters/{roster.pk}/bank-file/?format=xlsx").content, tmp_path)
    assert sheet[1][4] == '\'=HYPERLINK("http://x","点我")'
    assert sheet[1][5] == "'+6217000000000000001"


@pytest.mark.usefixtures("english_messages")
def test_the_header_follows_the_callers_language(api, cast):
    roster = roster_in("prepared", cast)
    response = fresh(api, cast.accountant_dan).get(
        f"/api/rosters/{roster.pk}/bank-file/?format=csv", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert read_csv(response)[0][:3] == ["bank batch number", "line number", "payout month"]


def test_only_the_finance_posts_may_download_it_403(api, cast):
    roster = roster_in("prepared", cast)
    for user in (cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.auditor_gus, cast.leader_hua):
        response = fresh(api, user).get(f"/api/rosters/{roster.pk}/bank-file/")
        assert response.status_code == 403, user.username
    assert not roster.events.filter(pgh_label="bank_file_download").exists()


def test_a_roster_of_another_township_is_404_like_a_missing_one(api, cast):
    roster = roster_in("prepared", cast)
    accountant_b = UserFactory(
        username="accountant_b", roles=[Role.FINANCE, Role.ACCOUNTANT], townships=[cast.township_b]
    )
    assert fresh(api, accountant_b).get(f"/api/rosters/{roster.pk}/bank-file/").status_code == 404
    assert (
        fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk + 999}/bank-file/").status_code == 404
    )


@pytest.mark.parametrize("status", [RosterStatus.SUBMITTED, RosterStatus.APPROVED])
def test_before_the_payment_instruction_is_prepared_it_is_409(api, cast, status):
    roster = roster_in(status, cast)
    response = fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/")
    assert response.status_code == 409
    assert response.json()["number"] == roster.number


def test_an_unknown_format_is_400(api, cast):
    roster = roster_in("prepared", cast)
    assert (
        fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/?format=pdf").status_code
        == 400
    )


@pytest.mark.parametrize("format_", ["csv", "xlsx"])
def test_the_download_runs_the_same_queries_for_three_and_for_thirty_lines(api, cast, format_):
    small = roster_in("prepared", cast, count=3)
    large = roster_in("prepared", cast, count=30, period=NOVEMBER)

    def count(roster) -> int:
        client = fresh(api, cast.accountant_dan)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/rosters/{roster.pk}/bank-file/?format={format_}")
            if format_ == "csv":
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(captured)

    assert count(small) == count(large) <= 12


def test_a_long_rosters_xlsx_is_built_in_celery_202_then_ready_then_downloaded(
    api, cast, settings, tmp_path, tasks_run_here, django_capture_on_commit_callbacks
):
    settings.ROSTER_XLSX_INLINE_MAX_LINES = 2
    settings.MEDIA_ROOT = tmp_path / "media"
    roster = roster_in("prepared", cast, count=3)
    client = fresh(api, cast.accountant_dan)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/api/rosters/{roster.pk}/bank-file/?format=xlsx")
    assert response.status_code == 202
    status = client.get(response.json()["status_url"]).json()
    assert status["status"] == "ready"
    assert not roster.events.filter(pgh_label="bank_file_download").exists()  # nothing delivered yet
    download = client.get(status["download_url"])
    assert download.status_code == 200
    rows = read_xlsx(b"".join(download.streaming_content), tmp_path)
    assert [row[1] for row in rows[1:]] == [1, 2, 3]
    assert roster.events.filter(pgh_label="bank_file_download").count() == 1
    # A token belongs to its roster; the status and the file are the finance posts' only.
    other_roster = response.json()["status_url"].replace(f"/{roster.pk}/exports/", "/0/exports/")
    assert client.get(other_roster).status_code == 404
    assert fresh(api, cast.checker_ben).get(response.json()["status_url"]).status_code == 403


def test_an_export_token_never_reaches_outside_the_export_folder(api, cast):
    roster = roster_in("prepared", cast)
    client = fresh(api, cast.accountant_dan)
    assert client.get(f"/api/rosters/{roster.pk}/exports/bank-..%2F..%2Fsecret/").status_code == 404
    assert client.get(f"/api/rosters/{roster.pk}/exports/bank-{'0' * 32}/").status_code == 404


def test_a_draft_cannot_be_paid_so_it_has_no_bank_file(api, cast):
    roster = draft_roster(cast)
    assert fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/").status_code == 409
