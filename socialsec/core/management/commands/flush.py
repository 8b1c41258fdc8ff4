"""Django's flush, which also empties the audit tables that otherwise refuse TRUNCATE.

flush removes every row of the database by definition; transactional tests run it after each
test. The append-only guard of socialsec.core.audit stops every other TRUNCATE of history.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from socialsec.core.audit import history_truncation_allowed


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with history_truncation_allowed(database=options["database"]):
            super().handle(**options)
