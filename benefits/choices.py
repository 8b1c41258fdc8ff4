"""Choices of the benefits app (DOMAIN glossary identifiers)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.choices import Scheme


class BenefitProgramme(models.TextChoices):
    """The benefits paid on payout rosters (DOMAIN §8.1 BenefitEntitlement benefit types, §1.4, §3).

    Social assistance (低保, 特困, the disability subsidies) is paid on relief rosters.
    """

    RESIDENT_PENSION = "resident_pension", _("Resident pension")
    EMPLOYEE_PENSION = "employee_pension", _("Employee pension")
    UNEMPLOYMENT_BENEFIT = "unemployment_benefit", _("Unemployment benefit")
    UNEMPLOYMENT_SUBSIDY = "unemployment_subsidy", _("Unemployment subsidy")


# Roster numbers start with these (e.g. RP-202510-360121108-1).
PROGRAMME_NUMBER_PREFIXES = {
    BenefitProgramme.RESIDENT_PENSION: "RP",
    BenefitProgramme.EMPLOYEE_PENSION: "EP",
    BenefitProgramme.UNEMPLOYMENT_BENEFIT: "UB",
    BenefitProgramme.UNEMPLOYMENT_SUBSIDY: "US",
}

# The schemes whose pension rules out the resident pension (DOMAIN §1.6 Art 8, E7) and ends
# unemployment benefit (§3.4, E14), as enrollments RECEIVING them: the entitlement rules and the
# monthly sweep read the same list.
OTHER_BASIC_PENSION_SCHEMES = (Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION)
