"""Reads of import batches that serve the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from socialsec.imports.kinds import get_kind
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch, ImportBatchQuerySet, ImportRowError

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from socialsec.core.models import User


@dataclass(frozen=True)
class ErrorRow:
    id: int
    row: int
    column: str
    value: str
    code: str
    reason: str


def import_batches_for(*, user: User | AnonymousUser) -> ImportBatchQuerySet:
    """Batches of the user's townships (county-wide ones only for county-wide staff), newest first."""
    return ImportBatch.objects.visible_to(user).select_related("township", "uploaded_by").order_by("-id")


def import_error_rows(
    *, batch: ImportBatch, after: tuple[int, int] | None = None, limit: int = 50
) -> list[ErrorRow]:
    """One keyset page of a batch's bad rows in file order, with reasons in the active language.

    The caller has loaded the batch through visible_to; `after` is the (row, id) of the last
    error shown. Reads limit + 1 rows, so the caller knows whether a next page exists.
    """
    errors = ImportRowError.objects.filter(batch=batch).order_by("row", "id")
    if after is not None:
        row, error_id = after
        errors = errors.filter(Q(row__gt=row) | Q(row=row, id__gt=error_id))
    kind = get_kind(batch.kind)
    return [
        ErrorRow(
            id=error.pk,
            row=error.row,
            column=error.column,
            value=error.value,
            code=error.code,
            reason=error_message(kind, error.code, error.params, error.value),
        )
        for error in errors[: limit + 1]
    ]
