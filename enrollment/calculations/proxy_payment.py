"""Proxy payment (代缴): who the government pays the resident-pension contribution for, and how much.

DOMAIN §1.3 and §0.5: enrolled persons still contributing, aged 16-59 in the year, in a
proxy-payment group (低保, 特困, 返贫致贫, 重度残疾 … per the rules table), paid once a year at the
full grade or a partial amount; a 61-year-old receives a pension instead (E1). Every figure and
switch is a policy parameter read for 1 January of the year:

    resident_pension.proxy_payment.rules           per group: share full | partial (+ partial_amount)
    resident_pension.proxy_payment.grade_amount    the grade paid in full (kept when grades rise)
    resident_pension.proxy_payment.precedence      which group's rule wins for a person in several
    resident_pension.proxy_payment.min_age/max_age and age_basis (how "aged 16-59 in the year" reads)
    resident_pension.proxy_payment.with_contribution_subsidy, and the §1.2 subsidy parameters

proxy_payment_rules() reads them into one ranked rule list per region. The Python decision
(proxy_payment_decision) and the set-based query (proxy_payment_candidates_sql) both use that
list and the same birth-date window, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.utils.translation import gettext_noop

from enrollment.choices import EnrollmentStatus, Scheme, SpecialGroup
from socialsec.core.calculations import (
    BadParameter,
    Decision,
    Refusal,
    SqlValues,
    lazy_message,
    make_snapshot,
    values_sql,
)
from socialsec.core.parameters import parameter_trace, params_for

_RULES = "resident_pension.proxy_payment.rules"
_GRADE = "resident_pension.proxy_payment.grade_amount"
_PRECEDENCE = "resident_pension.proxy_payment.precedence"
_WITH_SUBSIDY = "resident_pension.proxy_payment.with_contribution_subsidy"
_AGE_BASIS = "resident_pension.proxy_payment.age_basis"
_MIN_AGE = "resident_pension.proxy_payment.min_age"
_MAX_AGE = "resident_pension.proxy_payment.max_age"
_SUBSIDY_MINIMUM = "resident_pension.contribution_subsidy.minimum"
_SUBSIDY_THRESHOLD = "resident_pension.contribution_subsidy.higher_grade_threshold"
_SUBSIDY_HIGHER = "resident_pension.contribution_subsidy.higher_grade_minimum"

FULL = "full"
PARTIAL = "partial"
PRECEDENCES = ("highest_amount", "table_order")
AGE_BASES = ("age_reached_in_year", "age_on_january_1")
# "Still contributing" (DOMAIN §1.3): a contributing enrollment; one receiving a pension is not.
CONTRIBUTING = EnrollmentStatus.ACTIVE


@dataclass(frozen=True)
class ProxyPaymentRule:
    category: str
    share: str  # full | partial
    amount: Decimal  # paid by the government for the year
    rank: int  # 1 wins over 2 for a person in several groups


@dataclass(frozen=True)
class ProxyPaymentRules:
    """The proxy-payment rules of one region for one year, ranked by the precedence parameter."""

    region: str
    year: int
    grade: Decimal  # the contribution grade the record is made at
    subsidy: Decimal  # the contribution subsidy credited on top (0 where the county does not)
    rules: tuple[ProxyPaymentRule, ...]
    born_from: dt.date  # "aged min-max in the year" as a birth-date window, both days included
    born_to: dt.date
    parameters: list[dict[str, Any]]

    def for_categories(self, categories: Iterable[str]) -> ProxyPaymentRule | None:
        held = set(categories)
        return next((rule for rule in self.rules if rule.category in held), None)


def birth_window(*, year: int, min_age: int, max_age: int, basis: str) -> tuple[dt.date, dt.date]:
    """Birth dates of persons aged min_age..max_age in `year` (DOMAIN §0.5), both ends included.

    age_reached_in_year: the age turned during the year (year − birth year), which is also the
    age on 31 December. age_on_january_1: full years on 1 January (a birthday on 1 January counts).
    """
    if basis == "age_reached_in_year":
        return dt.date(year - max_age, 1, 1), dt.date(year - min_age, 12, 31)
    # On 1 January of `year`: at least min_age if born by 1 January of year − min_age; at most
    # max_age if born after 1 January of year − max_age − 1.
    return dt.date(year - max_age - 1, 1, 2), dt.date(year - min_age, 1, 1)


def proxy_payment_rules(*, year: int, region: str) -> ProxyPaymentRules:
    """The rules in force on 1 January of `year` for `region`, in one query."""
    on = dt.date(year, 1, 1)
    with parameter_trace() as trace:
        values = params_for(
            [
                _RULES,
                _GRADE,
                _PRECEDENCE,
                _WITH_SUBSIDY,
                _AGE_BASIS,
                _MIN_AGE,
                _MAX_AGE,
                _SUBSIDY_MINIMUM,
                _SUBSIDY_THRESHOLD,
                _SUBSIDY_HIGHER,
            ],
            region,
            on,
        )
    grade = values[_GRADE].decimal()
    precedence = _choice(values[_PRECEDENCE].text(), PRECEDENCES, _PRECEDENCE, region)
    basis = _choice(values[_AGE_BASIS].text(), AGE_BASES, _AGE_BASIS, region)
    entries = [_rule_entry(entry, grade, region) for entry in _entries(values[_RULES].table(), region)]
    order = range(len(entries))
    if precedence == "highest_amount":  # full beats partial; equal amounts keep the table order
        order = sorted(order, key=lambda i: (-entries[i][2], i))
    rules = tuple(
        ProxyPaymentRule(category=entries[i][0], share=entries[i][1], amount=entries[i][2], rank=rank)
        for rank, i in enumerate(order, start=1)
    )
    subsidy = Decimal(0)
    if values[_WITH_SUBSIDY].flag():  # DOMAIN §1.2 subsidy for the grade, §1.3 "Subsidy on top"
        higher = grade >= values[_SUBSIDY_THRESHOLD].decimal()
        subsidy = values[_SUBSIDY_HIGHER if higher else _SUBSIDY_MINIMUM].decimal()
    born_from, born_to = birth_window(
        year=year, min_age=values[_MIN_AGE].integer(), max_age=values[_MAX_AGE].integer(), basis=basis
    )
    return ProxyPaymentRules(
        region=region,
        year=year,
        grade=grade,
        subsidy=subsidy,
        rules=rules,
        born_from=born_from,
        born_to=born_to,
        parameters=trace.as_snapshot(),
    )


def _choice(value: str, allowed: tuple[str, ...], key: str, region: str) -> str:
    if value not in allowed:
        raise BadParameter(key=key, region=region, problem=f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _entries(table: Any, region: str) -> list[dict[str, Any]]:
    if not isinstance(table, list) or not all(isinstance(entry, dict) for entry in table):
        raise BadParameter(key=_RULES, region=region, problem="the rules are a list of objects")
    categories = [entry.get("category") for entry in table]
    if len(set(categories)) != len(categories):
        raise BadParameter(key=_RULES, region=region, problem="a group appears twice")
    return table


def _rule_entry(entry: dict[str, Any], grade: Decimal, region: str) -> tuple[str, str, Decimal]:
    category, share = entry.get("category"), entry.get("share")
    if category not in SpecialGroup.values:
        raise BadParameter(key=_RULES, region=region, problem=f"{category!r} is not a special group")
    if share == FULL:
        return category, share, grade
    if share == PARTIAL:
        try:
            amount = Decimal(str(entry["partial_amount"]))
        except (KeyError, ArithmeticError):
            amount = Decimal(-1)
        if not 0 < amount <= grade:
            problem = f"{category}: partial_amount must be above 0 and at most {grade}"
            raise BadParameter(key=_RULES, region=region, problem=problem)
        return category, share, amount
    raise BadParameter(key=_RULES, region=region, problem=f"{category}: share is full or partial")


# --- One person ---------------------------------------------------------------------------------


class Membership(Protocol):
    """A special-group membership, e.g. enrollment.PersonCategory."""

    category: str
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass(frozen=True)
class ProxyPaymentDecision(Decision):
    """Decision plus the amounts of the year's contribution record when the person qualifies."""

    category: str = ""
    share: str = ""
    proxy_payment_amount: Decimal = Decimal(0)
    grade: Decimal = Decimal(0)
    government_subsidy: Decimal = Decimal(0)


