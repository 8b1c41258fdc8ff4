"""Reads every roster kind shares: the signature block (DOMAIN §8.3 footer, E22) and a keyset page of
lines with IDs and accounts masked, as the roster page, the printed roster, its xlsx and the API show them.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits import selectors as benefit_selectors
from benefits.models import PayoutRoster
from socialsec.core.models import User
from socialsec.lib.masking import mask_bank_account
from socialsec.lib.resident_id import mask_resident_id
from socialsec.rosters.choices import RosterStatus
from socialsec.rosters.selectors import ROSTER_RELATED, line_page, roster_signatures
from tests.rosters.factories import roster_in

pytestmark = pytest.mark.django_db


def test_e22_the_signature_block_names_the_holder_of_each_post_signed_so_far(cast):
    """E22 steps 1–3: maker, checker and approver have signed an approved roster; the two finance
    posts have not, so their names are empty. A signer without a full name is shown by username."""
    User.objects.filter(pk=cast.checker_ben.pk).update(last_name="贝", first_name="本")
    roster = PayoutRoster.objects.select_related(*ROSTER_RELATED).get(
        pk=roster_in(RosterStatus.APPROVED, cast).pk
    )

    with CaptureQueriesContext(connection) as captured:
        block = roster_signatures(roster)

    assert len(captured) == 0  # the holders came with ROSTER_RELATED
    assert roster.checked_by.get_full_name()  # not the username: the full name is there to show
    assert [(s.post, s.label, s.name) for s in block] == [
        ("maker", "制表人", "maker_ann"),
        ("checker", "审核人", User.objects.get(pk=cast.checker_ben.pk).get_full_name()),
        ("approver", "审批人", "approver_cai"),
        ("accountant", "会计", ""),
        ("cashier", "出纳", ""),
    ]
    assert [s.by for s in block] == [cast.maker_ann, cast.checker_ben, cast.approver_cai, None, None]
    assert [s.at is not None for s in block] == [True, True, True, False, False]


def test_the_api_posts_are_the_same_signature_block(api, cast):
    """DOMAIN §8.3: GET /api/rosters/{id}/ lists the posts the page and the print show."""
    roster = roster_in(RosterStatus.CHECKED, cast)
    posts = api.as_user(cast.maker_ann).get(f"/api/rosters/{roster.pk}/").json()["posts"]
    assert [(post["post"], post["by"] and post["by"]["username"]) for post in posts] == [
        ("maker", "maker_ann"),
        ("checker", "checker_ben"),
        ("approver", None),
        ("accountant", None),
        ("cashier", None),
    ]


def test_a_line_page_masks_ids_and_accounts_and_names_where_the_next_page_starts(cast):
    roster = roster_in(RosterStatus.SUBMITTED, cast, count=5)

    with CaptureQueriesContext(connection) as captured:
        rows, next_after = line_page(benefit_selectors.payout_roster_lines(roster), size=2)

    assert len(captured) == 1
    assert ([row.line.seq for row in rows], next_after) == ([1, 2], 2)
    first = rows[0].line
    assert rows[0].id_number_masked == mask_resident_id(first.person.id_number) != first.person.id_number
    assert rows[0].account_number_masked == mask_bank_account(first.account_number) != first.account_number

    rows, next_after = line_page(benefit_selectors.payout_roster_lines(roster, after=4), size=2)
    assert ([row.line.seq for row in rows], next_after) == ([5], None)  # the last page
    rows, next_after = line_page(benefit_selectors.payout_roster_lines(roster, after=2), size=3)
    assert ([row.line.seq for row in rows], next_after) == ([3, 4, 5], None)  # exactly full: no more
