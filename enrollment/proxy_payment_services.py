"""Writes to the proxy-payment (代缴) rosters: generation, the workflow steps, and the contribution
records once the bank has paid (DOMAIN §1.3, §0.5, E2, E3; issue 4 "Rosters → Proxy payment").

- proxy_payment_roster_generate: the persons proxy-paid for a year in a township (or the county),
  read by enrollment.calculations.proxy_payment.proxy_payment_candidates_sql (enrolled and still
  contributing, aged 16-59 in the year, in a group the rules pay for, the rule and amount from the
  parameters), less those who already have a proxy payment for the year: a contribution record with
  a proxy-payment component, or a line on a roster of the year that counts. Staged once in a
  temporary table, then one INSERT … SELECT writes the lines. A second roster for the same year and
  township (or overlapping: the county's) is refused naming the existing one.
- The steps are socialsec.rosters.services' (role 403, other township 404, state 409, segregation
  of duties 403, digest 409), for ProxyPaymentRoster.
- proxy_payment_contributions_record: when the roster is PAID (or PARTIALLY_PAID: its paid lines
  only), one contribution record per person and year with the proxy-payment component (payer: the
  government; funding source: the group and the roster), and the personal account credited by
  component, in one statement (INSERT … SELECT, then INSERT … ON CONFLICT DO UPDATE), the shape of
  the contributions import. Runs inside the receipt step's transaction, and again (finding nothing
  to do) from roster_step_committed for a receipt recorded by another door. Idempotent: the unique
  (enrollment, period) index and ON CONFLICT DO NOTHING; only inserted records are credited.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pghistory
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.calculations.proxy_payment import CONTRIBUTING, proxy_payment_candidates_sql
from enrollment.choices import Payer, PeriodKind, Scheme
from enrollment.import_kinds.common import credit_accounts_sql, fire_row_triggers_cheaply
from enrollment.models import ContributionRecord, Enrollment, Person
from enrollment.proxy_payment import ProxyPaymentLine, ProxyPaymentProgramme, ProxyPaymentRoster
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted
from socialsec.core.models import AdministrativeDivision
from socialsec.rosters import services as rosters
from socialsec.rosters import workflow
from socialsec.rosters.choices import SETTLED_STATUSES, BankResult, RosterStep
from socialsec.rosters.services import BankLineResult

if TYPE_CHECKING:
    from socialsec.core.models import User

logger = logging.getLogger(__name__)

PROGRAMME = ProxyPaymentProgramme.PROXY_PAYMENT.value
_STAGE = "_proxy_payment_candidates"
# The first year a proxy payment can be for (国发〔2014〕8号 unified the resident scheme in 2014).
FIRST_YEAR = 2014


@dataclass(frozen=True)
class ProxyPaymentGeneration:
    """The new draft and the persons left off it because they have no card or bank account."""

    roster: ProxyPaymentRoster
    without_account: int = 0
    without_account_person_ids: list[int] = field(default_factory=list)


# --- Generation ----------------------------------------------------------------------------------------


@transaction.atomic
def proxy_payment_roster_generate(
    *, year: int, township_id: int | None, by: User, note: str = ""
) -> ProxyPaymentGeneration:
    """The DRAFT proxy-payment roster of `year` for a township (None: the whole county).

    403 without the clerk's `enrollment.add_proxypaymentroster` (a county roster: county-wide
    staff only), 404 for a township the clerk does not work for, 400 for a year outside 2014 to
    next year, 409 naming the existing roster of the year (this township's or the county's), 409
    when nobody is to be proxy-paid. Persons without a card or bank account cannot be paid
    through the bank: they are left off and counted, so the clerk can complete their record.
    """
    if not by.has_perm(workflow.permission_name(ProxyPaymentRoster, "add")):
        raise NotPermitted(_("Your role may not generate rosters."), rule="role")
    if not FIRST_YEAR <= year <= timezone.localdate().year + 1:
        raise InvalidInput(
            _("Proxy-payment rosters are for the years %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": timezone.localdate().year + 1},
            field="year",
        )
    township = rosters.roster_township(by, township_id)
    period = dt.date(year, 1, 1)
    _refuse_second_roster(period, township)
    regions = _pooling_areas(township)
    query = proxy_payment_candidates_sql(year=year, regions=regions or [settings.COUNTY_CODE])
    persons, amount, without_account, without_ids = _stage_candidates(query, period, township)
    if not persons:
        raise InvalidState(
            _("Nobody is to be proxy-paid for %(year)s here (%(without)s persons without a card or account).")
            % {"year": year, "without": without_account},
            year=year,
            without_account=without_account,
            person_ids=without_ids,
        )
    roster = ProxyPaymentRoster(
        number=rosters.roster_number(ProxyPaymentRoster, PROGRAMME, period, township),
        programme=PROGRAMME,
        period=period,
        township=township,
        created_by=by,
        total_persons=persons,
        total_amount=amount,
        parameters_used=json.loads(json.dumps(query.parameters, cls=DjangoJSONEncoder)),
    )
    with pghistory.context(user=by.pk, actor=by.username, step=RosterStep.GENERATE, note=note):
        try:
            with transaction.atomic():
                roster.save()
        except IntegrityError:  # another clerk generated the same year a moment ago
            _refuse_second_roster(period, township)
            raise
        try:
            with transaction.atomic():
                inserted = _insert_lines(roster)
        except IntegrityError as error:  # a person of the year went onto another roster a moment ago
            raise InvalidState(
                _("Some of these persons were put on another proxy-payment roster of %(year)s meanwhile.")
                % {"year": year},
                year=year,
            ) from error
    if inserted != persons:  # the stage is this transaction's: unreachable, never pay a partial set
        raise InvalidState(_("Some lines could not be written."), year=year)
    return ProxyPaymentGeneration(
        roster=roster, without_account=without_account, without_account_person_ids=without_ids
    )


def _refuse_second_roster(period: dt.date, township: AdministrativeDivision | None) -> None:
    """One roster that counts per year and township; a county roster overlaps every township's."""
    rosters_ = ProxyPaymentRoster.objects.open().filter(programme=PROGRAMME, period=period)
    if township is not None:
        rosters_ = rosters_.filter(township__isnull=True) | rosters_.filter(township=township)
    existing = rosters_.order_by("pk").first()
    if existing is not None:
        raise InvalidState(
            _("Roster %(number)s already covers the proxy payments of %(year)s here; it is %(status)s.")
            % {"number": existing.number, "year": period.year, "status": existing.get_status_display()},
            roster_ids=[existing.pk],
            number=existing.number,
            status=existing.status,
        )