def proxy_payment_decision(
    *,
    year: int,
    region: str,
    birth_date: dt.date,
    enrollment_status: str | None,
    memberships: Iterable[Membership],
    death_date: dt.date | None = None,
    year_already_recorded: bool = False,
) -> ProxyPaymentDecision:
    """Is the person proxy-paid for `year`, under which group's rule, and how much? (DOMAIN §1.3)

    `enrollment_status` is the person's open resident-pension enrollment's status (None when
    not enrolled); `memberships` their special groups; a membership counts when it is in force
    on some day of the year. `year_already_recorded`: a contribution record exists for the year
    (paid once a year; the grade is locked). E2: 特困 at 45 → full grade 100 (+30 subsidy where
    the county credits it). E3: grade-1 disability → the severe_disability rule. E1: at 61 → no.
    """
    rules = proxy_payment_rules(year=year, region=region)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    held = sorted(
        {
            membership.category
            for membership in memberships
            if membership.effective_from <= last
            and (membership.effective_to is None or membership.effective_to >= first)
        }
    )
    rule = rules.for_categories(held)
    refusals = []
    if enrollment_status is None:
        refusals.append(
            _refusal(
                "resident_pension.proxy_payment.not_enrolled",
                gettext_noop("Proxy payment is for persons enrolled in the resident pension."),
            )
        )
    elif enrollment_status != CONTRIBUTING:
        refusals.append(
            _refusal(
                "resident_pension.proxy_payment.not_contributing",
                gettext_noop(
                    "Proxy payment is for persons still contributing; the enrollment is %(status)s."
                ),
                shown={"status": _status_label(enrollment_status)},
                status=enrollment_status,
            )
        )
    if not rules.born_from <= birth_date <= rules.born_to:
        refusals.append(
            _refusal(
                "resident_pension.proxy_payment.age_range",
                gettext_noop(
                    "Proxy payment for %(year)s is for persons born from %(born_from)s to %(born_to)s."
                ),
                year=year,
                born_from=rules.born_from.isoformat(),
                born_to=rules.born_to.isoformat(),
            )
        )
    if rule is None:
        refusals.append(
            _refusal(
                "resident_pension.proxy_payment.no_category",
                gettext_noop("The person is in no proxy-payment group in %(year)s."),
                year=year,
                categories=held,
            )
        )
    if death_date is not None:
        refusals.append(
            _refusal(
                "resident_pension.proxy_payment.deceased",
                gettext_noop("The person died on %(date)s."),
                date=death_date.isoformat(),
            )
        )
    if year_already_recorded:
        refusals.append(
            _refusal(
                "resident_pension.proxy_payment.year_already_recorded",
                gettext_noop("The year %(year)s already has a contribution record."),
                year=year,
            )
        )
    qualifies = not refusals and rule is not None
    result: dict[str, Any] = {"eligible": qualifies, "refusals": [r.as_snapshot() for r in refusals]}
    if qualifies:
        result |= {
            "category": rule.category,
            "share": rule.share,
            "proxy_payment_amount": rule.amount,
            "grade": rules.grade,
            "government_subsidy": rules.subsidy,
        }
    snapshot = make_snapshot(
        rule="resident_pension.proxy_payment",
        section="§1.3",
        inputs={
            "year": year,
            "region": region,
            "birth_date": birth_date,
            "enrollment_status": enrollment_status,
            "categories_in_year": held,
            "death_date": death_date,
            "year_already_recorded": year_already_recorded,
        },
        result=result,
        trace=rules.parameters,
    )
    if not qualifies:
        return ProxyPaymentDecision(refusals=tuple(refusals), snapshot=snapshot)
    return ProxyPaymentDecision(
        refusals=(),
        snapshot=snapshot,
        category=rule.category,
        share=rule.share,
        proxy_payment_amount=rule.amount,
        grade=rules.grade,
        government_subsidy=rules.subsidy,
    )


