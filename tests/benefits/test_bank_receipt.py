"""POST /api/rosters/{id}/bank-receipt/ (issue 4 "Payment"; DOMAIN §8.3 receipt round trip, E22 step 5):
finance uploads the bank's receipt file; every row is checked before anything is recorded; the
roster becomes PAID or PARTIALLY_PAID; the same file again changes nothing; failed lines are listed.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.lib.spreadsheets import write_workbook
from socialsec.rosters.choices import BankResult, RosterStatus
from tests.factories import UserFactory
from tests.rosters.factories import NOVEMBER, roster_in

pytestmark = pytest.mark.django_db


def fresh(api, user):
    return api.as_user(User.objects.get(pk=user.pk))


def csv_file(text: str, name: str = "receipt.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def receipt_for(roster, *, failed: dict[int, str] | None = None) -> str:
    """A receipt in the bank's Chinese labels: 批量批次号, 顺序号, 业务状态, 错误信息."""
    failed = failed or {}
    lines = ["批量批次号,顺序号,业务状态,错误信息"]
    for seq in roster.lines.order_by("seq").values_list("seq", flat=True):
        lines.append(f"{roster.bank_batch},{seq},{'失败' if seq in failed else '成功'},{failed.get(seq, '')}")
    return "\n".join(lines) + "\n"


def post(api, user, roster, upload):
    return fresh(api, user).post(
        f"/api/rosters/{roster.pk}/bank-receipt/", {"file": upload}, format="multipart"
    )


def test_e22_receipt_round_trip_partially_paid_failed_lines_listed_same_file_again_changes_nothing(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast, count=4)
    text = receipt_for(roster, failed={2: "账户已销户", 4: "户名不符"})
    response = post(api, cast.accountant_dan, roster, csv_file(text))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "partially_paid"
    assert (body["paid_persons"], body["failed_persons"]) == (2, 2)
    # DOMAIN E22 step 6: Σ paid + Σ failed = roster total.
    assert body["paid_amount"] == body["failed_amount"] == "329.16"
    assert body["total_amount"] == "658.32"

    failed = fresh(api, cast.cashier_fay).get(f"/api/rosters/{roster.pk}/failed-lines/").json()["results"]
    assert [(line["seq"], line["bank_status"], line["bank_message"]) for line in failed] == [
        (2, "failed", "账户已销户"),
        (4, "failed", "户名不符"),
    ]

    events_before = roster.events.count()
    line_events_before = apps.get_model("benefits", "PayoutLineEvent").objects.count()
    again = post(api, cast.cashier_fay, roster, csv_file(text))
    assert again.status_code == 200
    assert again.json()["status"] == "partially_paid"
    assert roster.events.count() == events_before
    assert apps.get_model("benefits", "PayoutLineEvent").objects.count() == line_events_before
    roster.refresh_from_db()
    assert roster.settled_by_id == cast.accountant_dan.pk


def test_an_xlsx_receipt_with_english_headers_and_no_batch_column_settles_the_roster_paid(
    api, cast, tmp_path
):
    roster = roster_in(RosterStatus.PAYING, cast)
    path = tmp_path / "receipt.xlsx"
    write_workbook(
        path,
        ["Line sequence", "Status", "Bank message"],
        [[1, "success", ""], [2, "OK", ""], [3, "Paid", ""]],
    )
    upload = SimpleUploadedFile("receipt.xlsx", path.read_bytes())
    response = post(api, cast.cashier_fay, roster, upload)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert set(roster.lines.values_list("bank_status", flat=True)) == {BankResult.PAID}


