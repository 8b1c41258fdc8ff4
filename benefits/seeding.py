"""The benefits part of the synthetic county (socialsec.core.seeding finds `<app>.seeding`).

Every resident-pension enrollment the registry seeded as RECEIVING gets a PAYING entitlement, in
one INSERT … SELECT: region = the enrollment's pooling area, the personal account and the
contribution years as recorded, the amount split computed in SQL for the county's month from the
same parameters the rule reads (resident_pension_rates_sql), start month the month after the 60th
birthday. It runs once the county is committed (after_load). Dead receivers keep theirs (the
monthly sweep's findings: paid after death).
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction

from benefits.calculations import resident_pension_amount_sql, resident_pension_rates_sql
from benefits.calculations.common import month_start
from benefits.choices import BenefitProgramme
from benefits.entitlements import BenefitEntitlement, EntitlementStatus
from enrollment.choices import EnrollmentStatus, PeriodKind, Scheme
from enrollment.models import ContributionRecord, Enrollment, PersonalAccount
from socialsec.core.seeding import SeedContext


def seed(ctx: SeedContext) -> None:
    # After the load: the registry's tables have their indexes and statistics back by then (during
    # the load they have neither, and the joins below would scan).
    ctx.after_load("entitlements", _entitlements)


def _entitlements(ctx: SeedContext) -> int:
    with transaction.atomic():
        created = resident_pension_entitlements_from_enrollments(month=ctx.as_of)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {BenefitEntitlement._meta.db_table}")
    ctx.summary["entitlements"] = created
    return created


def resident_pension_entitlements_from_enrollments(*, month: dt.date) -> int:
    """PAYING resident-pension entitlements for the RECEIVING enrollments that have none; one statement."""
    period = month_start(month)
    ent, enr = BenefitEntitlement._meta.db_table, Enrollment._meta.db_table
    acc, con = PersonalAccount._meta.db_table, ContributionRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT pooling_area FROM {enr} WHERE scheme = %s AND status = %s",
            [Scheme.RESIDENT_PENSION, EnrollmentStatus.RECEIVING],
        )
        regions = [row[0] for row in cursor.fetchall()]
        if not regions:
            return 0
        rates = resident_pension_rates_sql(month=period, regions=regions, alias="rp")
        balance = "COALESCE(pa.personal + pa.collective + pa.government_subsidy + pa.proxy_payment"
        balance += " + pa.interest, 0)"
        parts = resident_pension_amount_sql(
            account_balance=balance, contribution_years="COALESCE(c.years, 0)"
        )
        snapshot = json.dumps(
            {"rule": "seed_county", "month": period.isoformat(), "parameters": rates.parameters},
            ensure_ascii=False,
        )
        cursor.execute(
            f"""
            INSERT INTO {ent} (
                created_at, updated_at, person_id, programme, status, region, account_balance,
                contribution_years, basic, account, top_up, start_month, stop_reason, suspension_reason,
                backpay_months, backpay_amount, rejection_reason, note, snapshot)
            SELECT now(), now(), e.person_id, %s, %s, e.pooling_area, {balance},
                   LEAST(COALESCE(c.years, 0), 32767),
                   {parts["basic_pension"]}, {parts["account_pension"]}, {parts["long_contribution_topup"]},
                   LEAST(%s::date, CAST(
                       date_trunc('month', p.birth_date + interval '60 years') + interval '1 month' AS date)),
                   '', '', '[]', 0, '', '', %s::jsonb
            FROM {enr} e
            JOIN enrollment_person p ON p.id = e.person_id
            JOIN {rates.sql} ON rp.region_code = e.pooling_area
            LEFT JOIN {acc} pa ON pa.person_id = e.person_id AND pa.scheme = e.scheme
            LEFT JOIN (
                SELECT enrollment_id, count(DISTINCT period_start) AS years FROM {con}
                WHERE period_kind = %s GROUP BY enrollment_id
            ) c ON c.enrollment_id = e.id
            WHERE e.scheme = %s AND e.status = %s
              AND NOT EXISTS (
                  SELECT 1 FROM {ent} b
                  WHERE b.person_id = e.person_id AND b.programme = %s
                    AND b.status NOT IN ('stopped', 'rejected')
              )
            """,
            [
                BenefitProgramme.RESIDENT_PENSION,
                EntitlementStatus.PAYING,
                period,
                snapshot,
                *rates.params,
                PeriodKind.YEAR,
                Scheme.RESIDENT_PENSION,
                EnrollmentStatus.RECEIVING,
                BenefitProgramme.RESIDENT_PENSION,
            ],
        )
        return cursor.rowcount
