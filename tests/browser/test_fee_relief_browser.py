"""Fee relief in real browsers: a clerk files an application, a section chief approves it in place."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from enrollment.choices import FeeReliefStatus
from enrollment.models import FeeReliefApplication
from tests.browser.test_login_browser import log_in
from tests.enrollment.factories import FeeReliefPolicyFactory, OrganizationFactory

pytestmark = pytest.mark.browser


def test_a_clerk_files_and_a_section_chief_approves_in_another_browser(page, browser, live_server, cast):
    organization = OrganizationFactory(township=cast.township_a, size_class="small", name="莲塘机械厂")
    policy = FeeReliefPolicyFactory(name="小微企业免征", size_classes=["small", "micro"], rate=Decimal("1"))
    FeeReliefPolicyFactory(name="大型企业减半", kind="reduction", size_classes=["large"], rate=Decimal("0.5"))

    # The clerk finds the organization and files from its page.
    log_in(page, "maker_ann")
    page.goto("/persons/organizations/")
    page.locator("#organization-search").fill("莲塘")
    expect(page).to_have_url(re.compile(r"/persons/organizations/\?q="))
    page.locator("#organization-rows").get_by_role("link", name="莲塘机械厂").click()
    page.locator("#file-fee-relief").click()
    # Only policies covering a small enterprise are offered (the seeded 2020 ones may be among them).
    expect(page.locator(f'#id_policy option[value="{policy.pk}"]')).to_have_count(1)
    expect(page.locator("#id_policy")).not_to_contain_text("大型企业减半")
    page.locator("#id_policy").select_option(str(policy.pk))
    page.locator("#id_period_from").fill("2020-02")
    page.locator("#id_period_to").fill("2020-04")
    page.locator("#fee-relief-file-form button[type=submit]").click()
    application = FeeReliefApplication.objects.get(organization=organization)
    expect(page).to_have_url(re.compile(rf"/persons/fee-relief/{application.pk}/$"))
    decision = page.locator(f"#decision-{application.pk}")
    expect(decision.locator("[data-action]")).to_have_count(0)  # the filer gets no decide buttons

    # The section chief, in a browser of their own, approves from the inbox; only the cell changes.
    chief_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    violations: list[str] = []
    chief = chief_context.new_page()
    chief.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        log_in(chief, "checker_ben")
        chief.locator("#queue-fee-relief").click()
        expect(chief).to_have_url(re.compile(r"/persons/fee-relief/$"))
        cell = chief.locator(f"#decision-{application.pk}")
        expect(chief.locator("#fee-relief-rows")).to_contain_text("莲塘机械厂")
        cell.locator('[data-action="approve"]').click()
        expect(cell.locator('[data-status="approved"]')).to_be_visible()
        expect(cell).to_contain_text("checker_ben")
        expect(chief.locator("nav.navbar")).to_have_count(1)  # a partial, not the page inside the page
    finally:
        chief_context.close()
    assert violations == []

    application.refresh_from_db()
    assert (application.status, application.decided_by) == (FeeReliefStatus.APPROVED, cast.checker_ben)
    assert (application.months, application.rate) == (3, Decimal("1"))

    # The clerk sees who decided, and the relief.
    page.reload()
    expect(decision.locator('[data-status="approved"]')).to_be_visible()
    expect(decision).to_contain_text("checker_ben")
    expect(page.locator("#filed-by")).to_contain_text("maker_ann")
    expect(page.locator("#relief")).to_contain_text("100%")
