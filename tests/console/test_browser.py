"""A staff user works the console in a real browser (headless Chromium): log in, open an
incident with a component status, resolve it, find both steps in the audit log."""

import shutil

import pytest

from statuspage.celery import app as celery_app
from statuspage.models import AuditEntry, Incident

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="no Chromium installed"),
]


@pytest.fixture
def browser_page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls made by the
    # test itself are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.set_default_timeout(15_000)
        # The console's Content-Security-Policy must not block anything it needs.
        violations = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        yield page
        browser.close()
    assert violations == []


@pytest.fixture
def tasks_run_inline():
    """Committed changes enqueue notification tasks; run them here instead of sending them to
    the shared development broker."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_staff_open_and_resolve_an_incident_in_a_browser(
    live_server, browser_page, tasks_run_inline, staff, components
):
    bureau, loans = components
    page = browser_page
    page.goto(f"{live_server.url}/console/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-alice-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/console/")

    page.click("text=Open an incident")
    page.fill("input[name=title]", "Credit checks failing")
    page.fill("textarea[name=body]", "Calls to the bureau **time out**.")
    page.select_option(f"select[name=component_{bureau.pk}]", "major_outage")
    page.click("button:has-text('Open incident')")
    page.wait_for_url(f"{live_server.url}/console/incidents/*/")
    assert page.locator(".timeline strong").inner_text() == "time out"

    page.fill("#id_resolve_body", "Bureau calls succeed again.")
    page.click("button:has-text('Resolve incident')")
    page.wait_for_selector("text=Incident resolved.")

    page.click("nav >> text=Audit log")
    page.wait_for_selector("code:has-text('incident.resolved')")
    assert page.locator("code:has-text('incident.open')").count() == 1

    incident = Incident.objects.get()
    assert incident.status == "resolved"
    actors = set(AuditEntry.objects.filter(object_type="incident").values_list("actor_name", "via"))
    assert actors == {("alice", "console")}
