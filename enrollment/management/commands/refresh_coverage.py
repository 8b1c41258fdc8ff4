"""Rebuild the coverage (全民参保) figures, e.g. after an import or from the monthly cron."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone


class Command(BaseCommand):
    help = "Rebuild the pension coverage figures per village, township and county as of a day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Reference date for ages (YYYY-MM-DD, default today).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from enrollment.coverage import coverage_refresh

        as_of = options["as_of"] or timezone.localdate()
        written = coverage_refresh(as_of=as_of)
        self.stdout.write(f"coverage as of {as_of}: {written} rows")
