"""Benchmark the application against reference implementations; one JSON line per scenario."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialsec.core.benchmarking import (
    BenchContext,
    CountyMismatch,
    ensure_county,
    iter_selected,
    run_scenario,
)


class Command(BaseCommand):
    help = (
        "Seed (or reuse) the synthetic county of --persons, then run each scenario through the "
        "application and through a reference, interleaved, and print one JSON line per scenario. "
        "ratio is always app cost over reference cost: app_s/ref_s for timed scenarios, "
        "ref_rps/app_rps for request scenarios (the reference is /healthz, which touches no database)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, required=True, help="Size of the synthetic county.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic county (default 1).")
        parser.add_argument(
            "--rounds", type=int, default=3, help="Rounds per scenario; medians are reported."
        )
        parser.add_argument(
            "--scenario", action="append", dest="scenarios", metavar="NAME",
            help="Run only this scenario (repeatable). Default: all discovered scenarios.",
        )
        parser.add_argument(
            "--requests", type=int, default=200, help="Requests per round (request scenarios)."
        )
        parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (request scenarios).")
        parser.add_argument(
            "--replace", action="store_true",
            help="Allow replacing a database whose registry seed_county did not load.",
        )

    def handle(self, *args: Any, persons: int, seed: int, rounds: int, scenarios: list[str] | None,
               requests: int, clients: int, replace: bool, **options: Any) -> None:
        if persons < 1 or rounds < 1 or requests < 1 or clients < 1:
            raise CommandError("--persons, --rounds, --requests and --clients must be at least 1")
        try:
            selected = list(iter_selected(scenarios))
        except KeyError as unknown:
            raise CommandError(f"unknown scenario: {unknown.args[0]}") from unknown
        # stdout carries only the JSON lines; progress goes to stderr.
        progress = self.stderr
        try:
            what, as_of = ensure_county(persons=persons, seed=seed, replace=replace)
        except CountyMismatch as mismatch:
            raise CommandError(
                f"the database holds a registry seed_county did not load ({mismatch.args[0]}); "
                "pass --replace to benchmark on a synthetic county instead"
            ) from mismatch
        progress.write(f"perfbench: county of {persons} persons (seed {seed}) {what}")
        ctx = BenchContext(persons=persons, seed=seed, rounds=rounds, requests=requests, clients=clients,
                           as_of=as_of)
        try:
            for scenario in selected:
                progress.write(f"perfbench: {scenario.name}…")
                self.stdout.write(json.dumps(run_scenario(ctx, scenario), ensure_ascii=False))
        finally:
            kept_log = ctx.close()
        if kept_log:
            progress.write(f"perfbench: some requests failed; gunicorn's log is {kept_log}")

