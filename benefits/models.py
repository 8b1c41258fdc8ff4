"""Payout rosters (花名册) of the benefit programmes (DOMAIN §8.2 PayoutRoster, §8.3; issue 4).

The lifecycle, constraints and guards come from socialsec.rosters; these are the tables.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from benefits.choices import PROGRAMME_NUMBER_PREFIXES, BenefitProgramme
from benefits.entitlements import BenefitEntitlement  # noqa: F401  (a model of this app)
from benefits.sweeps import SweepRun, WorkItem  # noqa: F401  (models of this app)
from socialsec.rosters.models import RosterBase, RosterLineBase


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PayoutRoster(RosterBase):
    """The monthly roster of one benefit programme for a township or the whole county."""

    NUMBER_PREFIXES = PROGRAMME_NUMBER_PREFIXES

    programme = models.CharField(_("programme"), max_length=40, choices=BenefitProgramme.choices)

    class Meta(RosterBase.Meta):
        verbose_name = _("payout roster")
        verbose_name_plural = _("payout rosters")
        constraints = [
            *RosterBase.Meta.constraints,
            models.CheckConstraint(
                condition=Q(programme__in=BenefitProgramme.values), name="payoutroster_programme_valid"
            ),
        ]


# Lines are written set-based (one INSERT … SELECT for a whole roster) and frozen from submit on,
# with the roster's digest over them; their later changes (cancellation, the bank's result) are
# row versions like any other, written per statement: one INSERT … SELECT from the transition
# table for a 200,000-line receipt instead of 200,000 trigger calls.
@pghistory.track(pghistory.UpdateEvent(), pghistory.DeleteEvent(), level=pgtrigger.Statement)
class PayoutLine(RosterLineBase):
    roster = models.ForeignKey(
        PayoutRoster,
        verbose_name=_("roster"),
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,  # the (roster, seq) unique index serves it
    )
    programme = models.CharField(_("programme"), max_length=40, choices=BenefitProgramme.choices)
    # The entitlement a generated line pays (benefits.services.roster_generate); empty on lines
    # written from a list.
    entitlement = models.ForeignKey(
        "benefits.BenefitEntitlement",
        verbose_name=_("entitlement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # lines are found by roster or by (person, period); entitlements never deleted
    )

    class Meta(RosterLineBase.Meta):
        verbose_name = _("payout roster line")
        verbose_name_plural = _("payout roster lines")
