"""perfbench scenario `roster` (issue 4 "Rosters"): generating the county's resident-pension roster.

App: benefits.services.roster_generate for the whole county and the seeded county's month, as a
county-wide clerk: the checks, the parameters, the one INSERT … SELECT computing every amount in
SQL (resident_pension_rates_sql) and the totals. Reference: a bare INSERT … SELECT of the same
rows into the same line table (the same triggers and indexes), copying the amounts the
entitlements store. Both run in a transaction that is rolled back, so every round starts equal.
The target is app ≤ 1.5 × reference.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus
from benefits.models import PayoutLine, PayoutRoster
from benefits.seeding import resident_pension_entitlements_from_enrollments
from enrollment.models import Person
from socialsec.core.benchmarking import BenchContext, Measured, TimedScenario
from socialsec.core.calculations import month_start
from socialsec.core.choices import Role
from socialsec.rosters.choices import BankResult

RP = BenefitProgramme.RESIDENT_PENSION


def _month(ctx: BenchContext) -> dt.date:
    return month_start(ctx.as_of or timezone.localdate())


def _clerk(ctx: BenchContext):
    return ctx.bench_user("perfbench_county_clerk", roles=[Role.CLERK], county_wide=True)


def roster_setup(ctx: BenchContext) -> None:
    """A county seeded before benefits.seeding existed gets its entitlements now (set-based)."""
    if not BenefitEntitlement.objects.filter(programme=RP, status=EntitlementStatus.PAYING).exists():
        with transaction.atomic():
            resident_pension_entitlements_from_enrollments(month=_month(ctx))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {BenefitEntitlement._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {PayoutLine._meta.db_table}")
    _clerk(ctx)


def roster_app(ctx: BenchContext) -> int:
    from benefits import services

    clerk = _clerk(ctx)
    with transaction.atomic():
        roster = services.roster_generate(programme=RP, month=_month(ctx), township_id=None, by=clerk)
        lines = roster.total_persons
        transaction.set_rollback(True)
    return lines


def _roster_lines_ref(cursor: Any, *, roster: PayoutRoster, programme: str, skip_rostered: bool) -> int:
    """The reference's bare INSERT … SELECT of a county roster's lines: the entitlements' stored
    amounts, the account as roster_generate takes it. `skip_rostered`: leave out persons already on
    a roster of the month (not cancelled, not failed at the bank), as the sweep's rosters do."""
    period = roster.period
    line = PayoutLine._meta.db_table
    rostered = (
        f"AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.person_id = e.person_id AND l.period = %s"
        " AND l.programme = e.programme AND NOT l.roster_cancelled AND l.bank_status <> %s)"
        if skip_rostered
        else ""
    )
    cursor.execute(
        f"""
        INSERT INTO {line} (roster_id, seq, person_id, programme, period, basic, account, top_up,
            back_pay, deduction, net, account_number, bank_name, roster_cancelled, bank_status,
            bank_message, entitlement_id)
        SELECT %s, row_number() OVER (ORDER BY p.village_id, p.id), e.person_id, e.programme, %s,
               e.basic, e.account, e.top_up, 0, 0, e.basic + e.account + e.top_up,
               COALESCE(NULLIF(p.bank_account_number, ''), p.card_number),
               CASE WHEN p.bank_account_number <> '' THEN p.bank_name ELSE '' END,
               false, %s, '', e.id
        FROM {BenefitEntitlement._meta.db_table} e
        JOIN {Person._meta.db_table} p ON p.id = e.person_id
        WHERE e.programme = %s AND e.status = %s AND e.start_month <= %s
          AND (e.stop_month IS NULL OR e.stop_month > %s)
          AND (p.bank_account_number <> '' OR p.card_number <> '')
          AND (p.death_date IS NULL OR p.death_date >= %s)
          {rostered}
        """,
        [roster.pk, period, BankResult.PENDING, programme, EntitlementStatus.PAYING, period, period, period]
        + ([period, BankResult.FAILED] if skip_rostered else []),
    )
    return cursor.rowcount


def roster_ref(ctx: BenchContext) -> int:
    period = _month(ctx)
    clerk = _clerk(ctx)
    with transaction.atomic():
        roster = PayoutRoster.objects.create(
            number=f"REF-{period:%Y%m}", programme=RP, period=period, township=None, created_by=clerk
        )
        with connection.cursor() as cursor:
            written = _roster_lines_ref(cursor, roster=roster, programme=RP, skip_rostered=False)
        transaction.set_rollback(True)
    return written


