"""The registry's core: persons and households (enriched by the enrollment issue)."""

from __future__ import annotations

import pghistory
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import Case, Value, When
from django.db.models.functions import Cast, Mod, Reverse, Substr
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from enrollment.choices import HouseholdRegistrationType, Relationship, Sex
from enrollment.querysets import HouseholdQuerySet, PersonQuerySet
from socialsec.core.models import AdministrativeDivision, TimeStamped

_ID_FORMAT = r"^[0-9]{17}[0-9X]$"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_check_character_condition() -> models.Expression:
    """SQL for DOMAIN §6.1's MOD 11-2: '10X98765432'[Σ digit × weight mod 11] is character 18.

    Guarded by the format test in a CASE, so a malformed number fails this check rather
    than a cast to integer (PostgreSQL does not promise to evaluate AND left to right).
    """
    weighted = sum(
        (
            Cast(Substr("id_number", position + 1, 1), models.IntegerField()) * weight
            for position, weight in enumerate(_ID_WEIGHTS)
        ),
        start=Value(0),
    )
    expected = Substr(Value("10X98765432"), Mod(weighted, Value(11)) + Value(1), 1)
    return Case(
        When(id_number__regex=_ID_FORMAT, then=Exact(expected, Substr("id_number", 18, 1))),
        default=Value(False),
        output_field=models.BooleanField(),
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Household(TimeStamped):
    TOWNSHIP_PATH = "township"

    number = models.CharField(_("household number"), max_length=20, unique=True)
    township = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    registration_type = models.CharField(
        _("household registration type"), max_length=5, choices=HouseholdRegistrationType.choices
    )

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [models.Index(fields=["township", "id"], name="household_township_id")]

    def __str__(self) -> str:
        return self.number


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # Written by enrollment.services.person_unmask_id_number: who saw the full ID, when, from where.
    pghistory.ManualEvent("unmask_id_number"),
)
class Person(TimeStamped):
    """One row per resident ID number (DOMAIN §6.1, §8.1); sex and birth date come from the ID."""

    TOWNSHIP_PATH = "township"

    id_number = models.CharField(_("resident ID number"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    registration_type = models.CharField(
        _("household registration type"), max_length=5, choices=HouseholdRegistrationType.choices
    )
    township = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    relationship = models.CharField(
        _("relationship to head"), max_length=10, choices=Relationship.choices, blank=True
    )
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    death_source = models.CharField(_("death record source"), max_length=100, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            # List pages: a township's persons in keyset order.
            models.Index(fields=["township", "id"], name="person_township_id"),
            # Name prefix search (LIKE 'x%' under any collation).
            models.Index(OpClass("name", name="text_pattern_ops"), "id", name="person_name_prefix"),
            # "Last digits of the ID" search as a prefix search on the reversed number.
            models.Index(OpClass(Reverse("id_number"), name="text_pattern_ops"), name="person_id_reversed"),
            models.Index(fields=["household"], name="person_household"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id_number__regex=_ID_FORMAT), name="person_id_number_format"
            ),
            # The MOD 11-2 check character (DOMAIN §6.1), so no COPY or raw INSERT can store a
            # mistyped number: imports and the seeder write past the Python validators.
            models.CheckConstraint(
                condition=_id_check_character_condition(), name="person_id_number_checksum"
            ),
            models.CheckConstraint(
                condition=models.Q(death_date__isnull=True)
                | models.Q(death_date__gte=models.F("birth_date")),
                name="person_death_after_birth",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dead(self) -> bool:
        return self.death_date is not None
