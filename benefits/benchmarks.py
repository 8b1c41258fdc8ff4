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

from django.db import connection, transaction
from django.utils import timezone

from benefits.calculations.common import month_start
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus
from benefits.models import PayoutLine, PayoutRoster
from benefits.seeding import resident_pension_entitlements_from_enrollments
from enrollment.models import Person
from socialsec.core.benchmarking import BenchContext, TimedScenario
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


def roster_ref(ctx: BenchContext) -> int:
    period = _month(ctx)
    clerk = _clerk(ctx)
    line = PayoutLine._meta.db_table
    with transaction.atomic():
        roster = PayoutRoster.objects.create(
            number=f"REF-{period:%Y%m}", programme=RP, period=period, township=None, created_by=clerk
        )
        with connection.cursor() as cursor:
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
                """,
                [roster.pk, period, BankResult.PENDING, RP, EntitlementStatus.PAYING, period, period, period],
            )
            written = cursor.rowcount
        transaction.set_rollback(True)
    return written


def roster_rows(ctx: BenchContext) -> int:
    return BenefitEntitlement.objects.filter(programme=RP, status=EntitlementStatus.PAYING).count()


SCENARIOS = [
    TimedScenario(name="roster", setup=roster_setup, app=roster_app, ref=roster_ref, rows=roster_rows),
]
