"""The monthly sweep (issue 4 "The monthly sweep"; DOMAIN §1.5, §5.3 SHOULD_PAY, §5.4 DEATH, E9).

For one month, township by township (a chunk is one township, in its own transaction):

(a) should_pay: persons enrolled in the resident pension who have reached their first payable
    month (pension age and start-month rule of their pooling area), have the minimum contribution
    years, are alive, draw no other basic pension and have no open resident-pension entitlement
    become a WorkItem for their township's clerks (应发尽发). Persons short of the years are the
    clerks' assessment under the transitional rules (§1.5), not a sweep finding.
(b) death_stop: APPROVED, PAYING and SUSPENDED entitlements of persons recorded dead are STOPPED
    from the month the death-month rule gives (general.death.death_month_payable), once that
    month has come.
(b2) unemployment_stop: unemployment benefit stops when its granted months run out or a basic
    pension starts (from the pension's first month, E14), whichever comes first (DOMAIN §3.4).
(c) overpaid: every entitlement stopped on death whose months from the stop month on were paid
    (lines of released rosters not failed at the bank) becomes a WorkItem with those months and
    their sum (§5.4, E9).
(d) rosters: the month's DRAFT roster of each programme for each township with payees, through
    benefits.services.roster_generate (one INSERT … SELECT each), unless one exists.

Every rule is one INSERT … SELECT … WHERE NOT EXISTS or one UPDATE … FROM per chunk, never a loop
over persons; the unique indexes of WorkItem back the NOT EXISTS. Running a month again creates
nothing new. One run of a month at a time: sweep_start finds the running one, and the runner holds
a PostgreSQL advisory lock for the month, which a killed worker's connection gives back, so the
redelivered task (acks late, reject on worker lost) resumes after the last finished step.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pghistory
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.calculations.death import death_stop_month_sql, death_stop_sql
from benefits.choices import OTHER_BASIC_PENSION_SCHEMES, BenefitProgramme
from benefits.entitlements import (
    CLOSED_ENTITLEMENT_STATUSES,
    BenefitEntitlement,
    EntitlementStatus,
    StopReason,
)
from benefits.models import PayoutLine, PayoutRoster
from benefits.sweeps import (
    SWEEP_STEPS,
    SweepRun,
    SweepStatus,
    SweepStep,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from enrollment.choices import CLOSED_ENROLLMENT_STATUSES, EnrollmentStatus, PeriodKind, Scheme
from socialsec.core.calculations import SqlValues, month_start, values_sql
from socialsec.core.choices import DivisionLevel, Role
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted
from socialsec.core.models import AdministrativeDivision, User
from socialsec.core.parameters import parameter_trace, params_for
from socialsec.lib.months import parse_month
from socialsec.rosters.choices import RELEASED_STATUSES, BankResult, RosterStatus

logger = logging.getLogger(__name__)

SWEEP_USERNAME = "monthly_sweep"
_START_PERMISSION = "benefits.add_sweeprun"
# pg_try_advisory_lock(namespace, yyyymm): one runner per month across every worker and shell.
_LOCK_NAMESPACE = 4_101_001
_PENSION_AGE = "resident_pension.benefit.pension_age"
_START_MONTH_RULE = "resident_pension.benefit.start_month_rule"
_MINIMUM_YEARS = "resident_pension.benefit.minimum_contribution_years"
# Months from the pension-age birthday month to the first payable month, by start-month rule. The
# rule "month after approval" waits for an approval that only an application brings: the clerk's
# work item is due from the month after the birthday, as for "month after pension age".
_START_OFFSETS = {"month_of_pension_age": 0, "month_after_pension_age": 1, "month_after_approval": 1}


def sweep_user() -> User:
    """The account the sweep acts as when beat or the shell starts it: county-wide clerk, no password."""
    user, created = User.objects.get_or_create(
        username=SWEEP_USERNAME, defaults={"first_name": "月度批处理", "county_wide": True, "is_active": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name=Role.CLERK))
    return user


def parse_sweep_month(value: str | dt.date | None) -> dt.date:
    """The month to sweep: a date's month, YYYY-MM, or (None or empty) the current month in the
    county's time zone; anything else is InvalidInput (400), as MonthField answers it."""
    if not value:
        return month_start(timezone.localdate())
    if isinstance(value, dt.date):
        return month_start(value)
    month = parse_month(value)
    if month is None:
        raise InvalidInput(_("Give the month as YYYY-MM, for example 2025-10."), field="month")
    return month


