"""perfbench scenarios of the imports: a 100,000-row death list, xlsx and csv, through the services.

The reference is the floor of the same job: calamine (or pandas' csv reader) reads the file,
COPY fills a temp table, and one UPDATE … FROM writes the deaths, under a pghistory context
like the app's (the audit trail is part of the job: each updated row upserts its context).
Both sides run inside a transaction that is rolled back at the end, so every round finds the
same living persons (the app's own commit is a savepoint there: the same statements, minus
the final COMMIT).
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pghistory
from django.apps import apps
from django.db import connection, transaction

from socialsec.core.benchmarking import BenchContext, TimedScenario
from socialsec.core.choices import Role

ROWS = 100_000
_cache: dict[str, Any] = {}


def _rows(ctx: BenchContext) -> pd.DataFrame:
    """Up to ROWS living persons, with a death date after their birth (the same in every round)."""
    if "rows" not in _cache:
        table = apps.get_model("enrollment", "Person")._meta.db_table
        death = (ctx.as_of or dt.date.today()) - dt.timedelta(days=1)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id_number, name FROM {table} WHERE death_date IS NULL AND birth_date <= %s "
                "ORDER BY id LIMIT %s",
                [death, ROWS],
            )
            frame = pd.DataFrame(cursor.fetchall(), columns=["公民身份号码", "姓名"])
        frame["死亡日期"] = death.isoformat()
        _cache["rows"] = frame
    return _cache["rows"]


def _file(ctx: BenchContext, suffix: str) -> Path:
    key = f"file{suffix}"
    if key not in _cache:
        from socialsec.lib.spreadsheets import write_workbook

        frame = _rows(ctx)
        path = Path(tempfile.mkdtemp(prefix="perfbench-imports-")) / f"deaths{suffix}"
        if suffix == ".xlsx":
            write_workbook(path, list(frame.columns), frame.itertuples(index=False, name=None))
        else:
            path.write_bytes(
                frame.to_csv(index=False).encode("gb18030")
            )  # as Excel in a Chinese locale saves it
        _cache[key] = path
    return _cache[key]


def _user(ctx: BenchContext) -> Any:
    if "user" not in _cache:
        from django.contrib.auth.models import Group, Permission

        clerk, _ = Group.objects.get_or_create(name=Role.CLERK)
        # Until roles.py grants them (another change), give the clerk role the imports permissions.
        clerk.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="imports", codename__in=["add_importbatch", "view_importbatch"]
            )
        )
        _cache["user"] = ctx.bench_user("perfbench_importer", roles=[Role.CLERK], county_wide=True)
    return _cache["user"]


def _app(ctx: BenchContext, suffix: str) -> int:
    from socialsec.imports import services
    from socialsec.imports.models import ImportBatch

    path, user = _file(ctx, suffix), _user(ctx)
    with transaction.atomic():
        batch = services.import_upload(
            kind="death_records", uploaded_file=path, township_id=None, by=user, schedule=False
        )
        services.import_validate(batch_id=batch.pk)
        services.import_confirm(batch_id=batch.pk, by=user, schedule=False)
        services.import_commit(batch_id=batch.pk)
        batch = ImportBatch.objects.get(pk=batch.pk)
        if batch.status != "committed":
            raise RuntimeError(f"benchmark batch ended {batch.status}: {batch.failure_detail}")
        updated = batch.summary["updated"]
        Path(services.batch_path(batch)).unlink(missing_ok=True)
        transaction.set_rollback(True)
    return updated


def _ref(ctx: BenchContext, suffix: str) -> int:
    path = _file(ctx, suffix)
    table = apps.get_model("enrollment", "Person")._meta.db_table
    if suffix == ".xlsx":
        frame = pd.read_excel(path, engine="calamine", dtype=str)
    else:
        frame = pd.read_csv(
            io.StringIO(path.read_bytes().decode("gb18030")), dtype=str, keep_default_na=False
        )
    buffer = io.StringIO()
    frame[["公民身份号码", "死亡日期"]].to_csv(buffer, header=False, index=False)
    buffer.seek(0)
    # The same audit as the app's: the trigger writes each row version with a context row.
    with transaction.atomic(), pghistory.context(perfbench="import_reference"), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE perfbench_deaths (id_number varchar(18), death_date date) ON COMMIT DROP"
        )
        cursor.copy_expert("COPY perfbench_deaths FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute("ANALYZE perfbench_deaths")
        cursor.execute(
            f"UPDATE {table} p SET death_date = s.death_date, death_source = 'perfbench', updated_at = now() "
            "FROM perfbench_deaths s WHERE p.id_number = s.id_number AND p.death_date IS NULL"
        )
        updated = cursor.rowcount
        transaction.set_rollback(True)
    return updated


SCENARIOS = [
    TimedScenario(
        name="import_xlsx",
        app=lambda ctx: _app(ctx, ".xlsx"),
        ref=lambda ctx: _ref(ctx, ".xlsx"),
        rows=lambda ctx: len(_rows(ctx)),
    ),
    TimedScenario(
        name="import_csv",
        app=lambda ctx: _app(ctx, ".csv"),
        ref=lambda ctx: _ref(ctx, ".csv"),
        rows=lambda ctx: len(_rows(ctx)),
    ),
]
