"""perfbench scenarios of the imports: a 100,000-row list, xlsx and csv, through the services.

- `import_xlsx`, `import_csv`: the lists that really come with 100,000 rows, special-group lists
  (an INSERT kind, MAIN_KIND). PERFBENCH_IMPORT_KIND=<kind> runs them for another kind of
  BENCH_KINDS (e.g. `PERFBENCH_IMPORT_KIND=death_records make bench`).
- `import_deaths_xlsx`: a 100,000-row death list, the update-heavy case (it rewrites nearly
  every person row, so index maintenance of the person table bounds it, not the import).

Each kind has a fair reference (BENCH_KINDS): the floor of the same job. python-calamine (or
pandas' csv reader) reads the file, COPY fills a temp table, and one INSERT … SELECT or
UPDATE … FROM writes the rows into the same table, under a pghistory context like the app's,
so the same triggers (the audit trail, and any guard on the table) fire for every row.
Both sides run inside a transaction that is rolled back at the end, so every round finds the
same registry (the app's own commit is a savepoint there: the same statements, minus the final
COMMIT); the untimed setup writes the files and vacuums the tables the rounds write.

A new kind gets scenarios by adding a BenchKind: the rows of its file (canonical column names,
text cells) and its reference statement.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pghistory
from django.apps import apps
from django.db import connection, transaction

from socialsec.core.benchmarking import BenchContext, TimedScenario
from socialsec.core.choices import Role
from socialsec.core.seeding import history_models

ROWS = 100_000
# The kind the main scenarios (import_xlsx, import_csv) run.
MAIN_KIND = "special_groups"
_cache: dict[Any, Any] = {}


@dataclass(frozen=True)
class BenchKind:
    """How the import scenarios exercise one kind."""

    kind: str
    # The file's rows: canonical column names of the kind, text cells (the same in every round).
    rows: Callable[[BenchContext], pd.DataFrame]
    # The reference's statements, given the file as read (canonical names), inside a transaction
    # with the pghistory context set; returns the rows it wrote.
    reference: Callable[[BenchContext, pd.DataFrame, Any], int]
    # Where the app's count of rows written is in the batch summary: "inserted" or "updated".
    written: str
    # Models the commit writes; they, their event tables and the contexts are vacuumed in setup.
    writes: tuple[str, ...]


def _day(ctx: BenchContext) -> dt.date:
    """The day the lists speak of: the day before the county's reference date."""
    return (ctx.as_of or dt.date.today()) - dt.timedelta(days=1)