# --- Starting ------------------------------------------------------------------------------------


def sweep_start(*, month: dt.date, by: User | None, schedule: bool = True) -> SweepRun:
    """The run of `month` (the running one if there is one, else a new one), queued for a worker.

    `by` None is beat or the shell. A user needs benefits.add_sweeprun (403).
    """
    return sweep_start_or_join(month=month, by=by, schedule=schedule)[0]


def sweep_start_or_join(*, month: dt.date, by: User | None, schedule: bool = True) -> tuple[SweepRun, bool]:
    """sweep_start, also telling whether the run was already running (joined) or is new."""
    if by is not None and not by.has_perm(_START_PERMISSION):
        raise NotPermitted(
            _("Your role may not start the monthly sweep: ask a section chief to start it."),
            rule="role",
        )
    month = month_start(month)
    try:
        with transaction.atomic():
            running = (
                SweepRun.objects.select_for_update().filter(month=month, status=SweepStatus.RUNNING).first()
            )
            joined = running is not None
            if running is None:
                with pghistory.context(user=by.pk if by else None, step="sweep_start"):
                    running = SweepRun.objects.create(month=month, started_by=by)
    except IntegrityError:  # another start of the same month won the race: that run is ours too
        running, joined = SweepRun.objects.get(month=month, status=SweepStatus.RUNNING), True
    if schedule:
        from benefits.tasks import monthly_sweep

        run_id = running.pk
        transaction.on_commit(lambda: monthly_sweep.delay(run_id=run_id))
    return running, joined


# --- Running -------------------------------------------------------------------------------------


class SweepBusy(InvalidState):
    """Another worker or shell holds the month's lock."""


def sweep_run(run_id: int, *, on_chunk: Callable[[SweepRun], None] | None = None) -> SweepRun:
    """Run (or resume) a sweep to the end; refuses (SweepBusy) while another runner holds the month.

    Each finished step is kept in steps_done, so a resumed run starts with the first unfinished
    step; a step cut short re-runs whole, which its NOT EXISTS makes harmless. An error marks the
    run FAILED and is raised; a killed process leaves it RUNNING for the redelivered task.
    `on_chunk` is called after each township chunk is committed (progress, tests).
    """
    run = SweepRun.objects.get(pk=run_id)
    key = run.month.year * 100 + run.month.month
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, key])
        (locked,) = cursor.fetchone()
    if not locked:
        raise SweepBusy(
            _(
                "The sweep of %(month)s is running in another worker; it was not started twice. "
                "Wait for it to finish: its progress shows on the monthly sweeps page."
            )
            % {"month": f"{run.month:%Y-%m}"},
            sweep_id=run.pk,
        )
    try:
        run.refresh_from_db()
        if run.status != SweepStatus.RUNNING:
            return run
        try:
            _run_steps(run, on_chunk)
        except Exception as exc:
            logger.exception("monthly sweep %s failed", run.pk)
            SweepRun.objects.filter(pk=run.pk).update(
                status=SweepStatus.FAILED, failure=type(exc).__name__, finished_at=timezone.now()
            )
            raise
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, key])


