"""manage.py import_file: the same checks as the pages, all rows or none, errors printed per row."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from tests.imports.conftest import DEATH
from tests.imports.helpers import death_dates

pytestmark = pytest.mark.django_db


def test_a_clean_file_is_imported_and_the_audit_trail_names_the_command_and_user(cast, persons_in_a, files):
    path = files.xlsx([[p.id_number, p.name, "2024-03-05"] for p in persons_in_a])
    out = StringIO()
    call_command(
        "import_file",
        "death_records",
        str(path),
        "--township",
        cast.township_a.code,
        "--user",
        "maker_ann",
        "--yes",
        "--language",
        "en",
        stdout=out,
    )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.COMMITTED
    assert out.getvalue().strip() == (
        f"Batch {batch.pk} imported: 5 rows, 5 records changed, 0 already up to date."
    )
    assert death_dates(persons_in_a) == [DEATH] * 5
    event = persons_in_a[0].events.get(pgh_label="update")
    assert event.pgh_context.metadata["user"] == cast.maker_ann.pk
    assert event.pgh_context.metadata["command"] == "import_file"
    assert event.pgh_context.metadata["import_batch"] == batch.pk


def test_a_file_with_bad_rows_prints_each_and_exits_non_zero_without_importing(cast, persons_in_a, files):
    rows = [[p.id_number, p.name, "2024-03-05"] for p in persons_in_a]
    rows[1][2] = "2099-01-01"
    rows[3][0] = "123456"
    out = StringIO()
    with pytest.raises(CommandError, match="2 of 5 rows are bad; nothing was imported"):
        call_command(
            "import_file",
            "death_records",
            str(files.xlsx(rows)),
            "--township",
            cast.township_a.code,
            "--user",
            "maker_ann",
            "--yes",
            "--language",
            "en",
            stdout=out,
        )
    assert out.getvalue().splitlines() == [
        "row 4, column 死亡日期, value 2099-01-01: The date 2099-01-01 is in the future.",
        "row 6, column 公民身份号码, value 123456: The ID number 123456 has 6 characters. "
        "It must have 18 (or 15 for an ID card issued before 1999).",
    ]
    assert ImportBatch.objects.get().status == ImportStatus.REJECTED
    assert death_dates(persons_in_a) == [None] * 5


def test_the_command_refuses_a_township_the_user_does_not_work_for(cast, persons_in_a, files):
    path = files.xlsx([[p.id_number, p.name, "2024-03-05"] for p in persons_in_a])
    with pytest.raises(CommandError):
        call_command(
            "import_file",
            "death_records",
            str(path),
            "--township",
            cast.township_b.code,
            "--user",
            "maker_ann",
            "--yes",
        )
    assert not ImportBatch.objects.exists()
