from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups with these names (DOMAIN glossary)."""

    CLERK = "clerk", _("Clerk")
    SECTION_CHIEF = "section_chief", _("Section chief")
    LEADER_IN_CHARGE = "leader_in_charge", _("Leader in charge")
    FINANCE = "finance", _("Finance")
    ACCOUNTANT = "accountant", _("Accountant")
    CASHIER = "cashier", _("Cashier")
    AUDITOR = "auditor", _("Auditor")
    COUNTY_LEADER = "county_leader", _("County leader")
    ADMIN = "admin", _("Administrator")


class DivisionLevel(models.TextChoices):
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")


class DivisionKind(models.TextChoices):
    """Derived from the code ranges of DOMAIN §6.3 (socialsec.lib.divisions)."""

    CITY_DISTRICT = "city_district", _("City district")
    COUNTY = "county", _("County")
    COUNTY_LEVEL_CITY = "county_level_city", _("County-level city")
    STREET = "street", _("Street")
    TOWN = "town", _("Town")
    TOWNSHIP = "township", _("Township")
    GOVERNMENT_ENTERPRISE = "government_enterprise", _("Government-enterprise unit")
    RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee")
    VILLAGERS_COMMITTEE = "villagers_committee", _("Villagers' committee")
    OTHER = "other", _("Other")
