"""The registry's core: persons and households (enriched by the enrollment issue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import Case, Value, When
from django.db.models.functions import Cast, Mod, Reverse, Substr
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from enrollment.choices import (
    CLOSED_ENROLLMENT_STATUSES,
    RESIDENT_SCHEMES,
    CardStatus,
    CategorySource,
    EnrollmentStatus,
    FeeReliefKind,
    FeeReliefScheme,
    FeeReliefStatus,
    HouseholdRegistrationType,
    Payer,
    PeriodKind,
    Relationship,
    Scheme,
    Sex,
    SizeClass,
    SpecialGroup,
    TerminationReason,
)
from enrollment.querysets import (
    ContributionRecordQuerySet,
    CoverageRollupQuerySet,
    EnrollmentQuerySet,
    FeeReliefApplicationQuerySet,
    HouseholdQuerySet,
    OrganizationQuerySet,
    PersonalAccountQuerySet,
    PersonCategoryQuerySet,
    PersonQuerySet,
)
from socialsec.core.choices import DivisionLevel
from socialsec.core.models import AdministrativeDivision, TimeStamped, User
from socialsec.core.parameter_choices import Confidence

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
    # Written by enrollment.services.person_unmask_bank_account, the same way.
    pghistory.ManualEvent("unmask_bank_account"),
    # Bulk-written by the death-record import and the seed: audit rows per statement, not per row.
    level=pgtrigger.Statement,
)
class Person(TimeStamped):
    """One row per resident ID number (DOMAIN §6.1, §8.1); sex and birth date come from the ID."""

    TOWNSHIP_PATH = "township"

    # Unique through a UniqueConstraint in Meta, not unique=True, which would add a second
    # (varchar_pattern_ops) index that no query here uses.
    id_number = models.CharField(_("resident ID number"), max_length=18)
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    registration_type = models.CharField(
        _("household registration type"), max_length=5, choices=HouseholdRegistrationType.choices
    )
    township = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # person_township_id (township, id) serves every lookup by township
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
    # The columns below have a db_default as well, so COPY writers that predate them (the
    # synthetic-county seeder, imports) keep working without naming them.
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="", db_default="")
    # 社保卡 (DOMAIN glossary `social_security_card`). Masked everywhere (socialsec.lib.masking).
    card_number = models.CharField(
        _("social-security card number"), max_length=20, blank=True, default="", db_default=""
    )
    card_issue_date = models.DateField(_("card issue date"), null=True, blank=True)
    card_status = models.CharField(
        _("card status"),
        max_length=9,
        choices=CardStatus.choices,
        default=CardStatus.NONE,
        db_default=CardStatus.NONE,
    )
    # Where benefits are paid. Masked everywhere; person_unmask_bank_account shows it, audited.
    bank_account_number = models.CharField(
        _("bank account number"), max_length=30, blank=True, default="", db_default=""
    )
    bank_name = models.CharField(_("bank"), max_length=100, blank=True, default="", db_default="")
    # DOMAIN §6.1 gap 4: an address code the validator does not know is accepted, but a
    # section chief must confirm it (person_confirm_address_code), and that is audited.
    address_code_unverified = models.BooleanField(
        _("address code awaiting confirmation"), default=False, db_default=False
    )
    address_code_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("address code confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never searched; users are deactivated, not deleted
    )
    address_code_confirmed_at = models.DateTimeField(_("address code confirmed at"), null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [
            ("confirm_address_code", _("Can confirm an address code the resident ID validator does not know"))
        ]
        indexes = [
            # List pages: a township's persons in keyset order.
            models.Index(fields=["township", "id"], name="person_township_id"),
            # Name prefix search (LIKE 'x%' under any collation).
            models.Index(OpClass("name", name="text_pattern_ops"), "id", name="person_name_prefix"),
            # "Last digits of the ID" search as a prefix search on the reversed number.
            models.Index(OpClass(Reverse("id_number"), name="text_pattern_ops"), name="person_id_reversed"),
            # The dead (under 2 %): the monthly sweep's stop on death reads them slice by slice.
            models.Index(fields=["id"], condition=models.Q(death_date__isnull=False), name="person_dead"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], name="person_id_number_unique"
            ),  # one person per ID
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
            # One card per number; most persons have none yet, hence the condition.
            models.UniqueConstraint(
                fields=["card_number"], condition=~models.Q(card_number=""), name="person_card_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(card_status__in=CardStatus.values), name="person_card_status_valid"
            ),
            # A card in use, lost or cancelled has a number.
            models.CheckConstraint(
                condition=models.Q(card_status=CardStatus.NONE) | ~models.Q(card_number=""),
                name="person_card_status_has_number",
            ),
            models.CheckConstraint(
                condition=models.Q(bank_account_number__regex=r"^[0-9]*$"),
                name="person_bank_account_digits",
            ),
            # A confirmation names who and when, and a code still awaiting one has none.
            models.CheckConstraint(
                condition=models.Q(
                    address_code_confirmed_by__isnull=True, address_code_confirmed_at__isnull=True
                )
                | models.Q(
                    address_code_unverified=False,
                    address_code_confirmed_by__isnull=False,
                    address_code_confirmed_at__isnull=False,
                ),
                name="person_address_code_confirmation_recorded",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dead(self) -> bool:
        return self.death_date is not None

    @property
    def address_code_confirmed(self) -> bool:
        return self.address_code_confirmed_at is not None


# --- Special groups (DOMAIN glossary, §8.1 PersonCategory) -----------------------------------------

# Two memberships of one person in the same group may not share a day. An exclusion
# constraint would say this, but btree_gist is not available on every server we run on.
# The check runs once per statement over its transition table (a county-wide list is one
# statement): it locks the persons concerned (FOR NO KEY UPDATE, in id order, so two lists
# queue instead of deadlocking, and a concurrent writer's rows are visible once its lock is
# released), then looks for a clash with one join. The join is planned afresh each time
# (EXECUTE): a cached plan made while the table was empty turned a per-row check quadratic
# on a county's first large list (20,000 rows: 11 s). Per-row advisory locks, before that,
# filled the server's shared lock table (SQLSTATE 53200 beyond ~6,400 rows).
_PERSON_CATEGORY_NO_OVERLAP = """
    PERFORM 1 FROM enrollment_person p
     WHERE p.id IN (SELECT person_id FROM changed_rows)
     ORDER BY p.id
       FOR NO KEY UPDATE;
    EXECUTE $sql$
        SELECT n.person_id, n.category, c.id, n.effective_from, n.effective_to
          FROM changed_rows n
          JOIN enrollment_personcategory c
            ON c.person_id = n.person_id
           AND c.category = n.category
           AND c.id <> n.id
           AND daterange(c.effective_from, c.effective_to, '[]')
               && daterange(n.effective_from, n.effective_to, '[]')
         WHERE n.effective_to IS NULL OR n.effective_to >= n.effective_from
         ORDER BY n.id, c.id
         LIMIT 1
    $sql$ INTO clash_person, clash_category, clash, clash_from, clash_to;
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'person % already holds % in membership % on some of % .. %',
            clash_person, clash_category, clash, clash_from, COALESCE(clash_to::text, 'open')
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
"""
_PERSON_CATEGORY_NO_OVERLAP_DECLARE = [
    ("clash", "bigint"),
    ("clash_person", "bigint"),
    ("clash_category", "text"),
    ("clash_from", "date"),
    ("clash_to", "date"),
]


# Bulk-written by the special-group import: one audit statement per statement, not per row.
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), level=pgtrigger.Statement
)
class PersonCategory(TimeStamped):
    """A person's membership of a special group (低保, 特困, 重度残疾 …), from a department's list.

    effective_to is the last day in force, inclusive; empty means open. A person may hold
    several groups at once, but never two overlapping memberships of the same group
    (trigger person_category_no_overlap). A severe disability names its grade, 1 or 2.
    """

    TOWNSHIP_PATH = "person__township"

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="categories"
    )
    category = models.CharField(_("special group"), max_length=24, choices=SpecialGroup.choices)
    disability_grade = models.PositiveSmallIntegerField(_("disability grade"), null=True, blank=True)
    source = models.CharField(_("source department"), max_length=21, choices=CategorySource.choices)
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True, default="", db_default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = PersonCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("special-group membership")
        verbose_name_plural = _("special-group memberships")
        indexes = [
            models.Index(fields=["person", "category"], name="person_category_person"),
            # The county-wide list filtered by group, in keyset order.
            models.Index(fields=["category", "id"], name="person_category_category_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__in=SpecialGroup.values), name="person_category_category_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=CategorySource.values), name="person_category_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(disability_grade__isnull=True) | models.Q(disability_grade__range=(1, 4)),
                name="person_category_grade_1_to_4",
            ),
            # 重度残疾 is grade 1 or 2 (DOMAIN §4.3); the grade is what makes it severe.
            models.CheckConstraint(
                condition=~models.Q(category=SpecialGroup.SEVERE_DISABILITY)
                # IS NOT NULL first: "NULL IN (1, 2)" is NULL, which a CHECK lets through.
                | models.Q(disability_grade__isnull=False, disability_grade__in=(1, 2)),
                name="person_category_severe_disability_grade",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="person_category_dates_ordered",
            ),
        ]
        triggers = [
            # PostgreSQL allows a transition table on one event only: one trigger each.
            pgtrigger.Trigger(
                name="person_category_no_overlap",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="changed_rows"),
                declare=_PERSON_CATEGORY_NO_OVERLAP_DECLARE,
                func=_PERSON_CATEGORY_NO_OVERLAP,
            ),
            pgtrigger.Trigger(
                name="person_category_no_overlap_on_update",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                referencing=pgtrigger.Referencing(new="changed_rows"),
                declare=_PERSON_CATEGORY_NO_OVERLAP_DECLARE,
                func=_PERSON_CATEGORY_NO_OVERLAP,
            ),
        ]

    def __str__(self) -> str:
        until = self.effective_to.isoformat() if self.effective_to else "…"
        return f"{self.get_category_display()} ({self.effective_from.isoformat()} – {until})"

    def is_in_force(self, on: dt.date) -> bool:
        """The Python twin of PersonCategoryQuerySet.in_force, for prefetched rows."""
        return self.effective_from <= on and (self.effective_to is None or self.effective_to >= on)


# --- Organizations (employers) and fee relief (减免缓) -----------------------------------------------

# DOMAIN §6.2: 18 characters of the 31-symbol alphabet (no I, O, S, V, Z); positions 3–8 are digits.
_CREDIT_CODE_FORMAT = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Organization(TimeStamped):
    """An employer, keyed by its unified social credit code (DOMAIN §6.2, §8.1).

    The registration authority and entity type are positions 1–2 of the code, stored so
    lists can filter on them; a check constraint keeps them equal to the code.
    """

    TOWNSHIP_PATH = "township"

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    registration_authority = models.CharField(_("registration authority"), max_length=1)
    entity_type = models.CharField(_("entity type"), max_length=1)
    name = models.CharField(_("name"), max_length=200)
    size_class = models.CharField(_("size class"), max_length=6, choices=SizeClass.choices)
    size_class_basis = models.CharField(
        _("size classification basis"),
        max_length=200,
        blank=True,
        help_text=_("The rule and figures the size class rests on, e.g. staff and revenue."),
    )
    size_class_year = models.PositiveSmallIntegerField(_("size classification year"))
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    township = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": DivisionLevel.TOWNSHIP},
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        indexes = [
            # List pages: a township's organizations in keyset order.
            models.Index(fields=["township", "id"], name="organization_township_id"),
            models.Index(fields=["size_class", "id"], name="organization_size_class_id"),
            models.Index(OpClass("name", name="text_pattern_ops"), "id", name="organization_name_prefix"),
            models.Index(OpClass("credit_code", name="text_pattern_ops"), name="organization_code_prefix"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_code__regex=_CREDIT_CODE_FORMAT),
                name="organization_credit_code_format",
            ),
            models.CheckConstraint(
                condition=Exact(Substr("credit_code", 1, 1), models.F("registration_authority"))
                & Exact(Substr("credit_code", 2, 1), models.F("entity_type")),
                name="organization_code_positions_stored",
            ),
            models.CheckConstraint(
                condition=models.Q(size_class__in=SizeClass.values), name="organization_size_class_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_count(period_from: dt.date, period_to: dt.date) -> int:
    """Months from period_from to period_to, both included (both are first days of a month)."""
    return (period_to.year - period_from.year) * 12 + period_to.month - period_from.month + 1


@dataclass(frozen=True)
class Relief:
    """What a policy grants for a span of months (DOMAIN E23)."""

    kind: str
    months: int
    # Share of the employer contribution relieved (1 exempt, 0.5 half); None for a deferral.
    rate: Decimal | None
    schemes: tuple[str, ...]
    waives_late_fee: bool


class FeeReliefPolicy(TimeStamped):
    """A temporary fee-relief policy: data, not code (DOMAIN §0.2, §8.1, E23).

    Keyed by size class, industry and period. A reduction or an exemption relieves `rate`
    of the employer contribution of the covered schemes; a deferral postpones it for at
    most `max_deferral_months`, with or without a late fee.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=FeeReliefKind.choices)
    size_classes = ArrayField(
        models.CharField(max_length=6, choices=SizeClass.choices), verbose_name=_("size classes")
    )
    industries = ArrayField(
        models.CharField(max_length=100),
        verbose_name=_("industries"),
        default=list,
        blank=True,
        help_text=_("Empty: every industry."),
    )
    schemes = ArrayField(
        models.CharField(max_length=20, choices=FeeReliefScheme.choices), verbose_name=_("schemes covered")
    )
    period_from = models.DateField(_("first month"))
    period_to = models.DateField(_("last month"))
    rate = models.DecimalField(
        _("share of the employer contribution relieved"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
    )
    max_deferral_months = models.PositiveSmallIntegerField(
        _("longest deferral in months"), null=True, blank=True
    )
    waives_late_fee = models.BooleanField(_("no late fee"), default=False)
    # The convention of core.PolicyParameter: a 6-digit GB/T 2260 code, 000000 for national.
    region_code = models.CharField(
        _("region code"),
        max_length=6,
        default="000000",
        help_text=_("6-digit division code of the region that set the policy; 000000 for national."),
    )
    source = models.CharField(_("source"), max_length=20, help_text=_("Source tag of DOMAIN §9, e.g. S43."))
    source_doc_no = models.CharField(_("document number"), max_length=200, blank=True)
    source_url = models.URLField(_("source address"), max_length=500, blank=True)
    confidence = models.CharField(_("confidence"), max_length=11, choices=Confidence.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("fee relief policy")
        verbose_name_plural = _("fee relief policies")
        ordering = ["period_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    period_from__day=1, period_to__day=1, period_to__gte=models.F("period_from")
                ),
                name="fee_relief_policy_months",
            ),
            # An exemption relieves everything; a reduction a share; a deferral nothing, for a while.
            models.CheckConstraint(
                condition=(
                    models.Q(kind=FeeReliefKind.EXEMPTION, rate=1, max_deferral_months__isnull=True)
                    | models.Q(
                        kind=FeeReliefKind.REDUCTION, rate__gt=0, rate__lt=1, max_deferral_months__isnull=True
                    )
                    | models.Q(kind=FeeReliefKind.DEFERRAL, rate__isnull=True, max_deferral_months__gt=0)
                ),
                name="fee_relief_policy_kind_terms",
            ),
            models.CheckConstraint(
                condition=models.Q(region_code__regex=r"^[0-9]{6}$"), name="fee_relief_policy_region_6_digits"
            ),
            models.CheckConstraint(
                condition=~models.Q(size_classes=[]) & ~models.Q(schemes=[]),
                name="fee_relief_policy_covers_something",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers_months(self, period_from: dt.date, period_to: dt.date) -> bool:
        return self.period_from <= period_from <= period_to <= self.period_to

    def covers_organization(self, organization: Organization) -> bool:
        if organization.size_class not in self.size_classes:
            return False
        return not self.industries or organization.industry in self.industries

    def relief_for(self, period_from: dt.date, period_to: dt.date) -> Relief:
        """The relief for these months; the caller has checked covers_months (DOMAIN E23)."""
        return Relief(
            kind=self.kind,
            months=month_count(period_from, period_to),
            rate=self.rate,
            schemes=tuple(self.schemes),
            waives_late_fee=self.waives_late_fee,
        )


def _may_decide(application: FeeReliefApplication, user: User) -> bool:
    """A section chief decides, never on an application they filed themselves (DOMAIN §8.2)."""
    return user.has_perm("enrollment.decide_feereliefapplication") and user.pk != application.filed_by_id


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class FeeReliefApplication(ConcurrentTransitionMixin, TimeStamped):
    """An employer's application for fee relief: a clerk files, a section chief decides.

    FILED → APPROVED | REFUSED. The decider is never the filer, in Python (the transition
    permission) and in the database (fee_relief_decider_is_not_filer).
    """

    TOWNSHIP_PATH = "organization__township"

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="fee_relief_applications",
    )
    policy = models.ForeignKey(
        FeeReliefPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="applications"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FeeReliefKind.choices)
    period_from = models.DateField(_("first month"))
    period_to = models.DateField(_("last month"))
    # The relief as computed from the policy when filed (DOMAIN E23), kept with the application.
    months = models.PositiveSmallIntegerField(_("months covered"))
    rate = models.DecimalField(
        _("share of the employer contribution relieved"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
    )
    waives_late_fee = models.BooleanField(_("no late fee"), default=False)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=FeeReliefStatus.choices,
        default=FeeReliefStatus.FILED,
        protected=True,
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    objects = FeeReliefApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("fee relief application")
        verbose_name_plural = _("fee relief applications")
        permissions = [("decide_feereliefapplication", _("Can approve or refuse fee relief applications"))]
        indexes = [
            models.Index(fields=["organization", "period_from"], name="fee_relief_org_period"),
            models.Index(fields=["status", "id"], name="fee_relief_status_id"),
        ]
        constraints = [
            # Segregation of duties in the database too: no raw UPDATE can make the filer the decider.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("filed_by")),
                name="fee_relief_decider_is_not_filer",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=FeeReliefStatus.FILED, decided_by__isnull=True, decided_at__isnull=True)
                    | models.Q(
                        status=FeeReliefStatus.APPROVED, decided_by__isnull=False, decided_at__isnull=False
                    )
                    | (
                        models.Q(
                            status=FeeReliefStatus.REFUSED, decided_by__isnull=False, decided_at__isnull=False
                        )
                        & ~models.Q(decision_reason="")
                    )
                ),
                name="fee_relief_decision_recorded",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    period_from__day=1, period_to__day=1, period_to__gte=models.F("period_from")
                ),
                name="fee_relief_application_months",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period_from:%Y-%m}–{self.period_to:%Y-%m}"

    @transition(
        field=status, source=FeeReliefStatus.FILED, target=FeeReliefStatus.APPROVED, permission=_may_decide
    )
    def approve(self, *, by: User, at: dt.datetime, note: str = "") -> None:
        self.decided_by = by
        self.decided_at = at
        self.decision_reason = note

    @transition(
        field=status, source=FeeReliefStatus.FILED, target=FeeReliefStatus.REFUSED, permission=_may_decide
    )
    def refuse(self, *, by: User, at: dt.datetime, reason: str) -> None:
        self.decided_by = by
        self.decided_at = at
        self.decision_reason = reason


