"""Files in and out of a roster, below the pages and the API (DOMAIN §8.3 bank file, receipt round trip):
the csv's formula guard written in SQL agrees with the xlsx's, the printed total counts persons in the
right number, a receipt's refusal counts its bad cells and missing lines in the right number, and an
uploaded receipt reads as the same file on disk does.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from python_calamine import CalamineWorkbook

from socialsec.core.exceptions import InvalidInput
from socialsec.lib.spreadsheets import neutralize
from socialsec.rosters import exports, receipts
from socialsec.rosters.choices import RosterStatus
from tests.rosters.factories import roster_in

pytestmark = pytest.mark.django_db

# Text a spreadsheet would run (each trigger character first), and text it would not.
CELLS = ["=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx", "a=b", "张三", "", "'=quoted"]


def test_the_csv_neutralises_in_sql_exactly_what_spreadsheets_neutralize_does_for_the_xlsx():
    """DOMAIN §8.3 bank file: the csv (one COPY) and the xlsx (xlsxwriter) hold the same text, so a
    name or account that starts a formula is defused the same way in both."""
    sql = f"SELECT {exports._safe_text('cell')} FROM (SELECT %s::text AS cell) given"
    with connection.cursor() as cursor:
        for cell in CELLS:
            cursor.execute(sql, [cell])
            assert cursor.fetchone()[0] == neutralize(cell), repr(cell)


@pytest.mark.usefixtures("english_messages")
def test_the_printed_xlsx_total_counts_one_person_in_the_singular(cast, tmp_path):
    """DOMAIN §8.3 footer: the total number of persons (人数), in the reader's language and grammar."""
    one = roster_in(RosterStatus.SUBMITTED, cast, count=1)
    path = tmp_path / "roster.xlsx"
    exports.write_roster_xlsx(one, path, full_ids=False)
    with CalamineWorkbook.from_path(str(path)) as workbook:
        rows = workbook.get_sheet_by_index(0).to_python()
    assert next(row for row in rows if row[0] == "Total")[1] == "1 person"


def receipt(roster, rows: list[str]) -> bytes:
    lines = ["批量批次号,顺序号,业务状态,错误信息", *(f"{roster.bank_batch},{row}" for row in rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.usefixtures("english_messages")
def test_a_receipt_with_one_bad_cell_says_so_in_the_singular(cast, tmp_path):
    """DOMAIN §8.3 receipt: a bad row refuses the whole file and the message counts what to correct."""
    roster = roster_in(RosterStatus.PAYING, cast)
    path = tmp_path / "receipt.csv"
    path.write_bytes(receipt(roster, ["1,成功,", "2,成功,", "3,也许,"]))
    with pytest.raises(InvalidInput) as refused:
        receipts.receipt_results(roster=roster, path=path)
    assert str(refused.value.message) == (
        "The receipt has 1 bad cell; nothing was recorded. Correct it and upload it again."
    )
    assert [(row["row"], row["column"]) for row in refused.value.details["rows"]] == [(4, "bank result")]


@pytest.mark.usefixtures("english_messages")
def test_a_receipt_lacking_one_line_names_it_in_the_singular(cast, tmp_path):
    """DOMAIN §8.3 receipt: every line of the roster needs its result; the one left out is named."""
    roster = roster_in(RosterStatus.PAYING, cast)
    path = tmp_path / "receipt.csv"
    path.write_bytes(receipt(roster, ["1,成功,", "3,成功,"]))
    with pytest.raises(InvalidInput) as refused:
        receipts.receipt_results(roster=roster, path=path)
    assert str(refused.value.message) == (
        f"The receipt lacks 1 line of roster {roster.number} (2); it must name every line."
    )
    assert refused.value.details["missing_lines"] == [2]


def test_an_uploaded_receipt_reads_as_the_same_file_on_disk(cast, tmp_path):
    """E22 step 5: the page's upload and a file on disk give the same results, line by line."""
    roster = roster_in(RosterStatus.PAYING, cast)
    content = receipt(roster, ["1,成功,", "2,失败,账户已销户", "3,成功,"])
    path = tmp_path / "receipt.csv"
    path.write_bytes(content)
    from_disk = receipts.receipt_results(roster=roster, path=path)
    uploaded = receipts.receipt_results_from_upload(
        roster=roster, upload=SimpleUploadedFile("receipt.csv", content, content_type="text/csv")
    )
    assert uploaded == from_disk
    assert [(result.seq, result.paid, result.message) for result in uploaded] == [
        (1, True, ""),
        (2, False, "账户已销户"),
        (3, True, ""),
    ]
