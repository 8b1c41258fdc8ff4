"""The registry's part of the synthetic county (called by socialsec.core.seeding.run_seed).

registry: households and persons. schemes: employers, special-group memberships, pension
enrollments, contributions and personal accounts, at the foundation issue's rates. All of it
is generated in numpy and loaded through COPY; the coverage rollup is rebuilt once the
county is committed.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import Model

from enrollment.coverage import coverage_refresh
from enrollment.models import (
    ContributionRecord,
    Enrollment,
    Household,
    Organization,
    Person,
    PersonalAccount,
    PersonCategory,
)
from enrollment.seeding.registry import build_registry
from enrollment.seeding.schemes import build_schemes
from socialsec.core.seeding import SeedContext, protection_trigger_name

# The rule of trigger person_category_no_overlap, for the whole table at once.
_OVERLAPPING_MEMBERSHIPS = f"""
    SELECT count(*) FROM {PersonCategory._meta.db_table} a
      JOIN {PersonCategory._meta.db_table} b
        ON b.person_id = a.person_id AND b.category = a.category AND b.id > a.id
     WHERE daterange(a.effective_from, a.effective_to, '[]')
        && daterange(b.effective_from, b.effective_to, '[]')
"""


def seed(ctx: SeedContext) -> None:
    with ctx.timed("generate registry"):
        households, persons = build_registry(ctx)
    ctx.copy_rows(Household._meta.db_table, _columns(Household, households), households)
    ctx.copy_rows(Person._meta.db_table, _columns(Person, persons), persons)
    ctx.summary["persons"] = len(persons)
    ctx.summary["households"] = len(households)
    ctx.summary["dead"] = int(persons["death_date"].notna().sum())

    user_id = ctx.system_user_id
    with ctx.timed("generate schemes"):
        schemes = build_schemes(ctx, persons, user_id=user_id)
    del households, persons
    organizations = schemes.organizations
    ctx.copy_rows(Organization._meta.db_table, _columns(Organization, organizations), organizations)
    # The no-overlap trigger looks up each new row's person in its own table; checked once instead.
    ctx.check_trigger_in_bulk(
        PersonCategory._meta.db_table,
        protection_trigger_name(PersonCategory, "person_category_no_overlap"),
        _OVERLAPPING_MEMBERSHIPS,
    )
    categories = schemes.categories
    ctx.copy_rows(PersonCategory._meta.db_table, _columns(PersonCategory, categories), categories)
    enrollments = schemes.enrollments
    ctx.copy_rows(Enrollment._meta.db_table, _columns(Enrollment, enrollments), enrollments)
    # Two to three records per person: the snapshot of parameter rows each resident year keeps
    # (a few hundred bytes of JSON) crosses the wire once per parameter segment, not per row.
    constants = {"created_at": ctx.created_at, "updated_at": ctx.created_at, "recorded_by_id": user_id}
    contributions = schemes.contributions
    ctx.copy_rows(
        ContributionRecord._meta.db_table,
        _columns(ContributionRecord, contributions, *constants),
        contributions,
        constants=constants,
        shared={"parameters_used": schemes.snapshots},
    )
    accounts = schemes.accounts
    ctx.copy_rows(PersonalAccount._meta.db_table, _columns(PersonalAccount, accounts), accounts)
    ctx.summary["organizations"] = len(organizations)
    ctx.summary["memberships"] = len(categories)
    ctx.summary["enrollments"] = len(enrollments)
    ctx.summary["contributions"] = len(contributions)
    ctx.summary["accounts"] = len(accounts)
    ctx.after_load("refresh coverage", _refresh_coverage)


def _columns(model: type[Model], frame: pd.DataFrame, *also: str) -> list[str]:
    """The table's columns the frame (or `also`) provides, in table order; the rest take their defaults."""
    return [f.column for f in model._meta.concrete_fields if f.column in frame.columns or f.column in also]


def _refresh_coverage(ctx: SeedContext) -> int:
    # The coverage pages read the rollup only (enrollment.coverage): rebuild it for the new county.
    as_of: dt.date = ctx.as_of
    return coverage_refresh(as_of=as_of)
