"""The page in a real browser (Debian's Chromium): it renders, the language switch works and is
remembered, the refresh script picks up a status change without a reload, and the uptime bar's
days tell themselves on hover and on keyboard focus."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from statuspage import actions
from statuspage.models import Component, ComponentDay, SiteState
from tests.public.pages import platform

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


class PolicyWatchingBrowser:
    """The browser, recording every Content-Security-Policy violation its pages report: the
    site's own pages must need none."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.violations: list[str] = []

    def watch(self, target):
        target.on("console", self.record)
        return target

    def record(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def new_context(self, **options):
        return self.watch(self.browser.new_context(**options))

    def new_page(self, **options):
        return self.watch(self.browser.new_page(**options))


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django must still let the test
    # (not the live server) touch the database from it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        watching = PolicyWatchingBrowser(browser)
        yield watching
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert watching.violations == []


@pytest.fixture
def lending(transactional_db):
    return platform()


def test_the_page_renders_and_the_language_choice_is_remembered(live_server, browser, lending):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("[data-banner-text]").inner_text() == "All Systems Operational"
    assert page.get_by_role("heading", name="Is it me or the system?").is_visible()
    # The whole page fits a phone: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="简体中文").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("[data-banner-text]").inner_text() == "所有系统运行正常"

    page.goto(live_server.url + "/history")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", name="事件与维护历史").is_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_url(live_server.url + "/history")
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()


def test_the_keyboard_reaches_the_language_switch(live_server, browser, lending):
    page = browser.new_page(locale="en-US")
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(4):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('value')") == "zh-hans"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_the_refresh_script_shows_a_change_without_a_reload(live_server, browser, lending):
    page = browser.new_page(locale="en-US")
    page.clock.install()
    page.goto(live_server.url + "/")
    status = page.locator(f'[data-component-id="{lending.repayment.pk}"] .status-word')
    assert status.inner_text() == "Operational"
    page.evaluate("window.__not_reloaded = true")

    actions.set_component_status(lending.repayment, "major_outage", actor=None, via="system")
    page.clock.run_for(61_000)

    # A locator waits without evaluating a string in the page, which the page's
    # Content-Security-Policy (no 'unsafe-eval') forbids.
    expect(page.locator("[data-banner]")).to_have_attribute("data-indicator", "critical")
    assert status.inner_text() == "Major outage"
    assert page.locator("[data-banner-text]").inner_text() == "Major Service Outage"
    assert page.evaluate("window.__not_reloaded") is True


def test_the_uptime_bar_tells_each_day_on_hover_and_keyboard_focus(live_server, browser, lending):
    now = timezone.localtime()
    Component.objects.update(created_at=now - timedelta(days=200))
    ComponentDay.objects.create(
        component=lending.repayment,
        day=(now - timedelta(days=10)).date(),
        worst_status="major_outage",
        major_seconds=864,
    )
    SiteState.bump()
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    # One segment per day, and a day has the same place and width on every bar.
    days = page.evaluate(
        """[...document.querySelectorAll('ol.bar')].map(bar => {
            const left = bar.getBoundingClientRect().left;
            const place = i => Math.round(i.getBoundingClientRect().left - left);
            return [...bar.querySelectorAll('i')].map(place);
        })"""
    )
    assert len(days) == 6 and all(len(bar) == 90 for bar in days)
    assert all(bar == days[0] for bar in days)

    bar = page.locator(f'[data-component-id="{lending.repayment.pk}"] ol.bar')
    outage = bar.locator("li[tabindex]")
    assert outage.count() == 1
    tooltip = outage.locator("span")
    assert not tooltip.is_visible() or tooltip.bounding_box()["width"] <= 1
    outage.locator("i").hover()
    assert tooltip.bounding_box()["width"] > 100
    assert "99.00% uptime, major outage" in tooltip.inner_text()

    quiet = bar.locator("li:not([tabindex])").first
    quiet.locator("i").nth(3).hover()
    assert "100% uptime, no incidents" in quiet.locator("span").inner_text()
    assert quiet.locator("span").bounding_box()["width"] > 100

    page.mouse.move(0, 0)
    outage.focus()
    assert tooltip.bounding_box()["width"] > 100
    page.close()
