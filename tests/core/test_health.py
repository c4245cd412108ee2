"""GET /health: the database, the broker, the dispatcher, each vantage point and the outbox;
200 when all are healthy, 503 with the reasons when any is not; never cached."""

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from monitors.models import DispatcherState, Probe
from monitors.results import RunResult, record_result
from statuspage.subscriptions.models import Delivery, Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def probing(clock, make_component):
    """Two vantage points that have just delivered, and a dispatcher that has just run."""
    probe = Probe.objects.create(
        component=make_component("disburse"),
        name="health",
        kind="http",
        config={"url": "http://127.0.0.1:9/"},
        vantage_points=["local", "shanghai"],
        interval_seconds=30,
    )
    deliver(probe, "local")
    deliver(probe, "shanghai")
    DispatcherState.record_run(NOW)
    return probe


def deliver(probe: Probe, vantage_point: str) -> None:
    from django.utils import timezone

    now = timezone.now()
    record_result(probe, vantage_point, RunResult(ok=True, latency_ms=20), now=now)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(client=None):
    response = (client or Client()).get("/health")
    return response, response.json()


def test_it_answers_200_when_all_is_healthy(probing):
    response, body = health()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["reasons"] == [] and body["warnings"] == []
    assert body["database"] == {"ok": True}
    assert body["broker"] == {"ok": True}
    assert body["dispatcher"]["ok"] and body["dispatcher"]["age_seconds"] == 0
    assert body["dispatcher"]["stale_after_seconds"] == 120
    assert sorted(body["vantage_points"]) == ["local", "shanghai"]
    assert body["vantage_points"]["local"]["last_result_at"] == NOW.isoformat()
    assert body["outbox"] == {"ok": True, "due": 0, "oldest_due_seconds": None}


def test_it_is_never_cached(probing):
    response, _ = health()
    assert response["Cache-Control"] == "no-store"
    assert "ETag" not in response


def test_it_is_cheap(probing, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        Client().get("/health")


def test_it_answers_503_naming_a_stalled_dispatcher(probing, clock):
    clock.shift(100)
    deliver(probing, "shanghai")
    clock.shift(60)
    response, body = health()
    assert response.status_code == 503
    assert body["status"] == "failing"
    assert body["reasons"] == ["the dispatcher has not run for 160 s"]
    assert not body["dispatcher"]["ok"]
    assert body["vantage_points"]["shanghai"] == {
        "ok": True,
        "last_result_at": (NOW + timedelta(seconds=100)).isoformat(),
        "age_seconds": 60.0,
        "stale_after_seconds": 120.0,
    }


def test_a_silent_vantage_point_whose_probes_are_heard_elsewhere_is_a_warning(probing, clock):
    clock.shift(100)
    deliver(probing, "shanghai")
    clock.shift(60)
    DispatcherState.record_run(NOW + timedelta(seconds=160))
    response, body = health()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["reasons"] == []
    assert body["warnings"] == [
        "vantage point local has delivered no result for 160 s "
        "(its probes are heard from other vantage points)"
    ]
    assert body["vantage_points"]["local"]["ok"] is False


def test_a_vantage_point_that_leaves_a_probe_unheard_is_a_reason(probing, clock, make_component):
    Probe.objects.create(
        component=make_component("repay"),
        name="only local",
        kind="http",
        vantage_points=["local"],
        interval_seconds=30,
    )
    clock.shift(100)
    deliver(probing, "shanghai")
    clock.shift(60)
    DispatcherState.record_run(NOW + timedelta(seconds=160))
    response, body = health()
    assert response.status_code == 503
    assert body["reasons"] == ["vantage point local has delivered no result for 160 s"]
    assert body["warnings"] == []


def test_an_agent_with_slow_probes_is_held_to_three_of_its_intervals(probing, clock):
    slow = Probe.objects.create(
        component=probing.component,
        name="slow",
        kind="http",
        vantage_points=["edge"],
        interval_seconds=300,
    )
    deliver(slow, "edge")
    clock.shift(600)
    for vantage_point in ("local", "shanghai"):
        deliver(probing, vantage_point)
    DispatcherState.record_run(NOW + timedelta(seconds=600))
    response, body = health()
    assert response.status_code == 200, body["reasons"]
    assert body["vantage_points"]["edge"]["stale_after_seconds"] == 900.0


def test_it_answers_503_when_the_broker_is_down_and_the_database_up(probing, settings):
    port = closed_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response, body = health()
    assert response.status_code == 503
    assert body["reasons"] == ["the broker is unreachable"]
    assert body["database"] == {"ok": True}
    assert body["broker"] == {"ok": False, "error": "OperationalError"}
    assert str(port) not in response.content.decode()  # no addresses in a public answer


def test_it_answers_503_when_notifications_wait_too_long(probing):
    notification = Notification.objects.create(kind=Notification.Kind.STAFF_ALERT, subject="x")
    for minutes in (11, 1):
        Delivery.objects.create(
            notification=notification,
            channel=Delivery.Channel.EMAIL,
            address="oncall@example.com",
            next_attempt_at=NOW - timedelta(minutes=minutes),
        )
    response, body = health()
    assert response.status_code == 503
    assert body["outbox"] == {"ok": False, "due": 2, "oldest_due_seconds": 660.0}
    assert body["reasons"] == ["notifications have waited 660 s to be sent"]


def test_with_no_probe_enabled_monitoring_cannot_stall(db, clock):
    clock.shift(3600)
    response, body = health()
    assert response.status_code == 200
    assert body["dispatcher"]["note"] == "no probe is enabled"


def test_it_refuses_a_post(db):
    assert Client().post("/health").status_code == 405
