"""Webhooks to a real local HTTP receiver."""

import ipaddress
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage import actions
from statuspage.celery import app
from statuspage.models import AuditEntry, ComponentStatus
from statuspage.subscriptions import webhooks
from statuspage.subscriptions.models import Delivery, Subscriber
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db
Via = AuditEntry.Via


def open_incident(component):
    return actions.open_incident(
        title="Gateway errors",
        body="Investigating.",
        actor=None,
        via=Via.SYSTEM,
        components={component: ComponentStatus.MAJOR_OUTAGE},
    )


def test_it_posts_a_statuspage_style_payload_with_a_valid_signature(
    receiver, subscribe, make_component, settings
):
    settings.SITE_URL = "https://status.example.com"
    hook = subscribe(receiver.url, kind="webhook")
    open_incident(make_component("api-gateway"))
    run_pipeline()
    # The incident, and the component status change it caused.
    assert len(receiver.requests) == 2
    request = receiver.requests[0]
    headers = request["headers"]
    assert webhooks.verify(
        hook.secret,
        headers["X-Statuspage-Timestamp"],
        request["body"],
        headers["X-Statuspage-Signature"],
        now=time.time(),
    )
    assert not webhooks.verify(
        "wrong-secret",
        headers["X-Statuspage-Timestamp"],
        request["body"],
        headers["X-Statuspage-Signature"],
        now=time.time(),
    )
    body = receiver.json(0)
    assert body["meta"]["unsubscribe"].startswith("https://status.example.com/subscriptions/")
    assert body["page"]["status_indicator"] in {"minor", "major", "critical"}
    assert body["incident"]["name"] == "Gateway errors"
    assert body["incident"]["incident_updates"][0]["body"] == "Investigating."
    component_change = receiver.json(1)
    assert component_change["component_update"]["new_status"] == "major_outage"
    assert component_change["component"]["name"] == "Api Gateway"


def test_a_component_update_webhook_is_sent_on_commit_without_the_sweep(
    receiver, subscribe, make_component, staff, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, kind="webhook")
    gateway = make_component("api-gateway")
    app.conf.task_always_eager = True  # the tasks enqueued on commit run here, in turn
    try:
        with django_capture_on_commit_callbacks(execute=True):
            actions.set_component_status(gateway, "major_outage", actor=staff, via=Via.CONSOLE)
    finally:
        app.conf.task_always_eager = False
    assert len(receiver.requests) == 1
    assert receiver.json(0)["component_update"]["new_status"] == "major_outage"
    assert receiver.json(0)["component"]["name"] == "Api Gateway"


def test_a_stale_timestamp_does_not_verify():
    body = b"{}"
    signature = webhooks.sign("s", 1000, body)
    assert webhooks.verify("s", "1000", body, signature, now=1000 + 60)
    assert not webhooks.verify("s", "1000", body, signature, now=1000 + 3600)


def test_5xx_is_retried_with_backoff_then_delivered_once(receiver, subscribe, make_component):
    subscribe(receiver.url, kind="webhook", components=[])
    receiver.answers = [503, 502]
    component = make_component("api-gateway")
    now = timezone.now()
    open_incident(component)
    run_pipeline(now)
    assert Delivery.objects.filter(status="pending").count() == 2
    for hours in (2, 4, 6):
        run_pipeline(now + timedelta(hours=hours))
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sent", "sent"]
    # 503, 502, then one success each: nothing delivered twice.
    assert len(receiver.requests) == 4


def test_a_run_of_permanent_failures_disables_the_webhook(
    receiver, subscribe, make_component, settings
):
    settings.WEBHOOK_DISABLE_AFTER = 3
    hook = subscribe(receiver.url, kind="webhook")
    receiver.answers = [410] * 10
    incident = open_incident(make_component("api-gateway"))
    for i in range(2):
        actions.post_incident_update(
            incident, status="identified", body=f"u{i}", actor=None, via=Via.SYSTEM
        )
    run_pipeline()
    hook.refresh_from_db()
    assert hook.disabled_at is not None
    assert hook.disabled_reason == "3 failed deliveries in a row; last: could not deliver"
    assert Delivery.objects.filter(status="failed").count() == 3
    # What was still queued for it is dropped, and nothing new is queued.
    assert Delivery.objects.filter(status="dropped", last_error="webhook disabled").exists()
    requests_before = len(receiver.requests)
    actions.resolve_incident(incident, body="ok", actor=None, via=Via.SYSTEM)
    run_pipeline()
    assert len(receiver.requests) == requests_before
    assert Subscriber.objects.get(pk=hook.pk).disabled_at is not None


def test_a_dead_endpoint_is_retried_as_transient(subscribe, make_component, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    subscribe("http://127.0.0.1:9/hook", kind="webhook")
    open_incident(make_component("api-gateway"))
    run_pipeline()
    delivery = Delivery.objects.filter(channel="webhook").first()
    assert delivery.status == "pending"
    # The same words as for any other failure: staff cannot tell a closed port from an open one.
    assert delivery.last_error == "could not deliver"