def roster_rows(ctx: BenchContext) -> int:
    return BenefitEntitlement.objects.filter(programme=RP, status=EntitlementStatus.PAYING).count()


SCENARIOS = [
    TimedScenario(name="roster", setup=roster_setup, app=roster_app, ref=roster_ref, rows=roster_rows),
]


# --- monthly_sweep, monthly_sweep_again (issue 4 "The monthly sweep") -------------------------------
#
# App: benefits.sweep_services, the way beat runs it (sweep_start + sweep_run for the county's
# month): every rule slice by slice of person ids, each chunk in its own (sub)transaction with its
# progress, and each township's draft rosters through roster_generate. Reference: the same rules as
# bare county-wide statements, one each (the should-pay INSERT … SELECT, the death-stop and the
# unemployment-stop UPDATEs, the overpaid INSERT … SELECT, and per programme a bare INSERT … SELECT
# of the roster lines copying the entitlements' amounts, skipping persons already on a roster of the
# month). Both sides run in a transaction that is rolled back. `monthly_sweep_again` times only a
# second run of the same month on each side, after an untimed first one: it must create nothing and
# take no longer.


def _sweep_app_once(ctx: BenchContext) -> tuple[int, ...]:
    from benefits import sweep_services

    run = sweep_services.sweep_start(month=_month(ctx), by=None, schedule=False)
    run = sweep_services.sweep_run(run.pk)
    lines = sum(
        PayoutRoster.objects.filter(period=_month(ctx), created_at__gte=run.started_at).values_list(
            "total_persons", flat=True
        )
    )
    counts = run.counts
    return (
        counts["should_pay"],
        counts["death_stop"],
        counts["unemployment_stop"],
        counts["overpaid"],
        lines,
    )


def _sweep_ref_once(ctx: BenchContext) -> tuple[int, ...]:
    from benefits import sweep_services
    from benefits.sweeps import SweepRun

    period = _month(ctx)
    clerk = _clerk(ctx)
    run = SweepRun.objects.create(month=period, status="done")
    statements = [
        sweep_services.should_pay_insert_sql(month=period, sweep_id=run.pk),
        sweep_services.death_stop_update_sql(month=period, by_id=clerk.pk),
        sweep_services.unemployment_stop_update_sql(month=period, by_id=clerk.pk),
        sweep_services.overpaid_insert_sql(month=period, sweep_id=run.pk),
    ]
    found = []
    with connection.cursor() as cursor:
        for statement in statements:
            written = 0
            if statement is not None:  # None: no pooling area for the rule to read
                cursor.execute(*statement)
                written = cursor.rowcount
            found.append(written)
        lines = 0
        programmes = (
            BenefitEntitlement.objects.filter(status=EntitlementStatus.PAYING, start_month__lte=period)
            .order_by()
            .values_list("programme", flat=True)
            .distinct()
        )
        for programme in sorted(programmes):
            roster, created = PayoutRoster.objects.get_or_create(
                number=f"REF-{programme}-{period:%Y%m}",
                defaults={"programme": programme, "period": period, "township": None, "created_by": clerk},
            )
            if not created:  # the month has its roster: nothing to generate (as the sweep skips it)
                continue
            lines += _roster_lines_ref(cursor, roster=roster, programme=programme, skip_rostered=True)
    return (*found, lines)  # type: ignore[return-value]


def sweep_setup(ctx: BenchContext) -> None:
    roster_setup(ctx)
    from benefits.sweep_services import sweep_user

    sweep_user()


def sweep_app(ctx: BenchContext) -> tuple[int, ...]:
    with transaction.atomic():
        result = _sweep_app_once(ctx)
        transaction.set_rollback(True)
    return result


def sweep_ref(ctx: BenchContext) -> tuple[int, ...]:
    with transaction.atomic():
        result = _sweep_ref_once(ctx)
        transaction.set_rollback(True)
    return result


def _second(once: Any, ctx: BenchContext) -> Measured:
    with transaction.atomic():
        once(ctx)
        started = time.perf_counter()
        result = once(ctx)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return Measured(result=result, seconds=seconds)


def sweep_persons(ctx: BenchContext) -> int:
    return Person.objects.count()


SCENARIOS += [
    TimedScenario(name="monthly_sweep", setup=sweep_setup, app=sweep_app, ref=sweep_ref, rows=sweep_persons),
    TimedScenario(
        name="monthly_sweep_again",
        setup=sweep_setup,
        app=lambda ctx: _second(_sweep_app_once, ctx),
        ref=lambda ctx: _second(_sweep_ref_once, ctx),
        rows=sweep_persons,
    ),
]
