"""The person page (记录一生) in a real browser: a clerk finds a person by the last digits of the ID
and reads their enrollments, contribution years and the history of the record (issue 3).

DOMAIN §1.2 and E5 (grade 500 with the 60-yuan subsidy), §8.1 (accounts by component).
The rows are written straight to the tables under the clerk's audit context: the browser
tests run on a flushed database, without the seeded policy parameters the services read.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pghistory
import pytest
from playwright.sync_api import expect

from enrollment.choices import Payer, PeriodKind, Scheme
from enrollment.models import ContributionRecord, Enrollment, Person, PersonalAccount
from socialsec.lib.resident_id import build_resident_id, mask_resident_id
from tests.browser.test_login_browser import log_in
from tests.factories import PersonFactory

pytestmark = pytest.mark.browser


def test_a_clerk_finds_a_person_by_the_last_id_digits_and_reads_their_record(page, cast):
    person = PersonFactory(
        village=cast.village_a,
        name="黄桂兰",
        id_number=build_resident_id("360121", dt.date(1962, 8, 9), 486),
        birth_date=dt.date(1962, 8, 9),
    )
    PersonFactory(village=cast.village_a, name="黄建国")  # another 黄, found by name but not by digits
    with pghistory.context(user=cast.maker_ann.pk, url="/persons/", method="POST"):
        enrollment = Enrollment.objects.create(
            person=person,
            scheme=Scheme.RESIDENT_PENSION,
            pooling_area="360121",
            start_date=dt.date(2023, 1, 1),
            enrolled_by=cast.maker_ann,
        )
        account = PersonalAccount.objects.create(person=person, scheme=Scheme.RESIDENT_PENSION)
    for year in (2023, 2024):
        with pghistory.context(user=cast.maker_ann.pk, url="/api/contributions/", method="POST"):
            ContributionRecord.objects.create(
                enrollment=enrollment,
                period_kind=PeriodKind.YEAR,
                period_start=dt.date(year, 1, 1),
                grade=Decimal("500"),
                personal_amount=Decimal("500"),
                government_subsidy=Decimal("60"),
                payer=Payer.PERSON,
                paid_on=dt.date(year, 3, 1),
                recorded_by=cast.maker_ann,
            )
            PersonalAccount.objects.filter(pk=account.pk).update(
                personal=account.personal + 500 * (year - 2022), government_subsidy=60 * (year - 2022)
            )
    for index in range(50):  # a long history, so it comes in pages
        with pghistory.context(user=cast.maker_ann.pk):
            Person.objects.filter(pk=person.pk).update(phone=f"1397000{index:04d}")

    log_in(page, "maker_ann")
    page.goto("/persons/")
    page.locator("#person-search").fill(person.id_number[-6:])
    expect(page).to_have_url(re.compile(rf"/persons/\?q={person.id_number[-6:]}"))
    rows = page.locator("#person-rows")
    expect(rows.get_by_role("link")).to_have_count(1)
    expect(rows).to_contain_text(mask_resident_id(person.id_number))
    rows.get_by_role("link", name="黄桂兰").click()

    expect(page).to_have_url(re.compile(rf"/persons/{person.pk}/$"))
    expect(page.get_by_role("heading", name="黄桂兰")).to_be_visible()
    assert person.id_number not in page.content()

    resident = page.locator(f'#enrollments tr[data-enrollment="{enrollment.pk}"]')
    expect(resident).to_be_visible()
    expect(resident).to_contain_text("2023-01-01")
    for year in ("2023", "2024"):
        row = page.locator(f'#contribution-years tr[data-year="{year}"]')
        expect(row.locator('[data-column="government_subsidy"]')).to_have_text("60.00")
        expect(row.locator('[data-column="credited"]')).to_have_text("560.00")
    balance = page.locator('#accounts tr[data-scheme="resident_pension"] [data-component="balance"]')
    expect(balance).to_have_text("1120.00")

    # The history: newest first, who did it and through which request, one page at a time.
    timeline = page.locator("#timeline")
    expect(timeline.locator("li[data-subject]")).to_have_count(50)
    expect(timeline.locator("li[data-subject]").first).to_contain_text("13970000049")
    expect(timeline.locator('li[data-subject="contribution"]')).to_have_count(0)  # on the next page
    page.locator("#timeline-older").click()
    expect(page.locator('#timeline-entries[data-page="2"]')).to_be_visible()
    expect(page).to_have_url(re.compile(r"timeline_page=2"))
    contributions = timeline.locator('li[data-subject="contribution"]')
    expect(contributions).to_have_count(2)
    expect(contributions.first).to_contain_text("maker_ann")
    expect(contributions.first).to_contain_text("POST /api/contributions/")
    expect(timeline.locator('li[data-subject="enrollment"][data-event="insert"]')).to_have_count(1)
    expect(page.locator("nav.navbar")).to_have_count(1)  # htmx swapped the card, not a page inside the page
    page.screenshot(path="/tmp/ui-person-page.png", full_page=True)
