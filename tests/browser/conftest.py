"""Playwright against Debian's Chromium and pytest-django's live server.

Playwright's own browser download cannot run here, so the system Chromium is used.
Its sync API keeps an event loop running in the test thread, which Django would take
for async code; DJANGO_ALLOW_ASYNC_UNSAFE lets these tests' fixtures use the ORM. It is set
only while the browser runs, not at import: leaking into the session would reach other
tests' subprocesses (`check --deploy` warns about it) and hide real async mistakes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Package scope: Playwright's event loop, and the permission to ignore it, end with this package,
# before other packages' tests touch the ORM.
@pytest.fixture(scope="package")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
            "or set CHROMIUM to its path). Playwright's own browser download is not used.",
            pytrace=False,
        )

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator:
    """A fresh browser context per test, as a Chinese office's browser (zh-CN) would be.

    Any Content-Security-Policy violation the browser reports fails the test at teardown.
    """
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 800}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert violations == [], f"the page broke its Content-Security-Policy: {violations}"
