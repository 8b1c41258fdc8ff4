"""The abstract roster and roster line: the lifecycle, the constraints and the guards, declared once.

A roster kind subclasses both in its own app:

    class PayoutRoster(RosterBase):
        programme = models.CharField(..., choices=BenefitProgramme.choices)
        class Meta(RosterBase.Meta): ...

    class PayoutLine(RosterLineBase):
        roster = models.ForeignKey(PayoutRoster, related_name="lines", ...)
        programme = models.CharField(..., choices=BenefitProgramme.choices)
        class Meta(RosterLineBase.Meta): ...

Constraint names carry %(app_label)s_%(class)s; the triggers (socialsec.rosters.triggers) render
their SQL from the concrete model. Services (socialsec.rosters.services) carry the steps out; the
transitions here only record who did what (STYLE §11).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from socialsec.core.models import AdministrativeDivision, TimeStamped
from socialsec.core.scoping import TownshipScopedQuerySet
from socialsec.lib.masking import mask_bank_account
from socialsec.rosters import triggers
from socialsec.rosters.choices import RELEASED_STATUSES, SETTLED_STATUSES, BankResult, RosterStatus
from socialsec.rosters.workflow import permitted

_MONEY = {"max_digits": 12, "decimal_places": 2}
_TOTAL = {"max_digits": 14, "decimal_places": 2}
S = RosterStatus


def _user(verbose_name: str) -> models.ForeignKey:
    # Users are deactivated, never deleted; nothing searches rosters by these columns.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


class RosterQuerySet(TownshipScopedQuerySet):
    def open(self) -> RosterQuerySet:
        """Every roster that still counts: all but the cancelled ones."""
        return self.exclude(status=RosterStatus.CANCELLED)

    def in_status(self, *statuses: str) -> RosterQuerySet:
        return self.filter(status__in=statuses)


class RosterLineQuerySet(TownshipScopedQuerySet):
    pass


def _payment_prepared(roster: RosterBase) -> bool:
    return roster.prepared_by_id is not None


def _payment_not_prepared(roster: RosterBase) -> bool:
    return roster.prepared_by_id is None


def _posts_distinct(post: str, earlier: list[str]) -> Q:
    """`post` is empty or differs from every earlier post that is filled (E22)."""
    condition = Q(**{f"{post}__isnull": True})
    different = Q()
    for other in earlier:
        different &= Q(**{f"{other}__isnull": True}) | ~Q(**{post: models.F(other)})
    return condition | different


def _filled(*names: str) -> Q:
    return Q(**{f"{name}__isnull": False for name in names})


def _empty(*names: str) -> Q:
    return Q(**{f"{name}__isnull": True for name in names})


_MADE, _CHECKED, _APPROVED = (
    ("made_by", "made_at"),
    ("checked_by", "checked_at"),
    ("approved_by", "approved_at"),
)
_PREPARED, _RELEASED = ("prepared_by", "prepared_at"), ("released_by", "released_at")
_SETTLED = ("settled_by", "settled_at")


class RosterBase(ConcurrentTransitionMixin, TimeStamped):
    """A payout roster (花名册) of one programme, month and township (or the whole county).

    DRAFT → SUBMITTED (maker) → CHECKED (checker) → APPROVED (approver; the accountant then
    prepares the payment instruction) → PAYING (the cashier releases it) → PAID or
    PARTIALLY_PAID (the bank's receipt); SUBMITTED or CHECKED → DRAFT with a written reason;
    DRAFT → CANCELLED. Five different people stand behind a paid roster (DOMAIN E22).
    """

    TOWNSHIP_PATH = "township"
    # Roster numbers start with a short code per programme, e.g. {"resident_pension": "RP"}.
    NUMBER_PREFIXES: ClassVar[dict[str, str]] = {}

    number = models.CharField(_("roster number"), max_length=40, unique=True)
    programme = models.CharField(_("programme"), max_length=40)
    period = models.DateField(_("payout month"))
    township = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for a roster of the whole county."),
        db_index=False,  # the (township, id) index serves every lookup
    )
    status = FSMField(
        _("status"), max_length=16, choices=RosterStatus.choices, default=RosterStatus.DRAFT, protected=True
    )
    total_persons = models.PositiveIntegerField(_("number of persons"), default=0)
    total_amount = models.DecimalField(_("amount"), default=Decimal("0"), **_TOTAL)
    digest = models.CharField(
        _("digest"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the lines and totals, fixed at submit."),
    )
    created_by = _user(_("generated by"))
    made_by = _user(_("maker"))
    made_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    checked_by = _user(_("checker"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    approved_by = _user(_("approver"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    prepared_by = _user(_("accountant"))
    prepared_at = models.DateTimeField(_("payment prepared at"), null=True, blank=True)
    bank_batch = models.CharField(_("bank batch number"), max_length=50, blank=True)
    released_by = _user(_("cashier"))
    released_at = models.DateTimeField(_("payment released at"), null=True, blank=True)
    settled_by = _user(_("bank receipt recorded by"))
    settled_at = models.DateTimeField(_("bank receipt recorded at"), null=True, blank=True)
    paid_persons = models.PositiveIntegerField(_("persons paid"), default=0)
    paid_amount = models.DecimalField(_("amount paid"), default=Decimal("0"), **_TOTAL)
    failed_persons = models.PositiveIntegerField(_("persons failed at the bank"), default=0)
    failed_amount = models.DecimalField(_("amount failed at the bank"), default=Decimal("0"), **_TOTAL)
    returned_by = _user(_("returned by"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for returning"), blank=True)
    cancelled_by = _user(_("cancelled by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    objects = RosterQuerySet.as_manager()

    class Meta:
        abstract = True
        # One permission per step, per roster kind: <app>.submit_<model>, … (socialsec/core/roles.py).
        default_permissions = (
            "add",
            "view",
            "submit",
            "check",
            "approve",
            "prepare_payment",
            "pay",
            "record_bank_receipt",
        )
        indexes = [
            models.Index(fields=["township", "id"], name="%(class)s_town_id"),
            models.Index(fields=["status", "id"], name="%(class)s_status_id"),
        ]
        constraints = [
            # Issue 4: one roster that counts per programme, month and township (or county).
            models.UniqueConstraint(
                models.F("programme"),
                models.F("period"),
                Coalesce("township", models.Value(0)),
                condition=~Q(status=S.CANCELLED),
                name="%(app_label)s_%(class)s_one_open_per_month",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="%(app_label)s_%(class)s_period_month"),
            models.CheckConstraint(
                condition=Q(status__in=S.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0, paid_amount__gte=0, failed_amount__gte=0),
                name="%(app_label)s_%(class)s_amounts_not_negative",
            ),
            # Who took each step is on record exactly when the status says the step was taken.
            models.CheckConstraint(
                condition=(
                    (Q(status__in=[S.DRAFT, S.CANCELLED]) & _empty(*_MADE, *_CHECKED, *_APPROVED))
                    | (Q(status=S.SUBMITTED) & _filled(*_MADE) & _empty(*_CHECKED, *_APPROVED))
                    | (Q(status=S.CHECKED) & _filled(*_MADE, *_CHECKED) & _empty(*_APPROVED))
                    | (
                        Q(status__in=[S.APPROVED, *RELEASED_STATUSES])
                        & _filled(*_MADE, *_CHECKED, *_APPROVED)
                    )
                )
                & (
                    (Q(status__in=RELEASED_STATUSES) & _filled(*_PREPARED, *_RELEASED))
                    | (~Q(status__in=RELEASED_STATUSES) & _empty(*_RELEASED))
                )
                & (Q(status__in=[S.APPROVED, *RELEASED_STATUSES]) | _empty(*_PREPARED))
                & (
                    (Q(status__in=SETTLED_STATUSES) & _filled(*_SETTLED))
                    | (~Q(status__in=SETTLED_STATUSES) & _empty(*_SETTLED))
                )
                & (
                    (Q(status=S.CANCELLED) & _filled("cancelled_by", "cancelled_at"))
                    | (~Q(status=S.CANCELLED) & _empty("cancelled_by"))
                )
                & (Q(returned_by__isnull=True) | ~Q(return_reason=""))
                & (Q(cancelled_by__isnull=True) | ~Q(cancel_reason="")),
                name="%(app_label)s_%(class)s_steps_recorded",
            ),
            # Segregation of duties in the database too (DOMAIN §8.2, E22): five different people.
            models.CheckConstraint(
                condition=_posts_distinct("checked_by", ["made_by"]),
                name="%(app_label)s_%(class)s_checker_not_maker",
            ),
            models.CheckConstraint(
                condition=_posts_distinct("approved_by", ["made_by", "checked_by"]),
                name="%(app_label)s_%(class)s_approver_not_maker_checker",
            ),
            models.CheckConstraint(
                condition=_posts_distinct("prepared_by", ["made_by", "checked_by", "approved_by"]),
                name="%(app_label)s_%(class)s_accountant_not_business",
            ),
            models.CheckConstraint(
                condition=_posts_distinct(
                    "released_by", ["made_by", "checked_by", "approved_by", "prepared_by"]
                ),
                name="%(app_label)s_%(class)s_cashier_not_other_posts",
            ),
            models.CheckConstraint(
                condition=_posts_distinct("settled_by", ["made_by", "checked_by", "approved_by"]),
                name="%(app_label)s_%(class)s_receipt_by_finance",
            ),
            # The digest exists from submit on; a draft has none.
            models.CheckConstraint(
                condition=(Q(status__in=[S.DRAFT, S.CANCELLED]) & Q(digest=""))
                | (~Q(status__in=[S.DRAFT, S.CANCELLED]) & Q(digest__regex=r"^[0-9a-f]{64}$")),
                name="%(app_label)s_%(class)s_digest_from_submit",
            ),
            # DOMAIN E22 step 6: Σ paid + Σ failed = roster total; PARTIALLY_PAID has failures.
            models.CheckConstraint(
                condition=~Q(status__in=SETTLED_STATUSES)
                | (
                    Q(
                        paid_amount=models.F("total_amount") - models.F("failed_amount"),
                        paid_persons=models.F("total_persons") - models.F("failed_persons"),
                    )
                    & (Q(status=S.PAID, failed_persons=0) | Q(status=S.PARTIALLY_PAID, failed_persons__gt=0))
                ),
                name="%(app_label)s_%(class)s_settled_adds_up",
            ),
        ]
        triggers = triggers.roster_triggers()

    def __str__(self) -> str:
        return self.number

    # --- The lifecycle: transitions record who and when; services lock, check and audit. ------------

    @transition(field=status, source=S.DRAFT, target=S.SUBMITTED, permission=permitted("submit"))
    def submit(self, *, by: object, at: dt.datetime, digest: str, persons: int, amount: Decimal) -> None:
        self.made_by, self.made_at = by, at
        self.digest, self.total_persons, self.total_amount = digest, persons, amount

    # Not "check": Model.check() is Django's system check.
    @transition(field=status, source=S.SUBMITTED, target=S.CHECKED, permission=permitted("check"))
    def mark_checked(self, *, by: object, at: dt.datetime) -> None:
        self.checked_by, self.checked_at = by, at

    @transition(field=status, source=S.CHECKED, target=S.APPROVED, permission=permitted("approve"))
    def approve(self, *, by: object, at: dt.datetime) -> None:
        self.approved_by, self.approved_at = by, at

    @transition(
        field=status,
        source=S.APPROVED,
        target=S.APPROVED,
        conditions=[_payment_not_prepared],
        permission=permitted("prepare-payment"),
    )
    def prepare_payment(self, *, by: object, at: dt.datetime, batch: str) -> None:
        self.prepared_by, self.prepared_at, self.bank_batch = by, at, batch

    @transition(
        field=status,
        source=S.APPROVED,
        target=S.PAYING,
        conditions=[_payment_prepared],
        permission=permitted("pay"),
    )
    def release_payment(self, *, by: object, at: dt.datetime) -> None:
        self.released_by, self.released_at = by, at

    @transition(
        field=status,
        source=S.PAYING,
        target=RETURN_VALUE(S.PAID, S.PARTIALLY_PAID),
        permission=permitted("bank-receipt"),
    )
    def record_bank_receipt(
        self,
        *,
        by: object,
        at: dt.datetime,
        paid_persons: int,
        paid_amount: Decimal,
        failed_persons: int,
        failed_amount: Decimal,
    ) -> str:
        self.settled_by, self.settled_at = by, at
        self.paid_persons, self.paid_amount = paid_persons, paid_amount
        self.failed_persons, self.failed_amount = failed_persons, failed_amount
        return S.PARTIALLY_PAID if failed_persons else S.PAID

    @transition(field=status, source=[S.SUBMITTED, S.CHECKED], target=S.DRAFT, permission=permitted("return"))
    def return_to_draft(self, *, by: object, at: dt.datetime, reason: str) -> None:
        # The next submit is a new round: new maker, new checker, new digest.
        self.made_by, self.made_at, self.checked_by, self.checked_at = None, None, None, None
        self.digest = ""
        self.returned_by, self.returned_at, self.return_reason = by, at, reason

    @transition(field=status, source=S.DRAFT, target=S.CANCELLED, permission=permitted("cancel"))
    def cancel(self, *, by: object, at: dt.datetime, reason: str) -> None:
        self.cancelled_by, self.cancelled_at, self.cancel_reason = by, at, reason

    @property
    def division_code(self) -> str:
        """The township's code, or the county's for a county roster."""
        return self.township.code if self.township_id else f"{settings.COUNTY_CODE}000000"


class RosterLineBase(models.Model):
    """One payee on a roster: amounts split as DOMAIN §8.3, the account paid into, the bank's result.

    `programme` repeats the roster's (a trigger keeps them equal) so that the database can refuse
    a second payment of one programme to one person for one month on any roster that counts:
    cancelled rosters and lines the bank refused do not count, which is what lets a failed line
    be re-issued, once (`reissue_of` is unique among the lines that count), on a later roster.
    """

    TOWNSHIP_PATH = "roster__township"

    seq = models.PositiveIntegerField(_("line number"))
    person = models.ForeignKey(
        "enrollment.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the (person, period) index serves it
    )
    programme = models.CharField(_("programme"), max_length=40)
    period = models.DateField(_("month paid"))
    basic = models.DecimalField(_("basic pension"), default=Decimal("0"), **_MONEY)
    account = models.DecimalField(_("personal account pension"), default=Decimal("0"), **_MONEY)
    top_up = models.DecimalField(_("top-up"), default=Decimal("0"), **_MONEY)
    back_pay = models.DecimalField(_("back-pay"), default=Decimal("0"), **_MONEY)
    deduction = models.DecimalField(_("deduction"), default=Decimal("0"), **_MONEY)
    net = models.DecimalField(_("net amount"), **_MONEY)
    # The account as it was when the roster was generated: the bank file pays into this one.
    account_number = models.CharField(_("card or account number"), max_length=30)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    roster_cancelled = models.BooleanField(_("roster cancelled"), default=False)
    bank_status = models.CharField(
        _("bank result"), max_length=8, choices=BankResult.choices, default=BankResult.PENDING
    )
    bank_message = models.CharField(_("bank message"), max_length=200, blank=True)
    bank_recorded_at = models.DateTimeField(_("bank result recorded at"), null=True, blank=True)
    reissue_of = models.ForeignKey(
        "self",
        verbose_name=_("re-issues"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reissues",
        db_index=False,  # the reissued_once unique index serves it
    )

    objects = RosterLineQuerySet.as_manager()

    class Meta:
        abstract = True
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["person", "period"], name="%(class)s_person"),
            # The few lines the bank refused, waiting for re-issue (roster generation reads them).
            models.Index(
                fields=["programme", "period"],
                condition=Q(bank_status=BankResult.FAILED),
                name="%(class)s_failed",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["roster", "seq"], name="%(app_label)s_%(class)s_seq"),
            # Issue 4, no double payment: one line per programme, person and month on the rosters that
            # count. A cancelled roster's lines and a line the bank refused make room for another.
            models.UniqueConstraint(
                fields=["programme", "person", "period"],
                condition=Q(roster_cancelled=False) & ~Q(bank_status=BankResult.FAILED),
                name="%(app_label)s_%(class)s_paid_once",
            ),
            # A line that failed at the bank is re-issued once, on a roster that counts.
            models.UniqueConstraint(
                fields=["reissue_of"],
                condition=Q(reissue_of__isnull=False, roster_cancelled=False),
                name="%(app_label)s_%(class)s_reissued_once",
            ),
            models.CheckConstraint(
                condition=Q(basic__gte=0, account__gte=0, top_up__gte=0, back_pay__gte=0, deduction__gte=0),
                name="%(app_label)s_%(class)s_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    net=models.F("basic")
                    + models.F("account")
                    + models.F("top_up")
                    + models.F("back_pay")
                    - models.F("deduction"),
                    net__gte=0,
                ),
                name="%(app_label)s_%(class)s_net_adds_up",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="%(app_label)s_%(class)s_period_month"),
            models.CheckConstraint(
                condition=Q(bank_status__in=BankResult.values),
                name="%(app_label)s_%(class)s_bank_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(account_number=""), name="%(app_label)s_%(class)s_has_account"
            ),
        ]
        triggers = triggers.line_triggers()

    def __str__(self) -> str:
        return f"{self.roster_id}#{self.seq}"

    @property
    def account_number_masked(self) -> str:
        return mask_bank_account(self.account_number)
