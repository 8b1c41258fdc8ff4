"""perfbench scenarios of core: loading the synthetic county."""

from __future__ import annotations

from django.apps import apps
from django.db import connection, transaction

from socialsec.core.benchmarking import BenchContext, TimedScenario
from socialsec.core.seeding import run_seed

_SCRATCH = "perfbench_person_scratch"


def _persons_in_registry() -> int:
    # core imports no app; the person table is reached through the app registry.
    if not apps.is_installed("enrollment"):
        return 0
    return apps.get_model("enrollment", "Person").objects.count()


def seed_app(ctx: BenchContext) -> int:
    """seed_county --replace at the same size, seed and date: the county ends as it began."""
    run_seed(persons=ctx.persons, seed=ctx.seed, replace=True, as_of=ctx.as_of)
    return _persons_in_registry()


def seed_ref(ctx: BenchContext) -> int:
    """The floor: as many person-like rows, made by the server, into a table with nothing to maintain."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_SCRATCH}")
        cursor.execute(
            f"""
            CREATE UNLOGGED TABLE {_SCRATCH} (
                id bigint, id_number varchar(18), name varchar(50), sex varchar(6), birth_date date,
                registration_type varchar(5), township_id bigint, village_id bigint, household_id bigint,
                relationship varchar(10), death_date date, death_source varchar(100),
                created_at timestamptz, updated_at timestamptz
            )
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {_SCRATCH}
            SELECT g, '360121' || to_char(date '1940-01-01' + ((g * 7919) %% 30000)::int, 'YYYYMMDD')
                       || lpad((g %% 1000)::text, 3, '0') || (g %% 10)::text,
                   '张' || chr(19968 + ((g * 31) %% 20000)::int),
                   CASE WHEN g %% 2 = 1 THEN 'male' ELSE 'female' END,
                   date '1940-01-01' + ((g * 7919) %% 30000)::int, 'rural', 1 + g %% 30, 31 + g %% 750,
                   1 + g / 3,
                   'child', NULL, '', now(), now()
            FROM generate_series(1::bigint, %s) AS g  -- bigint: g * 7919 passes 2^31 above 271,000 rows
            """,
            [ctx.persons],
        )
        cursor.execute(f"SELECT count(*) FROM {_SCRATCH}")
        (rows,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {_SCRATCH}")
    return rows


SCENARIOS = [
    TimedScenario(name="seed", app=seed_app, ref=seed_ref, rows=lambda ctx: ctx.persons),
]
