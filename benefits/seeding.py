"""The benefits part of the synthetic county (socialsec.core.seeding finds `<app>.seeding`).

Everything here runs once the county is committed (after_load), in this order:

1. `entitlements`: every resident-pension enrollment the registry seeded as RECEIVING gets a
   PAYING entitlement, in one INSERT … SELECT: region = the enrollment's pooling area, the
   personal account and the contribution years as recorded, the amount split computed in SQL for
   the county's month from the same parameters the rule reads (resident_pension_rates_sql), start
   month the month after the 60th birthday. Dead receivers keep theirs (the monthly sweep's
   findings: paid after death).
2. `employee pensions`: every RECEIVING employee-pension enrollment gets a PAYING entitlement of
   the programme employee_pension (what the province's list brings, benefits.imports), and about
   1% of the living resident-pension payees get one too: the dual-receipt cases of DOMAIN §1.6
   Art 8, E7. One INSERT … SELECT each; the amounts (1,500–4,500 a month) come from a hash of the
   seed and the person, so the same seed gives the same figures.
3. `payee accounts`: every payee without a card or an account gets a bank account (one UPDATE):
   a roster pays only persons with one, and the registry seeds neither.
4. `paid history`: the county's resident-pension roster of the month before the county's month,
   generated and taken to PAYING by five seed staff (E22) through the real services, settled by
   a bank receipt in which a handful of lines failed (PARTIALLY_PAID, those lines waiting for
   re-issue); then late death notices: about 0.3% of the persons it paid die in the month before
   it (one UPDATE), so the monthly sweep of the county's month stops them and lists the month
   paid after the stop (§5.4, E9). The county's own month keeps no resident-pension roster: the
   perfbench scenarios `roster` and `monthly_sweep` generate it. The coverage rollup, which
   counts the living, is rebuilt after the deaths.
5. `demo rosters`: for the busiest township (where setup_demo puts the demo staff), one
   employee-pension roster in each state, for the eight months before the previous one, so every
   post's inbox holds work.

The synthetic rows carry no row versions, like the registry the COPY wrote (tests/seeding: seeding
writes no history): the entitlement inserts and the person UPDATEs run with their history
triggers ignored. The rosters go through the services, so their steps are audited as in production.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import numpy as np
import pgtrigger
from django.contrib.auth.models import Group
from django.db import connection, transaction

from benefits import services
from benefits.calculations import resident_pension_amount_sql, resident_pension_rates_sql
from benefits.choices import BenefitProgramme
from benefits.entitlements import CLOSED_ENTITLEMENT_STATUSES, BenefitEntitlement, EntitlementStatus
from benefits.models import PayoutLine, PayoutRoster
from enrollment.choices import EnrollmentStatus, PeriodKind, Scheme
from enrollment.coverage import coverage_refresh
from enrollment.models import ContributionRecord, Enrollment, Person, PersonalAccount
from socialsec.core.calculations import add_months, month_start
from socialsec.core.choices import Role
from socialsec.core.models import User
from socialsec.core.seeding import SeedContext, busiest_township_id
from socialsec.rosters.choices import BankResult, RosterStatus, RosterStep
from socialsec.rosters.services import BankLineResult

if TYPE_CHECKING:
    from collections.abc import Iterable

RP, EP = BenefitProgramme.RESIDENT_PENSION, BenefitProgramme.EMPLOYEE_PENSION
# Row versions of seeded rows are not written (see the module docstring); ignoring the trigger also
# spares the entitlement insert a subtransaction per row in pghistory's context lookup.
_ENTITLEMENT_HISTORY = "benefits.BenefitEntitlement:insert_insert"
_PERSON_HISTORY = "enrollment.Person:update_update"

# Employee pensions (yuan a month): the province's figures, drawn per person between these bounds.
EP_MONTHLY_MIN, EP_MONTHLY_SPREAD = 1500, 3000
# Original retirement ages of DOMAIN §2.3 (a man 60, a woman worker 50): the first month paid is the
# month after; never later than EP_LATEST_START months before the county's month, so the demo
# rosters of the year before have payees.
EP_LATEST_START = 12
DUAL_RECEIPT_SHARE = 0.01  # of the living resident-pension payees (§1.6 Art 8, E7)
LATE_DEATH_SHARE = 0.003  # of the persons paid on the previous month's roster
FAILED_LINE_SHARE = 0.0005  # of its lines: account closed, name mismatch, frozen …
MIN_FAILED_LINES = 3
# Data, like the registry's names: what the police's late notice and the bank's receipt say.
LATE_DEATH_SOURCE = "公安户籍注销（迟报）"
BANK_FAILURES = ("账户已销户", "户名与账号不符", "账户已冻结")
DEMO_CANCEL_REASON = "重复生成，作废"
# Where the payees' pensions go: a bank account of one of the county's banks (data).
PAYEE_BANKS = ("江西农商银行", "中国邮政储蓄银行", "中国农业银行", "中国建设银行", "中国工商银行")
PAYEE_ACCOUNT_PREFIX = "621799"  # + the person id in 13 digits: 19 digits, one account per person

# The five posts of a paid roster (DOMAIN E22), five different seed accounts; plus who records the
# bank's receipt (finance: the accountant, never a business post).
SEED_STAFF: dict[str, tuple[str, tuple[str, ...]]] = {
    "maker": ("seed_clerk", (Role.CLERK,)),
    "checker": ("seed_chief", (Role.SECTION_CHIEF,)),
    "approver": ("seed_leader", (Role.LEADER_IN_CHARGE,)),
    "accountant": ("seed_accountant", (Role.FINANCE, Role.ACCOUNTANT)),
    "cashier": ("seed_cashier", (Role.FINANCE, Role.CASHIER)),
}
# Names shown as who took each step (data, like the registry's persons).
_STAFF_NAMES = {
    "seed_clerk": "样例经办员",
    "seed_chief": "样例科长",
    "seed_leader": "样例分管领导",
    "seed_accountant": "样例会计",
    "seed_cashier": "样例出纳",
}
# The path to PAYING, step by step, with the post taking it.
_PATH = (
    (RosterStep.SUBMIT, "maker"),
    (RosterStep.CHECK, "checker"),
    (RosterStep.APPROVE, "approver"),
    (RosterStep.PREPARE_PAYMENT, "accountant"),
    (RosterStep.PAY, "cashier"),
)
# The demo township's employee-pension rosters, oldest month first: settled months behind, work in
# progress ahead. "prepared": APPROVED with the payment instruction prepared (the cashier's inbox).
DEMO_STATES: tuple[str, ...] = (
    RosterStatus.PAID,
    RosterStatus.PARTIALLY_PAID,
    RosterStatus.PAYING,
    "prepared",
    RosterStatus.CHECKED,
    RosterStatus.SUBMITTED,
    RosterStatus.DRAFT,
    RosterStatus.CANCELLED,
)
_STEPS_TO = {
    RosterStatus.DRAFT: 0,
    RosterStatus.CANCELLED: 0,
    RosterStatus.SUBMITTED: 1,
    RosterStatus.CHECKED: 2,
    RosterStatus.APPROVED: 3,
    "prepared": 4,
    RosterStatus.PAYING: 5,
    RosterStatus.PARTIALLY_PAID: 5,
    RosterStatus.PAID: 5,
}


def seed(ctx: SeedContext) -> None:
    # After the load: the registry's tables have their indexes and statistics back by then (during
    # the load they have neither, and the joins below would scan).
    ctx.after_load("entitlements", _entitlements)
    ctx.after_load("employee pensions", _employee_pensions)
    ctx.after_load("payee accounts", _payee_accounts)
    ctx.after_load("paid history", _paid_history)
    ctx.after_load("demo rosters", _demo_rosters)


def _entitlements(ctx: SeedContext) -> int:
    with transaction.atomic():
        created = resident_pension_entitlements_from_enrollments(month=ctx.as_of)
    _analyze(BenefitEntitlement)
    ctx.summary["entitlements"] = created
    return created


def _analyze(*models: type) -> None:
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def resident_pension_entitlements_from_enrollments(*, month: dt.date) -> int:
    """PAYING resident-pension entitlements for the RECEIVING enrollments that have none; one statement.

    Call inside a transaction (the history trigger is ignored for the statement, see above).
    """
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
    parts = resident_pension_amount_sql(account_balance=balance, contribution_years="COALESCE(c.years, 0)")
    snapshot = json.dumps(
        {"rule": "seed_county", "month": period.isoformat(), "parameters": rates.parameters},
        ensure_ascii=False,
    )
    with pgtrigger.ignore(_ENTITLEMENT_HISTORY), connection.cursor() as cursor:
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
            JOIN {Person._meta.db_table} p ON p.id = e.person_id
            JOIN {rates.sql} ON rp.region_code = e.pooling_area
            LEFT JOIN {acc} pa ON pa.person_id = e.person_id AND pa.scheme = e.scheme
            LEFT JOIN (
                SELECT enrollment_id, count(DISTINCT period_start) AS years FROM {con}
                WHERE period_kind = %s GROUP BY enrollment_id
            ) c ON c.enrollment_id = e.id
            WHERE e.scheme = %s AND e.status = %s
              AND NOT EXISTS (
                  SELECT 1 FROM {ent} b
                  WHERE b.person_id = e.person_id AND b.programme = %s AND b.status <> ALL (%s)
              )
            """,
            [
                RP,
                EntitlementStatus.PAYING,
                period,
                snapshot,
                *rates.params,
                PeriodKind.YEAR,
                Scheme.RESIDENT_PENSION,
                EnrollmentStatus.RECEIVING,
                RP,
                list(CLOSED_ENTITLEMENT_STATUSES),
            ],
        )
        return cursor.rowcount


