"""seed_county: a deterministic synthetic county loaded through COPY (seeding issue).

The load commits (COPY, ALTER TABLE), so these tests use real transactions; tests/conftest.py
puts back the policy parameters the enrollment part reads after another test emptied them
(tests/seeding/test_seed_schemes.py covers what that part generates).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from stdnum.cn import ric

from benefits.seeding import LATE_DEATH_SOURCE
from enrollment.models import Household, Person
from socialsec.core.choices import DivisionLevel
from socialsec.core.models import AdministrativeDivision, TownshipAssignment
from socialsec.core.seeding import SeedContext, discover_parts, township_count, village_count
from socialsec.lib.divisions import division_level_and_kind
from tests.factories import TownshipFactory, UserFactory

AS_OF = dt.date(2025, 6, 30)
COUNTY = "360121"

# Real commits: COPY and ALTER TABLE run in the seeder's own transaction.
real_db = pytest.mark.django_db(transaction=True)
# Every table the seed writes, in the order it writes them.
SEEDED_TABLES = (
    "core_administrativedivision",
    "enrollment_household",
    "enrollment_person",
    "enrollment_organization",
    "enrollment_personcategory",
    "enrollment_enrollment",
    "enrollment_contributionrecord",
    "enrollment_personalaccount",
)


def seed(persons: int, seed: int = 1, **options: object) -> str:
    stdout = StringIO()
    call_command("seed_county", persons=persons, seed=seed, as_of=AS_OF, stdout=stdout, **options)
    return stdout.getvalue()


def digest() -> str:
    """One md5 over every row of each seeded table, in id order.

    The coverage rollup is derived (rebuilt after the load), and its ids come from a sequence a
    previous test may have moved: its rows are compared without their ids.
    """
    parts = []
    with connection.cursor() as cursor:
        for table in SEEDED_TABLES:
            cursor.execute(f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM {table} t")
            parts.append(cursor.fetchone()[0])
        cursor.execute(
            """
            SELECT md5(string_agg((as_of, township_id, village_id, residents, enrolled)::text, E'\\n'
                                  ORDER BY township_id NULLS FIRST, village_id NULLS FIRST))
              FROM enrollment_coveragerollup
            """
        )
        parts.append(cursor.fetchone()[0])
    return "/".join(parts)


@real_db
def test_the_same_seed_gives_the_same_county_and_another_seed_a_different_one():
    # Persons, employers, memberships, enrollments, contributions, accounts and coverage alike.
    seed(3000, seed=7)
    first = digest()
    seed(3000, seed=7, replace=True)
    assert digest() == first
    seed(3000, seed=8, replace=True)
    again = digest()
    assert all(a != b for a, b in zip(first.split("/"), again.split("/"), strict=True))


@real_db
def test_every_resident_id_is_valid_unique_and_agrees_with_birth_date_and_sex():
    seed(5000)
    rows = list(Person.objects.values_list("id_number", "birth_date", "sex"))
    assert len(rows) == 5000
    assert len({number for number, _, _ in rows}) == 5000
    assert all(ric.is_valid(number) for number, _, _ in rows)
    assert all(number[:6] == COUNTY for number, _, _ in rows)
    assert all(number[6:14] == f"{born:%Y%m%d}" for number, born, _ in rows)
    # DOMAIN §6.1: an odd sequence (digit 17) is a man.
    assert all((int(number[16]) % 2 == 1) == (sex == "male") for number, _, sex in rows)
    assert all(born <= AS_OF for _, born, _ in rows)


@real_db
def test_persons_and_households_sit_in_a_village_of_their_township():
    seed(5000)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM enrollment_person p JOIN core_administrativedivision v ON v.id = p.village_id
            WHERE v.parent_id <> p.township_id OR v.level <> 'village'
            """
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            """
            SELECT count(*) FROM enrollment_person p JOIN enrollment_household h ON h.id = p.household_id
            WHERE h.village_id <> p.village_id OR h.township_id <> p.township_id
               OR h.registration_type <> p.registration_type
            """
        )
        assert cursor.fetchone()[0] == 0
    sizes = Counter(Person.objects.values_list("household_id", flat=True))
    assert set(sizes.values()) <= {1, 2, 3, 4, 5, 6}
    assert len(sizes) == Household.objects.count()
    heads = Counter(Person.objects.filter(relationship="head").values_list("household_id", flat=True))
    assert set(heads.values()) == {1} and len(heads) == len(sizes)
    assert set(Person.objects.values_list("relationship", flat=True)) <= {
        "head",
        "spouse",
        "child",
        "parent",
        "grandchild",
    }