def _pooling_areas(township: AdministrativeDivision | None) -> list[str]:
    """The pooling areas of the contributing resident-pension enrollments concerned (usually one)."""
    enrollments = Enrollment.objects.filter(scheme=Scheme.RESIDENT_PENSION, status=CONTRIBUTING)
    if township is not None:
        enrollments = enrollments.filter(person__township=township)
    return sorted(enrollments.order_by().values_list("pooling_area", flat=True).distinct())


def _stage_candidates(
    query: Any, period: dt.date, township: AdministrativeDivision | None
) -> tuple[int, Decimal, int, list[int]]:
    """The year's persons to proxy-pay into a temporary table; (persons, amount, without account, ids).

    Excluded on top of the candidates query: a proxy payment already recorded for the year on any
    enrollment of the person, or a line for the year on a roster that counts (not cancelled, not
    failed at the bank); the lines' paid_once index refuses the latter anyway.

    Added: the lines of earlier years that the bank refused on a settled roster of the township,
    re-issued once and by reference (issue 4, DOMAIN §8.3) with their year, amount and grade, once
    the person's account differs from the refused one, and while that year has no proxy payment
    recorded nor another line that counts. Their contribution is recorded for their own year.
    """
    quote = connection.ops.quote_name
    person_table = quote(Person._meta.db_table)
    lines = quote(ProxyPaymentLine._meta.db_table)
    rosters_table = quote(ProxyPaymentRoster._meta.db_table)
    township_rule = "AND p.township_id = %s" if township is not None else ""
    township_params = [township.pk] if township is not None else []
    # Both branches: the account the line will pay into (the bank account, else the card), and
    # the year still without a proxy payment.
    account = "COALESCE(NULLIF(p.bank_account_number, ''), NULLIF(p.card_number, ''), '')"
    bank_name = "CASE WHEN p.bank_account_number <> '' THEN p.bank_name ELSE '' END"
    new_year, new_year_params = _year_not_proxy_paid("c.person_id", "%s", [period])
    reissued_year, reissued_year_params = _year_not_proxy_paid("f.person_id", "f.period")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")  # a second generation in one transaction
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS
            SELECT c.enrollment_id, c.person_id, c.category, c.share,
                   c.proxy_payment_amount, c.grade, c.government_subsidy, p.village_id,
                   {account} AS account_number, {bank_name} AS bank_name,
                   NULL::date AS line_period, NULL::bigint AS reissue_of_id
              FROM ({query.sql}) c
              JOIN {person_table} p ON p.id = c.person_id
             WHERE {new_year} {township_rule}
            UNION ALL
            SELECT f.enrollment_id, f.person_id, f.category, f.share, f.basic, f.grade,
                   f.government_subsidy, p.village_id, {account}, {bank_name}, f.period, f.id
              FROM {lines} f
              JOIN {rosters_table} r ON r.id = f.roster_id
              JOIN {person_table} p ON p.id = f.person_id
             WHERE f.bank_status = %s AND NOT f.roster_cancelled AND f.period < %s
               AND r.status = ANY (%s) {township_rule}
               AND {account} NOT IN ('', f.account_number)
               AND NOT EXISTS (SELECT 1 FROM {lines} again
                                WHERE again.reissue_of_id = f.id AND NOT again.roster_cancelled)
               AND {reissued_year}
            """,
            [
                *query.params,
                *new_year_params,
                *township_params,
                BankResult.FAILED,
                period,
                list(SETTLED_STATUSES),
                *township_params,
                *reissued_year_params,
            ],
        )
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE account_number <> ''),
                   COALESCE(sum(proxy_payment_amount) FILTER (WHERE account_number <> ''), 0),
                   count(*) FILTER (WHERE account_number = ''),
                   (array_agg(person_id ORDER BY person_id) FILTER (WHERE account_number = ''))[1:5]
              FROM {_STAGE}
            """
        )
        persons, amount, without, without_ids = cursor.fetchone()
    return int(persons), Decimal(amount), int(without), list(without_ids or [])