# --- Employee pensions and dual receipt -------------------------------------------------------------


def _hash_sql(seed: int, salt: str, key: str) -> str:
    """SQL: the md5 (hex text) of the seed, a salt and `key`: a reproducible draw per row."""
    return f"md5('{int(seed)}:{salt}:' || ({key})::text)"


def _draw_sql(digest: str, part: int) -> str:
    """SQL: the `part`-th 32 bits (0..3) of an md5 hex text as a bigint, 0 … 2^32 - 1."""
    return f"('x' || substr({digest}, {1 + 8 * part}, 8))::bit(32)::bigint"


def _employee_pension_amounts_sql(digest: str) -> dict[str, str]:
    """Basic (45–60%), personal account (20–30%) and top-up (the rest) of a monthly total drawn
    between EP_MONTHLY_MIN and EP_MONTHLY_MIN + EP_MONTHLY_SPREAD, to the fen."""
    total = f"({EP_MONTHLY_MIN} + mod({_draw_sql(digest, 0)}, {EP_MONTHLY_SPREAD * 100 + 1}) / 100.0)"
    basic = f"round({total} * (45 + mod({_draw_sql(digest, 1)}, 16)) / 100, 2)"
    account = f"round({total} * (20 + mod({_draw_sql(digest, 2)}, 11)) / 100, 2)"
    return {"basic": basic, "account": account, "top_up": f"round({total}, 2) - {basic} - {account}"}


