"""Users, township assignments, administrative divisions and the shared base models."""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from socialsec.core.choices import DivisionKind, DivisionLevel, Role
from socialsec.core.parameter_choices import Confidence, ParameterKind, ParameterScheme, ParameterUnit


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


# --- Policy parameters (DOMAIN §0.2) ------------------------------------------------------------
# Below: the one table of amounts, ratios and configurable rules. Read it through
# socialsec.core.parameters.param(), never directly; the seed is socialsec/core/parameter_seed.py.

# Refuses a second row for the same region and key whose dates overlap. An exclusion constraint
# would say this declaratively but needs btree_gist, which the project does not require (README).
# The advisory lock serialises writers of one (region, key), so two concurrent inserts cannot both
# pass the check; under READ COMMITTED the second then sees the first's committed row.
_POLICY_PARAMETER_NO_OVERLAP = """
    IF NEW.effective_to < NEW.effective_from THEN
        RETURN NEW;  -- policy_parameter_dates_ordered refuses it, with its own name
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('core_policyparameter|' || NEW.region_code || '|' || NEW.key));
    IF EXISTS (
        SELECT 1 FROM core_policyparameter p
        WHERE p.region_code = NEW.region_code
          AND p.key = NEW.key
          AND p.id IS DISTINCT FROM NEW.id
          AND daterange(p.effective_from, p.effective_to, '[]')
              && daterange(NEW.effective_from, NEW.effective_to, '[]')
    ) THEN
        RAISE EXCEPTION 'policy parameter % for region % overlaps another row in force on some of % .. %',
            NEW.key, NEW.region_code, NEW.effective_from, COALESCE(NEW.effective_to::text, 'open')
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
"""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PolicyParameter(models.Model):
    """One figure or configurable rule for a region, in force over a date range (DOMAIN §0.2).

    region_code is a 6-digit GB/T 2260 code: a county ("360121"), a prefecture ("360100"),
    a province ("360000"), or "000000" for the national figure. effective_to is the last
    day in force, inclusive; empty means open-ended.
    """

    region_code = models.CharField(
        _("region code"),
        max_length=6,
        help_text=_(
            "6-digit division code: county, prefecture (xxxx00), province (xx0000), or 000000 for national."
        ),
    )
    scheme = models.CharField(_("scheme"), max_length=40, choices=ParameterScheme.choices)
    key = models.CharField(
        _("key"),
        max_length=120,
        help_text=_(
            "Dotted snake_case name starting with the scheme, e.g. resident_pension.contribution_grades."
        ),
    )
    kind = models.CharField(_("kind of value"), max_length=20, choices=ParameterKind.choices)
    value = models.JSONField(
        _("value"),
        help_text=_('Amounts and ratios as quoted decimal strings, e.g. "123.00"; lists and tables as JSON.'),
    )
    unit = models.CharField(_("unit"), max_length=20, choices=ParameterUnit.choices, blank=True)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(
        _("effective to"), null=True, blank=True, help_text=_("Last day in force; empty while in force.")
    )
    source_url = models.URLField(_("source URL"), max_length=500, blank=True)
    source_doc_no = models.CharField(_("source document number"), max_length=200, blank=True)
    source_tag = models.CharField(_("source tag"), max_length=20, blank=True, help_text=_("e.g. S12"))
    confidence = models.CharField(_("confidence"), max_length=12, choices=Confidence.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("policy parameter")
        verbose_name_plural = _("policy parameters")
        ordering = ["key", "region_code", "effective_from"]
        # param() asks "this key, these regions, in force on a date": key first, then region.
        indexes = [
            models.Index(fields=["key", "region_code", "effective_from"], name="policy_parameter_lookup")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(region_code__regex=r"^[0-9]{6}$"), name="policy_parameter_region_6_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(key__regex=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"),
                name="policy_parameter_key_dotted_snake_case",
            ),
            # The key names its scheme, so param() needs only the key.
            models.CheckConstraint(
                condition=models.Q(key__startswith=Concat(models.F("scheme"), models.Value("."))),
                name="policy_parameter_key_starts_with_scheme",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="policy_parameter_dates_ordered",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="policy_parameter_no_overlap",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=_POLICY_PARAMETER_NO_OVERLAP,
            )
        ]

    def __str__(self) -> str:
        until = self.effective_to.isoformat() if self.effective_to else "…"
        return f"{self.key} @ {self.region_code} ({self.effective_from.isoformat()} – {until})"

    def clean(self) -> None:
        """Form-level checks: the value reads as its kind, and the dates overlap no other row."""
        from socialsec.core.parameters import overlapping_parameters, read_value

        errors: dict[str, list[Any]] = {}
        if self.kind:
            try:
                read_value(self.kind, self.value)
            except (TypeError, ValueError, ArithmeticError):
                errors["value"] = [
                    _("This value cannot be read as %(kind)s.") % {"kind": ParameterKind(self.kind).label}
                ]
        if self.key and self.scheme and not self.key.startswith(f"{self.scheme}."):
            errors["key"] = [
                _("The key must start with the scheme, e.g. %(prefix)s.") % {"prefix": f"{self.scheme}."}
            ]
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            errors["effective_to"] = [_("The last day in force cannot be before the first.")]
        elif self.key and self.region_code and self.effective_from and overlapping_parameters(self).exists():
            errors["effective_from"] = [
                _("Another row for this key and region is in force on some of these days; close it first.")
            ]
        if errors:
            raise ValidationError(errors)
