"""seed_county, issue 3: employers, special groups, enrollments, contributions, accounts, coverage.

The foundation issue's county of 1,000,000 (25 % aged 60+, about 63 % in the resident pension
and 18 % drawing it, about 12 % in the employee pension, 3.3 % in minimum-living-allowance
households, a few thousand in both pension schemes, a few hundred dead still paid), the rules of
DOMAIN §1.1-§1.6, §2.3, §6.2 and §8.1-§8.2, and the figures of the policy parameters in force.
Real commits (the seed COPYs and alters tables), with the migrated parameters restored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from enrollment.choices import SpecialGroup
from enrollment.coverage import PENSION_SCHEMES, latest_birth_date
from enrollment.models import (
    ContributionRecord,
    CoverageRollup,
    Enrollment,
    Organization,
    Person,
    PersonalAccount,
    PersonCategory,
)
from enrollment.services import resident_pension_subsidy
from socialsec.core.models import PolicyParameter
from socialsec.core.parameters import parameter_trace
from socialsec.core.seeding import SYSTEM_USERNAME
from socialsec.lib.credit_code import parse_credit_code

AS_OF = dt.date(2025, 6, 30)
COUNTY = "360121"
PROXY_GROUPS = (
    SpecialGroup.MINIMUM_LIVING_ALLOWANCE,
    SpecialGroup.EXTREME_POVERTY_SUPPORT,
    SpecialGroup.RETURNED_TO_POVERTY,
    SpecialGroup.SEVERE_DISABILITY,
)

real_db = pytest.mark.django_db(transaction=True)


def seed(persons: int, seed: int = 1) -> str:
    stdout = StringIO()
    call_command("seed_county", persons=persons, seed=seed, as_of=AS_OF, stdout=stdout)
    return stdout.getvalue()


def scalar(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"as_of": AS_OF, **(params or {})})
        return cursor.fetchone()[0]


def share(count: int, persons: int) -> float:
    return count / persons


# --- Rates -----------------------------------------------------------------------------------------


@real_db
def test_a_county_of_twenty_thousand_has_the_foundation_issues_scheme_and_group_rates():
    n = 20_000
    line = seed(n)
    for figure in ("organizations=", "memberships=", "enrollments=", "contributions=", "accounts="):
        assert figure in line
    open_resident = Enrollment.objects.filter(scheme="resident_pension").open().count()
    assert 0.60 <= share(open_resident, n) <= 0.66  # about 63 %
    receiving = Enrollment.objects.filter(
        scheme="resident_pension", status="receiving", person__death_date__isnull=True
    ).count()
    assert 0.16 <= share(receiving, n) <= 0.20  # 18 % of all persons drawing it
    employee = Enrollment.objects.filter(scheme="employee_pension").open().count()
    assert 0.10 <= share(employee, n) <= 0.14  # about 12 %
    # 3.3 % in minimum-living-allowance households (DOMAIN §4.1), memberships in force on the day.
    allowance = (
        PersonCategory.objects.filter(category=SpecialGroup.MINIMUM_LIVING_ALLOWANCE, person__death_date=None)
        .in_force(AS_OF)
        .count()
    )
    assert 0.028 <= share(allowance, n) <= 0.038
    # A few thousand at 1,000,000 in both pension schemes (DOMAIN §1.6 Art 7 and 8).
    both = scalar(
        """
        SELECT count(*) FROM (
            SELECT person_id FROM enrollment_enrollment
             WHERE scheme IN ('resident_pension', 'employee_pension', 'gov_inst_pension')
               AND status NOT IN ('terminated', 'transferred_out')
             GROUP BY person_id HAVING count(*) > 1) both_schemes
        """
    )
    assert 0.001 <= share(both, n) <= 0.006
    # A few hundred at 1,000,000 dead but still paid: the death-match checks' cases.
    still_paid = Enrollment.objects.filter(status="receiving", person__death_date__isnull=False).count()
    assert 1 <= still_paid <= 0.001 * n
    # Every special group is there, a severe disability always with grade 1 or 2 (DOMAIN §4.3).
    groups = set(PersonCategory.objects.values_list("category", flat=True))
    assert groups == set(SpecialGroup.values)
    grades = set(
        PersonCategory.objects.filter(category="severe_disability").values_list("disability_grade", flat=True)
    )
    assert grades == {1, 2}
    # Employers of every size class, a few per thousand persons, in every township.
    assert 0.004 <= share(Organization.objects.count(), n) <= 0.01
    assert set(Organization.objects.values_list("size_class", flat=True)) == {
        "large",
        "medium",
        "small",
        "micro",
    }
    townships = set(Person.objects.values_list("township_id", flat=True))
    assert set(Organization.objects.values_list("township_id", flat=True)) == townships
    # Two to three contribution records per person: history without a runaway table.
    assert 1.5 <= share(ContributionRecord.objects.count(), n) <= 3.5


# --- Consistency -------------------------------------------------------------------------------------

# Each query counts rows that break a rule; every count must be 0.
VIOLATIONS = {
    # DOMAIN §1.5: the resident pension is drawn from 60 (alive: as of the day; dead: at death).
    "receiving resident pension before 60": """
        SELECT count(*) FROM enrollment_enrollment e JOIN enrollment_person p ON p.id = e.person_id
         WHERE e.scheme = 'resident_pension' AND e.status = 'receiving'
           AND p.birth_date > coalesce(p.death_date, %(as_of)s) - interval '60 years'""",
    # DOMAIN §1.1: from 16, and not before the scheme's grades were in force.
    "resident enrollment before 16 or before the scheme": """
        SELECT count(*) FROM enrollment_enrollment e JOIN enrollment_person p ON p.id = e.person_id
         WHERE e.scheme = 'resident_pension'
           AND (e.start_date < p.birth_date + interval '16 years' OR e.start_date < (
                SELECT min(effective_from) FROM core_policyparameter
                 WHERE key = 'resident_pension.contribution_grades'))""",
    # DOMAIN §8.2: death ends every contributing enrollment, on the day, for that reason.
    "contributing after death": """
        SELECT count(*) FROM enrollment_enrollment e JOIN enrollment_person p ON p.id = e.person_id
         WHERE p.death_date IS NOT NULL AND e.status IN ('active', 'suspended_contrib')""",
    "terminated otherwise than by death on its day": """
        SELECT count(*) FROM enrollment_enrollment e JOIN enrollment_person p ON p.id = e.person_id
         WHERE e.status = 'terminated'
           AND (e.end_date IS DISTINCT FROM p.death_date OR e.termination_reason <> 'death')""",
    "enrollment outside the person's life": """
        SELECT count(*) FROM enrollment_enrollment e JOIN enrollment_person p ON p.id = e.person_id
         WHERE e.start_date > coalesce(p.death_date, %(as_of)s) OR e.start_date < p.birth_date""",
    # DOMAIN §1.1, §1.6: the resident pension never starts while an employment pension is open; the
    # overlap (Art 7) is an employee enrollment that came later.
    "resident pension started beside an employment pension": """
        SELECT count(*) FROM enrollment_enrollment r JOIN enrollment_enrollment w
            ON w.person_id = r.person_id AND w.scheme IN ('employee_pension', 'gov_inst_pension')
         WHERE r.scheme = 'resident_pension' AND r.status = 'active' AND w.status = 'active'
           AND w.start_date < r.start_date""",
    "employer on a resident scheme, or a private one on the institution pension": """
        SELECT count(*) FROM enrollment_enrollment e LEFT JOIN enrollment_organization o
            ON o.id = e.organization_id
         WHERE (e.scheme = 'resident_pension' AND e.organization_id IS NOT NULL)
            OR (e.scheme = 'gov_inst_pension' AND o.registration_authority IS DISTINCT FROM '1')
            OR (e.scheme = 'employee_pension' AND o.registration_authority = '1')""",
    # DOMAIN §2.3 (E21): an employee pension is drawn from the retirement age, 50 at the earliest.
    "employee pension drawn before 50": """
        SELECT count(*) FROM enrollment_enrollment e JOIN enrollment_person p ON p.id = e.person_id
         WHERE e.scheme IN ('employee_pension', 'gov_inst_pension') AND e.status = 'receiving'
           AND p.birth_date > coalesce(p.death_date, %(as_of)s) - interval '50 years'""",
    "contribution paid outside the enrollment or after the day": """
        SELECT count(*) FROM enrollment_contributionrecord c
          JOIN enrollment_enrollment e ON e.id = c.enrollment_id
          JOIN enrollment_person p ON p.id = e.person_id
         WHERE c.paid_on < e.start_date OR c.paid_on > coalesce(p.death_date, %(as_of)s)
            OR c.period_start < date_trunc(CASE c.period_kind WHEN 'year' THEN 'year' ELSE 'month' END,
                                           e.start_date)""",
    # DOMAIN §0.5, §1.3: at 60 the person receives a pension rather than contributing.
    "resident contribution paid at 60 or over": """
        SELECT count(*) FROM enrollment_contributionrecord c
          JOIN enrollment_enrollment e ON e.id = c.enrollment_id
          JOIN enrollment_person p ON p.id = e.person_id
         WHERE c.period_kind = 'year' AND c.paid_on >= p.birth_date + interval '60 years'""",
    # DOMAIN §1.2: a year paid after it ended is back-paid, and only such a year.
    "back-payment flag disagrees with the payment day": """
        SELECT count(*) FROM enrollment_contributionrecord
         WHERE period_kind = 'year'
           AND is_backpay <> (paid_on > period_start + interval '1 year' - interval '1 day')""",
    "employee month paid by an employer the enrollment does not name": """
        SELECT count(*) FROM enrollment_contributionrecord c
          JOIN enrollment_enrollment e ON e.id = c.enrollment_id
         WHERE c.period_kind = 'month'
           AND (c.payer = 'employer') <> (e.organization_id IS NOT NULL)""",
    # DOMAIN §8.1: memberships start after birth, never after death, and a death closes them.
    "membership outside the person's life": """
        SELECT count(*) FROM enrollment_personcategory k JOIN enrollment_person p ON p.id = k.person_id
         WHERE k.effective_from < p.birth_date OR k.effective_from > coalesce(p.death_date, %(as_of)s)
            OR (p.death_date IS NOT NULL AND (k.effective_to IS NULL OR k.effective_to > p.death_date))""",
    "extreme-poverty support beside the minimum living allowance": """
        SELECT count(*) FROM enrollment_personcategory a JOIN enrollment_personcategory b
            ON b.person_id = a.person_id AND b.category = 'minimum_living_allowance'
         WHERE a.category = 'extreme_poverty_support'
           AND daterange(a.effective_from, a.effective_to, '[]')
               && daterange(b.effective_from, b.effective_to, '[]')""",
}


@real_db
def test_every_enrollment_contribution_and_membership_agrees_with_age_death_and_the_rules():
    """DOMAIN §1.1, §1.2, §1.5, §1.6, §2.3, §8.1, §8.2. The database's own constraints (one open
    enrollment per scheme, grade or base by period kind, no subsidy on a back-paid year, …)
    were checked when the seed rebuilt them; these are the rules no constraint states."""
    seed(5000)
    assert Enrollment.objects.exists() and ContributionRecord.objects.exists()
    broken = {rule: scalar(sql) for rule, sql in VIOLATIONS.items()}
    assert broken == dict.fromkeys(VIOLATIONS, 0)


SEEDED_TABLES = [
    "enrollment_organization",
    "enrollment_personcategory",
    "enrollment_enrollment",
    "enrollment_contributionrecord",
    "enrollment_personalaccount",
]


def _table_guards() -> dict[str, set]:
    """Each table's indexes, constraints and triggers, with whether each is valid (or enabled)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            -- An index by name: a rebuilt partial index prints its predicate differently, same meaning.
            SELECT 'index', indrelid::regclass::text, indexrelid::regclass::text || (CASE WHEN indisunique
                   THEN ' unique' ELSE '' END), indisvalid
              FROM pg_index WHERE indrelid::regclass::text = ANY(%(tables)s)
            UNION ALL
            SELECT 'constraint', conrelid::regclass::text, pg_get_constraintdef(oid), convalidated
              FROM pg_constraint WHERE conrelid::regclass::text = ANY(%(tables)s)
            UNION ALL
            SELECT 'trigger', tgrelid::regclass::text, tgname, tgenabled = 'O'
              FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY(%(tables)s)
            """,
            {"tables": SEEDED_TABLES},
        )
        rows = cursor.fetchall()
    return {kind: {row[1:] for row in rows if row[0] == kind} for kind in ("index", "constraint", "trigger")}


@real_db
def test_every_row_passed_the_tables_own_indexes_constraints_and_triggers():
    """The seed drops indexes and foreign keys for its load and switches triggers off; it must put
    every one back, validated (so each row was checked: one open enrollment per scheme, a grade or a
    base by period kind, no subsidy on a back-paid year, …) and on, as the migrations left them."""
    before = _table_guards()
    assert all(valid for guards in before.values() for *_, valid in guards)
    seed(3000)
    after = _table_guards()
    lost_or_new = {kind: (before[kind] - after[kind], after[kind] - before[kind]) for kind in before}
    assert lost_or_new == dict.fromkeys(before, (set(), set()))
    assert ContributionRecord.objects.exists()


@real_db
def test_the_rows_are_recorded_by_an_inactive_account_that_nobody_logs_in_with():
    seed(2000)
    recorders = set(Enrollment.objects.values_list("enrolled_by__username", flat=True))
    recorders |= set(ContributionRecord.objects.values_list("recorded_by__username", flat=True))
    recorders |= set(PersonCategory.objects.values_list("recorded_by__username", flat=True))
    assert recorders == {SYSTEM_USERNAME}
    account = Enrollment.objects.first().enrolled_by
    assert not account.is_active and not account.has_usable_password() and not account.groups.exists()


# --- Contributions and accounts ------------------------------------------------------------------------


@real_db
def test_resident_years_carry_the_subsidy_and_parameter_rows_in_force_on_the_payment_day():
    """DOMAIN §0.2, §1.2 (E5: 60 for grade 500; E6: none for a back-paid year), as
    enrollment.services.contribution_record records them, a county override included."""
    national = PolicyParameter.objects.get(
        key="resident_pension.contribution_subsidy.minimum", region_code="000000"
    )
    county_row = PolicyParameter.objects.create(
        region_code=COUNTY,
        scheme="resident_pension",
        key=national.key,
        kind=national.kind,
        unit=national.unit,
        value="45",
        effective_from=dt.date(2023, 1, 1),
        confidence="B",
    )
    seed(5000)
    years = ContributionRecord.objects.filter(period_kind="year")
    seen = set()
    for record in years.select_related("enrollment").order_by("id"):
        key = (record.paid_on, record.grade, record.is_backpay)
        if key in seen:
            continue
        seen.add(key)
        with parameter_trace() as trace:
            subsidy = resident_pension_subsidy(grade=record.grade, region=COUNTY, on=record.paid_on)
        assert record.government_subsidy == (Decimal("0") if record.is_backpay else subsidy), record.pk
        assert record.parameters_used == trace.as_snapshot(), record.pk
        assert record.personal_amount == record.grade - record.proxy_payment_amount
    # The override answers for the low grades paid on time from 2023, and is named in the record.
    overridden = years.filter(paid_on__gte=dt.date(2023, 1, 1), grade__lt=500, is_backpay=False)
    assert overridden.exists()
    assert set(overridden.values_list("government_subsidy", flat=True)) == {Decimal("45")}
    assert all(
        county_row.pk in [row["id"] for row in used]
        for used in overridden.values_list("parameters_used", flat=True)[:50]
    )
    assert set(
        years.filter(paid_on__lt=dt.date(2023, 1, 1), grade__lt=500, is_backpay=False).values_list(
            "government_subsidy", flat=True
        )
    ) == {Decimal("30")}
    assert years.filter(grade=500, is_backpay=False).values_list("government_subsidy", flat=True)[0] == 60
    assert years.filter(is_backpay=True).exists()
    assert not years.filter(is_backpay=True).exclude(government_subsidy=0).exists()
    # Employee months: a base and a personal part of it, no parameter rows (none are read).
    months = ContributionRecord.objects.filter(period_kind="month")
    assert months.exists()
    assert not months.exclude(parameters_used=[]).exists()
    assert all(month.personal_amount == month.base * Decimal("0.08") for month in months[:200])


@real_db
def test_special_groups_of_working_age_are_proxy_paid_at_the_minimum_grade():
    """DOMAIN §1.3 and E2: 低保, 特困, 返贫致贫 and the severely disabled, aged 16-59, get the full
    minimum grade paid by the government; at 60 or over nobody is proxy-paid (E1)."""
    seed(20_000)
    proxied = ContributionRecord.objects.filter(proxy_payment_amount__gt=0)
    assert proxied.exists()
    assert set(proxied.values_list("payer", flat=True)) == {"government"}
    assert not proxied.exclude(personal_amount=0).exists()
    assert set(proxied.values_list("grade", flat=True)) == {Decimal("100")}  # the national minimum grade
    in_group = """
        EXISTS (SELECT 1 FROM enrollment_personcategory k
                 WHERE k.person_id = p.id AND k.category = ANY(%(groups)s)
                   AND k.effective_from <= c.paid_on
                   AND (k.effective_to IS NULL OR k.effective_to >= c.paid_on))
        AND c.paid_on >= p.birth_date + interval '16 years' AND c.paid_on < p.birth_date + interval '60 years'
    """
    records = """
        FROM enrollment_contributionrecord c JOIN enrollment_enrollment e ON e.id = c.enrollment_id
        JOIN enrollment_person p ON p.id = e.person_id WHERE c.period_kind = 'year' AND NOT c.is_backpay
    """
    groups = {"groups": [str(g) for g in PROXY_GROUPS]}
    # Every proxy payment is for a member of age; every on-time year of a member of age is proxy-paid.
    assert (
        scalar(f"SELECT count(*) {records} AND c.proxy_payment_amount > 0 AND NOT ({in_group})", groups) == 0
    )
    assert scalar(f"SELECT count(*) {records} AND c.proxy_payment_amount = 0 AND {in_group}", groups) == 0


@real_db
def test_personal_accounts_hold_the_sum_of_each_component_of_the_contributions():
    """DOMAIN §8.1: personal, collective, government subsidy and proxy payment kept apart; one
    account per person and pension scheme, opened with the enrollment."""
    seed(5000)
    assert PersonalAccount.objects.count() == Enrollment.objects.count()
    mismatched = scalar(
        """
        SELECT count(*) FROM enrollment_personalaccount a
          JOIN enrollment_enrollment e ON e.person_id = a.person_id AND e.scheme = a.scheme
          LEFT JOIN (
                SELECT enrollment_id, sum(personal_amount) personal, sum(collective_amount) collective,
                       sum(government_subsidy) subsidy, sum(proxy_payment_amount) proxy
                  FROM enrollment_contributionrecord GROUP BY enrollment_id
               ) c ON c.enrollment_id = e.id
         WHERE (a.personal, a.collective, a.government_subsidy, a.proxy_payment, a.interest)
               IS DISTINCT FROM (coalesce(c.personal, 0), coalesce(c.collective, 0),
                                 coalesce(c.subsidy, 0), coalesce(c.proxy, 0), 0)
        """
    )
    assert mismatched == 0
    for column in ("personal", "collective", "government_subsidy", "proxy_payment"):
        assert PersonalAccount.objects.filter(**{f"{column}__gt": 0}).exists(), column


# --- Employers, memberships, coverage --------------------------------------------------------------------


@real_db
def test_employers_have_valid_distinct_credit_codes_of_the_county():
    """DOMAIN §6.2, E20: the wrapper accepts each code, position 17 included (no warning)."""
    seed(5000)
    codes = list(Organization.objects.values_list("credit_code", "registration_authority", "entity_type"))
    assert len({code for code, _, _ in codes}) == len(codes)
    for code, authority, entity_type in codes:
        parsed = parse_credit_code(code)
        assert parsed.division_code == COUNTY
        assert (parsed.registration_authority, parsed.entity_type) == (authority, entity_type)
        assert parsed.warnings == ()
    assert {a + t for _, a, t in codes} == {"11", "12", "91", "92", "93"}


@real_db
def test_memberships_never_overlap_and_the_overlap_trigger_is_on_again_after_the_seed():
    """DOMAIN §8.1: the seed switches person_category_no_overlap off for its load and checks the rule
    once; afterwards the trigger refuses an overlapping membership as before."""
    seed(3000)
    membership = PersonCategory.objects.filter(effective_to__isnull=True).order_by("id").first()
    duplicate = PersonCategory(
        person_id=membership.person_id,
        category=membership.category,
        disability_grade=membership.disability_grade,
        source=membership.source,
        effective_from=membership.effective_from + dt.timedelta(days=1),
        recorded_by_id=membership.recorded_by_id,
    )
    with pytest.raises(DatabaseError, match="already holds"), transaction.atomic():
        duplicate.save()


@real_db
def test_the_coverage_rollup_is_rebuilt_at_the_end_of_the_seed_and_matches_the_registry():
    """Issue 3, coverage: residents alive and 16+ on the day, against open pension enrollments."""
    seed(5000)
    county = CoverageRollup.objects.get(township__isnull=True)
    assert county.as_of == AS_OF
    residents = Person.objects.alive().filter(birth_date__lte=latest_birth_date(AS_OF))
    enrolled = residents.filter(
        pk__in=Enrollment.objects.filter(scheme__in=PENSION_SCHEMES).open().values("person_id")
    )
    assert (county.residents, county.enrolled) == (residents.count(), enrolled.count())
    assert 0.8 <= county.enrolled / county.residents <= 0.97
    townships = CoverageRollup.objects.filter(township__isnull=False, village__isnull=True)
    assert sum(row.residents for row in townships) == county.residents
    assert sum(row.enrolled for row in townships) == county.enrolled