def _query(sql: str, params: list[Any], columns: list[str]) -> pd.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _copy(cursor: Any, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    cursor.execute(f"ANALYZE {table}")


# --- Death records: an UPDATE of nearly every person --------------------------------------------


def _death_rows(ctx: BenchContext) -> pd.DataFrame:
    """Up to ROWS living persons, each dead on the list's day, after their birth."""
    person = apps.get_model("enrollment", "Person")._meta.db_table
    frame = _query(
        f"SELECT id_number, name FROM {person} WHERE death_date IS NULL AND birth_date <= %s "
        "ORDER BY id LIMIT %s",
        [_day(ctx), ROWS],
        ["id_number", "name"],
    )
    frame["death_date"] = _day(ctx).isoformat()
    return frame


def _death_reference(ctx: BenchContext, frame: pd.DataFrame, cursor: Any) -> int:
    person = apps.get_model("enrollment", "Person")._meta.db_table
    cursor.execute(
        "CREATE TEMP TABLE perfbench_deaths (id_number varchar(18), death_date date) ON COMMIT DROP"
    )
    _copy(cursor, "perfbench_deaths", frame[["id_number", "death_date"]])
    cursor.execute(
        f"UPDATE {person} p SET death_date = s.death_date, death_source = 'perfbench', updated_at = now() "
        "FROM perfbench_deaths s WHERE p.id_number = s.id_number AND p.death_date IS NULL"
    )
    return cursor.rowcount


# --- Special groups: an INSERT of one membership per person -------------------------------------

# The bench's list: minimum living allowance from civil affairs, as civil affairs writes it.
_GROUP = ("低保", "minimum_living_allowance")
_SOURCE = ("民政", "civil_affairs")


def _special_group_rows(ctx: BenchContext) -> pd.DataFrame:
    """Up to ROWS living persons born before the list's day and not yet in the group on it."""
    person = apps.get_model("enrollment", "Person")._meta.db_table
    membership = apps.get_model("enrollment", "PersonCategory")._meta.db_table
    frame = _query(
        f"SELECT p.id_number, p.name FROM {person} p WHERE p.death_date IS NULL AND p.birth_date <= %s"
        f" AND NOT EXISTS (SELECT 1 FROM {membership} c WHERE c.person_id = p.id AND c.category = %s"
        " AND (c.effective_to IS NULL OR c.effective_to >= %s)) ORDER BY p.id LIMIT %s",
        [_day(ctx), _GROUP[1], _day(ctx), ROWS],
        ["id_number", "name"],
    )
    frame["category"] = _GROUP[0]
    frame["disability_grade"] = ""
    frame["effective_from"] = _day(ctx).isoformat()
    frame["effective_to"] = ""
    frame["source"] = _SOURCE[0]
    return frame


def _special_group_reference(ctx: BenchContext, frame: pd.DataFrame, cursor: Any) -> int:
    person = apps.get_model("enrollment", "Person")._meta.db_table
    membership = apps.get_model("enrollment", "PersonCategory")._meta.db_table
    # A reference knows its one file: the labels map to the codes without a lookup table.
    staged = pd.DataFrame(
        {
            "id_number": frame["id_number"],
            "category": frame["category"].map({_GROUP[0]: _GROUP[1]}),
            "source": frame["source"].map({_SOURCE[0]: _SOURCE[1]}),
            "effective_from": frame["effective_from"],
        }
    )
    cursor.execute(
        "CREATE TEMP TABLE perfbench_memberships (id_number varchar(18), category varchar(24),"
        " source varchar(21), effective_from date) ON COMMIT DROP"
    )
    _copy(cursor, "perfbench_memberships", staged)
    cursor.execute(
        f"INSERT INTO {membership} (person_id, category, disability_grade, source, effective_from,"
        " effective_to, evidence, recorded_by_id, created_at, updated_at)"
        " SELECT p.id, s.category, NULL, s.source, s.effective_from, NULL, 'perfbench', %s, now(), now()"
        f" FROM perfbench_memberships s JOIN {person} p ON p.id_number = s.id_number",
        [_user(ctx).pk],
    )
    return cursor.rowcount


BENCH_KINDS: dict[str, BenchKind] = {
    "death_records": BenchKind(
        kind="death_records",
        rows=_death_rows,
        reference=_death_reference,
        written="updated",
        writes=("enrollment.Person",),
    ),
    "special_groups": BenchKind(
        kind="special_groups",
        rows=_special_group_rows,
        reference=_special_group_reference,
        written="inserted",
        writes=("enrollment.PersonCategory",),
    ),
}


# --- The two sides ------------------------------------------------------------------------------


def _main_kind() -> str:
    chosen = os.environ.get("PERFBENCH_IMPORT_KIND", "") or MAIN_KIND
    if chosen not in BENCH_KINDS:
        raise RuntimeError(
            f"PERFBENCH_IMPORT_KIND={chosen}: no benchmark for it (known: {sorted(BENCH_KINDS)})"
        )
    return chosen


def _cached(ctx: BenchContext, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """What a run builds once (the rows, the files, the user), for this county in this database:
    a second run in the same process (the tests) may have seeded another county or database."""
    full_key = (connection.settings_dict["NAME"], ctx.persons, ctx.seed, ctx.as_of, *key)
    if full_key not in _cache:
        _cache[full_key] = build()
    return _cache[full_key]


def _rows(ctx: BenchContext, kind: str) -> pd.DataFrame:
    return _cached(ctx, ("rows", kind), lambda: BENCH_KINDS[kind].rows(ctx))


def _labels(kind: str) -> dict[str, str]:
    """Canonical column name → the label the kind's template uses (what a clerk's file carries)."""
    from socialsec.imports.kinds import get_kind

    import_kind = get_kind(kind)
    if import_kind is None:
        raise RuntimeError(f"import kind {kind!r} is not registered")
    return {name: str(labels[0]) for name, labels in import_kind.columns.items()}


def _file(ctx: BenchContext, kind: str, suffix: str) -> Path:
    def write() -> Path:
        from socialsec.lib.spreadsheets import write_workbook

        frame = _rows(ctx, kind)
        header = [_labels(kind)[name] for name in frame.columns]
        path = Path(tempfile.mkdtemp(prefix="perfbench-imports-")) / f"{kind}{suffix}"
        if suffix == ".xlsx":
            write_workbook(path, header, frame.itertuples(index=False, name=None))
        else:  # as Excel in a Chinese locale saves it
            path.write_bytes(frame.set_axis(header, axis=1).to_csv(index=False).encode("gb18030"))
        return path

    return _cached(ctx, ("file", kind, suffix), write)


def _user(ctx: BenchContext, *, fresh: bool = False) -> Any:
    """The importing clerk (the clerk role holds the imports permissions, socialsec.core.roles);
    made afresh by each scenario's setup, so a flushed database never hands back a stale row."""
    if fresh:
        _cache.pop((connection.settings_dict["NAME"], ctx.persons, ctx.seed, ctx.as_of, "user"), None)
    return _cached(
        ctx, ("user",), lambda: ctx.bench_user("perfbench_importer", roles=[Role.CLERK], county_wide=True)
    )


def _written_tables(labels: tuple[str, ...]) -> list[str]:
    """The tables of these models, of their pghistory events, and the contexts."""
    written = [apps.get_model(label) for label in labels]
    return [*(model._meta.db_table for model in [*written, *history_models(written)]), "pghistory_context"]


def _setup(ctx: BenchContext, kind: str, suffix: str) -> None:
    """Untimed: write the file, and vacuum what earlier rounds left (their rows were rolled back:
    dead tuples that the next rounds would otherwise scan and index around)."""
    _file(ctx, kind, suffix)
    _user(ctx, fresh=True)
    with connection.cursor() as cursor:
        for table in _written_tables(BENCH_KINDS[kind].writes):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _app(ctx: BenchContext, kind: str, suffix: str) -> int:
    from socialsec.imports import services
    from socialsec.imports.models import ImportBatch

    path, user = _file(ctx, kind, suffix), _user(ctx)
    with transaction.atomic():
        batch = services.import_upload(
            kind=kind, uploaded_file=path, township_id=None, by=user, schedule=False
        )
        services.import_validate(batch_id=batch.pk)
        services.import_confirm(batch_id=batch.pk, by=user, schedule=False)
        services.import_commit(batch_id=batch.pk)
        batch = ImportBatch.objects.get(pk=batch.pk)
        if batch.status != "committed":
            raise RuntimeError(f"benchmark batch ended {batch.status}: {batch.failure_detail}")
        written = batch.summary[BENCH_KINDS[kind].written]
        Path(services.batch_path(batch)).unlink(missing_ok=True)
        transaction.set_rollback(True)
    return written


def _read_reference(path: Path, suffix: str) -> pd.DataFrame:
    if suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_path(str(path)) as workbook:
            rows = workbook.get_sheet_by_index(0).to_python()
        return pd.DataFrame(rows[1:], columns=rows[0], dtype=str)
    return pd.read_csv(io.StringIO(path.read_bytes().decode("gb18030")), dtype=str, keep_default_na=False)


def _ref(ctx: BenchContext, kind: str, suffix: str) -> int:
    frame = _read_reference(_file(ctx, kind, suffix), suffix)
    frame = frame.rename(columns={label: name for name, label in _labels(kind).items()})
    # The same audit as the app's: the triggers write each row version with a context row.
    with transaction.atomic(), pghistory.context(perfbench="import_reference"), connection.cursor() as cursor:
        # What the kinds do before a bulk write (enrollment.import_kinds.common.fire_row_triggers_cheaply):
        # with pgtrigger.ignore set, each row trigger skips a subtransaction; every trigger still fires.
        cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
        written = BENCH_KINDS[kind].reference(ctx, frame, cursor)
        transaction.set_rollback(True)
    return written


def _scenario(name: str, suffix: str, kind: Callable[[], str]) -> TimedScenario:
    return TimedScenario(
        name=name,
        setup=lambda ctx: _setup(ctx, kind(), suffix),
        app=lambda ctx: _app(ctx, kind(), suffix),
        ref=lambda ctx: _ref(ctx, kind(), suffix),
        rows=lambda ctx: len(_rows(ctx, kind())),
    )


SCENARIOS = [
    _scenario("import_xlsx", ".xlsx", _main_kind),
    _scenario("import_csv", ".csv", _main_kind),
    _scenario("import_deaths_xlsx", ".xlsx", lambda: "death_records"),
]
