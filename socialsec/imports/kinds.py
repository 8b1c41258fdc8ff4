"""What an import kind is, and the registry that finds them.

A kind is one sort of list (death records, special groups, enrollments…). The framework
(services, tasks, pages, API, CLI) knows nothing of any kind's columns or tables: it reads
the file with the kind's column labels, asks the kind to validate the table, COPYs the
clean rows into the kind's staging table and asks the kind to merge them with one statement.

Kinds live in their own app as `<app>.imports` with a module-level `KINDS` list, found by
name the way socialsec.core.seeding finds `<app>.seeding`, so imports imports no app.

Staging is a TEMP table created inside the commit transaction (ON COMMIT DROP): it exists
for one batch only, needs no cleanup after a crash, no migration per kind, and no batch_id
filter in the merge; an UNLOGGED table would save the CREATE but add both of those.

Optional, for speed (see TwoStepKind): a kind may split its validation into the checks of the
file alone and the checks against the registry. The commit then re-runs only the latter, on the
rows the check kept, instead of reading the file and checking everything again. A StagedKind
goes further: its check keeps those rows in a table of the batch, and its commit writes from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import pandas as pd
from django.apps import apps
from django.utils.functional import Promise
from django.utils.module_loading import module_has_submodule

from socialsec.lib.spreadsheets import Table

# The columns of the errors DataFrame a kind's validate returns.
ERROR_COLUMNS = ["row", "column", "value", "code", "params"]


def error_frame(rows: Any, column: str, values: Any, code: str, params: Any = None) -> pd.DataFrame:
    """Errors for many rows at once: one code, one column, each row's value (and params)."""
    rows = pd.Series(rows).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "row": rows.astype("int64"),
            "column": column,
            "value": pd.Series(values).reset_index(drop=True).astype(str)
            if len(rows)
            else pd.Series(dtype=str),
            "code": code,
        }
    )
    if params is None:
        frame["params"] = [{} for _ in range(len(frame))]
    elif isinstance(params, dict):
        frame["params"] = [params for _ in range(len(frame))]
    else:
        frame["params"] = list(params)
    return frame[ERROR_COLUMNS]


def no_errors() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in ERROR_COLUMNS})