@real_db
def test_division_codes_levels_kinds_and_names_follow_the_code_bands():
    seed(5000)
    county = AdministrativeDivision.objects.get(level=DivisionLevel.COUNTY)
    assert (county.code, county.name, county.kind) == (f"{COUNTY}000000", "南昌县", "county")
    assert county.parent_id is None
    for division in AdministrativeDivision.objects.exclude(pk=county.pk).select_related("parent"):
        assert (division.level, division.kind) == division_level_and_kind(division.code)  # DOMAIN §6.3
        assert division.code.startswith(division.parent.code[:9] if division.level == "village" else COUNTY)
        suffix = {
            "street": "街道",
            "town": "镇",
            "township": "乡",
            "residents_committee": "社区居委会",
            "villagers_committee": "村委会",
        }[division.kind]
        assert division.name.endswith(suffix)
    # Urban registration for residents' committees, rural for villagers' committees.
    mismatched = Person.objects.exclude(
        registration_type="urban", village__kind="residents_committee"
    ).exclude(registration_type="rural", village__kind="villagers_committee")
    assert not mismatched.exists()


@real_db
def test_a_county_of_twenty_thousand_has_a_realistic_shape():
    seed(20_000)
    persons = list(Person.objects.values_list("birth_date", "death_date", "death_source", "township_id"))
    ages = [(AS_OF - born).days / 365.2425 for born, _, _, _ in persons]
    assert 0.22 <= sum(age >= 60 for age in ages) / len(ages) <= 0.28
    dead = [(born, died, source) for born, died, source, _ in persons if died]
    assert 0.011 <= len(dead) / len(persons) <= 0.023
    # The registry's deaths come from civil affairs; the late notices of benefits.seeding from the police.
    assert all(source in ("civil_affairs", LATE_DEATH_SOURCE) for _, _, source in dead)
    assert all(AS_OF - dt.timedelta(days=5 * 366) <= died <= AS_OF and died >= born for born, died, _ in dead)
    assert sum((died - born).days >= 60 * 365 for born, died, _ in dead) / len(dead) > 0.7  # mostly the old
    per_township = Counter(township for _, _, _, township in persons)
    assert len(per_township) >= 2
    assert max(per_township.values()) >= 2.5 * (len(persons) / len(per_township))
    assert len(per_township) == AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).count()


@real_db
def test_a_database_with_persons_is_refused_without_replace():
    seed(2000)
    with pytest.raises(CommandError, match=r"2000 persons.*--replace"):
        seed(2000, seed=2)
    assert Person.objects.count() == 2000


@real_db
def test_replace_empties_the_registry_and_the_township_assignments_first():
    seed(2000)
    township = AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).first()
    UserFactory(username="clerk_kai", townships=[township])
    seed(3000, replace=True)
    assert Person.objects.count() == 3000
    assert not TownshipAssignment.objects.exists()


@real_db
def test_a_registry_not_made_by_the_seeder_is_refused_too():
    TownshipFactory(code=f"{COUNTY}100000")
    with pytest.raises(CommandError, match=r"already has .*divisions"):
        seed(2000)


@real_db
def test_seeding_writes_no_history_and_leaves_the_history_triggers_on():
    person_events = apps.get_model("enrollment", "PersonEvent")
    seed(2000)
    assert not person_events.objects.exists()
    for label in (
        "core.AdministrativeDivisionEvent",
        "enrollment.HouseholdEvent",
        "enrollment.OrganizationEvent",
        "enrollment.PersonCategoryEvent",
        "enrollment.EnrollmentEvent",
        "enrollment.ContributionRecordEvent",
        "enrollment.PersonalAccountEvent",
    ):
        assert not apps.get_model(label).objects.exists(), label
    person = Person.objects.first()
    person.name = "新名字"
    person.save()
    assert list(person_events.objects.values_list("pgh_obj_id", "pgh_label")) == [(person.pk, "update")]


@real_db
def test_sequences_continue_after_the_copied_ids():
    seed(2000)
    village = AdministrativeDivision.objects.filter(level=DivisionLevel.VILLAGE).first()
    household = Household.objects.create(
        number="H-after-seed", township=village.parent, village=village, registration_type="rural"
    )
    assert household.pk == Household.objects.count()


@real_db
def test_the_summary_line_gives_the_figures():
    line = seed(2000).strip()
    assert line.startswith("seed_county: persons=2000 households=")
    for key in ("townships=", "villages=", "dead=", "seconds=", "rows/s="):
        assert key in line


def test_small_counties_have_a_handful_of_townships_and_about_twenty_villages():
    assert township_count(1_000_000) == 30
    assert 700 <= village_count(1_000_000, 30) <= 800
    assert 3 <= township_count(2000) <= 6
    assert 15 <= village_count(2000, township_count(2000)) <= 25
    assert township_count(10) == 2


def test_each_part_gets_its_own_reproducible_random_stream():
    ctx = SeedContext(persons=10, seed=1, county_code=COUNTY, county_name="南昌县", as_of=AS_OF)
    again = SeedContext(persons=10, seed=1, county_code=COUNTY, county_name="南昌县", as_of=AS_OF)
    assert ctx.rng("enrollment.ages").random() == again.rng("enrollment.ages").random()
    assert ctx.rng("enrollment.ages").random() != ctx.rng("enrollment.names").random()


def test_apps_contribute_parts_by_having_a_seeding_module():
    assert [label for label, _ in discover_parts()] == ["enrollment", "benefits"]
