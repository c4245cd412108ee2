"""The sender against a real SMTP server that misbehaves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage import actions
from statuspage.models import AuditEntry, ComponentStatus
from statuspage.subscriptions import sending
from statuspage.subscriptions.models import Delivery, Subscriber
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db
Via = AuditEntry.Via


def incident_with_updates(component, updates=0):
    incident = actions.open_incident(
        title="Credit bureau timeouts",
        body="Investigating.",
        actor=None,
        via=Via.SYSTEM,
        components={component: ComponentStatus.PARTIAL_OUTAGE},
    )
    for i in range(updates):
        actions.post_incident_update(
            incident, status="identified", body=f"update {i}", actor=None, via=Via.SYSTEM
        )
    return incident


def statuses():
    return sorted(Delivery.objects.values_list("status", flat=True))


def test_4xx_is_retried_until_the_server_recovers_and_everything_arrives_once(
    smtp, subscribe, make_component
):
    for i in range(5):
        subscribe(f"u{i}@example.com")
    refusals = {"left": 3}

    def answer(address):
        if refusals["left"]:
            refusals["left"] -= 1
            return "451 4.3.0 try again later"
        return None

    smtp.handler.rcpt_answer = answer
    incident_with_updates(make_component("loans"))
    now = timezone.now()
    run_pipeline(now)
    assert len(smtp.handler.messages) == 2
    retried = Delivery.objects.filter(status="pending")
    assert retried.count() == 3
    assert all(d.next_attempt_at > now and "451" in d.last_error for d in retried)
    # Nothing is retried before its backoff is over.
    run_pipeline(now + timedelta(seconds=1))
    assert len(smtp.handler.messages) == 2
    run_pipeline(now + timedelta(hours=2))
    assert sorted(m["To"] for m in smtp.handler.messages) == [f"u{i}@example.com" for i in range(5)]
    assert statuses() == ["sent"] * 5


def test_5xx_fails_the_delivery_and_suppresses_the_address(smtp, subscribe, make_component):
    subscribe("gone@example.com")
    subscribe("fine@example.com")
    smtp.handler.rcpt_answer = lambda a: (
        "550 5.1.1 no such user" if a == "gone@example.com" else None
    )
    incident = incident_with_updates(make_component("loans"))
    run_pipeline()
    gone = Delivery.objects.get(address="gone@example.com")
    assert gone.status == "failed" and "550" in gone.last_error
    assert Subscriber.objects.get(email="gone@example.com").suppressed_at is not None
    actions.resolve_incident(incident, body="ok", actor=None, via=Via.SYSTEM)
    run_pipeline()
    assert len(smtp.handler.to("fine@example.com")) == 2
    assert smtp.handler.to("gone@example.com") == []


def test_a_server_down_for_a_while_loses_nothing_and_sends_nothing_twice(
    smtp, subscribe, make_component
):
    for i in range(4):
        subscribe(f"u{i}@example.com")
    smtp.stop()
    incident = incident_with_updates(make_component("loans"), updates=1)
    now = timezone.now()
    counts = run_pipeline(now)
    assert counts["sent"] == 0 and counts["retry"] > 0
    assert set(statuses()) == {"pending"}
    actions.resolve_incident(incident, body="ok", actor=None, via=Via.SYSTEM, now=now)
    run_pipeline(now + timedelta(minutes=1))  # still down
    smtp.start()  # back, on the same port
    for minutes in (10, 30, 90, 240):
        run_pipeline(now + timedelta(minutes=minutes))
    assert statuses() == ["sent"] * 12
    for i in range(4):
        subjects = [m["Subject"] for m in smtp.handler.to(f"u{i}@example.com")]
        assert subjects == [
            "[Investigating] Credit bureau timeouts",
            "[Identified] Credit bureau timeouts",
            "[Resolved] Credit bureau timeouts",
        ]


def test_a_later_delivery_waits_while_an_earlier_one_backs_off(smtp, subscribe, make_component):
    subscribe("a@example.com")
    refusals = {"left": 1}

    def answer(address):
        if refusals["left"]:
            refusals["left"] -= 1
            return "421 4.7.0 slow down"
        return None

    smtp.handler.rcpt_answer = answer
    incident = incident_with_updates(make_component("loans"))
    now = timezone.now()
    run_pipeline(now)
    actions.resolve_incident(incident, body="Fixed.", actor=None, via=Via.SYSTEM, now=now)
    run_pipeline(now)
    # The resolution does not overtake the alert that is backing off.
    assert smtp.handler.messages == []
    run_pipeline(now + timedelta(hours=2))
    subjects = [m["Subject"] for m in smtp.handler.messages]
    assert subjects == [
        "[Investigating] Credit bureau timeouts",
        "[Resolved] Credit bureau timeouts",
    ]


def test_two_senders_never_claim_the_same_delivery(subscribe, make_component, settings):
    for i in range(30):
        subscribe(f"u{i}@example.com")
    incident_with_updates(make_component("loans"))
    from statuspage.models import Event
    from statuspage.subscriptions import outbox

    now = timezone.now()
    outbox.fan_out_events(Event.objects.last().pk, now)
    first = sending.claim_batch("email", now, 20)
    second = sending.claim_batch("email", now, 20)
    assert len(first) == 20 and len(second) == 10
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert sending.claim_batch("email", now, 20) == []


def test_abandoned_claims_are_given_back_after_the_timeout(subscribe, make_component, settings):
    subscribe("a@example.com")
    incident_with_updates(make_component("loans"))
    from statuspage.models import Event
    from statuspage.subscriptions import outbox

    now = timezone.now()
    outbox.fan_out_events(Event.objects.last().pk, now)
    [claimed] = sending.claim_batch("email", now, 10)  # ...and the worker dies
    assert (
        sending.requeue_abandoned(now + timedelta(seconds=settings.NOTIFY_CLAIM_TIMEOUT - 1)) == 0
    )
    assert (
        sending.requeue_abandoned(now + timedelta(seconds=settings.NOTIFY_CLAIM_TIMEOUT + 1)) == 1
    )
    assert Delivery.objects.get(pk=claimed.pk).status == "pending"


def test_an_event_is_fanned_out_once(subscribe, make_component):
    subscribe("a@example.com")
    incident_with_updates(make_component("loans"))
    from statuspage.models import Event
    from statuspage.subscriptions import outbox

    event = Event.objects.last()
    assert outbox.fan_out_events(event.pk, timezone.now()) == 1
    assert outbox.fan_out_events(event.pk, timezone.now()) == 0
    assert Delivery.objects.count() == 1


def test_backoff_doubles_with_jitter(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_RETRY_MAX_SECONDS = 3600
    for attempts, full in [(1, 30), (2, 60), (3, 120), (10, 3600)]:
        delay = sending.backoff(attempts).total_seconds()
        assert full / 2 <= delay <= full