def _year_not_proxy_paid(
    person: str, period: str, period_params: Sequence[Any] = ()
) -> tuple[str, list[Any]]:
    """SQL and its params for "`person` has no proxy payment for the year starting `period`" (SQL
    expressions; period_params fill the placeholders of `period`): no contribution record of the
    year with a proxy-payment component on any of their enrollments, and no line of the year on a
    roster that counts (not cancelled, not refused by the bank). DOMAIN §1.3: once a year."""
    quote = connection.ops.quote_name
    records, enrollments = quote(ContributionRecord._meta.db_table), quote(Enrollment._meta.db_table)
    lines = quote(ProxyPaymentLine._meta.db_table)
    sql = f"""
        NOT EXISTS (
            SELECT 1 FROM {records} rec JOIN {enrollments} e ON e.id = rec.enrollment_id
             WHERE e.person_id = {person} AND rec.period_start = {period} AND rec.proxy_payment_amount > 0)
        AND NOT EXISTS (
            SELECT 1 FROM {lines} paid
             WHERE paid.person_id = {person} AND paid.programme = %s AND paid.period = {period}
               AND NOT paid.roster_cancelled AND paid.bank_status <> %s)
    """
    return sql, [*period_params, PROGRAMME, *period_params, BankResult.FAILED]