def _run_steps(run: SweepRun, on_chunk: Callable[[SweepRun], None] | None) -> None:
    # The sweep acts as itself, whoever asked for it (started_by): its rosters' maker is a clerk later.
    by = sweep_user()
    chunks = {step: _chunks(step) for step in SWEEP_STEPS}
    steps = [step for step in SWEEP_STEPS if step not in run.steps_done]
    chunks_total = max(sum(len(found) for found in chunks.values()), 1)
    chunks_done = sum(len(chunks[step]) for step in SWEEP_STEPS if step in run.steps_done)
    for step in steps:
        run.step = step
        run.save(update_fields=["step"])
        rule = _RULES[step]
        cache: dict[str, Any] = {}  # what a rule reads once per step (the regions' parameters)
        for chunk in chunks[step]:
            with transaction.atomic():
                with pghistory.context(user=by.pk, actor=by.username, step=f"sweep_{step}", sweep=run.pk):
                    made = rule(run, chunk, by, cache)
                chunks_done += 1
                run.counts[step] = int(run.counts.get(step, 0)) + made
                run.progress = min(99, chunks_done * 100 // chunks_total)
                run.save(update_fields=["counts", "progress"])
            if on_chunk is not None:
                on_chunk(run)
        if "cleanup" in cache:
            cache["cleanup"](cache)
        run.steps_done = [*run.steps_done, step]
        run.save(update_fields=["steps_done"])
    run.status, run.progress, run.step, run.finished_at = SweepStatus.DONE, 100, "", timezone.now()
    run.save(update_fields=["status", "progress", "step", "finished_at"])


def _chunks(step: str) -> list[Any]:
    """A step's chunks: townships for the rosters (a roster is a township's), else ranges of person
    ids of SWEEP_CHUNK_PERSONS each, so each statement reads its slice of the registry once."""
    if step == SweepStep.ROSTERS:
        return list(
            AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP)
            .order_by("code")
            .values_list("pk", flat=True)
        )
    from enrollment.models import Person

    bounds = Person.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return []
    size = settings.SWEEP_CHUNK_PERSONS
    return [
        (low, min(low + size - 1, bounds["high"])) for low in range(bounds["low"], bounds["high"] + 1, size)
    ]


# --- The rules, one statement per chunk -------------------------------------------------------


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _slice(persons: tuple[int, int] | None, *columns: str) -> tuple[str, list[int]]:
    """The chunk's rule on each of `columns` (person ids between the chunk's bounds), and its
    parameters; nothing for the whole county (persons None: the benchmarks, a builder alone)."""
    if persons is None:
        return "", []
    return "".join(f" AND {column} BETWEEN %s AND %s" for column in columns), list(persons) * len(columns)


def eligibility_rules_sql(*, month: dt.date, regions: list[str], alias: str = "er") -> SqlValues:
    """Per pooling area: the pension age, the months from its birthday month to the first payable
    month, and the minimum contribution years in force in `month` (DOMAIN §1.5, §0.4, E24)."""
    rows, parameters = [], {}
    for region in dict.fromkeys(regions):
        with parameter_trace() as trace:
            values = params_for([_PENSION_AGE, _START_MONTH_RULE, _MINIMUM_YEARS], region, month)
        rule = values[_START_MONTH_RULE].text()
        if rule not in _START_OFFSETS:
            raise InvalidState(
                _(
                    "Pooling area %(region)s has the unknown start-month rule “%(rule)s”: correct the "
                    "policy parameter %(key)s (one of %(known)s) and run the sweep again."
                )
                % {
                    "region": region,
                    "rule": rule,
                    "key": _START_MONTH_RULE,
                    "known": ", ".join(_START_OFFSETS),
                },
                region=region,
            )
        rows.append(
            [region, values[_PENSION_AGE].integer(), _START_OFFSETS[rule], values[_MINIMUM_YEARS].integer()]
        )
        parameters[region] = trace.as_snapshot()
    columns = (
        ("region_code", "varchar"),
        ("pension_age", "integer"),
        ("start_offset", "integer"),
        ("min_years", "integer"),
    )
    return values_sql(alias, columns, rows, parameters)


