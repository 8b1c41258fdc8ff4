"""The roster digest: SHA-256 over the lines and the totals, computed in PostgreSQL (issue 4).

One statement: the lines are concatenated in line order by string_agg and hashed by sha256()
(built in since PostgreSQL 11, no pgcrypto), so a 200,000-line roster is never loaded into
Python. The text hashed is

    <number>|<programme>|<YYYY-MM>|<division code>
    <persons>
    <amount>
    <seq>|<person id>|<month>|<basic>|<account>|<top-up>|<back-pay>|<deduction>|<net>|<account no.>|<bank>|
        <re-issued line id>            (one line per roster line, in line order)
    …

The bank's results and the cancelled flag are not in it: they are what the later steps write.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    from socialsec.rosters.models import RosterBase

_LINE_FIELDS = (
    "seq",
    "person",
    "period",
    "basic",
    "account",
    "top_up",
    "back_pay",
    "deduction",
    "net",
    "account_number",
    "bank_name",
    "reissue_of",
)


@dataclass(frozen=True)
class Digest:
    persons: int
    amount: Decimal
    digest: str


def header(roster: RosterBase) -> str:
    return f"{roster.number}|{roster.programme}|{roster.period:%Y-%m}|{roster.division_code}"


def compute(roster: RosterBase) -> Digest:
    """The totals and the digest of the roster's lines as they are in the database now."""
    line_model = roster._meta.get_field("lines").related_model
    quote = connection.ops.quote_name
    columns = {name: f"l.{quote(line_model._meta.get_field(name).column)}" for name in _LINE_FIELDS}
    parts = [
        f"to_char({column}, 'YYYY-MM')" if name == "period" else f"COALESCE({column}::text, '')"
        for name, column in columns.items()
    ]
    body = f"string_agg(concat_ws('|', {', '.join(parts)}), E'\\n' ORDER BY {columns['seq']})"
    sql = f"""
        WITH agg AS (
            SELECT count(*) AS persons, COALESCE(sum({columns["net"]}), 0) AS amount,
                   COALESCE({body}, '') AS body
            FROM {quote(line_model._meta.db_table)} l
            WHERE l.{quote(line_model._meta.get_field("roster").column)} = %s
        )
        SELECT persons, amount,
               encode(sha256(convert_to(concat_ws(E'\\n', %s::text, persons, amount, body), 'UTF8')), 'hex')
        FROM agg
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [roster.pk, header(roster)])
        persons, amount, digest = cursor.fetchone()
    return Digest(persons=int(persons), amount=Decimal(amount), digest=digest)


def matches(roster: RosterBase) -> bool:
    """The lines and totals are still those the digest was taken over at submit."""
    now = compute(roster)
    return (now.digest, now.persons, now.amount) == (roster.digest, roster.total_persons, roster.total_amount)
