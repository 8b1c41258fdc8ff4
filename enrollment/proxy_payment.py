"""The proxy-payment (代缴) roster: the government pays the resident-pension contribution of the
difficult groups, once a year, through the same roster workflow as the benefit payouts.

DOMAIN §1.3, §0.5, E2, E3; issue 4 "Rosters → Proxy payment". The lifecycle, the constraints and
the database guards come from socialsec.rosters (RosterBase / RosterLineBase); these are the tables.
A roster covers one year (its `period` is 1 January) for a township or the whole county; its lines
are the persons proxy-paid that year, one each. The no-double-payment index of the shared workflow
(programme, person, period over the lines that count) is the "paid once a year" rule of §1.3.

The line keeps what the contribution record will be made of (the enrollment, the group whose rule
applied, the grade, the amount paid and the subsidy credited on top) as decided at generation;
the roster keeps the parameter rows read, per pooling area. Services: proxy_payment_services.
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enrollment.choices import SpecialGroup
from socialsec.rosters.models import RosterBase, RosterLineBase
from socialsec.rosters.signals import roster_step_committed

_MONEY = {"max_digits": 12, "decimal_places": 2}


class ProxyPaymentProgramme(models.TextChoices):
    """The one programme of this roster kind (RosterBase.programme is per kind)."""

    PROXY_PAYMENT = "proxy_payment", _("Proxy payment of resident-pension contributions")


class ProxyPaymentShare(models.TextChoices):
    """DOMAIN §1.3 ProxyPaymentRule.share: the whole grade or a part of it."""

    FULL = "full", _("Full grade")
    PARTIAL = "partial", _("Part of the grade")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ProxyPaymentRoster(RosterBase):
    """The year's proxy-payment roster (代缴花名册) of a township or the whole county."""

    NUMBER_PREFIXES = {ProxyPaymentProgramme.PROXY_PAYMENT.value: "PP"}

    programme = models.CharField(
        _("programme"),
        max_length=40,
        choices=ProxyPaymentProgramme.choices,
        default=ProxyPaymentProgramme.PROXY_PAYMENT,
    )
    # {pooling area: [parameter rows with their values]} read at generation (DOMAIN §0.2);
    # each contribution record made from this roster keeps its area's rows.
    parameters_used = models.JSONField(_("parameters used"), default=dict, blank=True)

    class Meta(RosterBase.Meta):
        verbose_name = _("proxy-payment roster")
        verbose_name_plural = _("proxy-payment rosters")
        constraints = [
            *RosterBase.Meta.constraints,
            models.CheckConstraint(
                condition=Q(programme__in=ProxyPaymentProgramme.values),
                name="proxypaymentroster_programme_valid",
            ),
            # One roster a year: the period is 1 January.
            models.CheckConstraint(condition=Q(period__month=1), name="proxypaymentroster_period_year"),
        ]

    @property
    def year(self) -> int:
        return self.period.year


# Written set-based like the payout lines (one INSERT … SELECT per roster); row versions per statement.
@pghistory.track(pghistory.UpdateEvent(), pghistory.DeleteEvent(), level=pgtrigger.Statement)
class ProxyPaymentLine(RosterLineBase):
    """One person proxy-paid for the year: `basic` (and `net`) is the amount the government pays."""

    roster = models.ForeignKey(
        ProxyPaymentRoster,
        verbose_name=_("roster"),
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,  # the (roster, seq) unique index serves it
    )
    programme = models.CharField(
        _("programme"),
        max_length=40,
        choices=ProxyPaymentProgramme.choices,
        default=ProxyPaymentProgramme.PROXY_PAYMENT,
    )
    enrollment = models.ForeignKey(
        "enrollment.Enrollment",
        verbose_name=_("enrollment"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # read through the roster's lines only
    )
    category = models.CharField(_("special group"), max_length=24, choices=SpecialGroup.choices)
    share = models.CharField(_("share of the grade"), max_length=8, choices=ProxyPaymentShare.choices)
    grade = models.DecimalField(_("contribution grade"), **_MONEY)
    government_subsidy = models.DecimalField(
        _("government subsidy"),
        default=Decimal("0"),
        help_text=_("Credited to the personal account on top of the proxy payment, where the county does."),
        **_MONEY,
    )

    class Meta(RosterLineBase.Meta):
        verbose_name = _("proxy-payment roster line")
        verbose_name_plural = _("proxy-payment roster lines")
        constraints = [
            *RosterLineBase.Meta.constraints,
            models.CheckConstraint(
                condition=Q(category__in=SpecialGroup.values), name="proxypaymentline_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(share__in=ProxyPaymentShare.values), name="proxypaymentline_share_valid"
            ),
            # DOMAIN §1.3: the government pays part or all of the grade, nothing else on the line.
            models.CheckConstraint(
                condition=Q(
                    basic__gt=0,
                    basic__lte=models.F("grade"),
                    account=0,
                    top_up=0,
                    back_pay=0,
                    deduction=0,
                    government_subsidy__gte=0,
                )
                & (~Q(share=ProxyPaymentShare.FULL) | Q(basic=models.F("grade"))),
                name="proxypaymentline_amount_within_grade",
            ),
        ]

    @property
    def proxy_payment_amount(self) -> Decimal:
        return self.net


def _after_roster_step(sender: type[ProxyPaymentRoster], **kwargs: object) -> None:
    from enrollment.proxy_payment_services import record_contributions_after_receipt

    record_contributions_after_receipt(sender, **kwargs)


# A receipt recorded through the shared roster services (any door) makes the contribution records.
roster_step_committed.connect(
    _after_roster_step, sender=ProxyPaymentRoster, dispatch_uid="enrollment.proxy_payment_contributions"
)