def _employee_pension_snapshot(ctx: SeedContext, case: str) -> str:
    return json.dumps(
        {
            "source": "seed_county",
            "scheme": Scheme.EMPLOYEE_PENSION.value,
            "case": case,
            "seed": ctx.seed,
            "month": month_start(ctx.as_of).isoformat(),
        }
    )


def _insert_employee_pensions(select: str, params: list) -> int:
    """INSERT the PAYING employee-pension entitlements of `select` (person, region, start month,
    md5 digest, snapshot); persons with an open one are left out."""
    ent = BenefitEntitlement._meta.db_table
    amounts = _employee_pension_amounts_sql("s.digest")
    with pgtrigger.ignore(_ENTITLEMENT_HISTORY), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ent} (
                created_at, updated_at, person_id, programme, status, region, account_balance,
                contribution_years, basic, account, top_up, start_month, stop_reason, suspension_reason,
                backpay_months, backpay_amount, rejection_reason, note, snapshot)
            SELECT now(), now(), s.person_id, %s, %s, s.region, 0, 0,
                   {amounts["basic"]}, {amounts["account"]}, {amounts["top_up"]},
                   s.start_month, '', '', '[]', 0, '', '', s.snapshot::jsonb
            FROM ({select}) AS s (person_id, region, start_month, digest, snapshot)
            WHERE NOT EXISTS (
                SELECT 1 FROM {ent} b
                WHERE b.person_id = s.person_id AND b.programme = %s AND b.status <> ALL (%s)
            )
            ORDER BY s.person_id
            """,
            [EP, EntitlementStatus.PAYING, *params, EP, list(CLOSED_ENTITLEMENT_STATUSES)],
        )
        return cursor.rowcount


def _employee_pensions(ctx: SeedContext) -> int:
    """PAYING employee pensions: each RECEIVING employee-pension enrollment, then the dual receipts."""
    latest_start = add_months(month_start(ctx.as_of), -EP_LATEST_START)
    enr, person, ent = Enrollment._meta.db_table, Person._meta.db_table, BenefitEntitlement._meta.db_table
    with transaction.atomic():
        # The province's payees: the enrollment's pooling area, from the month after retirement.
        retirees = f"""
            SELECT e.person_id, e.pooling_area,
                   LEAST(%s::date, CAST(date_trunc('month', p.birth_date + make_interval(
                       years => CASE WHEN p.sex = 'male' THEN 60 ELSE 50 END)) + interval '1 month' AS date)),
                   {_hash_sql(ctx.seed, "ep", "e.person_id")}, %s
            FROM {enr} e JOIN {person} p ON p.id = e.person_id
            WHERE e.scheme = %s AND e.status = %s
        """
        payees = _insert_employee_pensions(
            retirees,
            [
                latest_start,
                _employee_pension_snapshot(ctx, "enrollment"),
                Scheme.EMPLOYEE_PENSION,
                EnrollmentStatus.RECEIVING,
            ],
        )
        # The anti-join below plans on the new rows, not on "no employee pensions" (a nested loop).
        _analyze(BenefitEntitlement)
        # Dual receipt (§1.6 Art 8, E7): living resident-pension payees the province pays as well,
        # drawn by the hash order; their employee pension started no later than the resident one.
        dual = f"""
            SELECT b.person_id, b.region, LEAST(b.start_month, %s::date),
                   {_hash_sql(ctx.seed, "ep", "b.person_id")}, %s
            FROM {ent} b JOIN {person} p ON p.id = b.person_id
            WHERE b.programme = %s AND b.status = %s AND p.death_date IS NULL
              AND NOT EXISTS (SELECT 1 FROM {ent} o WHERE o.person_id = b.person_id AND o.programme = %s)
            ORDER BY {_hash_sql(ctx.seed, "dual", "b.person_id")}
            LIMIT (SELECT round(count(*) * %s)::bigint FROM {ent} WHERE programme = %s AND status = %s)
        """
        dual_receipts = _insert_employee_pensions(
            dual,
            [
                latest_start,
                _employee_pension_snapshot(ctx, "dual_receipt"),
                RP,
                EntitlementStatus.PAYING,
                EP,
                DUAL_RECEIPT_SHARE,
                RP,
                EntitlementStatus.PAYING,
            ],
        )
    _analyze(BenefitEntitlement)
    ctx.summary["employee_pensions"] = payees + dual_receipts
    ctx.summary["dual_receipts"] = dual_receipts
    return payees + dual_receipts


def _payee_accounts(ctx: SeedContext) -> int:
    """A bank account for every payee without an account or a card (one UPDATE): a roster pays
    only persons with one (benefits.services.roster_generate), and the registry seeds neither."""
    person, ent = Person._meta.db_table, BenefitEntitlement._meta.db_table
    banks = "ARRAY[" + ", ".join(f"'{bank}'" for bank in PAYEE_BANKS) + "]"
    digest = _hash_sql(ctx.seed, "bank", "p.id")
    with transaction.atomic(), pgtrigger.ignore(_PERSON_HISTORY), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {person} p
               SET bank_account_number = %s || lpad(p.id::text, 13, '0'),
                   bank_name = ({banks})[1 + mod({_draw_sql(digest, 0)}, {len(PAYEE_BANKS)})],
                   updated_at = %s
             WHERE p.bank_account_number = '' AND p.card_number = ''
               AND EXISTS (SELECT 1 FROM {ent} e WHERE e.person_id = p.id AND e.status = %s)
            """,
            [PAYEE_ACCOUNT_PREFIX, ctx.created_at, EntitlementStatus.PAYING],
        )
        accounts = cursor.rowcount
    _analyze(Person)
    ctx.summary["payee_accounts"] = accounts
    return accounts


