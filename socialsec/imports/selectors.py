"""Reads of import batches that serve the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from socialsec.core.exceptions import NotPermitted
from socialsec.imports.kinds import ImportKind, get_kind
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch, ImportBatchQuerySet, ImportRowError
from socialsec.lib.masking import mask_tail

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


# Columns whose cells are personal numbers: shown masked to anyone but the uploader (whose own
# file it is) and the roles that may unmask (DOMAIN: masked everywhere unless a role may unmask).
SENSITIVE_COLUMNS = ("id_number", "bank_account", "card_number")
UNMASK_PERMISSION = "core.unmask_personal_data"


def sees_full_values(batch: ImportBatch, user: User | AnonymousUser) -> bool:
    return user.pk == batch.uploaded_by_id or user.has_perm(UNMASK_PERMISSION)


def sensitive_labels(kind: ImportKind | None) -> frozenset[str]:
    """The column labels under which errors of this kind store a personal number."""
    if kind is None:
        return frozenset()
    return frozenset(str(label) for name in SENSITIVE_COLUMNS for label in (kind.columns.get(name) or [])[:1])


def shown_value(value: str, column: str, labels: frozenset[str], full: bool) -> str:
    return value if full or column not in labels else mask_tail(value)


def refuse_full_values(batch: ImportBatch, user: User | AnonymousUser) -> None:
    """The bad-rows workbook copies whole rows, numbers included: the uploader's own, or an unmasker's."""
    if not sees_full_values(batch, user):
        raise NotPermitted(
            _(
                "Only the person who uploaded this file, or a role that may see full numbers, "
                "may download its rows."
            )
        )


def import_batches_for(*, user: User | AnonymousUser) -> ImportBatchQuerySet:
    """Batches of the user's townships (county-wide ones only for county-wide staff), newest first."""
    return ImportBatch.objects.visible_to(user).select_related("township", "uploaded_by").order_by("-id")


def import_error_rows(
    *,
    batch: ImportBatch,
    user: User | AnonymousUser,
    after: tuple[int, int] | None = None,
    limit: int = 50,
) -> list[ErrorRow]:
    """One keyset page of a batch's bad rows in file order, with reasons in the active language.

    The caller has loaded the batch through visible_to; `after` is the (row, id) of the last
    error shown. Personal numbers are masked unless `user` sees_full_values. Reads limit + 1
    rows, so the caller knows whether a next page exists.
    """
    errors = ImportRowError.objects.filter(batch=batch).order_by("row", "id")
    if after is not None:
        row, error_id = after
        errors = errors.filter(Q(row__gt=row) | Q(row=row, id__gt=error_id))
    kind = get_kind(batch.kind)
    labels, full = sensitive_labels(kind), sees_full_values(batch, user)
    rows = []
    for error in errors[: limit + 1]:
        value = shown_value(error.value, error.column, labels, full)
        rows.append(
            ErrorRow(
                id=error.pk,
                row=error.row,
                column=error.column,
                value=value,
                code=error.code,
                reason=error_message(kind, error.code, error.params, value),
            )
        )
    return rows
