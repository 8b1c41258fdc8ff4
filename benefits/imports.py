"""Import kinds of the benefits app, found by socialsec.imports.kinds.registered_kinds.

Each kind lives in its own module under benefits/import_kinds/; this list is the order in which
the pages and the API offer them (after the registry's kinds: INSTALLED_APPS order).
"""

from __future__ import annotations

from benefits.import_kinds.employee_pensions import EmployeePensions

KINDS = [
    EmployeePensions(),
]
