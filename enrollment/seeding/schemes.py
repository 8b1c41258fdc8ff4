"""Employers, special groups, enrollments, contributions and accounts of the synthetic county.

Called by enrollment.seeding.seed after the registry (households and persons) is built, with
the persons frame still in memory. Rates follow the foundation issue's county of 1,000,000:
about 63 % of all persons in the resident pension and 18 % drawing it, about 12 % in the
employee pension, 3.3 % in minimum-living-allowance households, a few thousand in both
pension schemes, and a few hundred dead persons whose resident pension is still being paid
(for the fraud checks). Every figure of policy (ages, grades, subsidies, retirement ages) is
read from the policy parameters in force, the way the services read them:

- resident pension (DOMAIN §1.1-§1.3): enrolment from the minimum age, from the day the
  grades are first in force; one record per paid year at a grade in force on the payment day,
  with the government subsidy and `parameters_used` exactly as
  enrollment.services.contribution_record computes them (none for a back-paid year); the
  full minimum grade proxy-paid for the special groups in the proxy-payment age range;
  RECEIVING from the pension age.
- employee and government/institution pension (§2): statuses from the statutory retirement
  age of socialsec.lib.retirement (E21); the last months of payroll on a base.
- personal accounts: the sum of the records, one component per column (interest: none yet,
  no interest rate is seeded).

Each stage draws from its own random stream (ctx.rng), so the same seed gives the same rows.
The stages: employers (employers.py), memberships (groups.py), enrollments (enrollments.py),
contributions and accounts (contributions.py), over what they share (common.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from enrollment.seeding.common import People, read_policy
from enrollment.seeding.contributions import (
    build_accounts,
    build_payroll,
    build_resident_years,
    money_columns,
)
from enrollment.seeding.employers import build_organizations
from enrollment.seeding.enrollments import build_enrollments
from enrollment.seeding.groups import build_memberships
from socialsec.core.seeding import SeedContext


@dataclass
class Schemes:
    """The frames to load, columns as the tables name them."""

    organizations: pd.DataFrame
    categories: pd.DataFrame
    enrollments: pd.DataFrame
    # parameters_used holds an index into snapshots (the JSON texts the records share).
    contributions: pd.DataFrame
    snapshots: list[str]
    accounts: pd.DataFrame


def build_schemes(ctx: SeedContext, persons: pd.DataFrame, user_id: int) -> Schemes:
    policy = read_policy(ctx.county_code, ctx.as_of)
    people = People.of(ctx, persons)
    organizations = build_organizations(ctx)
    categories = build_memberships(ctx, people)
    enrollments = build_enrollments(ctx, people, policy, organizations)
    resident = build_resident_years(ctx, people, policy, enrollments, categories)
    # The payroll's records keep no parameter rows: the service stores an empty list for them.
    snapshots = [*policy.snapshots, "[]"]
    payroll = build_payroll(ctx, people, enrollments, no_parameters=len(snapshots) - 1)
    contributions = pd.concat([resident, payroll], ignore_index=True)
    contributions = contributions.sort_values(["enrollment_id", "period_start"], kind="stable")
    contributions.insert(0, "id", np.arange(1, len(contributions) + 1))
    accounts = build_accounts(enrollments, contributions)
    for frame in (organizations, categories, enrollments, accounts):  # contributions: constants of the COPY
        frame["created_at"] = ctx.created_at
        frame["updated_at"] = ctx.created_at
    categories["recorded_by_id"] = user_id
    enrollments["enrolled_by_id"] = user_id
    return Schemes(
        organizations=organizations.reset_index(drop=True),
        categories=categories.reset_index(drop=True),
        enrollments=enrollments.reset_index(drop=True),
        contributions=money_columns(contributions.reset_index(drop=True)),
        snapshots=snapshots,
        accounts=money_columns(accounts.reset_index(drop=True)),
    )