# --- Seed staff and rosters ---------------------------------------------------------------------------


def seed_staff() -> dict[str, User]:
    """The five county-wide seed accounts by post (maker … cashier): active, no usable password.

    Users survive --replace, so they are found again and their roles set anew.
    """
    staff = {}
    for post, (username, roles) in SEED_STAFF.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": _STAFF_NAMES[username]}
        )
        if created:
            user.set_unusable_password()  # nobody logs in as a seed account
        user.county_wide, user.is_active, user.is_staff, user.is_superuser = True, True, False, False
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
        staff[post] = User.objects.get(pk=user.pk)  # a fresh instance: no cached permissions
    return staff


def _walk(roster: PayoutRoster, staff: dict[str, User], steps: int) -> PayoutRoster:
    """Take the first `steps` steps of the path to PAYING, each by its own post."""
    for step, post in _PATH[:steps]:
        roster = services.payout_roster_take_step(roster_id=roster.pk, step=step, by=staff[post])
    return roster


def _settle(roster: PayoutRoster, failed: Iterable[int], by: User, rng: np.random.Generator) -> PayoutRoster:
    """Record the bank's receipt: every line paid but the sequences in `failed`."""
    failing = sorted(set(failed))
    messages = rng.choice(len(BANK_FAILURES), size=len(failing)) if failing else []
    message = {seq: BANK_FAILURES[i] for seq, i in zip(failing, messages, strict=True)}
    # The receipt is the bank's file: one result per line, as the service takes it.
    results = [
        BankLineResult(seq=seq, paid=seq not in message, message=message.get(seq, ""))
        for seq in range(1, roster.total_persons + 1)
    ]
    return services.payout_roster_record_bank_receipt(roster_id=roster.pk, results=results, by=by)


