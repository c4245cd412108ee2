"""The page in a real browser (Debian's Chromium): it renders, the language switch works and is
remembered, the refresh script picks up a status change without a reload, a page left open tells
the story a reload would (checks delayed, recovering, resolved), and the uptime bar's days tell
themselves on hover and on keyboard focus."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitors import stall
from monitors.models import DispatcherState
from statuspage import actions
from statuspage.models import Component, ComponentDay, Incident, SiteState
from tests.monitors.conftest import bad, clock, feed, good, make_probe  # noqa: F401
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


# What the page says in each language, as a reload would show it.
WORDS = {
    "en-US": {
        "lang": "en",
        "ok": "All Systems Operational",
        "stalled": "No known problems, but our automatic checks are delayed",
        "notice": "Automatic checks are delayed",
        "last_checked": "Last checked:",
        "recovering": "Recovering: a fix is in place and we are monitoring it",
        "active": "Active incidents",
    },
    "zh-CN": {
        "lang": "zh-hans",
        "ok": "所有系统运行正常",
        "stalled": "目前未发现问题，但自动检测出现延迟",
        "notice": "自动检测出现延迟",
        "last_checked": "最后检测于",
        "recovering": "正在恢复：问题已修复，我们正在观察",
        "active": "进行中的事件",
    },
}
REFRESH_MS = 46_000  # longer than the script's longest interval (30-45 s)


def open_left_open_page(browser, live_server, locale: str, width: int = 1280):
    page = browser.new_page(locale=locale, viewport={"width": width, "height": 900})
    page.clock.install()  # the test moves the page's timers: no waiting for the interval
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == WORDS[locale]["lang"]
    page.evaluate("window.__not_reloaded = true")
    return page


def stall_monitoring(clock) -> None:
    clock.shift(300)
    assert stall.watch(clock.now()) == "started"


def recover_under_monitoring(probe, clock) -> Incident:
    """Monitoring delivers again; an outage opens an incident, then the probe works again."""
    DispatcherState.record_run(clock.now())
    for _ in range(3):
        feed(probe, "local", bad("major_outage"), clock)
    for _ in range(2):
        feed(probe, "local", good(), clock)
    DispatcherState.record_run(clock.now())
    assert stall.watch(clock.now()) == "ended"
    incident = Incident.objects.get()
    assert incident.status == "monitoring"
    return incident


@pytest.fixture
def watched(lending, clock, make_probe):  # noqa: F811
    """Disbursement watched by a probe every 30 s that has just reported that it works."""
    probe = make_probe(lending.disbursement, interval_seconds=30)
    DispatcherState.record_run(clock.now())
    feed(probe, "local", good(), clock)
    return probe


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_page_left_open_tells_the_story_a_reload_would(
    live_server,
    browser,
    clock,  # noqa: F811
    watched,
    locale,
):
    words = WORDS[locale]
    page = open_left_open_page(browser, live_server, locale)
    banner = page.locator("[data-banner]")
    notice = page.locator(".stale-notice")
    active = page.get_by_role("heading", name=words["active"])
    assert banner.inner_text() == words["ok"]
    assert notice.count() == 0

    stall_monitoring(clock)
    page.clock.run_for(REFRESH_MS)
    expect(banner).to_have_text(words["stalled"])
    expect(banner).to_have_class("banner banner-stale")
    expect(notice.locator("h2")).to_have_text(words["notice"])
    expect(page.locator(".last-checked").first).to_contain_text(words["last_checked"])

    incident = recover_under_monitoring(watched, clock)
    page.clock.run_for(REFRESH_MS)
    expect(banner).to_have_text(words["recovering"])
    expect(banner).to_have_attribute("data-indicator", "none")
    expect(banner).to_have_class("banner banner-recovering")
    expect(notice).to_have_count(0)
    expect(page.locator(".last-checked")).to_have_count(0)
    expect(active).to_be_visible()
    card = page.locator('section[aria-labelledby="active-incidents-title"]')
    expect(card.locator(f'a[href="/incidents/{incident.pk}"]').first).to_be_visible()

    actions.resolve_incident(incident, body="Fixed.", actor=None, via="system", now=clock.now())
    page.clock.run_for(REFRESH_MS)
    expect(banner).to_have_text(words["ok"])
    expect(banner).to_have_class("banner banner-none")
    expect(active).to_have_count(0)
    expect(page.locator(f'.past-incident a[href="/incidents/{incident.pk}"]')).to_have_count(1)
    assert page.evaluate("window.__not_reloaded") is True


def test_what_the_visitor_opened_or_closed_stays_so_after_a_refresh(
    live_server,
    browser,
    clock,  # noqa: F811
    watched,
    lending,
):
    page = open_left_open_page(browser, live_server, "en-US")
    charts = page.locator(f'[data-component-id="{lending.disbursement.pk}"] details.charts')
    charts.locator("summary").click()
    bureaus = page.locator("details.group").nth(1)
    bureaus.locator(":scope > summary").click()
    assert (charts.get_attribute("open"), bureaus.get_attribute("open")) == ("", None)

    stall_monitoring(clock)
    page.clock.run_for(REFRESH_MS)
    expect(page.locator(".stale-notice")).to_have_count(1)
    assert charts.get_attribute("open") == ""
    assert bureaus.get_attribute("open") is None
    assert page.locator("details.group").first.get_attribute("open") == ""


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
