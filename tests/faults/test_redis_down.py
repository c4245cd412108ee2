"""The site under gunicorn with its broker and cache on a private Redis that the test stops
and starts again: pages are still rendered, and a committed write still answers 201."""

import json

import pytest
import redis
from django.utils import timezone

from statuspage.api.tokens import issue_token
from statuspage.models import Event, Incident
from tests.public import worlds
from tests.servers import LiveSite, PrivateRedis, test_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BROKER_DB, CACHE_DB = 0, 1


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, redis_server):
    live = LiveSite(
        tmp_path,
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=redis_server.url(BROKER_DB),
        CACHE_URL=redis_server.url(CACHE_DB),
        STATIC_SNAPSHOT_DIR="",
    )
    yield live
    live.output = live.stop()


def open_incident(site: LiveSite, token: str, key: str, name: str = "Payouts delayed"):
    body = json.dumps({"name": name, "body": "We are on it."}).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    return site.request("POST", "/api/v1/incidents", body, **headers)


def test_pages_render_and_writes_answer_201_while_redis_is_down(redis_server, site, staff):
    worlds.busy(timezone.now())
    token = issue_token(staff)[1]
    cache = redis.Redis.from_url(redis_server.url(CACHE_DB))
    broker = redis.Redis.from_url(redis_server.url(BROKER_DB))

    assert site.get("/")[0] == 200
    assert cache.dbsize() > 0, "the page is cached in Redis while Redis is up"

    redis_server.stop()
    # Pages this process never cached: rendered, not a 500.
    for path in ("/history", "/components/bureau", "/api/v2/summary.json", "/feeds/incidents.rss"):
        status, headers, _ = site.get(path)
        assert status == 200, path
    status, _, body = open_incident(site, token, "outage-1")
    assert status == 201, body
    created = json.loads(body)
    event = Event.objects.get(incident_id=created["id"])
    assert event.fanned_out_at is None, "left to the outbox sweeper"
    # The client's retry (it may not have seen the answer) creates nothing.
    status, headers, again = open_incident(site, token, "outage-1")
    assert (status, again, headers["Idempotent-Replayed"]) == (201, body, "true")
    assert Incident.objects.filter(title="Payouts delayed").count() == 1

    redis_server.start()
    assert site.get("/history")[0] == 200
    assert cache.dbsize() > 0, "cached again once Redis is back"
    status, _, body = open_incident(site, token, "after-outage", "Payouts delayed again")
    assert status == 201
    assert broker.llen("default") == 1, "the fan-out task is queued again"


def test_the_enqueue_failure_is_logged(redis_server, site, staff):
    token = issue_token(staff)[1]
    redis_server.stop()
    assert open_incident(site, token, "logged")[0] == 201
    output = site.stop()
    assert "Could not enqueue statuspage.subscriptions.tasks.fan_out_event" in output