def all_errors(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The errors of several checks as one frame, in their order (no_errors() when there are none)."""
    found = [frame for frame in frames if not frame.empty]
    return pd.concat(found, ignore_index=True) if found else no_errors()


@dataclass
class ValidationContext:
    """What a kind may know while validating: the batch's township (None = whole county) and today."""

    township_id: int | None
    today: Any  # datetime.date, the county's calendar day
    township_name: str = ""
    batch_id: int | None = None
    # Read by the kind after the file checks, before the registry checks (progress).
    on_step: Callable[[str, int], None] = lambda step, percent: None


class ImportKind(Protocol):
    """One kind of list. `columns` maps canonical names to the labels a file may carry, the first
    being the one the template uses; `required` lists the canonical names a file must have."""

    name: str
    label: Promise | str
    columns: Mapping[str, Sequence[str]]
    required: Sequence[str]
    # Rows of the downloadable template, under the first label of each column.
    template_rows: Sequence[Sequence[Any]]
    # Model labels whose planner statistics a large commit changes ("app_label.Model").
    touches: Sequence[str]

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(errors with ERROR_COLUMNS, clean rows ready for stage). Errors name the file's row."""
        ...

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        """Create the TEMP staging table and COPY the clean rows in; returns rows staged."""
        ...

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        """One set-based statement from staging into the registry; returns the summary counts."""
        ...

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        """The clerk's sentence for a kind-specific code, in the active language (None: not ours)."""
        ...


class TwoStepKind(ImportKind, Protocol):
    """An ImportKind whose validation is two steps; both methods are optional extras of a kind.

    `validate(table, ctx)` must equal `check_file` followed by `check_registry` on the rows it
    kept (errors of both, in that order). The check runs both steps and keeps the first step's
    rows; the commit runs `check_registry` alone on them, inside its transaction, because the
    registry may have changed since the check while our copy of the file cannot have.
    """

    def check_file(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(errors, prepared rows): every check that needs only the file (IDs, dates, duplicates…).

        The prepared frame holds plain columns only (numbers, booleans, datetime64, text, None
        for missing text): the framework stores it between the check and the commit without pickle.
        """
        ...

    def check_registry(
        self, prepared: pd.DataFrame, ctx: ValidationContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(errors, clean rows ready for stage): the checks against the database as it is now."""
        ...


class StagedKind(TwoStepKind, Protocol):
    """A TwoStepKind that keeps the rows of check_file in a table from the check to the commit
    (special_groups is one): the check writes them there once and checks the registry in SQL, and
    the usual commit is one checked INSERT … SELECT from that table, with no file, no Python
    re-check and no second COPY. All three members are optional extras of a kind.

    The framework owns the table: it is the batch's own (services.stage_table), UNLOGGED, created
    with `stage_columns` before check_staged and dropped when the batch is committed, cancelled,
    rejected or failed. `validate` and `check_registry` must say what check_staged says.
    """

    # The stage's column definitions, as in CREATE TABLE (…).
    stage_columns: str

    def check_staged(
        self, prepared: pd.DataFrame, table: str, ctx: ValidationContext, cursor: Any
    ) -> pd.DataFrame:
        """COPY check_file's rows into `table` and check them against the registry: the errors."""
        ...

    def commit_stage(self, table: str, batch: Any, cursor: Any) -> dict[str, int] | None:
        """Write the staged rows with check_staged's rules in the SQL: the summary counts
        ("inserted"/"updated" and "unchanged"), or None when some row no longer passes (an
        IntegrityError from a guard of the table means the same). The framework calls it only while
        `table` holds every row of the batch (batch.rows_valid); on None it rolls this back to a
        savepoint and checks the file again, so the clerk still learns which rows and why."""
        ...


def check_in_two_steps(
    kind: TwoStepKind, table: Table, ctx: ValidationContext
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """check_file, then check_registry on the rows it kept: (the errors of both, in that order;
    the prepared rows; the clean rows)."""
    file_errors, prepared = kind.check_file(table, ctx)
    registry_errors, clean = kind.check_registry(prepared, ctx)
    return all_errors([file_errors, registry_errors]), prepared, clean


def checks_in_two_steps(kind: ImportKind) -> bool:
    """Whether the kind implements TwoStepKind's optional methods."""
    return callable(getattr(kind, "check_file", None)) and callable(getattr(kind, "check_registry", None))


def stages_rows(kind: ImportKind) -> bool:
    """Whether the kind implements StagedKind's optional members."""
    return (
        checks_in_two_steps(kind)
        and isinstance(getattr(kind, "stage_columns", None), str)
        and callable(getattr(kind, "check_staged", None))
        and callable(getattr(kind, "commit_stage", None))
    )


@dataclass(frozen=True)
class KindInfo:
    """A kind as the pages and the API list it."""

    name: str
    label: Promise | str
    columns: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)


@cache
def registered_kinds() -> dict[str, ImportKind]:
    """Every installed app's `<app>.imports.KINDS`, by name, in INSTALLED_APPS order."""
    found: dict[str, ImportKind] = {}
    for config in apps.get_app_configs():
        if config.name == "socialsec.imports" or not module_has_submodule(config.module, "imports"):
            continue
        module = importlib.import_module(f"{config.name}.imports")
        for kind in getattr(module, "KINDS", []):
            if kind.name in found:
                raise ValueError(f"import kind {kind.name!r} is registered twice")
            found[kind.name] = kind
    return found


def get_kind(name: str) -> ImportKind | None:
    return registered_kinds().get(name)


def kind_infos() -> list[KindInfo]:
    return [
        KindInfo(
            name=kind.name,
            label=kind.label,
            columns=[str(labels[0]) for labels in kind.columns.values()],
            required=[str(kind.columns[name][0]) for name in kind.required],
        )
        for kind in registered_kinds().values()
    ]


def column_label(kind: ImportKind, canonical: str) -> str:
    """The label a clerk knows a column by (the template's)."""
    labels = kind.columns.get(canonical)
    return str(labels[0]) if labels else canonical
