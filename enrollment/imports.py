"""Import kinds of the registry, found by socialsec.imports.kinds.registered_kinds.

Each kind lives in its own module under enrollment/import_kinds/; this list is the order
in which the pages and the API offer them.
"""

from __future__ import annotations

from enrollment.import_kinds.contributions import Contributions
from enrollment.import_kinds.death_records import DeathRecords
from enrollment.import_kinds.employers import Employers
from enrollment.import_kinds.enrollments import Enrollments
from enrollment.import_kinds.special_groups import SpecialGroups

KINDS = [
    DeathRecords(),
    Enrollments(),
    Contributions(),
    SpecialGroups(),
    Employers(),
]
