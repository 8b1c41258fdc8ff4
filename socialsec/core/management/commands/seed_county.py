"""Load a deterministic synthetic county: divisions, then each app's seeding part."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialsec.core.seeding import SeedRefused, run_seed

# The summary line's fields, in order; a later part's own figures follow them.
SUMMARY_FIELDS = ("persons", "households", "townships", "villages", "dead")


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


class Command(BaseCommand):
    help = (
        "Load a synthetic county (townships, villages, households, persons with valid resident IDs) "
        "through COPY. The same --persons, --seed and --as-of always give the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, required=True, help="Number of persons to create.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Empty the divisions, the registry and every table referencing them (township "
            "assignments included) before loading. Without it, a database with data is refused.",
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            default=None,
            help="Reference date for ages and deaths (YYYY-MM-DD, default today).",
        )

    def handle(self, *args: Any, persons: int, seed: int, replace: bool = False,
               as_of: dt.date | None = None, **options: Any) -> None:
        if persons < 1:
            raise CommandError("--persons must be at least 1")
        try:
            ctx = run_seed(persons=persons, seed=seed, replace=replace, as_of=as_of)
        except SeedRefused as refused:
            (existing,) = refused.args
            found = ", ".join(f"{count} {what}" for what, count in existing.items() if count)
            raise CommandError(
                f"the database already has {found}; pass --replace to empty the registry and load "
                "the synthetic county instead"
            ) from refused
        seconds = ctx.timings["total"]
        figures = [f"{name}={ctx.summary.get(name, 0)}" for name in SUMMARY_FIELDS]
        figures += [f"{name}={value}" for name, value in ctx.summary.items() if name not in SUMMARY_FIELDS]
        rate = ctx.rows_written / seconds if seconds else 0.0
        self.stdout.write(f"seed_county: {' '.join(figures)} seconds={seconds:.1f} rows/s={rate:.0f}")
        if options.get("verbosity", 1) >= 2:
            for label, spent in ctx.timings.items():
                self.stdout.write(f"  {label}: {spent:.2f}s")