def _refusal(rule: str, message: str, shown: dict[str, Any] | None = None, **details: Any) -> Refusal:
    """`details` go to the snapshot and the message; `shown` replaces some in the message only."""
    return Refusal(rule, "§1.3", lazy_message(message, {**details, **(shown or {})}), details)


def _status_label(status: str) -> Any:
    return EnrollmentStatus(status).label if status in EnrollmentStatus.values else status


# --- The year's roster in SQL ---------------------------------------------------------------------

RULES_COLUMNS = (
    ("region_code", "varchar"),
    ("category", "varchar"),
    ("share", "varchar"),
    ("amount", "numeric"),
    ("grade", "numeric"),
    ("subsidy", "numeric"),
    ("rank", "integer"),
    ("born_from", "date"),
    ("born_to", "date"),
)


def proxy_payment_rules_sql(*, year: int, regions: Iterable[str], alias: str = "ppr") -> SqlValues:
    """Every region's ranked rules for `year` as one VALUES table, one row per (region, group)."""
    rows = []
    parameters = {}
    for region in dict.fromkeys(regions):
        rules = proxy_payment_rules(year=year, region=region)
        rows.extend(
            [
                region,
                rule.category,
                rule.share,
                rule.amount,
                rules.grade,
                rules.subsidy,
                rule.rank,
                rules.born_from,
                rules.born_to,
            ]
            for rule in rules.rules
        )
        parameters[region] = rules.parameters
    if not rows:  # no region proxy-pays anyone: one row that joins nothing keeps the SQL valid
        rows.append([None] * len(RULES_COLUMNS))
    return values_sql(alias, RULES_COLUMNS, rows, parameters)


