"""perfbench: JSON lines per scenario, app against reference, on the synthetic county (seeding issue)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from socialsec.core.benchmarking import database_url
from tests.factories import PersonFactory

TIMED_KEYS = {"scenario", "rows", "app_s", "ref_s", "ratio", "rows_per_s", "same_result"}
REQUEST_KEYS = {
    "scenario",
    "requests",
    "clients",
    "app_rps",
    "ref_rps",
    "ratio",
    "p50_ms",
    "p95_ms",
    "status_ok",
    "statuses",
}

# Real commits: the seeder loads through COPY, and gunicorn reads from its own connections.
real_db = pytest.mark.django_db(transaction=True)


def perfbench(**options: object) -> tuple[list[dict], str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("perfbench", stdout=stdout, stderr=stderr, **options)
    return [json.loads(line) for line in stdout.getvalue().splitlines()], stderr.getvalue()


@real_db
def test_the_seed_scenario_prints_one_json_line_with_the_documented_keys():
    lines, progress = perfbench(persons=3000, rounds=1, scenarios=["seed"])
    assert "seeded" in progress
    (line,) = lines
    assert set(line) == TIMED_KEYS
    assert line["scenario"] == "seed"
    assert line["rows"] == 3000
    assert line["same_result"] is True
    assert line["ratio"] == pytest.approx(line["app_s"] / line["ref_s"], rel=0.01)
    assert line["rows_per_s"] == pytest.approx(3000 / line["app_s"], rel=0.01)


@real_db
def test_the_coverage_scenario_times_the_pages_queries_against_the_raw_aggregate():
    # Issue 3, coverage: the page's database time against a GROUP BY over persons and enrollments.
    lines, _ = perfbench(persons=3000, rounds=1, scenarios=["coverage"])
    (line,) = lines
    assert set(line) == TIMED_KEYS
    assert (line["scenario"], line["rows"]) == ("coverage", 3000)
    assert line["same_result"] is True  # the rollup the page reads agrees with the raw figures
    # A few milliseconds each on a county this small: the 1/10 goal is for 1,000,000 (docs/performance.md).
    assert line["app_s"] > 0 and line["ref_s"] > 0 and line["ratio"] > 0


@real_db
def test_a_second_run_reuses_the_county_of_the_same_size_and_seed():
    perfbench(persons=2000, rounds=1, scenarios=["seed"])
    _, progress = perfbench(persons=2000, rounds=1, scenarios=["seed"])
    assert "reused" in progress


@real_db
def test_a_registry_the_seeder_did_not_load_is_left_alone():
    PersonFactory()
    with pytest.raises(CommandError, match=r"did not load.*--replace"):
        perfbench(persons=2000, rounds=1, scenarios=["seed"])


def test_an_unknown_scenario_is_refused_before_anything_runs():
    with pytest.raises(CommandError, match="unknown scenario: nonsense"):
        perfbench(persons=2000, scenarios=["nonsense"])


@real_db
def test_a_request_scenario_measures_the_page_against_the_bare_health_check():
    # gunicorn with production settings, on this test database, two clerks logged in by session.
    lines, _ = perfbench(persons=2000, rounds=1, scenarios=["person_list"], requests=8, clients=2)
    (line,) = lines
    assert set(line) == REQUEST_KEYS
    assert (line["scenario"], line["requests"], line["clients"]) == ("person_list", 8, 2)
    assert line["status_ok"] is True, line
    assert line["statuses"] == {"200": 8}
    assert line["ratio"] == pytest.approx(line["ref_rps"] / line["app_rps"], rel=0.01)
    assert 0 < line["p50_ms"] <= line["p95_ms"]


def test_the_server_gets_the_benchmarks_own_database_as_a_url():
    socket_db = {"NAME": "socialsec", "USER": "postgres", "HOST": "/work/var/pg sock", "PORT": ""}
    assert database_url(socket_db) == "postgresql://postgres@/socialsec?host=/work/var/pg%20sock"
    tcp_db = {"NAME": "test_x", "USER": "app", "PASSWORD": "p@ss", "HOST": "127.0.0.1", "PORT": "5432"}
    assert database_url(tcp_db) == "postgresql://app:p%40ss@127.0.0.1:5432/test_x"


@real_db
def test_the_roster_and_sweep_scenarios_find_what_their_bare_statements_find():
    """Issue 4: the roster (DOMAIN §8.3) and the monthly sweep (§5.3 SHOULD_PAY, §5.4 DEATH, E9,
    §3.4 E14) against one bare statement per rule; a second sweep of the month on each side finds
    the same (nothing new) as the other."""
    lines, _ = perfbench(persons=3000, rounds=1, scenarios=["roster", "monthly_sweep", "monthly_sweep_again"])
    assert [line["scenario"] for line in lines] == ["roster", "monthly_sweep", "monthly_sweep_again"]
    for line in lines:
        assert set(line) == TIMED_KEYS
        assert line["same_result"] is True, line
        assert line["rows"] > 0 and line["app_s"] > 0 and line["ref_s"] > 0
    assert lines[1]["rows"] == lines[2]["rows"] == 3000  # the sweeps' rows are the registry's persons


@real_db
def test_the_import_scenarios_write_what_their_bare_references_write(monkeypatch):
    """The special-group list (an INSERT kind, the main scenarios) and the death list (an UPDATE)."""
    monkeypatch.delenv("PERFBENCH_IMPORT_KIND", raising=False)
    lines, _ = perfbench(persons=3000, rounds=1, scenarios=["import_csv", "import_deaths_xlsx"])
    assert [line["scenario"] for line in lines] == ["import_csv", "import_deaths_xlsx"]
    for line in lines:
        assert set(line) == TIMED_KEYS
        assert line["same_result"] is True, line
        assert line["rows"] > 2000  # the living persons of the county, one list row each