# --- Enrollment, contributions and personal accounts (DOMAIN §1.1, §1.2, §1.6, §8.1, §8.2) -----------

_MONEY = {"max_digits": 12, "decimal_places": 2}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Enrollment(ConcurrentTransitionMixin, TimeStamped):
    """A person's insurance relationship in one scheme, with the lifecycle of DOMAIN §8.2.

    ACTIVE ⇄ SUSPENDED_CONTRIB; ACTIVE/SUSPENDED_CONTRIB → TRANSFERRED_OUT; ACTIVE → RECEIVING;
    any open state → TERMINATED with a reason. At most one open (neither terminated nor
    transferred out) enrollment per person and scheme, in the database too.
    """

    TOWNSHIP_PATH = "person__township"

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="enrollments"
    )
    scheme = models.CharField(_("scheme"), max_length=16, choices=Scheme.choices)
    status = FSMField(
        _("status"),
        max_length=17,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.ACTIVE,
        protected=True,
    )
    # The 6-digit division code whose policy parameters apply (DOMAIN §0.2): the county of enrolment.
    pooling_area = models.CharField(_("pooling area"), max_length=6)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    termination_reason = models.CharField(
        _("termination reason"), max_length=27, choices=TerminationReason.choices, blank=True, default=""
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("enrolled by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        permissions = [("terminate_enrollment", _("Can terminate enrollments"))]
        indexes = [
            models.Index(fields=["person", "scheme"], name="enrollment_person_scheme"),
            models.Index(fields=["scheme", "status", "id"], name="enrollment_scheme_status_id"),
        ]
        constraints = [
            # DOMAIN §1.6 / issue 3: one open enrollment per person and scheme, whatever the door.
            models.UniqueConstraint(
                fields=["person", "scheme"],
                condition=~models.Q(status__in=CLOSED_ENROLLMENT_STATUSES),
                name="enrollment_one_open_per_scheme",
            ),
            models.CheckConstraint(
                condition=models.Q(scheme__in=Scheme.values), name="enrollment_scheme_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=EnrollmentStatus.values), name="enrollment_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(pooling_area__regex=r"^[0-9]{6}$"), name="enrollment_pooling_area_6_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="enrollment_dates_ordered",
            ),
            # A termination always says why; nothing else carries a reason.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        status=EnrollmentStatus.TERMINATED, termination_reason__in=TerminationReason.values
                    )
                    | (~models.Q(status=EnrollmentStatus.TERMINATED) & models.Q(termination_reason=""))
                ),
                name="enrollment_termination_reason",
            ),
            # Residents enrol for themselves; an employer belongs to the employee schemes only.
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True) | ~models.Q(scheme__in=RESIDENT_SCHEMES),
                name="enrollment_employer_only_for_employee_schemes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_ENROLLMENT_STATUSES

    @transition(field=status, source=EnrollmentStatus.ACTIVE, target=EnrollmentStatus.SUSPENDED_CONTRIB)
    def suspend(self) -> None:
        """The person stops paying; the relationship and the account remain."""

    @transition(field=status, source=EnrollmentStatus.SUSPENDED_CONTRIB, target=EnrollmentStatus.ACTIVE)
    def resume(self) -> None:
        """The person pays again."""

    @transition(
        field=status,
        source=[EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED_CONTRIB],
        target=EnrollmentStatus.TRANSFERRED_OUT,
    )
    def transfer_out(self, *, on: dt.date) -> None:
        """Only before receiving: a household-registration move takes the relationship along [S1 Art12]."""
        self.end_date = on

    @transition(field=status, source=EnrollmentStatus.ACTIVE, target=EnrollmentStatus.RECEIVING)
    def start_receiving(self) -> None:
        """An entitlement was approved (the benefits issue calls this)."""

    # "* → TERMINATED" of DOMAIN §8.2, read as every open state: a transferred-out relationship
    # lives on in the new pooling area, and a terminated one is already ended.
    @transition(
        field=status,
        source=[EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED_CONTRIB, EnrollmentStatus.RECEIVING],
        target=EnrollmentStatus.TERMINATED,
    )
    def terminate(self, *, reason: str, on: dt.date) -> None:
        self.termination_reason = reason
        self.end_date = on


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ContributionRecord(TimeStamped):
    """One paid period of an enrollment (DOMAIN §1.2, §8.1).

    Resident pension: a year (period_start is 1 January) at a grade, with the government
    subsidy for that grade from the policy parameters, none for a back-paid year. Employee
    schemes: a month (period_start is its first day) on a contribution base. One record per
    enrollment and period; once saved, the period and grade never change (§1.2 grade lock,
    trigger contribution_record_period_locked).
    """

    TOWNSHIP_PATH = "enrollment__person__township"

    enrollment = models.ForeignKey(
        Enrollment, verbose_name=_("enrollment"), on_delete=models.PROTECT, related_name="contributions"
    )
    period_kind = models.CharField(_("period kind"), max_length=5, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    grade = models.DecimalField(_("contribution grade"), null=True, blank=True, **_MONEY)
    base = models.DecimalField(_("contribution base"), null=True, blank=True, **_MONEY)
    personal_amount = models.DecimalField(_("personal contribution"), **_MONEY)
    collective_amount = models.DecimalField(_("collective subsidy"), default=Decimal("0"), **_MONEY)
    government_subsidy = models.DecimalField(_("government subsidy"), default=Decimal("0"), **_MONEY)
    proxy_payment_amount = models.DecimalField(_("proxy payment"), default=Decimal("0"), **_MONEY)
    proxy_payment_source = models.CharField(_("proxy payment funding source"), max_length=100, blank=True)
    is_backpay = models.BooleanField(_("back-paid"), default=False)
    payer = models.CharField(_("payer"), max_length=10, choices=Payer.choices)
    paid_on = models.DateField(_("paid on"))
    # The policy-parameter rows the subsidy was computed from, with their values (DOMAIN §0.2).
    parameters_used = models.JSONField(_("parameters used"), default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = ContributionRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("contribution record")
        verbose_name_plural = _("contribution records")
        indexes = [models.Index(fields=["period_start", "id"], name="contribution_period_id")]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "period_start"], name="contribution_one_per_period"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        period_kind=PeriodKind.YEAR,
                        period_start__month=1,
                        period_start__day=1,
                        grade__gt=0,
                        base__isnull=True,
                    )
                    | models.Q(
                        period_kind=PeriodKind.MONTH, period_start__day=1, base__gt=0, grade__isnull=True
                    )
                ),
                name="contribution_period_and_grade_or_base",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    personal_amount__gte=0,
                    collective_amount__gte=0,
                    government_subsidy__gte=0,
                    proxy_payment_amount__gte=0,
                ),
                name="contribution_amounts_not_negative",
            ),
            # DOMAIN §1.2 "Late back-payment": a back-paid year gets no government subsidy.
            models.CheckConstraint(
                condition=models.Q(is_backpay=False) | models.Q(government_subsidy=0),
                name="contribution_backpay_without_subsidy",
            ),
            models.CheckConstraint(
                condition=models.Q(payer__in=Payer.values), name="contribution_payer_valid"
            ),
        ]
        triggers = [
            # DOMAIN §1.2 "Grade lock": once a year is paid its grade cannot change, whatever the door.
            pgtrigger.ReadOnly(
                name="contribution_record_period_locked",
                fields=["enrollment", "period_kind", "period_start", "grade", "base"],
            )
        ]

    def __str__(self) -> str:
        period = (
            f"{self.period_start:%Y}" if self.period_kind == PeriodKind.YEAR else f"{self.period_start:%Y-%m}"
        )
        return f"{self.enrollment} {period}"

    @property
    def credited_to_account(self) -> Decimal:
        """What this record adds to the personal account."""
        return (
            self.personal_amount
            + self.collective_amount
            + self.government_subsidy
            + self.proxy_payment_amount
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PersonalAccount(TimeStamped):
    """A person's personal account in one pension scheme, its components kept apart (DOMAIN §8.1).

    Refunds (§1.6 Art 7–8: without the government subsidy) and inheritance treat the
    components differently, so each has its own balance. Only the contribution service
    changes them, with one set-based UPDATE in the contribution's transaction.
    """

    TOWNSHIP_PATH = "person__township"

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="personal_accounts"
    )
    scheme = models.CharField(_("scheme"), max_length=16, choices=Scheme.choices)
    personal = models.DecimalField(_("personal contributions"), default=Decimal("0"), **_MONEY)
    collective = models.DecimalField(_("collective subsidies"), default=Decimal("0"), **_MONEY)
    government_subsidy = models.DecimalField(_("government subsidies"), default=Decimal("0"), **_MONEY)
    proxy_payment = models.DecimalField(_("proxy payments"), default=Decimal("0"), **_MONEY)
    interest = models.DecimalField(_("interest"), default=Decimal("0"), **_MONEY)

    objects = PersonalAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal account")
        verbose_name_plural = _("personal accounts")
        constraints = [
            models.UniqueConstraint(fields=["person", "scheme"], name="personal_account_one_per_scheme"),
            models.CheckConstraint(
                condition=models.Q(scheme__in=Scheme.values), name="personal_account_scheme_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_scheme_display()}"

    @property
    def balance(self) -> Decimal:
        return self.personal + self.collective + self.government_subsidy + self.proxy_payment + self.interest


# --- Coverage (全民参保) -------------------------------------------------------------------------


class CoverageRollup(models.Model):
    """Pension coverage per village, per township and for the county, as of one day.

    Rebuilt whole by enrollment.coverage.coverage_refresh (one DELETE, one INSERT … SELECT),
    so the coverage pages read a few hundred rows instead of grouping the person table.
    A village row names its township and village; a township row has no village; the
    county row has neither (and so is visible to county-wide staff only).
    """

    TOWNSHIP_PATH = "township"

    as_of = models.DateField(_("as of"))
    township = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,  # a derived row: rebuilt on the next refresh anyway
        related_name="+",
        db_index=False,  # coverage_township_village serves every lookup by township
    )
    village = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    residents = models.PositiveIntegerField(_("residents aged 16 and over"))
    enrolled = models.PositiveIntegerField(_("enrolled in a pension scheme"))

    objects = CoverageRollupQuerySet.as_manager()

    class Meta:
        verbose_name = _("coverage figure")
        verbose_name_plural = _("coverage figures")
        indexes = [models.Index(fields=["township", "village"], name="coverage_township_village")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enrolled__lte=models.F("residents")),
                name="coverage_rollup_enrolled_le_residents",
            ),
            # A village row always names its township.
            models.CheckConstraint(
                condition=models.Q(village__isnull=True) | models.Q(township__isnull=False),
                name="coverage_rollup_village_has_township",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.as_of} {self.village_id or self.township_id or 'county'}"

    @property
    def not_enrolled(self) -> int:
        return self.residents - self.enrolled

    @property
    def rate(self) -> Decimal | None:
        """Enrolled / residents as a percentage with one decimal; None when nobody is 16+."""
        if not self.residents:
            return None
        return (Decimal(self.enrolled) * 100 / Decimal(self.residents)).quantize(Decimal("0.1"))


from enrollment.proxy_payment import ProxyPaymentLine, ProxyPaymentRoster  # noqa: E402, F401  (issue 4: 代缴 roster)