def _paid_history(ctx: SeedContext) -> PayoutRoster | None:
    """The previous month's county roster, paid but a handful of lines, and the late death notices."""
    month = month_start(ctx.as_of)
    previous = add_months(month, -1)
    rng = ctx.rng("benefits.paid_history")
    if not BenefitEntitlement.objects.filter(programme=RP, status=EntitlementStatus.PAYING).exists():
        return None  # a county too small for a pensioner: no empty roster either
    with transaction.atomic():
        staff = seed_staff()
        with ctx.timed("paid history: generate"):
            roster = services.roster_generate(
                programme=RP, month=previous, township_id=None, by=staff["maker"]
            )
        if not roster.total_persons:
            return None
        with ctx.timed("paid history: steps"):
            roster = _walk(roster, staff, len(_PATH))
        lines = roster.total_persons
        count = min(lines, max(MIN_FAILED_LINES, round(FAILED_LINE_SHARE * lines)))
        failed = (rng.choice(lines, size=count, replace=False) + 1).tolist()
        with ctx.timed("paid history: receipt"):
            roster = _settle(roster, failed, staff["accountant"], rng)
        with ctx.timed("paid history: late deaths"):
            late = _late_deaths(ctx, roster)
    # The rollup the coverage pages read counts the living: rebuilt after the deaths (issue 3).
    with ctx.timed("paid history: refresh coverage"):
        coverage_refresh(as_of=ctx.as_of)
    _analyze(PayoutLine)  # the few deaths move no statistics of the persons
    ctx.summary["paid_lines"] = lines - len(failed)
    ctx.summary["failed_lines"] = len(failed)
    ctx.summary["late_deaths"] = late
    return roster


