"""Reading real spreadsheets as clerks receive them (issue 3: spreadsheet imports)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from socialsec.lib.resident_id import ResidentIdError, parse_resident_id
from socialsec.lib.spreadsheets import Limits, SpreadsheetError, neutralize, read_table, write_workbook

COLUMNS = {
    "name": ["姓名"],
    "id_number": ["公民身份号码", "身份证号", "身份证号码"],
    "village": ["村(社区)", "村"],
}


def make_xlsx(path: Path, rows: list[list], merge: str | None = None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    workbook.save(path)
    return path


def test_a_title_row_merged_across_the_header_is_passed_over(tmp_path):
    path = make_xlsx(
        tmp_path / "list.xlsx",
        [
            ["莲塘镇2026年低保对象名单"],
            ["序号", "姓名", "身份证号码", "村(社区)"],
            [1, "张三", "11010119900101004X", "东山村"],
        ],
        merge="A1:D1",
    )
    table = read_table(path, COLUMNS)
    assert table.header_row == 2
    assert table.frame.to_dict("records") == [
        {"name": "张三", "id_number": "11010119900101004X", "village": "东山村"}
    ]
    assert table.rows.tolist() == [3]


def test_blank_rows_are_dropped_but_row_numbers_stay_those_of_the_file(tmp_path):
    path = make_xlsx(
        tmp_path / "list.xlsx",
        [
            ["姓名", "身份证号", "村"],
            ["张三", "11010119900101004X", "东山村"],
            [None, None, None],
            ["李四", "110101199001010021", "东山村"],
            [None, None, None],
            [None, None, None],
        ],
    )
    table = read_table(path, COLUMNS)
    assert table.frame["name"].tolist() == ["张三", "李四"]
    assert table.rows.tolist() == [2, 4]


def test_full_width_digits_letters_and_spaces_are_folded_and_a_lower_case_x_survives_for_the_validator(
    tmp_path,
):
    path = make_xlsx(
        tmp_path / "list.xlsx",
        [
            ["姓　名", "身份证号", "村"],
            ["王五", "　１１０１０１１９９００１０１００４ｘ ", "东山村"],
        ],
    )
    table = read_table(path, COLUMNS)
    assert table.frame.loc[0, "id_number"] == "11010119900101004x"
    assert parse_resident_id(table.frame.loc[0, "id_number"]).number == "11010119900101004X"  # DOMAIN §6.1


def test_an_id_stored_as_a_number_is_flagged_and_the_validator_refuses_the_float_form(tmp_path):
    path = make_xlsx(
        tmp_path / "list.xlsx",
        [
            ["姓名", "身份证号", "村"],
            ["赵六", 1.10101199001010e17, "东山村"],
            ["钱七", "110101199001010021", "东山村"],
        ],
    )
    table = read_table(path, COLUMNS)
    assert table.numeric["id_number"].tolist() == [True, False]
    with pytest.raises(ResidentIdError) as error:
        parse_resident_id(table.frame.loc[0, "id_number"])
    assert error.value.code == "stored_as_number"


def test_a_gbk_csv_from_excel_is_read(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("姓名,身份证号,村\r\n张三,11010119900101004X,东山村\r\n,,\r\n".encode("gbk"))
    table = read_table(path, COLUMNS)
    assert table.frame.to_dict("records") == [
        {"name": "张三", "id_number": "11010119900101004X", "village": "东山村"}
    ]


def test_a_utf8_csv_with_a_bom_is_read(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("姓名,身份证号\n张三,11010119900101004X\n".encode("utf-8-sig"))
    table = read_table(path, COLUMNS, required=["name", "id_number"])
    assert list(table.frame.columns) == ["name", "id_number"]


def test_a_missing_required_column_is_named(tmp_path):
    path = make_xlsx(tmp_path / "list.xlsx", [["姓名", "村"], ["张三", "东山村"]])
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS)
    assert error.value.code == "missing_columns"
    assert error.value.params == {"row": 1, "missing": ["公民身份号码"]}


def test_a_file_without_any_known_header_is_refused(tmp_path):
    path = make_xlsx(tmp_path / "list.xlsx", [["a", "b"], [1, 2]])
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS)
    assert error.value.code == "no_header"


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS, limits=Limits(max_bytes=1024))
    assert (error.value.code, error.value.params["limit"]) == ("too_large", 1024)


def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024)
        )  # 50 MB of zeros, ~50 kB packed
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS)
    assert error.value.code == "zip_bomb"


def test_xml_with_entity_declarations_is_refused(tmp_path):
    source = make_xlsx(
        tmp_path / "ok.xlsx", [["姓名", "身份证号", "村"], ["张三", "11010119900101004X", "东山村"]]
    )
    path = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":  # a "billion laughs" needs a DTD first
                data = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + data
            patched.writestr(item, data)
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS)
    assert error.value.code == "xml_entities"


def test_a_file_that_is_not_a_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS)
    assert error.value.code == "not_a_spreadsheet"


def test_an_old_xls_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS)
    assert (error.value.code, error.value.params) == ("not_a_spreadsheet", {"hint": "xls"})


def test_too_many_rows_are_refused(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("姓名,身份证号,村\n" + "张三,11010119900101004X,东山村\n" * 5, encoding="utf-8")
    with pytest.raises(SpreadsheetError) as error:
        read_table(path, COLUMNS, limits=Limits(max_rows=3))
    assert error.value.params == {"rows": 5, "limit": 3}


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_written_workbooks_never_carry_a_formula(tmp_path, dangerous):
    path = tmp_path / "errors.xlsx"
    write_workbook(path, ["行号", "姓名"], [[3, dangerous]])
    sheet = openpyxl.load_workbook(path).active
    cell = sheet.cell(row=2, column=2)
    assert cell.data_type == "s"  # a string, not a formula
    assert cell.value == "'" + dangerous
    assert sheet.cell(row=2, column=1).value == 3


def test_neutralize_leaves_ordinary_text_and_numbers_alone():
    assert neutralize("张三") == "张三"
    assert neutralize(-5) == -5
