"""Benefit entitlements (DOMAIN §8.1 BenefitEntitlement, §8.2; issue 4 "Benefits").

APPLIED → UNDER_REVIEW → APPROVED → PAYING ⇄ SUSPENDED → STOPPED; APPLIED/UNDER_REVIEW → REJECTED
with a written reason. The lifecycle is declared here once (django-fsm-2, protected field) and
guarded in the database (the status moves only along these edges); benefits.services carries the
steps out. An entitlement keeps the inputs the roster recomputes its amount from every month
(region, personal-account balance at award, contribution years) and the snapshot of the decision
(inputs and the parameter rows used, from benefits.calculations).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from pgtrigger.utils import quote

from benefits.choices import BenefitProgramme
from socialsec.core.models import TimeStamped
from socialsec.core.scoping import TownshipScopedQuerySet
from socialsec.rosters.triggers import StatusEdges

_MONEY = {"max_digits": 12, "decimal_places": 2}


class EntitlementStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    UNDER_REVIEW = "under_review", _("Under review")
    APPROVED = "approved", _("Approved")
    PAYING = "paying", _("Paying")
    SUSPENDED = "suspended", _("Suspended")
    STOPPED = "stopped", _("Stopped")
    REJECTED = "rejected", _("Rejected")


# Closed entitlements make room for a new one of the same person and programme.
CLOSED_ENTITLEMENT_STATUSES = (EntitlementStatus.STOPPED, EntitlementStatus.REJECTED)


class StopReason(models.TextChoices):
    """DOMAIN §8.2: PAYING → STOPPED (death, lost eligibility, UI stop conditions, duration exhausted…)."""

    DEATH = "death", _("Death")
    DUAL_SCHEME = "dual_scheme", _("Receiving another basic pension")
    LOST_ELIGIBILITY = "lost_eligibility", _("Eligibility lost")
    PENSION_START = "pension_start", _("A basic pension started")
    DURATION_EXHAUSTED = "duration_exhausted", _("Duration exhausted")
    OTHER = "other", _("Other")


class SuspensionReason(models.TextChoices):
    """DOMAIN §8.2: PAYING → SUSPENDED (certification missed, alert under investigation, imprisonment)."""

    CERTIFICATION_MISSED = "certification_missed", _("Eligibility certification missed")
    ALERT_UNDER_INVESTIGATION = "alert_under_investigation", _("Alert under investigation")
    IMPRISONMENT = "imprisonment", _("Imprisonment")
    OTHER = "other", _("Other")


class EntitlementQuerySet(TownshipScopedQuerySet):
    def open(self) -> EntitlementQuerySet:
        return self.exclude(status__in=CLOSED_ENTITLEMENT_STATUSES)

    def paying(self) -> EntitlementQuerySet:
        return self.filter(status=EntitlementStatus.PAYING)


def _user(verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never searched; users are deactivated, not deleted
    )


class EntitlementStatusEdges(StatusEdges):
    """The roster guard's edges, but a row may also start PAYING: set-based writers (the employee
    pension import, the synthetic county) record entitlements the province or the past decided."""

    def get_func(self, model: type[models.Model]) -> str:
        field = model._meta.get_field(self.field)
        column = quote(field.column)
        allowed = ", ".join(f"'{source}>{target}'" for source, target in self.edges(model))
        initial = f"'{field.default}', '{EntitlementStatus.PAYING}'"
        return f"""
            IF TG_OP = 'INSERT' THEN
                IF NEW.{column} IS NULL OR NEW.{column} NOT IN ({initial}) THEN
                    RAISE EXCEPTION 'socialsec: a new row of % starts as %, not %',
                        TG_TABLE_NAME, '{field.default} or {EntitlementStatus.PAYING}', NEW.{column}
                        USING ERRCODE = 'check_violation';
                END IF;
            ELSIF NEW.{column} IS DISTINCT FROM OLD.{column}
                  AND NOT (OLD.{column} || '>' || NEW.{column} = ANY (ARRAY[{allowed}])) THEN
                RAISE EXCEPTION 'socialsec: % row % may not move from % to %',
                    TG_TABLE_NAME, OLD.id, OLD.{column}, NEW.{column} USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        """


S = EntitlementStatus


# Written set-based too (the sweep's stops, the province's list, the synthetic county): the row
# versions are written per statement, from its transition tables.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), level=pgtrigger.Statement)
class BenefitEntitlement(ConcurrentTransitionMixin, TimeStamped):
    """A person's entitlement to one programme's monthly benefit (DOMAIN §8.1).

    basic, account and top_up are the monthly split as decided for the start month (resident
    pension: §1.4); the roster recomputes the resident pension for its own month from `region`,
    `account_balance` and `contribution_years` and the parameters in force then.
    """

    TOWNSHIP_PATH = "person__township"

    person = models.ForeignKey(
        "enrollment.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="entitlements",
        db_index=False,  # the (person, programme) index serves it
    )
    programme = models.CharField(_("programme"), max_length=40, choices=BenefitProgramme.choices)
    status = FSMField(
        _("status"),
        max_length=12,
        choices=EntitlementStatus.choices,
        default=EntitlementStatus.APPLIED,
        protected=True,
    )
    # The 6-digit pooling area whose policy parameters apply (DOMAIN §0.2).
    region = models.CharField(_("pooling area"), max_length=6)
    account_balance = models.DecimalField(_("personal account at award"), default=Decimal("0"), **_MONEY)
    contribution_years = models.PositiveSmallIntegerField(_("contribution years"), default=0)
    basic = models.DecimalField(_("basic pension"), default=Decimal("0"), **_MONEY)
    account = models.DecimalField(_("personal account pension"), default=Decimal("0"), **_MONEY)
    top_up = models.DecimalField(_("top-up"), default=Decimal("0"), **_MONEY)
    start_month = models.DateField(_("start month"))
    stop_month = models.DateField(_("stop month"), null=True, blank=True)
    # Unemployment benefit: the months granted from start_month (DOMAIN §3.2); paid no longer.
    duration_months = models.PositiveSmallIntegerField(_("months granted"), null=True, blank=True)
    stop_reason = models.CharField(
        _("stop reason"), max_length=20, choices=StopReason.choices, blank=True, default=""
    )
    suspended_from = models.DateField(_("suspended from"), null=True, blank=True)
    suspension_reason = models.CharField(
        _("suspension reason"), max_length=30, choices=SuspensionReason.choices, blank=True, default=""
    )
    # Set on restoration: the suspended months owed, paid as back-pay on the next roster from
    # `restored_month` on (DOMAIN E10).
    restored_month = models.DateField(_("restored from"), null=True, blank=True)
    backpay_months = models.JSONField(_("months owed"), default=list, blank=True)
    backpay_amount = models.DecimalField(_("back-pay owed"), default=Decimal("0"), **_MONEY)
    rejection_reason = models.TextField(_("reason for rejecting"), blank=True, default="")
    note = models.TextField(_("note"), blank=True, default="")
    # What the entitlement was decided on: inputs, results and the parameter rows used.
    snapshot = models.JSONField(_("calculation snapshot"), default=dict, blank=True)
    applied_by = _user(_("applied by"))
    reviewed_by = _user(_("reviewed by"))
    approved_by = _user(_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    decided_by = _user(_("last step by"))

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        verbose_name = _("benefit entitlement")
        verbose_name_plural = _("benefit entitlements")
        default_permissions = ("add", "view", "decide", "suspend", "stop")
        indexes = [
            models.Index(fields=["person", "programme"], name="entitlement_person_programme"),
            # Roster generation: a programme's paying entitlements.
            models.Index(fields=["programme", "status", "id"], name="entitlement_programme_status"),
        ]
        constraints = [
            # One open entitlement per person and programme, whatever the door.
            models.UniqueConstraint(
                fields=["person", "programme"],
                condition=~Q(status__in=CLOSED_ENTITLEMENT_STATUSES),
                name="entitlement_one_open_per_programme",
            ),
            models.CheckConstraint(
                condition=Q(programme__in=BenefitProgramme.values), name="entitlement_programme_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=S.values), name="entitlement_status_valid"),
            models.CheckConstraint(
                condition=Q(region__regex=r"^[0-9]{6}$"), name="entitlement_region_6_digits"
            ),
            models.CheckConstraint(
                condition=Q(start_month__day=1)
                & (Q(stop_month__isnull=True) | Q(stop_month__day=1))
                & (Q(suspended_from__isnull=True) | Q(suspended_from__day=1))
                & (Q(restored_month__isnull=True) | Q(restored_month__day=1)),
                name="entitlement_months_are_months",
            ),
            models.CheckConstraint(
                condition=Q(
                    basic__gte=0, account__gte=0, top_up__gte=0, backpay_amount__gte=0, account_balance__gte=0
                ),
                name="entitlement_amounts_not_negative",
            ),
            # STOPPED exactly when a stop month and reason are on record; REJECTED with a reason.
            models.CheckConstraint(
                condition=(Q(status=S.STOPPED) & Q(stop_month__isnull=False) & ~Q(stop_reason=""))
                | (~Q(status=S.STOPPED) & Q(stop_month__isnull=True) & Q(stop_reason="")),
                name="entitlement_stop_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(status=S.REJECTED) | ~Q(rejection_reason=""),
                name="entitlement_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(status=S.SUSPENDED) & Q(suspended_from__isnull=False))
                | (~Q(status=S.SUSPENDED) & Q(suspended_from__isnull=True)),
                name="entitlement_suspension_recorded",
            ),
        ]
        triggers = [EntitlementStatusEdges(name="entitlement_status_edges")]

    def __str__(self) -> str:
        return f"{self.get_programme_display()} #{self.pk}"

    @property
    def monthly_amount(self) -> Decimal:
        return self.basic + self.account + self.top_up

    # --- The lifecycle: transitions record what the step decided; services lock, check and audit. ---

    @transition(field=status, source=S.APPLIED, target=S.UNDER_REVIEW)
    def review(self, *, by: object) -> None:
        self.reviewed_by = self.decided_by = by

    @transition(field=status, source=S.UNDER_REVIEW, target=S.APPROVED)
    def approve(self, *, by: object, at: dt.datetime) -> None:
        self.approved_by = self.decided_by = by
        self.approved_at = at

    @transition(field=status, source=S.APPROVED, target=S.PAYING)
    def start_paying(self, *, by: object) -> None:
        self.decided_by = by

    @transition(field=status, source=[S.APPLIED, S.UNDER_REVIEW], target=S.REJECTED)
    def reject(self, *, by: object, reason: str) -> None:
        self.decided_by = by
        self.rejection_reason = reason

    @transition(field=status, source=S.PAYING, target=S.SUSPENDED)
    def suspend(self, *, by: object, month: dt.date, reason: str) -> None:
        self.decided_by = by
        self.suspended_from, self.suspension_reason = month, reason

    @transition(field=status, source=S.SUSPENDED, target=S.PAYING)
    def restore(self, *, by: object, month: dt.date, months_owed: list[str], amount_owed: Decimal) -> None:
        self.decided_by = by
        self.suspended_from, self.suspension_reason = None, ""
        self.restored_month = month
        self.backpay_months, self.backpay_amount = months_owed, amount_owed

    @transition(field=status, source=[S.APPROVED, S.PAYING, S.SUSPENDED], target=S.STOPPED)
    def stop(self, *, by: object, month: dt.date, reason: str) -> None:
        self.decided_by = by
        self.stop_month, self.stop_reason = month, reason
        self.suspended_from, self.suspension_reason = None, ""
