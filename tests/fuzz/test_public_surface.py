"""Fuzz of the public surface: every public URL pattern, every HTTP method, odd query strings
(invalid UTF-8, NUL, control characters, huge values), odd path segments and odd language
headers. Whatever comes in, nothing answers 5xx."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import URLResolver, get_resolver
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
# Staff-only or fuzzed elsewhere (tests/fuzz/test_token_api.py); the rest is the public surface.
NOT_PUBLIC = ("admin/", "console/", "api/v1/")
PLACEHOLDERS = {"incident_id": "{incident}", "maintenance_id": "{maintenance}"}
CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def routes(patterns, prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += routes(pattern.url_patterns, route)
        else:
            found.append(route)
    return found


def public_patterns() -> list[str]:
    """Every public URL pattern of the site, read from the URL configuration so that a new
    page is fuzzed without anyone remembering to add it; path arguments become {incident},
    {maintenance} or {slug}, filled with a real value or a fuzzed segment."""
    patterns = set()
    for route in routes(get_resolver().url_patterns):
        if route.startswith(NOT_PUBLIC) or "^" in route:
            continue
        patterns.add("/" + CONVERTER.sub(lambda m: PLACEHOLDERS.get(m.group(1), "{slug}"), route))
    return sorted(patterns) + ["/admin/login/", "/no/such/page"]


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
    pattern = draw(st.sampled_from(public_patterns()))
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


def test_the_fuzzed_patterns_are_the_site_s_public_urls():
    patterns = public_patterns()
    for expected in ("/", "/history", "/health", "/incidents/{incident}", "/badge.svg"):
        assert expected in patterns
    assert "/components/{slug}/response-time-24h.svg" in patterns
    assert "/probes/heartbeat/{slug}/fail" in patterns
    assert not [p for p in patterns if p.startswith(("/console", "/api/v1"))]


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
