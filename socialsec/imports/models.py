"""An import batch (one uploaded file of one kind) and the bad rows found in it."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from socialsec.core.models import AdministrativeDivision, TimeStamped
from socialsec.core.scoping import TownshipScopedQuerySet
from socialsec.imports.choices import ImportStatus, ProgressStep


class ImportBatchQuerySet(TownshipScopedQuerySet):
    def committed(self) -> ImportBatchQuerySet:
        return self.filter(status=ImportStatus.COMMITTED)


class ImportRowErrorQuerySet(TownshipScopedQuerySet):
    pass


@pghistory.track(
    pghistory.InsertEvent(),
    # Progress moves every few seconds while a worker runs; only the lifecycle is history.
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["progress", "progress_note", "updated_at"])),
)
class ImportBatch(ConcurrentTransitionMixin, TimeStamped):
    """One uploaded file of one registered kind, for one township (or the whole county when empty).

    UPLOADED → VALIDATING → VALIDATED | REJECTED; VALIDATED → COMMITTING → COMMITTED | FAILED;
    CANCELLED from UPLOADED, VALIDATED or REJECTED. A county-wide batch (no township) is in no
    assignment list, so only county-wide staff see it.
    """

    TOWNSHIP_PATH = "township"

    kind = models.CharField(_("kind"), max_length=40)
    township = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_name = models.CharField(_("file name"), max_length=255)
    # Relative to MEDIA_ROOT; the name is ours (a random one), never the client's.
    stored_path = models.CharField(_("stored file"), max_length=500)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("size in bytes"))
    status = FSMField(
        _("status"),
        max_length=12,
        choices=ImportStatus.choices,
        default=ImportStatus.UPLOADED,
        protected=True,
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("bad rows"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    progress_note = models.CharField(
        _("progress step"), max_length=20, choices=ProgressStep.choices, default=ProgressStep.WAITING
    )
    task_id = models.CharField(_("task id"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    validated_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # What the commit changed, e.g. {"updated": 120, "unchanged": 3}.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # Why a commit failed: a code the page translates, and the technical detail for staff.
    failure_code = models.CharField(_("failure"), max_length=40, blank=True)
    failure_detail = models.TextField(_("failure detail"), blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        indexes = [
            models.Index(fields=["township", "id"], name="importbatch_township_id"),
            models.Index(fields=["kind", "sha256"], name="importbatch_kind_sha256"),
        ]
        constraints = [
            # Re-uploading a file that was already imported must never import it twice.
            models.UniqueConstraint(
                fields=["kind", "township", "sha256"],
                condition=models.Q(status=ImportStatus.COMMITTED),
                nulls_distinct=False,
                name="importbatch_file_committed_once",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=100), name="importbatch_progress_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.original_name}"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.COMMITTING)

    # --- The lifecycle ------------------------------------------------------------------------------
    # A worker that died mid-check leaves VALIDATING; the retried task starts the check again.
    @transition(
        field=status, source=[ImportStatus.UPLOADED, ImportStatus.VALIDATING], target=ImportStatus.VALIDATING
    )
    def start_validation(self) -> None:
        pass

    @transition(field=status, source=ImportStatus.VALIDATING, target=ImportStatus.VALIDATED)
    def mark_validated(self, *, at: object) -> None:
        self.validated_at = at

    @transition(field=status, source=ImportStatus.VALIDATING, target=ImportStatus.REJECTED)
    def mark_rejected(self, *, at: object) -> None:
        self.validated_at = at

    @transition(field=status, source=ImportStatus.VALIDATED, target=ImportStatus.COMMITTING)
    def confirm(self, *, by: object, at: object) -> None:
        self.confirmed_by = by
        self.confirmed_at = at

    @transition(field=status, source=ImportStatus.COMMITTING, target=ImportStatus.COMMITTED)
    def mark_committed(self, *, summary: dict, at: object) -> None:
        self.summary = summary
        self.finished_at = at

    @transition(
        field=status, source=[ImportStatus.VALIDATING, ImportStatus.COMMITTING], target=ImportStatus.FAILED
    )
    def mark_failed(self, *, code: str, detail: str, at: object) -> None:
        self.failure_code = code
        self.failure_detail = detail
        self.finished_at = at

    @transition(
        field=status,
        source=[ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.REJECTED],
        target=ImportStatus.CANCELLED,
    )
    def cancel(self, *, at: object) -> None:
        self.finished_at = at


class ImportRowError(models.Model):
    """One problem in one cell (or the whole file, row 0) of a batch, shown to the clerk as is.

    The value is kept here for the clerk to see and correct, and never written to a log.
    """

    TOWNSHIP_PATH = "batch__township"

    id = models.BigAutoField(primary_key=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("row"))  # 1-based row in the file; 0 for the file itself
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.TextField(_("value"), blank=True)
    code = models.CharField(_("reason code"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)

    objects = ImportRowErrorQuerySet.as_manager()

    class Meta:
        verbose_name = _("bad row")
        verbose_name_plural = _("bad rows")
        indexes = [models.Index(fields=["batch", "row"], name="importrowerror_batch_row")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}:{self.code}"