def _eligibility_rules(month: dt.date) -> SqlValues | None:
    """eligibility_rules_sql() for the pooling areas of every resident-pension enrollment; None
    when there is none (nobody to find)."""
    from enrollment.models import Enrollment

    regions = sorted(
        Enrollment.objects.filter(scheme=Scheme.RESIDENT_PENSION)
        .order_by()
        .values_list("pooling_area", flat=True)
        .distinct()
    )
    return eligibility_rules_sql(month=month, regions=regions) if regions else None


def should_pay_sql(
    *, month: dt.date, persons: tuple[int, int] | None = None, rules: SqlValues | None = None
) -> tuple[str, list[Any]] | None:
    """The SELECT of rule (a): (person, township) of each newly eligible person without a work item.

    `rules`: eligibility_rules_sql() of the month, when the caller has it already."""
    from enrollment.models import ContributionRecord, Enrollment, Person

    rules = rules or _eligibility_rules(month)
    if rules is None:
        return None
    slice_rule, slice_params = _slice(persons, "en.person_id")
    sql = f"""
        SELECT p.id, p.township_id
          FROM {_table(Person)} p
          JOIN {_table(Enrollment)} en
            ON en.person_id = p.id AND en.scheme = %s AND en.status <> ALL (%s) {slice_rule}
          JOIN {rules.sql} ON er.region_code = en.pooling_area
         WHERE p.death_date IS NULL
           AND date_trunc('month', p.birth_date)
               + make_interval(years => er.pension_age, months => er.start_offset) <= %s
           AND NOT EXISTS (SELECT 1 FROM {_table(WorkItem)} w WHERE w.kind = %s AND w.person_id = p.id)
           AND NOT EXISTS (SELECT 1 FROM {_table(BenefitEntitlement)} e
                            WHERE e.person_id = p.id AND e.programme = %s AND e.status <> ALL (%s))
           AND NOT EXISTS (SELECT 1 FROM {_table(BenefitEntitlement)} e
                            WHERE e.person_id = p.id AND e.programme = %s AND e.status = %s)
           AND NOT EXISTS (SELECT 1 FROM {_table(Enrollment)} other
                            WHERE other.person_id = p.id AND other.scheme = ANY (%s) AND other.status = %s)
           AND (SELECT count(DISTINCT c.period_start)
                  FROM {_table(ContributionRecord)} c
                  JOIN {_table(Enrollment)} paid ON paid.id = c.enrollment_id
                 WHERE paid.person_id = p.id AND paid.scheme = %s AND c.period_kind = %s) >= er.min_years
    """
    params: list[Any] = [
        Scheme.RESIDENT_PENSION,
        list(CLOSED_ENROLLMENT_STATUSES),
        *slice_params,
        *rules.params,
        month,
        WorkItemKind.SHOULD_PAY,
        BenefitProgramme.RESIDENT_PENSION,
        list(CLOSED_ENTITLEMENT_STATUSES),
        BenefitProgramme.EMPLOYEE_PENSION,
        EntitlementStatus.PAYING,
        list(OTHER_BASIC_PENSION_SCHEMES),
        EnrollmentStatus.RECEIVING,
        Scheme.RESIDENT_PENSION,
        PeriodKind.YEAR,
    ]
    return sql, params


def should_pay_insert_sql(
    *, month: dt.date, sweep_id: int, persons: tuple[int, int] | None = None, rules: SqlValues | None = None
) -> tuple[str, list[Any]] | None:
    """Rule (a) as one statement: the INSERT … SELECT of should_pay_sql's persons as OPEN work
    items of the sweep `sweep_id` (None: no pooling area has resident-pension enrollments)."""
    select = should_pay_sql(month=month, persons=persons, rules=rules)
    if select is None:
        return None
    sql, params = select
    insert = f"""
        INSERT INTO {_table(WorkItem)} (kind, status, month, person_id, township_id, sweep_id,
                    overpaid_months, overpaid_amount, close_note, created_at)
        SELECT %s, %s, %s, found.id, found.township_id, %s, '{{}}', 0, '', now()
          FROM ({sql}) AS found
        ON CONFLICT DO NOTHING
    """
    return insert, [WorkItemKind.SHOULD_PAY, WorkItemStatus.OPEN, month, sweep_id, *params]