def test_our_own_bank_file_with_two_columns_added_comes_back_as_a_receipt(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    bank_file = fresh(api, cast.accountant_dan).get(f"/api/rosters/{roster.pk}/bank-file/?format=csv")
    rows = b"".join(bank_file.streaming_content).decode("utf-8-sig").splitlines()
    text = "\n".join([rows[0] + ",银行回盘结果,银行反馈信息"] + [row + ",成功," for row in rows[1:]]) + "\n"
    assert post(api, cast.accountant_dan, roster, csv_file(text)).json()["status"] == "paid"


def _bad_receipt(roster) -> str:
    batch = roster.bank_batch
    return (
        "花名册回执,,,\n"  # a title row above the header, as banks send
        "批量批次号,顺序号,业务状态,错误信息\n"
        f"{batch},1,成功,\n"
        f"{batch},,成功,\n"  # row 4: no line number
        f"{batch},abc,成功,\n"  # row 5: not a number
        f"{batch},99,成功,\n"  # row 6: no such line
        f"{batch},1,成功,\n"  # row 7: line 1 again
        f"{batch},2,也许,\n"  # row 8: not a result
        "OTHER-BATCH,3,失败,账户冻结\n"  # row 9: another batch
    )


def test_bad_rows_are_400_with_row_column_and_value_in_chinese_and_nothing_is_recorded(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = post(api, cast.accountant_dan, roster, csv_file(_bad_receipt(roster)))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [(row["row"], row["column"], row["value"]) for row in body["rows"]] == [
        (4, "序号", ""),
        (5, "序号", "abc"),
        (6, "序号", "99"),
        (7, "序号", "1"),
        (8, "银行回盘结果", "也许"),
        (9, "批量批次号", "OTHER-BATCH"),
    ]
    assert body["rows"][0]["reason"] == "此单元格为空，必须填写。"
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING
    assert set(roster.lines.values_list("bank_status", flat=True)) == {BankResult.PENDING}


@pytest.mark.usefixtures("english_messages")
def test_bad_rows_name_row_column_value_and_reason_in_english(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    client_en = fresh(api, cast.accountant_dan)
    response = client_en.post(
        f"/api/rosters/{roster.pk}/bank-receipt/",
        {"file": csv_file(_bad_receipt(roster))},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    rows = response.json()["rows"]
    assert [(row["row"], row["column"], row["value"], row["reason"]) for row in rows] == [
        (4, "line number", "", "This cell is empty; it must be filled in."),
        (5, "line number", "abc", "abc is not a line number."),
        (6, "line number", "99", f"Roster {roster.number} has no line 99."),
        (7, "line number", "1", "Line 1 is also in row 3; name each line once."),
        (8, "bank result", "也许", "“也许” is not a bank result: write success (成功) or failure (失败)."),
        (
            9,
            "bank batch number",
            "OTHER-BATCH",
            f"The batch number OTHER-BATCH is not this roster's ({roster.bank_batch}).",
        ),
    ]


@pytest.mark.usefixtures("english_messages")
def test_a_receipt_that_leaves_out_lines_is_400_naming_them(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = fresh(api, cast.accountant_dan).post(
        f"/api/rosters/{roster.pk}/bank-receipt/",
        {"file": csv_file("顺序号,业务状态\n1,成功\n")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["missing_lines"] == [2, 3]
    assert "lacks 2 lines" in response.json()["detail"]


def test_a_csv_with_ragged_lines_is_400_not_a_crash(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = post(api, cast.accountant_dan, roster, csv_file("回执\n顺序号,业务状态,错误信息\n1,成功,\n"))
    assert response.status_code == 400
    assert response.json()["code"] == "not_a_spreadsheet"


def test_a_file_without_the_required_columns_is_400(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    response = post(api, cast.accountant_dan, roster, csv_file("姓名,金额\n张三,1\n"))
    assert response.status_code == 400
    assert response.json()["code"] in ("no_header", "missing_columns")


def test_a_different_receipt_for_a_settled_roster_is_409(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    assert post(api, cast.accountant_dan, roster, csv_file(receipt_for(roster))).status_code == 200
    other = receipt_for(roster, failed={1: "账户已销户"})
    assert post(api, cast.accountant_dan, roster, csv_file(other)).status_code == 409


def test_only_finance_records_a_receipt_403(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    for user in (cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.auditor_gus):
        assert post(api, user, roster, csv_file(receipt_for(roster))).status_code == 403, user.username


def test_a_roster_of_another_township_is_404(api, cast):
    roster = roster_in(RosterStatus.PAYING, cast)
    finance_b = UserFactory(
        username="finance_b", roles=[Role.FINANCE, Role.CASHIER], townships=[cast.township_b]
    )
    assert post(api, finance_b, roster, csv_file(receipt_for(roster))).status_code == 404


@pytest.mark.parametrize("status", [RosterStatus.CHECKED, "prepared"])
def test_before_the_payment_is_released_a_receipt_is_409(api, cast, status):
    roster = roster_in(status, cast)
    response = post(api, cast.accountant_dan, roster, csv_file("顺序号,业务状态\n1,成功\n2,成功\n3,成功\n"))
    assert response.status_code == 409
    assert response.json()["number"] == roster.number


def test_the_upload_runs_the_same_queries_for_three_and_for_thirty_lines(api, cast):
    small = roster_in(RosterStatus.PAYING, cast, count=3)
    large = roster_in(RosterStatus.PAYING, cast, count=30, period=NOVEMBER)

    def count(roster) -> int:
        upload = csv_file(receipt_for(roster, failed={2: "账户已销户"}))
        client = fresh(api, cast.accountant_dan)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                f"/api/rosters/{roster.pk}/bank-receipt/", {"file": upload}, format="multipart"
            )
        assert response.status_code == 200, response.content
        return len(captured)

    assert count(small) == count(large)


def test_the_failed_lines_endpoint_is_scoped_and_needs_the_view_permission(api, cast):
    roster = roster_in(RosterStatus.PARTIALLY_PAID, cast)
    assert fresh(api, cast.outsider_eve).get(f"/api/rosters/{roster.pk}/failed-lines/").status_code == 404
    assert fresh(api, cast.leader_hua).get(f"/api/rosters/{roster.pk}/failed-lines/").status_code == 403
    rows = fresh(api, cast.maker_ann).get(f"/api/rosters/{roster.pk}/failed-lines/").json()["results"]
    assert [row["seq"] for row in rows] == [3]
