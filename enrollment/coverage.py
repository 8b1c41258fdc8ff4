"""Coverage (全民参保): who aged 16 and over is enrolled in a pension scheme, and who is not.

The figures live in CoverageRollup, rebuilt whole by `coverage_refresh` with one set-based
statement, so the coverage pages read a few hundred small rows and never group the person
table. The not-yet-enrolled list (应保未保) is read from the registry itself, one village or
township at a time, in keyset pages.

"Enrolled" means an open enrollment (not terminated, not transferred out) in the employee,
the government/institution or the resident pension; "resident" means alive and 16 or over
on the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from enrollment.choices import CLOSED_ENROLLMENT_STATUSES, Scheme
from enrollment.models import CoverageRollup, Enrollment, Person
from enrollment.querysets import PersonQuerySet
from socialsec.core.exceptions import NotVisible
from socialsec.core.scoping import get_visible_or_404

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from socialsec.core.models import User

PENSION_SCHEMES = (Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION, Scheme.RESIDENT_PENSION)
COVERAGE_AGE = 16


def latest_birth_date(on: dt.date) -> dt.date:
    """The last birth date of someone already COVERAGE_AGE on `on` (29 February falls back to the 28th)."""
    try:
        return on.replace(year=on.year - COVERAGE_AGE)
    except ValueError:
        return on.replace(year=on.year - COVERAGE_AGE, day=28)


# Village rows, township rows and the county row in one pass: GROUPING SETS. The enrollment
# side is reduced to distinct persons first, so a person with two open pension enrollments
# (an employee one overlapping a resident one, DOMAIN §1.6 Art 7) counts once.
_REFRESH_SQL = f"""
    INSERT INTO {CoverageRollup._meta.db_table} (as_of, township_id, village_id, residents, enrolled)
    SELECT %(as_of)s, p.township_id, p.village_id, count(*), count(e.person_id)
      FROM {Person._meta.db_table} p
      LEFT JOIN (
            SELECT DISTINCT person_id
              FROM {Enrollment._meta.db_table}
             WHERE scheme = ANY(%(schemes)s) AND NOT (status = ANY(%(closed)s))
           ) e ON e.person_id = p.id
     WHERE p.death_date IS NULL AND p.birth_date <= %(born_by)s
     GROUP BY GROUPING SETS ((p.township_id, p.village_id), (p.township_id), ())
     -- A few hundred rows: sorted, so a rebuild of the same registry numbers them the same way.
     ORDER BY p.township_id NULLS FIRST, p.village_id NULLS FIRST
"""


def coverage_refresh(*, as_of: dt.date) -> int:
    """Rebuild every coverage figure as of a day; returns the number of rows written.

    Safe to run twice: the table is replaced whole, in one transaction, so readers see
    the old figures until the new ones commit. A village with no resident of 16 or over
    has no row.
    """
    table = CoverageRollup._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Two refreshes at once would both delete and both insert; this lock queues them
        # and still lets the pages read (SHARE ROW EXCLUSIVE does not block SELECT).
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            _REFRESH_SQL,
            {
                "as_of": as_of,
                "schemes": [str(s) for s in PENSION_SCHEMES],
                "closed": [str(s) for s in CLOSED_ENROLLMENT_STATUSES],
                "born_by": latest_birth_date(as_of),
            },
        )
        written = cursor.rowcount
    with connection.cursor() as cursor:
        # The table was replaced whole: give the planner its new size straight away.
        cursor.execute(f"ANALYZE {table}")
    return written


@dataclass(frozen=True)
class CoverageTable:
    """A level of the drill-down: its own total (if the user may see it) and the rows under it."""

    total: CoverageRollup | None
    rows: list[CoverageRollup]


def coverage_for(user: User | AnonymousUser, township_id: int | None = None) -> CoverageTable:
    """The townships the user may see (with the county total for county-wide staff), or,
    given a township, that township's total and its villages; another township's is a 404.

    One query either way, whatever the number of townships or villages.
    """
    rollups = CoverageRollup.objects.visible_to(user).select_related("township", "village")
    if township_id is None:
        found = list(rollups.filter(village__isnull=True).order_by("township__code"))
        total = next((r for r in found if r.township_id is None), None)
        return CoverageTable(total=total, rows=[r for r in found if r.township_id is not None])
    found = list(rollups.filter(township_id=township_id).order_by("village__code"))
    total = next((r for r in found if r.village_id is None), None)
    if total is None:
        raise NotVisible(model=CoverageRollup._meta.model_name)
    return CoverageTable(total=total, rows=[r for r in found if r.village_id is not None])


def coverage_row(
    user: User | AnonymousUser, *, village_id: int | None = None, township_id: int | None = None
) -> CoverageRollup:
    """The figures of one village or township the user may see; 404 otherwise (or before any refresh)."""
    rollups = CoverageRollup.objects.select_related("township", "village")
    if village_id is not None:
        return get_visible_or_404(rollups, user, village_id=village_id)
    return get_visible_or_404(rollups, user, township_id=township_id, village__isnull=True)


def not_enrolled(
    user: User | AnonymousUser,
    *,
    on: dt.date,
    village_id: int | None = None,
    township_id: int | None = None,
) -> PersonQuerySet:
    """Residents of a village or township, alive and 16 or over on the day, with no open
    pension enrollment (应保未保), oldest record first; callers page by keyset on id.

    Scoped through Person.visible_to; NOT EXISTS probes enrollment_person_scheme per person.
    """
    if (village_id is None) == (township_id is None):
        raise ValueError("give exactly one of village_id and township_id")
    open_pension = Enrollment.objects.filter(person_id=OuterRef("pk"), scheme__in=PENSION_SCHEMES).exclude(
        status__in=CLOSED_ENROLLMENT_STATUSES
    )
    persons = Person.objects.visible_to(user).alive().filter(birth_date__lte=latest_birth_date(on))
    if village_id is not None:
        persons = persons.filter(village_id=village_id)
    else:
        persons = persons.filter(township_id=township_id)
    return persons.filter(~Exists(open_pension)).select_related("township", "village").order_by("id")
