"""Fuzz of the public surface: every public URL pattern, every HTTP method, odd query strings
(invalid UTF-8, NUL, control characters, huge values), odd path segments and odd language
headers. Whatever comes in, nothing answers 5xx."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statuspage.public.caching import clear_public_cache
from tests.fuzz.strategies import (
    FUZZ_SETTINGS,
    encoded_fragment,
    examples,
    nasty_text,
    query_strings,
)
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# Every public URL pattern; {slug}, {incident} and {maintenance} are filled with a real one or
# with a fuzzed segment.
PATTERNS = [
    "/",
    "/history",
    "/language",
    "/incidents/{incident}",
    "/maintenance/{maintenance}",
    "/components/{slug}",
    "/components/{slug}/response-time-24h.svg",
    "/components/{slug}/badge.svg",
    "/badge.svg",
    "/feeds/incidents.rss",
    "/feeds/incidents.atom",
    "/feeds/components/{slug}.rss",
    "/feeds/components/{slug}.atom",
    "/calendar/maintenance.ics",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/subscriptions/",
    "/subscriptions/confirm/{slug}/",
    "/subscriptions/manage/{slug}/",
    "/subscriptions/unsubscribe/{slug}/",
    "/probes/heartbeat/{slug}",
    "/probes/heartbeat/{slug}/fail",
    "/accounts/login/",
    "/admin/login/",
    "/i18n/setlang/",
    "/no/such/page",
]
QUERY_NAMES = ["page", "lang", "q", "status", "component", "limit", "offset", "next", "period"]


@pytest.fixture
def world(db):
    with time_machine.travel(NOW, tick=False):
        made = worlds.busy(NOW)
    return {
        "slug": "bureau",
        "incident": str(made["open"].pk),
        "maintenance": str(made["upcoming"].pk),
    }


@st.composite
def requests(draw, world: dict):
    pattern = draw(st.sampled_from(PATTERNS))
    values = {}
    for name, real in world.items():
        values[name] = draw(st.one_of(st.just(real), encoded_fragment))
    path = pattern.format(**values)
    if draw(st.booleans()):
        path += "?" + draw(query_strings(QUERY_NAMES))
    method = draw(st.sampled_from(METHODS))
    headers = {}
    if draw(st.booleans()):
        headers["HTTP_ACCEPT_LANGUAGE"] = (
            draw(nasty_text).encode("utf-8", "replace").decode("latin-1")
        )
    body = draw(st.one_of(st.just(""), query_strings(QUERY_NAMES)))
    return method, path, headers, body


@pytest.mark.django_db
def test_no_public_request_gets_a_5xx(world):
    client = Client(raise_request_exception=False)
    seen: list[tuple[str, str, int]] = []

    @settings(
        max_examples=examples(150),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **FUZZ_SETTINGS,
    )
    @given(requests(world))
    def check(request):
        method, path, headers, body = request
        if len(seen) % 50 == 0:
            clear_public_cache()  # keep the per-process cache from growing without bound
        response = client.generic(
            method,
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
            **headers,
        )
        seen.append((method, path, response.status_code))
        assert response.status_code < 500, (method, path, headers, response.content[:500])

    with time_machine.travel(NOW, tick=True):
        check()
    assert len(seen) >= min(100, examples(150))
