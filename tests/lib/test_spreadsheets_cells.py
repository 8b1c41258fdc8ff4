"""How read_table turns each kind of cell into text (issue 3: spreadsheet imports, fast path).

The reader takes a column of text cells as it is and converts cell by cell only a column that
holds numbers, dates or booleans; these tests pin the text each kind of cell becomes, so the
fast path and the slow path agree with what the importer's checks expect.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from socialsec.lib.spreadsheets import read_table

COLUMNS = {"id_number": ["身份证号"], "name": ["姓名"], "day": ["日期"]}


def make_xlsx(path: Path, rows: list[list]) -> Path:
    """A workbook as xlsxwriter writes it: numbers into number cells, dates into date cells."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for row_index, row in enumerate(rows):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row_index, column, value, date_format)
            elif isinstance(value, bool):
                sheet.write_boolean(row_index, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(row_index, column, value)
            else:
                sheet.write_string(row_index, column, value)
    book.close()
    return path


def test_number_date_and_boolean_cells_become_text_and_only_numbers_are_flagged(tmp_path):
    path = make_xlsx(
        tmp_path / "cells.xlsx",
        [
            ["身份证号", "姓名", "日期"],
            [1.10101199001010e17, "张三", dt.datetime(2024, 3, 5)],
            ["11010119900101004X", 42, dt.datetime(2024, 3, 5, 10, 30)],
            ["110101199001010021", 2.5, 45356],
            ["110101199001010021", True, "2024年3月5日"],
        ],
    )
    table = read_table(path, COLUMNS)
    # An 18-digit ID in a number cell reads as its (already rounded) digits and is flagged (DOMAIN §6.1).
    assert table.frame["id_number"].tolist() == [
        "110101199001010000",
        "11010119900101004X",
        "110101199001010021",
        "110101199001010021",
    ]
    assert table.numeric["id_number"].tolist() == [True, False, False, False]
    assert table.frame["name"].tolist() == ["张三", "42", "2.5", "True"]
    assert table.numeric["name"].tolist() == [False, True, True, False]
    # A date cell reads as an ISO date (with its time when it has one); a day number stays a number.
    assert table.frame["day"].tolist() == ["2024-03-05", "2024-03-05T10:30:00", "45356", "2024年3月5日"]
    assert table.numeric["day"].tolist() == [False, False, True, False]


def test_error_and_null_texts_of_an_xlsx_read_as_empty_and_a_row_of_nothing_else_is_dropped(tmp_path):
    path = make_xlsx(
        tmp_path / "lookups.xlsx",
        [
            ["身份证号", "姓名", "日期"],
            ["11010119900101004X", "#N/A", "2024-03-05"],
            ["#N/A", "NULL", "#N/A"],  # a lookup formula copied below the list
            ["110101199001010021", "李四", "N/A"],
        ],
    )
    table = read_table(path, COLUMNS)
    assert table.rows.tolist() == [2, 4]
    assert table.frame.to_dict("list") == {
        "id_number": ["11010119900101004X", "110101199001010021"],
        "name": ["", "李四"],
        "day": ["2024-03-05", ""],
    }


def test_a_csv_keeps_those_texts_as_written(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("身份证号,姓名,日期\n11010119900101004X,NA,2024-03-05\n", encoding="utf-8")
    assert read_table(path, COLUMNS).frame["name"].tolist() == ["NA"]


def test_a_short_csv_line_reads_its_missing_fields_as_empty(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("身份证号,姓名,日期\n11010119900101004X,张三\n110101199001010021\n", encoding="utf-8")
    table = read_table(path, COLUMNS)
    assert table.frame.to_dict("list") == {
        "id_number": ["11010119900101004X", "110101199001010021"],
        "name": ["张三", ""],
        "day": ["", ""],
    }
    assert table.rows.tolist() == [2, 3]


def test_full_width_forms_are_folded_only_where_they_are_and_every_cell_is_trimmed(tmp_path):
    path = make_xlsx(
        tmp_path / "fold.xlsx",
        [
            ["身份证号", "姓名", "日期"],
            ["11010119900101004X", " 张三 ", "２０２４－０３－０５"],
            ["110101199001010021", "李\u3000四", "2024-03-05\t"],
        ],
    )
    table = read_table(path, COLUMNS)
    assert table.frame["name"].tolist() == ["张三", "李 四"]
    assert table.frame["day"].tolist() == ["2024-03-05", "2024-03-05"]


def test_columns_the_caller_does_not_name_are_left_as_they_are(tmp_path):
    path = make_xlsx(
        tmp_path / "extra.xlsx",
        [
            ["序号", "身份证号", "备注", "姓名", "日期"],
            [1, "11010119900101004X", dt.datetime(2020, 1, 1), "张三", "2024-03-05"],
        ],
    )
    table = read_table(path, COLUMNS)
    assert list(table.frame.columns) == ["id_number", "name", "day"]
    assert list(table.numeric.columns) == ["id_number", "name", "day"]
    assert table.frame.iloc[0].tolist() == ["11010119900101004X", "张三", "2024-03-05"]


def test_a_new_workbook_keeps_digits_formulas_and_addresses_typed_as_text_as_text(tmp_path):
    """new_workbook, which every xlsx the app writes starts from: an 18-digit ID written as text
    stays those digits (never a number that loses them, DOMAIN §6.1), and text that looks like a
    formula or a URL stays text."""
    from socialsec.lib.spreadsheets import new_workbook

    path = tmp_path / "out.xlsx"
    book = new_workbook(path)
    sheet = book.add_worksheet()
    cells = ["360121196003150132", "=1+1", "http://example.com"]
    for column, value in enumerate(cells):
        sheet.write(0, column, value)
    book.close()

    import openpyxl

    written = openpyxl.load_workbook(path).active
    assert [written.cell(row=1, column=c).data_type for c in (1, 2, 3)] == ["s", "s", "s"]
    assert [written.cell(row=1, column=c).value for c in (1, 2, 3)] == cells