def _insert_lines(roster: ProxyPaymentRoster) -> int:
    """One INSERT … SELECT from the stage: the amount paid is the line's `basic` (and `net`)."""
    table = connection.ops.quote_name(ProxyPaymentLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (
                roster_id, seq, person_id, programme, period, basic, account, top_up, back_pay,
                deduction, net, account_number, bank_name, roster_cancelled, bank_status, bank_message,
                reissue_of_id, enrollment_id, category, share, grade, government_subsidy
            )
            SELECT %s, row_number() OVER (ORDER BY s.village_id, s.person_id, s.line_period NULLS FIRST),
                   s.person_id, %s, COALESCE(s.line_period, %s),
                   s.proxy_payment_amount, 0, 0, 0, 0, s.proxy_payment_amount, s.account_number,
                   s.bank_name, false, %s, '', s.reissue_of_id, s.enrollment_id, s.category, s.share,
                   s.grade, s.government_subsidy
              FROM {_STAGE} s
             WHERE s.account_number <> ''
            """,
            [roster.pk, roster.programme, roster.period, BankResult.PENDING],
        )
        return cursor.rowcount


# --- The steps -----------------------------------------------------------------------------------------


def proxy_payment_roster_take_step(
    *, roster_id: int, step: str, by: User, note: str = ""
) -> ProxyPaymentRoster:
    """submit, check, approve, prepare-payment, pay, return, cancel (note: the reason for the last two)."""
    return rosters.roster_take_step(
        model=ProxyPaymentRoster, roster_id=roster_id, step=step, by=by, note=note
    )


@transaction.atomic
def proxy_payment_roster_record_bank_receipt(
    *, roster_id: int, results: Sequence[BankLineResult], by: User, note: str = ""
) -> ProxyPaymentRoster:
    """Finance records the bank's receipt; the paid lines become contribution records at once.

    The receipt rules are the shared workflow's (same receipt again: nothing changes). In the
    same transaction as the settlement, so a paid roster never lacks its records.
    """
    roster = rosters.roster_record_bank_receipt(
        model=ProxyPaymentRoster, roster_id=roster_id, results=results, by=by, note=note
    )
    proxy_payment_contributions_record(roster_id=roster.pk)
    return roster


# --- The contribution records of a paid roster ---------------------------------------------------------


@dataclass(frozen=True)
class ProxyPaymentRecorded:
    inserted: int
    accounts_credited: int
    # Paid lines whose year was meanwhile recorded otherwise (e.g. the person paid it): the money
    # paid for them is to be refunded or settled by hand; logged.
    conflicting_line_ids: list[int] = field(default_factory=list)


@transaction.atomic
def proxy_payment_contributions_record(*, roster_id: int) -> ProxyPaymentRecorded:
    """One contribution record per paid line of a settled roster, and the accounts credited.

    Record: a year (the line's: 1 January of the roster's year, or of the year a re-issued line
    pays) at the line's grade, the proxy payment the
    line's amount, the person's part the grade less it (DOMAIN §1.3: part or all of the grade),
    the government subsidy of the line unless its year is paid after it ended (§1.2 late
    back-payment: none; a re-issued line of an earlier year always is), payer government, funding
    source the group and the roster number, paid on the day the receipt was recorded, recorded by
    who recorded it, parameters used those its roster was generated with (a re-issued line's: the
    roster of the line it re-issues). Nothing for a roster not settled (409). Idempotent.
    """
    roster = ProxyPaymentRoster.objects.select_for_update(of=("self",)).get(pk=roster_id)
    if roster.status not in SETTLED_STATUSES:
        raise InvalidState(
            _("Roster %(number)s is %(status)s; contributions are recorded once the bank has paid.")
            % {"number": roster.number, "status": roster.get_status_display()},
            roster_ids=[roster.pk],
            status=roster.status,
        )
    paid_on = timezone.localdate(roster.settled_at)
    quote = connection.ops.quote_name
    records = quote(ContributionRecord._meta.db_table)
    lines, enrollments = quote(ProxyPaymentLine._meta.db_table), quote(Enrollment._meta.db_table)
    rosters_table = quote(ProxyPaymentRoster._meta.db_table)
    context = pghistory.context(
        user=roster.settled_by_id, action="proxy_payment_contributions", roster=roster.number
    )
    with context, connection.cursor() as cursor:
        fire_row_triggers_cheaply(cursor)
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO {records} (
                    enrollment_id, period_kind, period_start, grade, base, personal_amount,
                    collective_amount, government_subsidy, proxy_payment_amount, proxy_payment_source,
                    is_backpay, payer, paid_on, parameters_used, recorded_by_id, created_at, updated_at
                )
                SELECT l.enrollment_id, %(year_kind)s, l.period, l.grade, NULL, l.grade - l.net, 0,
                       CASE WHEN late.backpay THEN 0 ELSE l.government_subsidy END, l.net,
                       left(l.category || ' ' || %(number)s, 100), late.backpay, %(payer)s, %(paid_on)s,
                       COALESCE(COALESCE(earlier.parameters_used, %(parameters)s::jsonb) -> e.pooling_area,
                                '[]'::jsonb),
                       %(by)s, now(), now()
                  FROM {lines} l JOIN {enrollments} e ON e.id = l.enrollment_id
                  LEFT JOIN {lines} reissued ON reissued.id = l.reissue_of_id
                  LEFT JOIN {rosters_table} earlier ON earlier.id = reissued.roster_id
                 CROSS JOIN LATERAL (
                     SELECT %(paid_on)s::date > make_date(EXTRACT(YEAR FROM l.period)::int, 12, 31) AS backpay
                 ) late
                 WHERE l.roster_id = %(roster)s AND l.bank_status = %(paid)s
                 ORDER BY l.seq
                ON CONFLICT (enrollment_id, period_start) DO NOTHING
                RETURNING enrollment_id, personal_amount, collective_amount, government_subsidy,
                          proxy_payment_amount
            ), credited AS ({credit_accounts_sql("inserted")})
            SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM credited)
            """,
            {
                "year_kind": PeriodKind.YEAR.value,
                "number": roster.number,
                "payer": Payer.GOVERNMENT.value,
                "paid_on": paid_on,
                "parameters": json.dumps(roster.parameters_used),
                "by": roster.settled_by_id,
                "roster": roster.pk,
                "paid": BankResult.PAID.value,
            },
        )
        inserted, credited = cursor.fetchone()
        # A paid line whose year holds another record than this roster's (recorded before it was paid).
        cursor.execute(
            f"""
            SELECT l.id FROM {lines} l
              JOIN {records} r ON r.enrollment_id = l.enrollment_id AND r.period_start = l.period
             WHERE l.roster_id = %s AND l.bank_status = %s
               AND r.proxy_payment_source <> left(l.category || ' ' || %s, 100)
             ORDER BY l.seq
            """,
            [roster.pk, BankResult.PAID.value, roster.number],
        )
        conflicting = [row[0] for row in cursor.fetchall()]
    if conflicting:
        logger.warning(
            "proxy-payment roster %s: %s paid lines found their year already recorded otherwise: %s",
            roster.number,
            len(conflicting),
            conflicting[:20],
        )
    return ProxyPaymentRecorded(
        inserted=int(inserted), accounts_credited=int(credited), conflicting_line_ids=conflicting
    )


def record_contributions_after_receipt(sender: Any, *, roster_id: int, step: str, **kwargs: Any) -> None:
    """roster_step_committed receiver: a receipt recorded by any door gets its records (idempotent)."""
    if step != RosterStep.BANK_RECEIPT:
        return
    try:
        proxy_payment_contributions_record(roster_id=roster_id)
    except Exception:
        # The receipt is committed; the records can be made again at any time (idempotent).
        logger.exception("proxy-payment roster %s: contributions not recorded after the receipt", roster_id)
