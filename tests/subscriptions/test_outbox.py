from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from statuspage import actions
from statuspage.models import AuditEntry, ComponentStatus, Event
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Delivery

pytestmark = pytest.mark.django_db
Via = AuditEntry.Via


def two_events(component):
    incident = actions.open_incident(
        title="Repayments delayed",
        body="Looking.",
        actor=None,
        via=Via.SYSTEM,
        components={component: ComponentStatus.PARTIAL_OUTAGE},
    )
    actions.resolve_incident(incident, body="Done.", actor=None, via=Via.SYSTEM)
    return list(Event.objects.filter(incident=incident).order_by("pk"))


def test_a_later_event_fans_out_the_earlier_ones_first(subscribe, make_component):
    subscribe("a@example.com")
    opened, resolved = two_events(make_component("repayment"))
    # The task for the resolution runs first (the one for the opening was lost or is late).
    outbox.fan_out_events(resolved.pk, timezone.now())
    kinds = list(Delivery.objects.order_by("pk").values_list("notification__kind", flat=True))
    assert kinds == ["incident_opened", "incident_resolved"]
    assert outbox.fan_out_events(opened.pk, timezone.now()) == 0


def test_the_sweeper_finds_events_no_task_claimed(subscribe, make_component):
    subscribe("a@example.com")
    two_events(make_component("repayment"))
    events = list(Event.objects.order_by("pk"))  # the incident's, and the status changes'
    now = timezone.now()
    assert outbox.unclaimed_event_ids(now, timedelta(seconds=60)) == []
    later = now + timedelta(minutes=2)
    assert outbox.unclaimed_event_ids(later, timedelta(seconds=60)) == [e.pk for e in events]
    outbox.fan_out_events(events[-1].pk, later)
    assert outbox.unclaimed_event_ids(later, timedelta(seconds=60)) == []


def test_fan_out_reads_subscribers_in_bounded_batches(subscribe, make_component, monkeypatch):
    monkeypatch.setattr(outbox, "FAN_OUT_BATCH", 10)
    for i in range(45):
        subscribe(f"u{i}@example.com")
    opened, _ = two_events(make_component("repayment"))
    with CaptureQueriesContext(connection) as queries:
        assert outbox.fan_out_events(opened.pk, timezone.now()) == 45
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "subscriptions_subscriber"' in q["sql"]
    ]
    # Emails: 5 batches of at most 10, then an empty one; webhooks: one empty batch.
    assert len(reads) == 7
    assert all("LIMIT 10" in sql for sql in reads)
    assert Delivery.objects.values("address").distinct().count() == 45
