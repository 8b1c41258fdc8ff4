"""Choices of the policy-parameter table (DOMAIN §0.1, §0.2)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ParameterScheme(models.TextChoices):
    """The scheme a parameter belongs to; its key starts with this value and a dot."""

    GENERAL = "general", _("General")
    RESIDENT_PENSION = "resident_pension", _("Resident pension")
    EMPLOYEE_PENSION = "employee_pension", _("Employee pension")
    UNEMPLOYMENT_BENEFIT = "unemployment_benefit", _("Unemployment benefit")
    UNEMPLOYMENT_SUBSIDY = "unemployment_subsidy", _("Unemployment subsidy")
    MINIMUM_LIVING_ALLOWANCE = "minimum_living_allowance", _("Minimum living allowance")
    EXTREME_POVERTY_SUPPORT = "extreme_poverty_support", _("Extreme-poverty support")
    DISABILITY_LIVING_SUBSIDY = (
        "disability_living_subsidy",
        _("Living subsidy for disabled people in hardship"),
    )
    SEVERE_DISABILITY_CARE_SUBSIDY = (
        "severe_disability_care_subsidy",
        _("Care subsidy for the severely disabled"),
    )
    MEDICAL_ASSISTANCE = "medical_assistance", _("Medical assistance")
    TEMPORARY_ASSISTANCE = "temporary_assistance", _("Temporary assistance")


class ParameterKind(models.TextChoices):
    """How the JSON `value` is read: money and ratios are Decimal strings, never floats."""

    DECIMAL = "decimal", _("Decimal number")
    INTEGER = "integer", _("Whole number")
    TEXT = "text", _("Text")
    BOOLEAN = "boolean", _("Yes or no")
    YEAR_MONTH = "year_month", _("Year and month")
    DECIMAL_LIST = "decimal_list", _("List of decimal numbers")
    TABLE = "table", _("Table")


class ParameterUnit(models.TextChoices):
    NONE = "", _("(none)")
    YUAN = "yuan", _("yuan")
    YUAN_PER_MONTH = "yuan_per_month", _("yuan per month")
    YUAN_PER_YEAR = "yuan_per_year", _("yuan per year")
    YEARS = "years", _("years")
    MONTHS = "months", _("months")
    RATIO = "ratio", _("ratio")


class Confidence(models.TextChoices):
    """DOMAIN §0.1."""

    A = "A", _("A: official text")
    B = "B", _("B: secondary or local official source")
    C = "C", _("C: weak source or inferred")
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
