import gzip
import tempfile
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from statuspage import actions
from statuspage.models import SiteState
from statuspage.public.caching import clear_public_cache, public_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
SUMMARY = "/api/v2/summary.json"


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_second_request_is_one_query(db, client):
    worlds.busy(NOW)
    first = client.get(SUMMARY)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(SUMMARY)
    assert len(queries) == 1
    assert "version" in queries[0]["sql"]
    assert second.content == first.content


def test_it_answers_304_to_a_matching_etag(db, client):
    worlds.components()
    etag = client.get(SUMMARY)["ETag"]
    response = client.get(SUMMARY, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Access-Control-Allow-Origin"] == "*"


def test_it_answers_200_to_a_stale_etag(db, client):
    worlds.components()
    assert client.get(SUMMARY, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_it_answers_304_when_not_modified_since(db, client):
    worlds.components()
    SiteState.bump(NOW)
    last_modified = client.get(SUMMARY)["Last-Modified"]
    assert client.get(SUMMARY, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    earlier = http_date((NOW - timedelta(hours=1)).timestamp())
    assert client.get(SUMMARY, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_it_lets_caches_keep_and_revalidate(db, client, settings):
    settings.PUBLIC_CACHE_MAX_AGE = 15
    response = client.get(SUMMARY)
    assert response["Cache-Control"] == (
        "public, max-age=15, stale-while-revalidate=60, stale-if-error=86400"
    )
    assert response["Last-Modified"]


def open_incident(c):
    def change():
        actions.open_incident(
            title="New",
            body="Looking.",
            actor=None,
            via="system",
            components={c["loan-app"]: "major_outage"},
        )

    return change


def update_incident(c):
    incident = actions.open_incident(title="New", body="Looking.", actor=None, via="system")
    return lambda: actions.post_incident_update(
        incident, status="monitoring", body="Fix deployed.", actor=None, via="system"
    )


def resolve_incident(c):
    incident = actions.open_incident(title="New", body="Looking.", actor=None, via="system")
    return lambda: actions.resolve_incident(incident, body="Fixed.", actor=None, via="system")


def schedule_maintenance(c):
    def change():
        actions.schedule_maintenance(
            title="Window",
            starts_at=NOW + timedelta(hours=1),
            ends_at=NOW + timedelta(hours=2),
            actor=None,
            via="system",
        )

    return change


def start_maintenance(c):
    actions.schedule_maintenance(
        title="Window",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=2),
        actor=None,
        via="system",
        components=[c["bureau"]],
    )
    return lambda: actions.advance_maintenances()


def set_component_status(c):
    def change():
        actions.set_component_status(c["bureau"], "degraded_performance", actor=None, via="system")

    return change


def apply_a_config(c):
    def change():
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "config.yaml"
            path.write_text(
                "components:\n"
                "  - slug: bureau\n"
                "    name: Credit bureau (renamed)\n"
                "  - slug: new-one\n"
                "    name: A new component\n"
            )
            call_command("apply_config", str(path), stdout=StringIO())

    return change


CHANGES = [
    open_incident,
    update_incident,
    resolve_incident,
    schedule_maintenance,
    start_maintenance,
    set_component_status,
    apply_a_config,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_every_kind_of_change_invalidates_the_cache(db, client, change):
    c = worlds.components()
    prepared = change(c)
    before = client.get(SUMMARY)
    prepared()
    after = client.get(SUMMARY)
    assert after.content != before.content
    assert client.get(SUMMARY, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_an_internal_note_does_not_change_anything(db, client):
    world = worlds.busy(NOW)
    before = client.get(SUMMARY)
    actions.add_note(body="internal", actor=None, via="system", incident=world["open"])
    assert client.get(SUMMARY, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304


# The decorator itself, on small HTML views.

rendered = []


@public_cache
def page(request):
    rendered.append(request.LANGUAGE_CODE)
    return HttpResponse(f"<p>page in {request.LANGUAGE_CODE}</p>")


@public_cache
def page_with_a_form(request):
    return HttpResponse(f"<form>{get_token(request)}</form>")


def html_request(language="en", **extra):
    request = RequestFactory().get("/page", **extra)
    request.LANGUAGE_CODE = language
    return request


def test_pages_vary_on_language_and_cookie(db):
    response = page(html_request())
    assert "Accept-Language" in response["Vary"]
    assert "Cookie" in response["Vary"]
    assert "Access-Control-Allow-Origin" not in response


def test_each_language_is_cached_apart(db):
    rendered.clear()
    assert page(html_request("en")).content == b"<p>page in en</p>"
    assert page(html_request("zh-hans")).content == b"<p>page in zh-hans</p>"
    assert page(html_request("en")).content == b"<p>page in en</p>"
    assert rendered == ["en", "zh-hans"]


def test_a_signed_in_visitor_gets_a_fresh_private_page(db, settings):
    rendered.clear()
    page(html_request())
    response = page(html_request(HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=abc"))
    assert response["Cache-Control"] == "private, no-cache"
    assert rendered == ["en", "en"]


def test_a_page_with_a_csrf_token_is_never_shared(db):
    first = page_with_a_form(html_request())
    second = page_with_a_form(html_request())
    assert first["Cache-Control"] == "private, no-cache"
    assert first.content != second.content


@pytest.mark.parametrize("path", ["/", "/history", "/components/bureau"])
def test_the_public_pages_are_cached_per_language(db, client, path):
    worlds.busy(NOW)
    first = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == 200
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in first["Vary"].split(",")}
    with CaptureQueriesContext(connection) as queries:
        again = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert len(queries) == 1
    assert again.content == first.content
    chinese = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.content != first.content
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_version_is_remembered_for_a_moment(db, client, settings, monkeypatch):
    from statuspage.public import caching

    settings.PUBLIC_VERSION_TTL_MS = 1000
    clock = [1000.0]
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(caching, "_last_read", None)
    c = worlds.components()
    before = client.get(SUMMARY)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SUMMARY).content == before.content
    assert len(queries) == 0
    actions.set_component_status(c["bureau"], "major_outage", actor=None, via="system")
    clock[0] += 0.5
    assert client.get(SUMMARY).content == before.content, "still the version read 0.5 s ago"
    clock[0] += 0.6
    assert client.get(SUMMARY).content != before.content


def test_it_sends_gzip_to_clients_that_accept_it(db, client):
    worlds.busy(NOW)
    plain = client.get(SUMMARY)
    compressed = client.get(SUMMARY, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) < len(plain.content) / 3
    assert "Accept-Encoding" in plain["Vary"] and "Accept-Encoding" in compressed["Vary"]
    assert compressed["ETag"] != plain["ETag"]
    again = client.get(SUMMARY, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=compressed["ETag"])
    assert again.status_code == 304


def test_the_near_cache_is_bounded_and_expires(monkeypatch):
    from statuspage.public import caching

    clock = [0.0]
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock[0])
    near = caching.NearCache(size=2)
    body = caching.CachedBody(b"x", "text/plain", '"x"')
    near.set("a", body, timeout=10)
    near.set("b", body, timeout=10)
    assert near.get("a") is body  # a is now the most recently used
    near.set("c", body, timeout=10)
    assert near.get("b") is None
    assert near.get("a") is body
    clock[0] = 11
    assert near.get("a") is None
