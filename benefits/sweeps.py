"""The monthly sweep's tables (issue 4 "The monthly sweep"; DOMAIN §5.3, §5.4).

A SweepRun is one sweep of one month: who started it (empty when beat did), where it is, what it
found. A WorkItem is what the sweep leaves for the clerks of a township: a person who should be
paid the resident pension and is not (应发尽发, DOMAIN glossary should_pay, §5.3 SHOULD_PAY), or
an entitlement stopped on death whose months after the stop were paid (§5.4 DEATH, E9). The
database keeps each finding once: one should-pay item per person and one overpayment item per
stopped entitlement, whatever month finds them and however often the sweep runs.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from socialsec.core.models import AdministrativeDivision
from socialsec.core.scoping import TownshipScopedQuerySet

_MONEY = {"max_digits": 12, "decimal_places": 2}


class SweepStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", pgettext_lazy("sweep status", "Failed")


class SweepStep(models.TextChoices):
    """The sweep's rules, in the order it runs them (the run's `steps_done` lists the finished ones)."""

    SHOULD_PAY = "should_pay", _("Newly eligible for the resident pension")
    DEATH_STOP = "death_stop", _("Stop entitlements of the dead")
    UNEMPLOYMENT_STOP = "unemployment_stop", _("Stop unemployment benefit run out or ended by a pension")
    OVERPAID = "overpaid", _("List months paid after a stop on death")
    ROSTERS = "rosters", _("Generate draft rosters")


SWEEP_STEPS = tuple(SweepStep)


class WorkItemKind(models.TextChoices):
    SHOULD_PAY = "should_pay", _("Should be paid (应发尽发)")
    DEATH_OVERPAID = "death_overpaid", _("Paid after death")


class WorkItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class SweepRunQuerySet(models.QuerySet):
    def visible_to(self, user: object) -> SweepRunQuerySet:
        """Runs are county business: every signed-in staff member with the view permission sees them."""
        if not getattr(user, "is_authenticated", False) or not user.has_perm("benefits.view_sweeprun"):  # type: ignore[attr-defined]
            return self.none()
        return self.all()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class SweepRun(models.Model):
    month = models.DateField(_("month"))
    status = models.CharField(
        _("status"), max_length=10, choices=SweepStatus.choices, default=SweepStatus.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    step = models.CharField(_("step"), max_length=20, choices=SweepStep.choices, blank=True, default="")
    steps_done = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    # What each step found or made: {"should_pay": n, "death_stop": n, "overpaid": n, "rosters": n, ...}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    failure = models.TextField(_("failure"), blank=True, default="")

    objects = SweepRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly sweep")
        verbose_name_plural = _("monthly sweeps")
        default_permissions = ("add", "view")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="sweeprun_month_is_month"),
            # Two runs of a month never go at once: the second start finds this one.
            models.UniqueConstraint(
                fields=["month"],
                condition=Q(status=SweepStatus.RUNNING),
                name="sweeprun_one_running_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.pk}"


class WorkItemQuerySet(TownshipScopedQuerySet):
    def open(self) -> WorkItemQuerySet:
        return self.filter(status=WorkItemStatus.OPEN)


# Written set-based by the sweep (one INSERT … SELECT per rule and township): audit per statement.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), level=pgtrigger.Statement)
class WorkItem(models.Model):
    TOWNSHIP_PATH = "township"

    kind = models.CharField(_("kind"), max_length=20, choices=WorkItemKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=WorkItemStatus.choices, default=WorkItemStatus.OPEN
    )
    month = models.DateField(_("month found"))
    person = models.ForeignKey(
        "enrollment.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    township = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    entitlement = models.ForeignKey(
        "benefits.BenefitEntitlement",
        verbose_name=_("entitlement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # DEATH_OVERPAID: the months paid after the stop month, and their sum (net of the lines).
    overpaid_months = ArrayField(models.DateField(), default=list, blank=True)
    overpaid_amount = models.DecimalField(_("overpaid"), default=0, **_MONEY)
    sweep = models.ForeignKey(
        SweepRun,
        verbose_name=_("found by"),
        on_delete=models.PROTECT,
        related_name="work_items",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_note = models.TextField(_("note on closing"), blank=True, default="")

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        default_permissions = ("view", "change")
        indexes = [
            models.Index(fields=["township", "status", "kind", "id"], name="workitem_township_queue"),
            models.Index(fields=["sweep"], name="workitem_sweep"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(kind=WorkItemKind.SHOULD_PAY), name="workitem_should_pay_once"
            ),
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=Q(kind=WorkItemKind.DEATH_OVERPAID),
                name="workitem_overpaid_once_per_entitlement",
            ),
            models.CheckConstraint(
                condition=Q(kind=WorkItemKind.SHOULD_PAY) | Q(entitlement__isnull=False),
                name="workitem_overpaid_names_entitlement",
            ),
            models.CheckConstraint(
                condition=(Q(status=WorkItemStatus.CLOSED) & Q(closed_at__isnull=False))
                | (Q(status=WorkItemStatus.OPEN) & Q(closed_at__isnull=True)),
                name="workitem_closed_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
