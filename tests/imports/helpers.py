from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from socialsec.core.exceptions import InvalidState
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch


def upload(user, path: Path, township, kind: str = "death_records") -> ImportBatch:
    return services.import_upload(
        kind=kind,
        uploaded_file=path,
        township_id=township.pk if township is not None else None,
        by=user,
        schedule=False,
    )


def check(batch: ImportBatch) -> ImportBatch:
    services.import_validate(batch_id=batch.pk)
    return ImportBatch.objects.get(pk=batch.pk)


def confirm_and_commit(batch: ImportBatch, user) -> ImportBatch:
    services.import_confirm(batch_id=batch.pk, by=user, schedule=False)
    services.import_commit(batch_id=batch.pk)
    return ImportBatch.objects.get(pk=batch.pk)


def errors_of(batch: ImportBatch) -> list[tuple[int, str, str, str]]:
    return list(batch.row_errors.order_by("row", "id").values_list("row", "column", "value", "code"))


def death_dates(persons) -> list:
    from enrollment.models import Person

    by_id = dict(Person.objects.filter(pk__in=[p.pk for p in persons]).values_list("pk", "death_date"))
    return [by_id[p.pk] for p in persons]


def import_file(
    kind: str, path: Path, township, *, user: str = "maker_ann", out: StringIO | None = None
) -> str:
    """manage.py import_file KIND PATH for the township, confirmed (--yes), in English; what it printed.

    Pass out to read what it printed when the command fails (CommandError).
    """
    out = out if out is not None else StringIO()
    call_command(
        "import_file",
        kind,
        str(path),
        "--township",
        township.code,
        "--user",
        user,
        "--yes",
        "--language",
        "en",
        stdout=out,
    )
    return out.getvalue()


def post_upload(api, user, kind: str, path: Path, township):
    """POST /api/imports/ as user: the file, for the township."""
    with open(path, "rb") as handle:
        return api.as_user(user).post(
            "/api/imports/", {"kind": kind, "township": township.pk, "file": handle}, format="multipart"
        )


def assert_the_one_bad_row_is_named(
    batch: ImportBatch, bad: list, column: str, code: str, header: list, clerk
):
    """A file of a title row, a header, two good rows, the bad one (file row 5) and two more good:
    rejected, the bad row alone named with its column, the cell as the clerk wrote it (a number cell
    as the spreadsheet held it, its last digits already lost), and the batch cannot be confirmed."""
    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_invalid, batch.rows_valid) == (5, 1, 4)
    assert [(row, col, err) for row, col, _value, err in errors_of(batch)] == [(5, column, code)]
    value = errors_of(batch)[0][2]
    cell = bad[header.index(column)]
    if isinstance(cell, str):
        assert value == cell
    else:
        assert value.startswith("36012119600315") and len(value) == 18
    with pytest.raises(InvalidState):
        services.import_confirm(batch_id=batch.pk, by=clerk)
