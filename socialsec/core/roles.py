"""The roles of the glossary as Django groups, and the permissions each one holds.

The table below is the one place that says who may do what; later apps add their
permissions here. `sync_roles` runs after every migrate, so groups follow the code.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from socialsec.core.choices import Role

_READ_REGISTRY = [
    "enrollment.view_person",
    "enrollment.view_household",
    "enrollment.view_personcategory",
    "core.view_administrativedivision",
]
# Employers and their fee-relief (减免缓) applications, with the policies they are filed under.
_READ_FEE_RELIEF = [
    "enrollment.view_organization",
    "enrollment.view_feereliefapplication",
    "enrollment.view_feereliefpolicy",
]
# Scheme enrollments, their contribution records and the personal accounts (DOMAIN §8.1).
_READ_ENROLLMENT = [
    "enrollment.view_enrollment",
    "enrollment.view_contributionrecord",
    "enrollment.view_personalaccount",
]

# Payout rosters (issue 4; DOMAIN §8.2): each post holds the permission of its step on each roster
# kind; segregation of duties between the posts is socialsec.rosters.workflow's.
_VIEW_ROSTERS = ["benefits.view_payoutroster", "enrollment.view_proxypaymentroster"]

# The monthly sweep (benefits.sweeps): its runs, and the work items it leaves for a township.
_SWEEP_WORK = ["benefits.view_sweeprun", "benefits.view_workitem", "benefits.change_workitem"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CLERK: [
        *_READ_REGISTRY,
        "enrollment.add_person",
        "enrollment.change_person",
        "enrollment.add_household",
        "enrollment.change_household",
        # Special-group memberships from the departments' lists (DOMAIN §8.1 PersonCategory).
        "enrollment.add_personcategory",
        "enrollment.change_personcategory",
        *_READ_FEE_RELIEF,
        "enrollment.add_organization",
        "enrollment.change_organization",
        "enrollment.add_feereliefapplication",
        # Lists from other departments: upload, confirm, cancel (socialsec/imports).
        "imports.add_importbatch",
        "imports.view_importbatch",
        # Enrol, suspend and resume, and record what was paid (DOMAIN §1.2, §8.2).
        *_READ_ENROLLMENT,
        "enrollment.add_enrollment",
        "enrollment.change_enrollment",
        "enrollment.add_contributionrecord",
        # The maker: generates, submits (and cancels) rosters.
        *_VIEW_ROSTERS,
        "benefits.add_payoutroster",
        "benefits.submit_payoutroster",
        # Proxy-payment (代缴) rosters, the same posts (DOMAIN §1.3).
        "enrollment.add_proxypaymentroster",
        "enrollment.submit_proxypaymentroster",
        # Benefit entitlements (DOMAIN §8.2): the clerk applies.
        "benefits.view_benefitentitlement",
        "benefits.add_benefitentitlement",
        # The monthly sweep's findings for the township (应发尽发, paid after death): read and close.
        *_SWEEP_WORK,
    ],
    Role.SECTION_CHIEF: [
        *_READ_REGISTRY,
        "core.unmask_personal_data",
        # An address code the ID validator does not know is accepted once a chief confirms it (DOMAIN §6.1).
        "enrollment.confirm_address_code",
        *_READ_FEE_RELIEF,
        "enrollment.decide_feereliefapplication",
        "imports.view_importbatch",
        # Ending a relationship (death, dual receipt, transfer) has money consequences: a chief decides.
        *_READ_ENROLLMENT,
        "enrollment.terminate_enrollment",
        # The checker: checks submitted rosters, or returns them.
        *_VIEW_ROSTERS,
        "benefits.check_payoutroster",
        "enrollment.check_proxypaymentroster",
        # Entitlements: reviews, approves or rejects (never the applicant's own), suspends, restores, stops.
        "benefits.view_benefitentitlement",
        "benefits.decide_benefitentitlement",
        "benefits.suspend_benefitentitlement",
        "benefits.stop_benefitentitlement",
        # The monthly sweep: a chief may start it on demand (beat runs it on the 1st).
        *_SWEEP_WORK,
        "benefits.add_sweeprun",
    ],
    # The approver: approves checked rosters, or returns them.
    Role.LEADER_IN_CHARGE: [
        *_READ_REGISTRY,
        *_READ_ENROLLMENT,
        *_VIEW_ROSTERS,
        "benefits.approve_payoutroster",
        "enrollment.approve_proxypaymentroster",
        "benefits.view_benefitentitlement",
    ],
    # Finance records the bank's receipt; the accountant prepares the payment, the cashier releases it.
    Role.FINANCE: [
        *_READ_REGISTRY,
        *_VIEW_ROSTERS,
        "benefits.record_bank_receipt_payoutroster",
        "enrollment.record_bank_receipt_proxypaymentroster",
    ],
    Role.ACCOUNTANT: [
        *_READ_REGISTRY,
        "benefits.prepare_payment_payoutroster",
        "enrollment.prepare_payment_proxypaymentroster",
    ],
    Role.CASHIER: [*_READ_REGISTRY, "benefits.pay_payoutroster", "enrollment.pay_proxypaymentroster"],
    Role.AUDITOR: [
        *_READ_REGISTRY,
        "core.unmask_personal_data",
        "core.view_policyparameter",
        *_READ_FEE_RELIEF,
        "imports.view_importbatch",
        *_READ_ENROLLMENT,
        *_VIEW_ROSTERS,
        "benefits.view_benefitentitlement",
        "benefits.view_sweeprun",
        "benefits.view_workitem",
    ],
    Role.COUNTY_LEADER: ["core.view_administrativedivision"],
    Role.ADMIN: [
        *_READ_REGISTRY,
        # Policy parameters are edited, never deleted: a new figure closes the old row and adds one,
        # so calculations keep pointing at the rows they used.
        "core.view_policyparameter",
        "core.add_policyparameter",
        "core.change_policyparameter",
        "core.add_user",
        "core.change_user",
        "core.view_user",
        "core.add_townshipassignment",
        "core.delete_townshipassignment",
        "core.view_townshipassignment",
        "core.add_administrativedivision",
        "core.change_administrativedivision",
        # Fee-relief policies are county-wide data a county corrects (DOMAIN §0.2).
        "enrollment.view_feereliefpolicy",
        "enrollment.add_feereliefpolicy",
        "enrollment.change_feereliefpolicy",
        # Background schedules (django-celery-beat's database scheduler), e.g. the nightly coverage refresh.
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_crontabschedule",
        "django_celery_beat.change_crontabschedule",
    ],
}

# Finance users hold `finance` plus one post; the posts never combine (DOMAIN §8.2).
FINANCE_POSTS = (Role.ACCOUNTANT, Role.CASHIER)


def sync_roles() -> None:
    """Create one group per role and give it exactly the permissions in ROLE_PERMISSIONS."""
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        # Permissions of apps not migrated yet are picked up by the post_migrate of those apps.
        group.permissions.set([by_name[name] for name in perm_names if name in by_name])


def sync_roles_after_migrate(**kwargs: Any) -> None:
    sync_roles()