def _late_deaths(ctx: SeedContext, roster: PayoutRoster) -> int:
    """About LATE_DEATH_SHARE of the persons `roster` paid died in the month before its month, and
    the notice came only now: one UPDATE. The monthly sweep finds them (stop, months paid after)."""
    died_in = add_months(roster.period, -1)
    days = (roster.period - died_in).days
    person, line = Person._meta.db_table, PayoutLine._meta.db_table
    digest = _hash_sql(ctx.seed, "late_death", "p.id")
    with pgtrigger.ignore(_PERSON_HISTORY), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH paid AS (
                SELECT l.person_id FROM {line} l JOIN {person} p ON p.id = l.person_id
                WHERE l.roster_id = %s AND l.bank_status = %s AND p.death_date IS NULL
            ),
            chosen AS (
                SELECT p.id FROM paid JOIN {person} p ON p.id = paid.person_id
                ORDER BY {digest}
                LIMIT (SELECT GREATEST(1, round(count(*) * %s))::bigint FROM paid)
            )
            UPDATE {person} p
               SET death_date = %s::date + mod({_draw_sql(digest, 1)}, %s)::integer,
                   death_source = %s, updated_at = %s
              FROM chosen WHERE chosen.id = p.id
            """,
            [roster.pk, BankResult.PAID, LATE_DEATH_SHARE, died_in, days, LATE_DEATH_SOURCE, ctx.created_at],
        )
        return cursor.rowcount


def _demo_rosters(ctx: SeedContext) -> int:
    """One employee-pension roster per state for the busiest township, one month each, oldest
    month PAID … newest CANCELLED (DEMO_STATES), for the eight months before the previous one."""
    township_id = busiest_township_id()
    payees = BenefitEntitlement.objects.filter(
        programme=EP, status=EntitlementStatus.PAYING, person__township_id=township_id
    )
    if township_id is None or not payees.exists():  # nothing to show: no empty rosters either
        return 0
    first = add_months(month_start(ctx.as_of), -1 - len(DEMO_STATES))
    rng = ctx.rng("benefits.demo_rosters")
    made = 0
    with transaction.atomic():
        staff = seed_staff()
        for index, state in enumerate(DEMO_STATES):
            roster = services.roster_generate(
                programme=EP, month=add_months(first, index), township_id=township_id, by=staff["maker"]
            )
            made += 1
            if state == RosterStatus.CANCELLED:
                services.payout_roster_cancel(
                    roster_id=roster.pk, by=staff["maker"], reason=DEMO_CANCEL_REASON
                )
                continue
            roster = _walk(roster, staff, _STEPS_TO[state])
            if state == RosterStatus.PAID:
                _settle(roster, [], staff["accountant"], rng)
            elif state == RosterStatus.PARTIALLY_PAID:
                failed = [int(rng.integers(1, roster.total_persons + 1))]
                _settle(roster, failed, staff["accountant"], rng)
    _analyze(PayoutLine)
    ctx.summary["demo_rosters"] = made
    return made