def _should_pay(run: SweepRun, persons: tuple[int, int], by: User, cache: dict[str, Any]) -> int:
    if "rules" not in cache:  # the regions' parameters, read once for every chunk of the step
        cache["rules"] = _eligibility_rules(run.month)
    if cache["rules"] is None:
        return 0
    insert = should_pay_insert_sql(month=run.month, sweep_id=run.pk, persons=persons, rules=cache["rules"])
    if insert is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(*insert)
        return cursor.rowcount


def _death_stops(month: dt.date) -> SqlValues | None:
    """death_stop_sql() for the pooling areas of every open entitlement; None when there is none."""
    regions = sorted(BenefitEntitlement.objects.open().order_by().values_list("region", flat=True).distinct())
    return death_stop_sql(regions=regions, on=month, alias="ds") if regions else None


def death_stop_update_sql(
    *, month: dt.date, by_id: int, persons: tuple[int, int] | None = None, death: SqlValues | None = None
) -> tuple[str, list[Any]] | None:
    """The UPDATE of rule (b): stop each open entitlement of a dead person from its stop month.

    `death`: death_stop_sql() of the open entitlements' regions, when the caller has it already."""
    from enrollment.models import Person

    death = death or _death_stops(month)
    if death is None:
        return None
    stop = death_stop_month_sql("p.death_date", alias="ds")
    # The slice on both sides: the dead are found through person_dead, a small partial index.
    slice_rule, slice_params = _slice(persons, "e.person_id", "p.id")
    sql = f"""
        UPDATE {_table(BenefitEntitlement)} e
           SET status = %s, stop_month = {stop}, stop_reason = %s, suspended_from = NULL,
               suspension_reason = '', decided_by_id = %s, updated_at = now()
          FROM {_table(Person)} p, {death.sql}
         WHERE p.id = e.person_id AND ds.region_code = e.region AND p.death_date IS NOT NULL
           AND e.status = ANY (%s) AND {stop} <= %s {slice_rule}
    """
    params: list[Any] = [
        EntitlementStatus.STOPPED,
        StopReason.DEATH,
        by_id,
        *death.params,
        [EntitlementStatus.APPROVED, EntitlementStatus.PAYING, EntitlementStatus.SUSPENDED],
        month,
        *slice_params,
    ]
    return sql, params


def _death_stop(run: SweepRun, persons: tuple[int, int], by: User, cache: dict[str, Any]) -> int:
    if "death" not in cache:  # the regions' death-month rules, read once for every chunk of the step
        cache["death"] = _death_stops(run.month)
    if cache["death"] is None:
        return 0
    update = death_stop_update_sql(month=run.month, by_id=by.pk, persons=persons, death=cache["death"])
    if update is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(*update)
        return cursor.rowcount


