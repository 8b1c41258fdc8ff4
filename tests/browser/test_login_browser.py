"""A clerk's first minutes in a real browser: log in, see the Chinese work queue, find a person."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socialsec.lib.resident_id import mask_resident_id

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_clerk_logs_in_and_sees_the_chinese_work_queue(page, cast):
    log_in(page, "maker_ann")

    expect(page).to_have_url(re.compile(r"/$"))  # LOGIN_REDIRECT_URL: the work queue
    expect(page.get_by_role("heading", name="待制作的花名册")).to_be_visible()
    expect(page.get_by_text("暂无待制作的花名册。")).to_be_visible()
    navigation = page.locator("#main-nav")
    expect(navigation.get_by_role("link", name="人员查询")).to_be_visible()
    expect(navigation.get_by_role("link", name="待办事项")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    # Bootstrap's stylesheet is served from static/vendor/ (the navbar is coloured, not plain).
    background = page.locator("nav.navbar").evaluate("element => getComputedStyle(element).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    # htmx came from django-htmx and app.js configured it.
    assert page.evaluate("() => window.htmx.version").startswith("2.")
    assert page.evaluate("() => window.htmx.config.includeIndicatorStyles") is False
    page.screenshot(path="/tmp/ui-home.png", full_page=True)


def test_a_clerk_searches_a_person_and_opens_their_page_with_the_id_masked(
    page, cast, person_in_a, person_in_b
):
    log_in(page, "maker_ann")
    page.locator("#main-nav").get_by_role("link", name="人员查询").click()
    expect(page.get_by_role("heading", name="人员查询")).to_be_visible()

    # Search as you type: htmx swaps the table rows and keeps the URL in step.
    last_digits = person_in_a.id_number[-4:]
    page.get_by_role("searchbox").fill(last_digits)
    expect(page).to_have_url(re.compile(rf"/persons/\?q={last_digits}$"))
    rows = page.locator("#person-rows")
    expect(rows.get_by_role("link", name="李明")).to_be_visible()
    expect(rows).not_to_contain_text("王芳")  # Township B's person never appears

    rows.get_by_role("link", name="李明").click()
    expect(page.get_by_role("heading", name="李明")).to_be_visible()
    expect(page.locator("#id-number")).to_contain_text(mask_resident_id(person_in_a.id_number))
    assert person_in_a.id_number not in page.content()
    expect(page.locator('#main [aria-labelledby="identity-heading"]').get_by_text("莲塘镇")).to_be_visible()
    page.screenshot(path="/tmp/ui-person.png", full_page=True)


def test_a_section_chief_unmasks_an_id_number_in_place_and_a_clerk_gets_the_refusal_in_place(
    page, cast, person_in_a
):
    # The htmx POST carries the CSRF header from app.js, and the answer replaces only the ID cell.
    log_in(page, "checker_ben")
    page.goto(f"/persons/{person_in_a.pk}/")
    page.get_by_role("button", name="查看完整号码").click()
    expect(page.locator("#id-number")).to_contain_text(person_in_a.id_number)
    expect(page.locator("#id-number")).to_contain_text("本次查看已记录")
    assert person_in_a.events.filter(pgh_label="unmask_id_number").count() == 1

    # A clerk has no button; forcing the request swaps the 403 partial into the cell
    # (htmx.config.responseHandling), and the layout stays whole.
    page.context.clear_cookies()
    log_in(page, "maker_ann")
    page.goto(f"/persons/{person_in_a.pk}/")
    expect(page.get_by_role("button", name="查看完整号码")).to_have_count(0)
    page.evaluate(f"() => htmx.ajax('POST', '/persons/{person_in_a.pk}/unmask/', '#id-number')")
    expect(page.locator("#id-number")).to_contain_text("您的岗位无权查看完整的公民身份号码")
    expect(page.locator("#id-number")).not_to_contain_text(person_in_a.id_number)
    expect(page.locator("nav.navbar")).to_have_count(1)
