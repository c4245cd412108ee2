"""A kept public response answers before the session, locale, CSRF, authentication, messages
and two-factor middleware run (statuspage.public.early_answers.PublicCacheMiddleware), in the
language Django's LocaleMiddleware would have picked, with the headers the whole way gives."""

import sys
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.test import Client, RequestFactory

from statuspage.models import SiteState
from statuspage.public.caching import cache_key, site_version
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PATHS = [
    "/",
    "/history",
    "/history?page=1",
    "/components/bureau",
    "/api/v2/summary.json",
    "/feeds/incidents.rss",
    "/badge.svg",
    "/badge.svg?lang=zh-hans",
    "/calendar/maintenance.ics",
]
LANGUAGE_CHOICES = [
    {"HTTP_ACCEPT_LANGUAGE": "en"},
    {"HTTP_ACCEPT_LANGUAGE": "zh-hans"},
    {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.8"},
    {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"},
    {"HTTP_ACCEPT_LANGUAGE": "fr, zh-Hans;q=0.5"},
    {},
    {"HTTP_COOKIE": "django_language=zh-hans", "HTTP_ACCEPT_LANGUAGE": "en"},
    {"HTTP_COOKIE": "django_language=en", "HTTP_ACCEPT_LANGUAGE": "zh-hans"},
    {"HTTP_COOKIE": "django_language=xx", "HTTP_ACCEPT_LANGUAGE": "zh-hans"},
    {"HTTP_COOKIE": "csrftoken=abc; django_language=zh-hans"},
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def answered_early(response) -> bool:
    """The session middleware never saw the request."""
    return not hasattr(response.wsgi_request, "session")


def comparable(response) -> dict:
    return {name: value for name, value in response.items() if name != "Date"}


def django_pick(headers: dict) -> str:
    request = RequestFactory().get("/", **headers)
    LocaleMiddleware(lambda request: HttpResponse())(request)
    return request.LANGUAGE_CODE


@pytest.mark.parametrize("path", PATHS)
def test_a_kept_response_answers_early_with_the_same_headers(db, client, path):
    worlds.busy(NOW)
    whole_way = client.get(path)
    assert whole_way.status_code == 200
    assert not answered_early(whole_way)
    early = client.get(path)
    assert answered_early(early)
    assert early.content == whole_way.content
    assert comparable(early) == comparable(whole_way)
    not_modified = client.get(path, HTTP_IF_NONE_MATCH=whole_way["ETag"])
    assert answered_early(not_modified)
    assert not_modified.status_code == 304


def test_the_early_answer_keeps_the_security_headers(db, client, settings):
    worlds.busy(NOW)
    client.get("/")
    early = client.get("/")
    assert answered_early(early)
    assert early["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert early["X-Frame-Options"] == "DENY"
    assert early["X-Content-Type-Options"] == "nosniff"
    assert early["Content-Language"] == "en"
    assert early["Cache-Control"].startswith("public, max-age=")


@pytest.mark.parametrize("headers", LANGUAGE_CHOICES, ids=lambda h: repr(h))
def test_the_early_answer_is_in_the_language_django_picks(db, headers):
    worlds.busy(NOW)
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/")
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/")
    assert english.content != chinese.content
    response = Client(**headers).get("/")
    expected = django_pick(headers)
    assert answered_early(response)
    assert response["Content-Language"] == expected
    assert response.content == {"en": english, "zh-hans": chinese}[expected].content


def test_a_signed_in_visitor_goes_the_whole_way_and_sees_the_public_page(db, client, staff):
    worlds.busy(NOW)
    public = client.get("/")
    client.force_login(staff)
    signed_in = client.get("/")
    assert not answered_early(signed_in)
    assert signed_in.wsgi_request.user == staff
    assert signed_in["Cache-Control"] == "private, no-cache"
    assert signed_in.content == public.content, "no per-visitor content on a public page"
    assert answered_early(Client().get("/"))


def test_a_bump_makes_the_early_answer_miss(db, client):
    worlds.busy(NOW)
    client.get("/")
    assert answered_early(client.get("/"))
    SiteState.bump(NOW)
    assert not answered_early(client.get("/"))


def test_junk_and_posts_go_the_whole_way(db, client):
    worlds.busy(NOW)
    client.get("/")
    assert not answered_early(client.get("/?utm_source=mail"))
    assert not answered_early(client.get("/?utm_source=mail"))
    assert client.post("/").status_code == 405


def test_a_badge_in_the_address_language_is_not_the_readers_kept_one(db, client):
    worlds.busy(NOW)
    english = client.get("/badge.svg")
    chinese = client.get("/badge.svg?lang=zh-hans")
    assert "状态".encode() in chinese.content
    assert chinese.content != english.content


def test_only_the_cached_views_addresses_are_looked_up(settings):
    from statuspage.public.early_answers import serves_kept_answers

    looked_up = {
        path: serves_kept_answers(settings.ROOT_URLCONF, path)
        for path in ("/", "/api/v2/summary.json", "/badge.svg", "/console/", "/health", "/nope")
    }
    assert looked_up == {
        "/": True,
        "/api/v2/summary.json": True,
        "/badge.svg": True,
        "/console/": False,
        "/health": False,
        "/nope": False,
    }


class Gone:
    """An entry written by another release of the code, whose class has since moved."""


def test_an_entry_another_release_wrote_is_a_miss_not_an_error(db, client, monkeypatch):
    worlds.busy(NOW)
    version, changed_at = site_version()
    key = cache_key(changed_at, "en", "/", "")
    caches["public"].set(f"{key}:identity:answer", Gone(), version=version)
    monkeypatch.delattr(sys.modules[__name__], "Gone")
    response = client.get("/")
    assert response.status_code == 200
    assert b"<html" in response.content
