"""The import pipeline: upload → validate (worker) → confirm → commit (worker), all rows or none.

Every kind goes through these functions; a kind only says how to validate, stage and merge
(socialsec.imports.kinds). The same functions serve the pages, the API, the CLI and Celery:
a small file runs them inline right after the request's commit, a large one in a worker.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pghistory
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from socialsec.core.choices import DivisionLevel
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted, NotVisible
from socialsec.core.models import AdministrativeDivision, User
from socialsec.core.scoping import assigned_township_ids, can_see_whole_county, get_visible_or_404
from socialsec.imports.choices import ImportStatus, ProgressStep
from socialsec.imports.kinds import (
    ERROR_COLUMNS,
    ImportKind,
    StagedKind,
    TwoStepKind,
    ValidationContext,
    all_errors,
    check_in_two_steps,
    checks_in_two_steps,
    error_frame,
    get_kind,
    stages_rows,
)
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch, ImportRowError
from socialsec.imports.signals import import_committed
from socialsec.lib.spreadsheets import Limits, SpreadsheetError, Table, read_table, write_workbook

logger = logging.getLogger(__name__)

UPLOAD_PERMISSION = "imports.add_importbatch"
# Below these, the check and the commit run in the request, right after its commit;
# larger files go to a Celery worker and the page follows the progress bar.
INLINE_MAX_BYTES = 200 * 1024
INLINE_MAX_ROWS = 2_000
# A commit writing fewer rows moves no planner statistics worth a fresh ANALYZE.
ANALYZE_MIN_ROWS = 10_000
_ALLOWED_SUFFIXES = {".xlsx", ".csv"}


class DuplicateImport(InvalidState):
    code = "duplicate_import"


class _RowsNoLongerValid(Exception):
    """Raised inside the commit transaction to roll it back; carries the rows to show."""

    def __init__(self, errors: pd.DataFrame) -> None:
        self.errors = errors
        super().__init__(f"{errors['row'].nunique()} rows no longer valid")


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", Limits().max_bytes))


def _limits() -> Limits:
    return Limits(max_bytes=max_upload_bytes())


def _inline_max_bytes() -> int:
    return int(getattr(settings, "IMPORT_INLINE_MAX_BYTES", INLINE_MAX_BYTES))


def _inline_max_rows() -> int:
    return int(getattr(settings, "IMPORT_INLINE_MAX_ROWS", INLINE_MAX_ROWS))


def _kind_or_refuse(name: str) -> ImportKind:
    kind = get_kind(name)
    if kind is None:
        raise InvalidInput(_("There is no import of the kind %(kind)s.") % {"kind": name}, field="kind")
    return kind


def _township_for(by: User, township_id: int | None) -> AdministrativeDivision | None:
    """The batch's township: one the user works for (404 otherwise), or None for the whole county."""
    if township_id is None:
        if not can_see_whole_county(by):
            raise NotPermitted(_("Only county-wide staff may import a list for the whole county."))
        return None
    township = AdministrativeDivision.objects.filter(pk=township_id, level=DivisionLevel.TOWNSHIP).first()
    if township is None or not (can_see_whole_county(by) or township.pk in assigned_township_ids(by)):
        raise NotVisible(model="administrativedivision")
    return township


def _store(source: UploadedFile | Path, suffix: str) -> tuple[str, str, int]:
    """Copy the bytes under MEDIA_ROOT/imports/ with a name of ours: (relative path, sha256, size)."""
    relative = Path("imports") / timezone.now().strftime("%Y/%m") / f"{uuid.uuid4().hex}{suffix}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        if isinstance(source, Path):
            with open(source, "rb") as handle:
                chunks: Any = iter(partial(handle.read, 1 << 20), b"")
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        else:
            for chunk in source.chunks():
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    return str(relative), digest.hexdigest(), size


