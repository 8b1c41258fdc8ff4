"""Users, township assignments, administrative divisions and the shared base models."""

from __future__ import annotations

import pghistory
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from socialsec.core.choices import DivisionKind, DivisionLevel, Role


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


@pghistory.track(
    pghistory.InsertEvent(),
    # Logging in touches last_login; that is not a change of who the user is or may do.
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["last_login"])),
    exclude=["password"],
)
class User(AbstractUser):
    """A member of staff. Sees the townships assigned to them, or all when county-wide."""

    county_wide = models.BooleanField(
        _("whole county"),
        default=False,
        help_text=_("Assigned to the whole county: sees every township."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [
            ("unmask_personal_data", _("Can see full resident ID and bank account numbers")),
        ]

    @property
    def role_names(self) -> frozenset[str]:
        """The glossary roles this user holds (cached per instance, i.e. per request)."""
        cached = getattr(self, "_role_names", None)
        if cached is None:
            valid = set(Role.values)
            cached = frozenset(name for name in self.groups.values_list("name", flat=True) if name in valid)
            self._role_names = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AdministrativeDivision(models.Model):
    """County → township → village, keyed by the 12-digit statistical code (DOMAIN §6.3)."""

    code = models.CharField(_("division code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=DivisionLevel.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=DivisionKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    urban_rural_code = models.CharField(_("urban-rural classification code"), max_length=3, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="division_parent_code")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{12}$"), name="division_code_12_digits"
            ),
            # The level must agree with where the code stops (DOMAIN §6.3).
            models.CheckConstraint(
                condition=(
                    models.Q(level=DivisionLevel.COUNTY, code__endswith="000000")
                    | (
                        models.Q(level=DivisionLevel.TOWNSHIP, code__endswith="000")
                        & ~models.Q(code__regex=r"^[0-9]{6}000")
                    )
                    | (
                        models.Q(level=DivisionLevel.VILLAGE)
                        & ~models.Q(code__regex=r"(000$)|(^[0-9]{6}000)")
                    )
                ),
                name="division_level_matches_code",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="division_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class TownshipAssignment(models.Model):
    """Which townships a user works for; scoping reads this table (socialsec.core.scoping)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="township_assignments")
    township = models.ForeignKey(
        AdministrativeDivision,
        on_delete=models.PROTECT,
        related_name="assignments",
        limit_choices_to={"level": DivisionLevel.TOWNSHIP},
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("township assignment")
        verbose_name_plural = _("township assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "township"], name="one_assignment_per_township")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.township}"
