"""manage.py run_monthly_sweep --month YYYY-MM: the monthly sweep in this shell, with its progress."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benefits import sweep_services
from socialsec.core.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Run the monthly sweep of a month (default: this month): newly eligible persons become work "
        "items, entitlements of the dead stop and what was paid after is listed, draft rosters are "
        "generated. Idempotent; resumes a run of the month that was cut short."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the current month in the county's time zone).")

    def handle(self, *args: Any, month: str | None, **options: Any) -> None:
        try:
            day = sweep_services.parse_sweep_month(month)
            run = sweep_services.sweep_start(month=day, by=None, schedule=False)
            self.stdout.write(f"sweep {run.pk} of {run.month:%Y-%m}: steps done {run.steps_done or '-'}")
            last = [-1]

            def progress(current: Any) -> None:
                if current.progress // 10 != last[0]:
                    last[0] = current.progress // 10
                    self.stdout.write(f"  {current.step}: {current.progress}%")

            run = sweep_services.sweep_run(run.pk, on_chunk=progress)
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps({"sweep": run.pk, "month": f"{run.month:%Y-%m}", **run.counts}))