@dataclass(frozen=True)
class SqlQuery:
    sql: str
    params: list[Any]
    parameters: dict[str, list[dict[str, Any]]]  # per region, the parameter rows used


def proxy_payment_candidates_sql(*, year: int, regions: Iterable[str]) -> SqlQuery:
    """SELECT of everyone proxy-paid for `year`, one row per enrollment, for an INSERT … SELECT.

    Columns: enrollment_id, person_id, region_code, category, share, proxy_payment_amount,
    grade, government_subsidy. The same conditions as proxy_payment_decision(): a contributing
    resident-pension enrollment in one of `regions` (its pooling area), no death recorded, born
    within the year's window, a membership of a rule's group in force on some day of the year
    (the best-ranked rule wins), and no contribution record for the year yet. The caller adds
    its own "not already on a roster" condition.
    """
    from enrollment.models import ContributionRecord, Enrollment, Person, PersonCategory

    rules = proxy_payment_rules_sql(year=year, regions=regions, alias="ppr")
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    sql = f"""
        SELECT DISTINCT ON (e.id)
               e.id AS enrollment_id, e.person_id, e.pooling_area AS region_code,
               ppr.category, ppr.share, ppr.amount AS proxy_payment_amount,
               ppr.grade, ppr.subsidy AS government_subsidy
          FROM {Enrollment._meta.db_table} e
          JOIN {Person._meta.db_table} p ON p.id = e.person_id
          JOIN {PersonCategory._meta.db_table} c ON c.person_id = e.person_id
          JOIN {rules.sql} ON ppr.region_code = e.pooling_area AND ppr.category = c.category
         WHERE e.scheme = %s AND e.status = %s
           AND p.death_date IS NULL
           AND p.birth_date BETWEEN ppr.born_from AND ppr.born_to
           AND c.effective_from <= %s AND (c.effective_to IS NULL OR c.effective_to >= %s)
           AND NOT EXISTS (
               SELECT 1 FROM {ContributionRecord._meta.db_table} r
                WHERE r.enrollment_id = e.id AND r.period_start = %s)
         ORDER BY e.id, ppr.rank
    """
    params = [*rules.params, Scheme.RESIDENT_PENSION.value, CONTRIBUTING.value, last, first, first]
    return SqlQuery(sql=sql, params=params, parameters=rules.parameters)