def batch_path(batch: ImportBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / batch.stored_path


def _after_commit(task_name: str, batch: ImportBatch, inline: bool) -> None:
    """Run the next step once this transaction commits: here (small) or in a worker (large)."""
    from socialsec.imports import tasks

    if inline:
        step: Callable[..., None] = import_validate if task_name == "import_validate" else import_commit
        transaction.on_commit(partial(step, batch_id=batch.pk))
        return
    task_id = str(uuid.uuid4())
    ImportBatch.objects.filter(pk=batch.pk).update(task_id=task_id)
    batch.task_id = task_id
    task = getattr(tasks, task_name)
    transaction.on_commit(partial(task.apply_async, args=[batch.pk], task_id=task_id))


def import_upload(
    *,
    kind: str,
    uploaded_file: UploadedFile | str | Path,
    township_id: int | None,
    by: User,
    inline: bool | None = None,
    schedule: bool = True,
) -> ImportBatch:
    """Store a clerk's file as a new batch and start its check.

    Needs imports.add_importbatch (403) and a township the user works for (404), or county-wide
    staff for a county-wide batch (403). A file over the size limit is refused before it is saved
    (400). The same file already imported for this kind and township is refused naming that
    batch (409): a list is never imported twice. With schedule=False the caller runs the check
    itself (the CLI); otherwise it starts after the commit, here or in a worker (`inline`).
    """
    if not by.has_perm(UPLOAD_PERMISSION):
        raise NotPermitted(_("Your role may not import lists."))
    import_kind = _kind_or_refuse(kind)
    township = _township_for(by, township_id)
    if isinstance(uploaded_file, str | Path):
        source: UploadedFile | Path = Path(uploaded_file)
        original_name, size = source.name, source.stat().st_size
    else:
        source, original_name, size = uploaded_file, uploaded_file.name or "", uploaded_file.size or 0
    limit = max_upload_bytes()
    if size > limit:
        raise InvalidInput(error_message(None, "too_large", {"size": size, "limit": limit}), field="file")
    if size == 0:
        raise InvalidInput(error_message(None, "empty", {}), field="file")
    suffix = Path(original_name).suffix.lower()
    stored, sha256, size = _store(source, suffix if suffix in _ALLOWED_SUFFIXES else ".bin")

    with transaction.atomic():
        earlier = (
            ImportBatch.objects.filter(
                kind=import_kind.name,
                township=township,
                sha256=sha256,
                status__in=[ImportStatus.COMMITTED, ImportStatus.COMMITTING],
            )
            .order_by("id")
            .first()
        )
        if earlier is not None:
            (Path(settings.MEDIA_ROOT) / stored).unlink(missing_ok=True)
            raise DuplicateImport(
                _("This file was already imported as batch %(id)s on %(date)s; it is not imported twice.")
                % {"id": earlier.pk, "date": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d")},
                ids=[earlier.pk],
                status=earlier.status,
            )
        with pghistory.context(user=by.pk, action="import_upload"):
            batch = ImportBatch.objects.create(
                kind=import_kind.name,
                township=township,
                original_name=original_name[:255],
                stored_path=stored,
                sha256=sha256,
                size=size,
                uploaded_by=by,
            )
        if schedule:
            run_here = inline if inline is not None else size <= _inline_max_bytes()
            _after_commit("import_validate", batch, run_here)
    return batch


def _progress(batch_id: int, percent: int, step: str) -> None:
    # Its own statement outside any transaction of ours: it commits at once, so a reload sees it.
    ImportBatch.objects.filter(pk=batch_id).update(progress=percent, progress_note=step)


def _write_errors(batch_id: int, errors: pd.DataFrame) -> None:
    """All bad rows with one COPY; the values go to the table, never to a log."""
    ImportRowError.objects.filter(batch_id=batch_id).delete()
    if errors.empty:
        return
    frame = errors[ERROR_COLUMNS].copy()
    frame.insert(0, "batch_id", batch_id)
    frame["params"] = [json.dumps(p or {}, ensure_ascii=False, default=str) for p in frame["params"]]
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f'COPY {ImportRowError._meta.db_table} (batch_id, "row", "column", value, code, params) '
            # An empty cell is an empty string, not NULL.
            'FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ("column", value, code))',
            buffer,
        )


def _context(batch: ImportBatch, on_step: Callable[[str, int], None] | None = None) -> ValidationContext:
    return ValidationContext(
        township_id=batch.township_id,
        township_name=batch.township.name if batch.township_id else "",
        today=timezone.localdate(),
        batch_id=batch.pk,
        on_step=on_step or (lambda step, percent: None),
    )


def _read(batch: ImportBatch, kind: ImportKind) -> Any:
    table = read_table(batch_path(batch), kind.columns, required=kind.required, limits=_limits())
    if len(table) == 0:
        raise SpreadsheetError("empty")
    return table


def _cache(batch: ImportBatch, what: str) -> Path:
    """Where the check keeps what the commit needs: "table" (the file as read) or "prepared"."""
    path = batch_path(batch)
    return path.with_name(f"{path.name}.{what}.npz")


def _save_frame(path: Path, frame: pd.DataFrame) -> None:
    """A frame of plain columns as .npz of arrays, never pickled (so loading runs no code).

    Text goes as one UTF-8 block of the cells joined by NUL (or, when a cell holds a NUL,
    with each cell's length): a 100,000-row table saves and loads in a few hundredths of a
    second, and dates, numbers and missing text come back as they were, which csv loses.
    """
    arrays: dict[str, np.ndarray] = {"__columns": np.array([str(name) for name in frame.columns])}
    kinds: list[str] = []
    for position, name in enumerate(frame.columns):
        column = frame[name]
        key = f"c{position}"
        if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:
            values = column.to_numpy(dtype=object)
            missing = pd.isna(values)
            texts = ["" if gone else value for value, gone in zip(values, missing, strict=True)]
            if not all(isinstance(text, str) for text in texts):
                raise TypeError(f"column {name!r} holds objects that cannot be stored without pickle")
            joined = "\0".join(texts)
            if joined.count("\0") != max(len(texts) - 1, 0):  # a cell holds a NUL: keep the lengths
                joined = "".join(texts)
                arrays[f"{key}_len"] = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            arrays[f"{key}_text"] = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
            arrays[f"{key}_na"] = missing.astype(bool)
            kinds.append("str" if isinstance(column.dtype, pd.StringDtype) else "object")
        elif isinstance(column.dtype, pd.api.extensions.ExtensionDtype):  # Int64, boolean, Float64
            arrays[f"{key}_na"] = column.isna().to_numpy()
            numpy_dtype = getattr(column.dtype, "numpy_dtype", None)
            arrays[key] = column.to_numpy(dtype=numpy_dtype, na_value=0)
            kinds.append(str(column.dtype))
        else:
            arrays[key] = column.to_numpy()
            kinds.append("numpy")
        if any(array.dtype.hasobject for array in arrays.values()):
            raise TypeError(f"column {name!r} cannot be stored without pickle")
    arrays["__kinds"] = np.array(kinds)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _load_frame(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as stored:
        columns: dict[str, Any] = {}
        for position, (name, kind) in enumerate(zip(stored["__columns"], stored["__kinds"], strict=True)):
            key = f"c{position}"
            if kind in ("str", "object"):
                text = stored[f"{key}_text"].tobytes().decode("utf-8")
                missing = stored[f"{key}_na"]
                cells: list[Any]
                if f"{key}_len" in stored.files:
                    ends = np.cumsum(stored[f"{key}_len"]).tolist()
                    cells = [text[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
                else:
                    cells = text.split("\0") if len(missing) else []
                if missing.any():
                    for index in np.flatnonzero(missing).tolist():
                        cells[index] = None
                columns[str(name)] = pd.Series(cells, dtype="str" if kind == "str" else object)
            elif kind == "numpy":
                columns[str(name)] = stored[key]
            else:
                column = pd.Series(stored[key]).astype(str(kind))
                columns[str(name)] = column.mask(stored[f"{key}_na"])
    return pd.DataFrame(columns)


def _save_table(batch: ImportBatch, table: Table) -> None:
    """Keep the table as read (text cells, row numbers, number flags) for the commit.

    Reading an xlsx is the dearest step after the database write; the commit checks every
    row again against the registry, but the file's bytes cannot have changed (our copy).
    """
    frame = table.frame.copy()
    frame.insert(0, "__row", table.rows)
    for name in table.numeric.columns:
        frame[f"__numeric__{name}"] = table.numeric[name].to_numpy(dtype=bool)
    _save_frame(_cache(batch, "table"), frame)


def _load_table(batch: ImportBatch, kind: ImportKind) -> Table:
    path = _cache(batch, "table")
    if not path.exists():
        return _read(batch, kind)
    stored = _load_frame(path)
    flags = [name for name in stored.columns if name.startswith("__numeric__")]
    numeric = pd.DataFrame({name.removeprefix("__numeric__"): stored[name] for name in flags})
    frame = stored.drop(columns=["__row", *flags])
    # header_row is not kept: validation never reads it.
    return Table(frame=frame, rows=stored["__row"].to_numpy(dtype="int64"), header_row=0, numeric=numeric)


def stage_table(batch_id: int) -> str:
    """The table a staged kind keeps a batch's checked rows in, from the check to the commit."""
    return f"imports_batch_{int(batch_id)}_rows"


def _drop_stage(batch_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage_table(batch_id)}")


def drop_stale_stages() -> list[str]:
    """Drop the stages of batches that will never be committed (left by a worker that died between
    the check and its end); returns their names. Every check starts with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
               AND c.relname ~ '^imports_batch_[0-9]+_rows$'
               AND NOT EXISTS (
                   SELECT 1 FROM {ImportBatch._meta.db_table} b
                    WHERE 'imports_batch_' || b.id || '_rows' = c.relname AND b.status = ANY(%s))
            """,
            [[ImportStatus.VALIDATING, ImportStatus.VALIDATED, ImportStatus.COMMITTING]],
        )
        stale = [name for (name,) in cursor.fetchall()]
        for name in stale:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return stale


def _check_into_stage(kind: StagedKind, table: Table, ctx: ValidationContext) -> pd.DataFrame:
    """A staged kind's check: check_file, then check_staged into the batch's own table, which is
    kept for the commit when every row passes and dropped otherwise (in the same transaction).

    UNLOGGED: the rows are also in our copy of the file, so a crash that empties the table costs
    the commit a re-read (see _commit_from_stage), never data; and no WAL is written for them.
    """
    file_errors, prepared = kind.check_file(table, ctx)
    name = stage_table(ctx.batch_id)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE UNLOGGED TABLE {name} ({kind.stage_columns})")
        registry_errors = kind.check_staged(prepared, name, ctx, cursor)
        errors = all_errors([file_errors, registry_errors])
        if not errors.empty:
            cursor.execute(f"DROP TABLE {name}")
    return errors


def _check(
    kind: ImportKind, table: Table, ctx: ValidationContext
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every row's errors, and for a two-step kind the rows its file checks kept (else None; a
    staged kind keeps them in its stage instead)."""
    if stages_rows(kind):
        return _check_into_stage(cast(StagedKind, kind), table, ctx), None
    if not checks_in_two_steps(kind):
        errors, _clean = kind.validate(table, ctx)
        return errors, None
    errors, prepared, _clean = check_in_two_steps(cast(TwoStepKind, kind), table, ctx)
    return errors, prepared


def _recheck(batch: ImportBatch, kind: ImportKind) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inside the commit: (errors, clean rows) against the registry as it is now.

    A two-step kind checks the rows its file checks kept at the check (the file cannot have
    changed: it is our copy); any other kind, or a batch checked before the rows were kept,
    checks the whole table again.
    """
    ctx = _context(batch)
    prepared_path = _cache(batch, "prepared")
    if checks_in_two_steps(kind) and prepared_path.exists():
        return cast(TwoStepKind, kind).check_registry(_load_frame(prepared_path), ctx)
    return kind.validate(_load_table(batch, kind), ctx)


class _StageNoLongerPasses(Exception):
    """Raised inside the staged commit's savepoint to roll it back."""


def _commit_from_stage(batch: ImportBatch, kind: ImportKind) -> dict[str, int] | None:
    """A staged kind's commit from the rows its check kept (commit_stage, see StagedKind): its
    counts, or None when the kind keeps no stage, the stage is gone or short of the batch's rows
    (a crash empties an UNLOGGED table), or a row no longer passes. That last write is rolled back
    to a savepoint, and the caller checks the file again, which says which rows and why.
    """
    if not stages_rows(kind):
        return None
    name = stage_table(batch.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT count(*) FROM {name}")
        if cursor.fetchone()[0] != batch.rows_valid:
            return None
    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            pghistory.context(import_batch=batch.pk, import_kind=kind.name),
        ):
            written = cast(StagedKind, kind).commit_stage(name, batch, cursor)
            if written is None:
                raise _StageNoLongerPasses
    except (_StageNoLongerPasses, IntegrityError):
        # IntegrityError: a guard of the table (a trigger, a constraint) refused a row, e.g. a
        # membership recorded since the check; the re-check names it.
        return None
    return dict(written)


def import_validate(*, batch_id: int) -> None:
    """Check every row of an uploaded batch: VALIDATED with no bad row, REJECTED otherwise.

    Runs in a worker (or inline for a small file). Not atomic on purpose: the claim and each
    progress step commit on their own so the page shows them; the result (bad rows, counts,
    status) is written in one transaction at the end. A batch no longer UPLOADED or VALIDATING
    (cancelled, or checked by an earlier run) is left alone, so running it twice is harmless.
    """
    drop_stale_stages()
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or not can_proceed(batch.start_validation):
            return
        batch.start_validation()
        batch.progress, batch.progress_note = 5, ProgressStep.READING
        batch.save()
    kind = get_kind(batch.kind)
    try:
        if kind is None:
            raise RuntimeError(f"import kind {batch.kind!r} is no longer registered")
        try:
            table = _read(batch, kind)
        except SpreadsheetError as error:
            # One file-level error (row 0); the message is written when it is shown, in the reader's language.
            _finish_validation(batch_id, error_frame([0], "", [""], error.code, error.params), rows_total=0)
            return
        _progress(batch_id, 30, ProgressStep.CHECKING)
        errors, prepared = _check(
            kind, table, _context(batch, lambda step, pct: _progress(batch_id, pct, step))
        )
        _progress(batch_id, 80, ProgressStep.SAVING_ERRORS)
        if errors.empty and not stages_rows(kind):
            # What the commit needs, so it neither reads the file nor repeats the file's checks
            # (a staged kind keeps its rows in its stage).
            if prepared is not None:
                _save_frame(_cache(batch, "prepared"), prepared)
            else:
                _save_table(batch, table)
        _finish_validation(batch_id, errors, rows_total=len(table))
    except Exception as exc:
        # The type only: messages of database errors can quote the rows' values.
        logger.error("import batch %s: validation stopped on %s", batch_id, type(exc).__name__)
        _fail(batch_id, "unexpected", type(exc).__name__, source=ImportStatus.VALIDATING)
        if settings.DEBUG:
            raise


def _finish_validation(batch_id: int, errors: pd.DataFrame, *, rows_total: int) -> None:
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != ImportStatus.VALIDATING:
            if batch is not None and batch.status not in (ImportStatus.VALIDATED, ImportStatus.COMMITTING):
                _drop_stage(batch_id)  # cancelled meanwhile: nothing will commit it
            return  # cancelled meanwhile, or another run finished first
        _write_errors(batch_id, errors)
        bad_rows = int(errors.loc[errors["row"] > 0, "row"].nunique()) if not errors.empty else 0
        batch.rows_total = rows_total
        batch.rows_invalid = bad_rows
        batch.rows_valid = rows_total - bad_rows
        batch.progress, batch.progress_note = 100, ProgressStep.CHECKED
        if errors.empty:
            batch.mark_validated(at=timezone.now())
        else:
            batch.mark_rejected(at=timezone.now())
        batch.save()


def _lock_visible(batch_id: int, by: User) -> ImportBatch:
    # Lock before reading the status: a double click is decided one request at a time.
    return get_visible_or_404(ImportBatch.objects.select_for_update(of=("self",)), by, pk=batch_id)


def _wrong_state(batch: ImportBatch, message: str) -> InvalidState:
    """409 naming the batch and its status; message has %(id)s and %(status)s."""
    return InvalidState(
        message % {"id": batch.pk, "status": batch.get_status_display()},
        ids=[batch.pk],
        status=batch.status,
    )


@transaction.atomic
def import_confirm(*, batch_id: int, by: User, schedule: bool = True) -> ImportBatch:
    """The clerk confirms a VALIDATED batch; its rows are then committed, all or none.

    Needs imports.add_importbatch (403) and a batch the user sees (404); any other status than
    VALIDATED is refused naming the batch and its status (409). The same user confirming again
    (a double click) is a no-op.
    """
    if not by.has_perm(UPLOAD_PERMISSION):
        raise NotPermitted(_("Your role may not import lists."), batch_id=batch_id)
    batch = _lock_visible(batch_id, by)
    if batch.confirmed_by_id == by.pk and batch.status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED):
        return batch
    if not can_proceed(batch.confirm):
        raise _wrong_state(batch, _("Batch %(id)s is %(status)s, so it cannot be confirmed."))
    with pghistory.context(user=by.pk, action="import_confirm"):
        batch.confirm(by=by, at=timezone.now())
        batch.progress, batch.progress_note = 0, ProgressStep.WAITING
        batch.save()
    if schedule:
        _after_commit("import_commit", batch, batch.rows_total <= _inline_max_rows())
    return batch


def import_commit(*, batch_id: int) -> None:
    """Write a confirmed batch into the registry in ONE transaction, or nothing at all.

    Inside the transaction: lock the batch, read the file and check every row again against
    the registry as it is now, COPY the clean rows into the kind's staging table, merge them
    with one statement, mark COMMITTED. Any failure rolls all of it back and marks the batch
    FAILED with the reason (and, when rows went stale, those rows). A batch no longer
    COMMITTING is left alone, so running it twice commits once.
    """
    kind_name = ImportBatch.objects.filter(pk=batch_id).values_list("kind", flat=True).first()
    kind = get_kind(kind_name or "")
    if kind is None:
        return
    try:
        with transaction.atomic():
            # The lock holds until the end: a second worker waits, then finds COMMITTED and leaves.
            batch = (
                ImportBatch.objects.select_for_update(of=("self",))
                .select_related("township")
                .filter(pk=batch_id)
                .first()
            )
            if batch is None or batch.status != ImportStatus.COMMITTING:
                return
            written = _commit_from_stage(batch, kind)
            if written is None:
                errors, clean = _recheck(batch, kind)
                if not errors.empty:
                    raise _RowsNoLongerValid(errors)
                with (
                    connection.cursor() as cursor,
                    pghistory.context(import_batch=batch.pk, import_kind=kind.name),
                ):
                    staged = kind.stage(clean, batch, cursor)
                    written = kind.merge(batch, cursor)
                changed = sum(int(value) for key, value in written.items() if key in ("updated", "inserted"))
                if changed != staged:
                    # A row changed between the check and the write: roll back rather than import part.
                    raise _RowsNoLongerValid(pd.DataFrame(columns=ERROR_COLUMNS))
                written = {**written, "unchanged": len(clean) - staged}
            _drop_stage(batch.pk)  # with the commit: a rollback keeps it
            summary = {"rows": batch.rows_total, **written}
            batch.mark_committed(summary=summary, at=timezone.now())
            batch.progress, batch.progress_note = 100, ProgressStep.DONE
            batch.save()
            for what in ("table", "prepared"):
                transaction.on_commit(partial(_cache(batch, what).unlink, missing_ok=True))
            transaction.on_commit(
                partial(
                    import_committed.send,
                    sender=ImportBatch,
                    kind=kind.name,
                    batch_id=batch.pk,
                    township_id=batch.township_id,
                    touches=list(kind.touches),
                )
            )
            if written.get("inserted", 0) + written.get("updated", 0) >= ANALYZE_MIN_ROWS:
                from socialsec.core.tasks import analyze_tables

                transaction.on_commit(partial(analyze_tables.delay, list(kind.touches)))
    except _RowsNoLongerValid as stale:
        errors = stale.errors if not stale.errors.empty else None
        _fail(batch_id, "changed_since_check", str(stale), errors=errors)
    except SpreadsheetError as error:
        _fail(batch_id, "unexpected", f"file no longer readable: {error.code}")
    except DatabaseError as exc:
        # Class, SQLSTATE and constraint only: the message itself may quote a row's values.
        cause = getattr(exc, "__cause__", None)
        diag = getattr(cause, "diag", None)
        parts = [type(exc).__name__, getattr(cause, "pgcode", None), getattr(diag, "constraint_name", None)]
        detail = " ".join(str(part) for part in parts if part)
        logger.error("import batch %s: commit rolled back: %s", batch_id, detail)
        _fail(batch_id, "database_error", detail)


def _fail(
    batch_id: int,
    code: str,
    detail: str,
    *,
    errors: pd.DataFrame | None = None,
    source: str = ImportStatus.COMMITTING,
) -> None:
    """Mark the batch FAILED in a transaction of its own, after the failed one rolled back."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != source:
            return
        _drop_stage(batch_id)
        if errors is not None:
            _write_errors(batch_id, errors)
            batch.rows_invalid = int(errors["row"].nunique())
            batch.rows_valid = max(batch.rows_total - batch.rows_invalid, 0)
        batch.mark_failed(code=code, detail=detail[:2000], at=timezone.now())
        batch.progress_note = ProgressStep.FAILED
        batch.save()


@transaction.atomic
def import_cancel(*, batch_id: int, by: User) -> ImportBatch:
    """Drop a batch that was not imported (UPLOADED, VALIDATED or REJECTED); 409 otherwise."""
    if not by.has_perm(UPLOAD_PERMISSION):
        raise NotPermitted(_("Your role may not import lists."), batch_id=batch_id)
    batch = _lock_visible(batch_id, by)
    if batch.status == ImportStatus.CANCELLED:
        return batch
    if not can_proceed(batch.cancel):
        raise _wrong_state(batch, _("Batch %(id)s is %(status)s, so it cannot be cancelled."))
    with pghistory.context(user=by.pk, action="import_cancel"):
        batch.cancel(at=timezone.now())
        batch.save()
    _drop_stage(batch.pk)
    return batch


def import_error_workbook(batch: ImportBatch) -> Path:
    """An xlsx of the bad rows: row, column, value, reason (in the active language), then the
    original row's cells, so the clerk can correct the file from it. Formula-safe."""
    kind = get_kind(batch.kind)
    errors = list(
        ImportRowError.objects.filter(batch=batch)
        .order_by("row", "id")
        .values_list("row", "column", "value", "code", "params")
    )
    original_labels: list[str] = []
    original: dict[int, list[str]] = {}
    if kind is not None and any(row > 0 for row, *_rest in errors):
        try:
            table = read_table(batch_path(batch), kind.columns, required=kind.required, limits=_limits())
        except SpreadsheetError:
            table = None
        if table is not None:
            names = list(table.frame.columns)
            original_labels = [str(kind.columns[name][0]) for name in names]
            wanted = {row for row, *_rest in errors}
            for position, row in enumerate(table.rows.tolist()):
                if row in wanted:
                    original[row] = table.frame.iloc[position].tolist()
    header = [_("Row"), _("Column"), _("Value in the file"), _("Reason"), *original_labels]
    body = (
        [row or "", column, value, error_message(kind, code, params, value), *original.get(row, [])]
        for row, column, value, code, params in errors
    )
    target = (
        Path(settings.MEDIA_ROOT)
        / "imports"
        / "errors"
        / f"batch-{batch.pk}-{get_language() or 'zh-hans'}.xlsx"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(target, header, body, sheet_name=_("Bad rows"))
    return target


def import_template_workbook(kind_name: str) -> Path:
    """The empty template of a kind: its header labels and an example row."""
    kind = _kind_or_refuse(kind_name)
    target = Path(settings.MEDIA_ROOT) / "imports" / "templates" / f"{kind.name}.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    header = [str(labels[0]) for labels in kind.columns.values()]
    write_workbook(target, header, kind.template_rows)
    return target