def unemployment_stop_update_sql(
    *, month: dt.date, by_id: int, persons: tuple[int, int] | None = None
) -> tuple[str, list[Any]]:
    """The UPDATE of rule (b2): each open unemployment benefit whose granted months have run out by
    `month`, or whose person draws a basic pension begun by then, STOPPED from the earlier of the
    two: the month after the last granted one (duration_exhausted), or the pension's first month,
    never before the benefit's own start (pension_start; DOMAIN §3.4, E14)."""
    slice_rule, slice_params = _slice(persons, "u.person_id")
    table = _table(BenefitEntitlement)
    sql = f"""
        UPDATE {table} e
           SET status = %s, stop_month = x.stop_month,
               stop_reason = CASE WHEN x.pension_stop = x.stop_month THEN %s ELSE %s END,
               suspended_from = NULL, suspension_reason = '', decided_by_id = %s, updated_at = now()
          FROM (
              SELECT u.id, s.pension_stop,
                     LEAST(CAST(u.start_month + make_interval(months => u.duration_months) AS date),
                           s.pension_stop) AS stop_month
                FROM {table} u
                LEFT JOIN (SELECT person_id, min(start_month) AS first_month FROM {table}
                            WHERE programme = ANY (%s) AND status = %s GROUP BY person_id) pension
                  ON pension.person_id = u.person_id
                -- LEAST and GREATEST skip NULLs: no pension, no pension stop.
                CROSS JOIN LATERAL (SELECT CASE WHEN pension.first_month IS NOT NULL
                                           THEN GREATEST(pension.first_month, u.start_month) END
                                           AS pension_stop) s
               WHERE u.programme = %s AND u.status = ANY (%s) {slice_rule}
          ) x
         WHERE x.id = e.id AND x.stop_month <= %s
    """
    params: list[Any] = [
        EntitlementStatus.STOPPED,
        StopReason.PENSION_START,
        StopReason.DURATION_EXHAUSTED,
        by_id,
        [BenefitProgramme.RESIDENT_PENSION, BenefitProgramme.EMPLOYEE_PENSION],
        EntitlementStatus.PAYING,
        BenefitProgramme.UNEMPLOYMENT_BENEFIT,
        [EntitlementStatus.APPROVED, EntitlementStatus.PAYING, EntitlementStatus.SUSPENDED],
        *slice_params,
        month,
    ]
    return sql, params


