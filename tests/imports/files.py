"""Death-record files as other departments send them: xlsx (with a title row) and csv (GBK or UTF-8)."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEADER = ["公民身份号码", "姓名", "死亡日期"]


class FileMaker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def _path(self, suffix: str) -> Path:
        self.count += 1
        return self.folder / f"deaths-{self.count}{suffix}"

    def xlsx(self, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER, title: bool = True) -> Path:
        """A workbook with a merged title row above the header; numbers go into number cells."""
        import xlsxwriter

        path = self._path(".xlsx")
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        sheet = book.add_worksheet("死亡名单")
        first = 0
        if title:
            sheet.merge_range(0, 0, 0, len(header) - 1, "2024年第一季度死亡人员名单", None)
            first = 1
        sheet.write_row(first, 0, list(header))
        for index, row in enumerate(rows, start=first + 1):
            for column, value in enumerate(row):
                if isinstance(value, int | float):
                    sheet.write_number(index, column, value)
                else:
                    sheet.write_string(index, column, str(value))
        book.close()
        return path

    def csv(
        self, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER, encoding: str = "gbk"
    ) -> Path:
        path = self._path(".csv")
        lines = [",".join(header), *(",".join(str(value) for value in row) for row in rows)]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
        return path

    def raw(self, data: bytes, suffix: str = ".xlsx") -> Path:
        path = self._path(suffix)
        path.write_bytes(data)
        return path

    def zip_bomb(self) -> Path:
        path = self._path(".xlsx")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
        return path


# Headers of the special-group and employer lists, as civil affairs and market regulation send them.
SPECIAL_GROUPS_HEADER = ["公民身份号码", "姓名", "人员类别", "残疾等级", "起始日期", "终止日期", "来源部门"]
EMPLOYERS_HEADER = ["统一社会信用代码", "单位名称", "企业划型", "所属行业", "所属乡镇"]

# Headers of the enrollment and contribution batches, as the service centres keep them.
ENROLLMENTS_HEADER = ["公民身份号码", "姓名", "险种", "参保日期", "单位统一社会信用代码"]
CONTRIBUTIONS_HEADER = [
    "公民身份号码",
    "姓名",
    "险种",
    "缴费年度",
    "缴费档次",
    "缴费基数",
    "个人缴费金额",
    "集体补助",
    "代缴金额",
    "代缴资金来源",
    "缴费主体",
    "缴费日期",
    "是否补缴",
]

# Header of the province's employee-pension list (待遇开始年月 as a month, amounts in yuan).
EMPLOYEE_PENSIONS_HEADER = [
    "公民身份号码",
    "姓名",
    "险种",
    "待遇开始年月",
    "基础养老金",
    "个人账户养老金",
    "过渡性养老金",
    "养老金合计",
    "统筹区",
    "终止年月",
]
