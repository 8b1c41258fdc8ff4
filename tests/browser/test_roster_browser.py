"""A payout roster in real browsers (issue 4; DOMAIN §8.2, E22): five people, each logged in as
themselves, take one roster from draft to PAYING by pressing their own button, and the roster's
signature block then shows five different names.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from benefits.models import PayoutRoster
from socialsec.rosters.choices import RosterStatus
from tests.browser.test_login_browser import log_in
from tests.rosters.factories import draft_roster

pytestmark = pytest.mark.browser

# Who presses which button, and the status (in Chinese) the roster shows afterwards.
E22_STEPS = (
    ("maker_ann", "submit", "待审核"),
    ("checker_ben", "check", "已审核"),
    ("approver_cai", "approve", "已审批"),
    ("accountant_dan", "prepare-payment", "已审批"),
    ("cashier_fay", "pay", "支付中"),
)


@pytest.fixture
def roster(cast) -> PayoutRoster:
    """A draft of three lines made by the clerk through the draft service (generation lands separately)."""
    return draft_roster(cast, count=3, by=cast.maker_ann)


def test_five_people_take_a_roster_from_draft_to_paying_and_five_names_sign_it(page, cast, roster):
    roster_url = f"/rosters/{roster.pk}/"
    actions = page.locator("#roster-actions")
    for username, step, status_label in E22_STEPS:
        page.context.clear_cookies()  # the previous person logs out; the next logs in as themselves
        log_in(page, username)
        expect(page).to_have_url(re.compile(r"/$"))
        # The roster waits in this person's work queue on the home page, except the clerk's own
        # step, which starts from the roster list.
        if step == "submit":
            page.locator('#main-nav a[href="/rosters/"]').click()
            page.locator("#roster-rows").get_by_role("link", name=roster.number).click()
        else:
            page.locator(f'.roster-queue [data-roster="{roster.pk}"]').get_by_role(
                "link", name=roster.number
            ).click()
        expect(page).to_have_url(re.compile(rf"{roster_url}$"))
        # Exactly one step is offered to each of them here (return and cancel aside).
        expect(actions.locator(f'[data-action="{step}"]')).to_have_count(1)
        actions.locator(f'[data-action="{step}"]').click()
        expect(page).to_have_url(re.compile(rf"{roster_url}$"))
        expect(page.locator("#roster-status")).to_have_text(status_label)
        expect(actions.locator(f'[data-action="{step}"]')).to_have_count(0)  # done; never twice

    names = page.locator("#roster-signatures .signature-name")
    expect(names).to_have_count(5)
    signed = [name.strip() for name in names.all_inner_texts()]
    assert signed == ["maker_ann", "checker_ben", "approver_cai", "accountant_dan", "cashier_fay"]
    assert len(set(signed)) == 5
    expect(page.locator("#roster-timeline li")).to_have_count(6)  # generated, then the five steps

    roster.refresh_from_db()
    assert roster.status == RosterStatus.PAYING
    assert [
        roster.made_by,
        roster.checked_by,
        roster.approved_by,
        roster.prepared_by,
        roster.released_by,
    ] == [cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.accountant_dan, cast.cashier_fay]