def _unemployment_stop(run: SweepRun, persons: tuple[int, int], by: User, cache: dict[str, Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(*unemployment_stop_update_sql(month=run.month, by_id=by.pk, persons=persons))
        return cursor.rowcount


def overpaid_sql(*, persons: tuple[int, int] | None = None) -> tuple[str, list[Any]]:
    """The SELECT of rule (c): per entitlement stopped on death without a work item, the months
    from its stop month on that released rosters paid (not failed at the bank), and their sum."""
    from enrollment.models import Person

    slice_rule, slice_params = _slice(persons, "e.person_id")
    sql = f"""
        SELECT e.id AS entitlement_id, e.person_id, p.township_id,
               array_agg(l.period ORDER BY l.period) AS months, sum(l.net) AS amount
          FROM {_table(BenefitEntitlement)} e
          JOIN {_table(Person)} p ON p.id = e.person_id
          JOIN {_table(PayoutLine)} l
            ON l.person_id = e.person_id AND l.programme = e.programme AND l.period >= e.stop_month
           AND NOT l.roster_cancelled AND l.bank_status <> %s
          JOIN {_table(PayoutRoster)} r ON r.id = l.roster_id AND r.status = ANY (%s)
         WHERE e.status = %s AND e.stop_reason = %s {slice_rule}
           AND NOT EXISTS (SELECT 1 FROM {_table(WorkItem)} w WHERE w.kind = %s AND w.entitlement_id = e.id)
         GROUP BY e.id, e.person_id, p.township_id
    """
    params: list[Any] = [
        BankResult.FAILED,
        list(RELEASED_STATUSES),
        EntitlementStatus.STOPPED,
        StopReason.DEATH,
        *slice_params,
        WorkItemKind.DEATH_OVERPAID,
    ]
    return sql, params


def overpaid_insert_sql(
    *, month: dt.date, sweep_id: int, persons: tuple[int, int] | None = None
) -> tuple[str, list[Any]]:
    """Rule (c) as one statement: the INSERT … SELECT of overpaid_sql's entitlements as OPEN
    DEATH_OVERPAID work items of the sweep `sweep_id`, with their months and sum."""
    sql, params = overpaid_sql(persons=persons)
    insert = f"""
        INSERT INTO {_table(WorkItem)} (kind, status, month, person_id, township_id, entitlement_id,
                    sweep_id, overpaid_months, overpaid_amount, close_note, created_at)
        SELECT %s, %s, %s, found.person_id, found.township_id, found.entitlement_id, %s,
               found.months, found.amount, '', now()
          FROM ({sql}) AS found
        ON CONFLICT DO NOTHING
    """
    return insert, [WorkItemKind.DEATH_OVERPAID, WorkItemStatus.OPEN, month, sweep_id, *params]


def _overpaid(run: SweepRun, persons: tuple[int, int], by: User, cache: dict[str, Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(*overpaid_insert_sql(month=run.month, sweep_id=run.pk, persons=persons))
        return cursor.rowcount


def _rosters(run: SweepRun, township_id: int, by: User, cache: dict[str, Any]) -> int:
    """Rule (d): the month's draft roster of each programme with payees in the township, unless one
    exists. The county's lines of each programme are staged once (roster_lines_stage: one scan of
    the entitlements), and each township's roster is cut from them in one INSERT … SELECT."""
    from benefits.services import roster_generate, roster_lines_stage

    if "programmes" not in cache:
        # The programmes with entitlements due, and the townships that have their roster already.
        cache["programmes"] = sorted(
            BenefitEntitlement.objects.filter(
                status__in=[EntitlementStatus.PAYING, EntitlementStatus.APPROVED], start_month__lte=run.month
            )
            .order_by()
            .values_list("programme", flat=True)
            .distinct()
        )
        cache["existing"] = set(
            PayoutRoster.objects.filter(period=run.month, township__isnull=False)
            .exclude(status=RosterStatus.CANCELLED)
            .values_list("programme", "township_id")
        )
        cache["staged"], cache["due"] = {}, set()
        cache["cleanup"] = _drop_staged_lines
    made = 0
    for programme in cache["programmes"]:  # a handful of programmes, each one INSERT … SELECT
        if (programme, township_id) in cache["existing"]:
            continue  # a second run of the month stages nothing
        if programme not in cache["staged"]:  # once per programme: which townships have lines
            table = f"sweep_lines_{programme}"
            roster_lines_stage(programme=programme, month=run.month, by=by, table=table)
            cache["staged"][programme] = table
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT DISTINCT township_id FROM {table}")
                cache["due"] |= {(programme, township) for (township,) in cursor.fetchall()}
        if (programme, township_id) not in cache["due"]:
            continue
        roster_generate(
            programme=programme,
            month=run.month,
            township_id=township_id,
            by=by,
            staged=cache["staged"][programme],
            note=_("Generated by the monthly sweep of %(month)s.") % {"month": f"{run.month:%Y-%m}"},
        )
        made += 1
    return made


def _drop_staged_lines(cache: dict[str, Any]) -> None:
    with connection.cursor() as cursor:
        for table in cache.get("staged", {}).values():
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")


_RULES: dict[str, Callable[[SweepRun, int, User, dict[str, Any]], int]] = {
    SweepStep.SHOULD_PAY: _should_pay,
    SweepStep.DEATH_STOP: _death_stop,
    SweepStep.UNEMPLOYMENT_STOP: _unemployment_stop,
    SweepStep.OVERPAID: _overpaid,
    SweepStep.ROSTERS: _rosters,
}


# --- Work items ----------------------------------------------------------------------------------


@transaction.atomic
def work_item_close(*, item_id: int, by: User, note: str) -> WorkItem:
    """A clerk closes a work item with a note (applied for the person, recovery started …)."""
    from socialsec.core.scoping import get_visible_or_404

    if not by.has_perm("benefits.change_workitem"):
        raise NotPermitted(_("Your role may not close work items."), rule="role")
    item = get_visible_or_404(WorkItem.objects.select_for_update(), by, pk=item_id)
    if item.status == WorkItemStatus.CLOSED:
        raise InvalidState(
            _("Work item %(id)s is already closed.") % {"id": item.pk}, ids=[item.pk], status=item.status
        )
    if not note.strip():
        raise InvalidInput(_("Say why the item is closed."), field="note")
    with pghistory.context(user=by.pk, actor=by.username, step="work_item_close"):
        item.status, item.closed_by, item.closed_at, item.close_note = (
            WorkItemStatus.CLOSED,
            by,
            timezone.now(),
            note.strip(),
        )
        item.save()
    return item
