"""Every HTML page carries a Content-Security-Policy that no inline script or style in our own
templates needs; staff pages are never stored by a browser; HEAD answers wherever GET does."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from monitors.models import Probe
from monitors.recorder import record_result
from monitors.results import RunResult
from statuspage.public.caching import clear_public_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    world = worlds.busy(NOW)
    probe = Probe.objects.create(
        component=world["components"]["bureau"],
        name="health",
        kind="http",
        config={"url": "http://127.0.0.1:9/"},
        conditions=[{"condition": "[STATUS] == 200"}],
        vantage_points=["local"],
    )
    for minutes in range(0, 180, 30):
        at = NOW - timedelta(minutes=minutes)
        run = RunResult(ok=True, latency_ms=40.0 + minutes, status_code=200)
        record_result(probe, "local", run, now=at, scheduled_at=at)
    world["probe"] = probe
    return world


@pytest.fixture
def admin_client(db) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(user)
    return client


def public_pages(world) -> list[str]:
    return [
        "/",
        "/history",
        "/components/bureau",
        f"/incidents/{world['open'].pk}",
        f"/incidents/{world['resolved'].pk}",
        f"/maintenance/{world['upcoming'].pk}",
        "/subscriptions/",
        "/accounts/login/",
        "/admin/login/",
    ]


def staff_pages(world) -> list[str]:
    return [
        "/console/",
        "/console/incidents/",
        "/console/incidents/new/",
        f"/console/incidents/{world['open'].pk}/",
        f"/console/incidents/{world['open'].pk}/edit/",
        "/console/maintenance/",
        "/console/maintenance/new/",
        f"/console/maintenance/{world['upcoming'].pk}/",
        f"/console/maintenance/{world['upcoming'].pk}/edit/",
        "/console/audit/",
        "/console/probes/",
        f"/console/probes/{world['probe'].pk}/",
        "/console/subscribers/",
        "/console/subscribers/notifications/",
        "/console/subscribers/webhooks/",
        "/admin/",
        "/admin/statuspage/incident/",
        f"/admin/statuspage/incident/{world['open'].pk}/change/",
    ]


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline scripts, <style> elements, style
    attributes, event handler attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes:
            if attributes.get("type") not in ("application/json", "application/ld+json"):
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style attribute on <{tag}>: {value}")
            if name.startswith("on"):
                self.found.append(f"{name} on <{tag}>")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def assert_strict_policy(response):
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_every_public_page_has_a_strict_policy_and_needs_no_inline_code(client, world):
    for path in public_pages(world):
        for language in ("en", "zh-hans"):
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, path
            assert_strict_policy(response)
            assert inline_code(response.content.decode()) == [], path


def test_every_staff_page_has_a_strict_policy_and_needs_no_inline_code(admin_client, world):
    for path in staff_pages(world):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert_strict_policy(response)
        assert inline_code(response.content.decode()) == [], path


def test_data_documents_carry_no_page_policy(client, world):
    assert "Content-Security-Policy" not in client.get("/api/v2/summary.json")


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_login_pages_are_never_stored(client, db, path):
    assert "no-store" in client.get(path)["Cache-Control"]


def test_staff_pages_are_never_stored(admin_client, world):
    for path in staff_pages(world):
        cache_control = admin_client.get(path)["Cache-Control"]
        assert "no-store" in cache_control and "public" not in cache_control, path


def test_public_pages_stay_cacheable(client, world):
    cache_control = client.get("/history")["Cache-Control"]
    assert "public" in cache_control and "no-store" not in cache_control


def test_head_answers_wherever_get_does_even_before_the_page_is_cached(client, world):
    paths = public_pages(world) + [
        f"/maintenance/{world['active'].pk}",
        "/components/bureau/response-time-24h.svg",
        "/feeds/incidents.rss",
        "/calendar/maintenance.ics",
        "/badge.svg",
        "/api/v2/summary.json",
    ]
    for path in paths:
        clear_public_cache()
        head = client.head(path)
        get = client.get(path)
        assert (path, head.status_code) == (path, get.status_code)
        assert head.content == b""
        assert head["Content-Type"] == get["Content-Type"]


def test_head_answers_on_staff_pages(admin_client, world):
    for path in staff_pages(world):
        assert admin_client.head(path).status_code == 200, path


def test_the_server_error_page_keeps_its_inline_style_and_no_inline_script(db, settings):
    from django.test import RequestFactory

    from statuspage.headers import SecurityHeadersMiddleware
    from statuspage.public.fallback import server_error

    request = RequestFactory().get("/history")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = SecurityHeadersMiddleware(server_error)(request)
    policy = response["Content-Security-Policy"]
    assert response.status_code == 500
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy + ";"
