"""A real Celery worker, on its own Redis database, SIGKILLed in the middle of a batch."""

from __future__ import annotations

import asyncio
import collections
import os
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from statuspage import actions
from statuspage.celery import app
from statuspage.models import AuditEntry, ComponentStatus, Event
from statuspage.subscriptions import outbox, sending
from statuspage.subscriptions.models import Delivery, Subscriber
from tests.servers import CeleryWorker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("SUBSCRIPTIONS_TEST_BROKER", "redis://127.0.0.1:6379/7")
RECIPIENTS = 120


def start_worker(name: str, smtp_port: int) -> CeleryWorker:
    return CeleryWorker(
        BROKER,
        "-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
        name=name,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        NOTIFY_BATCH_SIZE="25",
        NOTIFY_PARALLEL_SENDERS="1",
    )  # fmt: skip


def enqueue_senders() -> None:
    with app.connection_for_write(BROKER) as conn:
        app.send_task(
            "statuspage.subscriptions.tasks.send_deliveries", args=["email"], connection=conn
        )


def test_a_killed_worker_loses_nothing_and_repeats_at_most_the_one_in_flight(
    smtp, make_component, subscribe
):
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {BROKER}")

    async def slow():
        await asyncio.sleep(0.02)

    original = smtp.handler.handle_DATA

    async def slow_data(server, session, envelope):
        answer = await original(server, session, envelope)
        await slow()  # recorded, not yet acknowledged: the in-flight window
        return answer

    smtp.handler.handle_DATA = slow_data
    for i in range(RECIPIENTS):
        subscribe(f"u{i:03}@example.com")
    actions.open_incident(
        title="Disbursement delayed",
        body="Payouts are queued.",
        actor=None,
        via=AuditEntry.Via.SYSTEM,
        components={make_component("disbursement"): ComponentStatus.DEGRADED_PERFORMANCE},
    )
    outbox.fan_out_events(Event.objects.last().pk, timezone.now())
    assert Delivery.objects.count() == RECIPIENTS

    first = start_worker("first", smtp.port)
    try:
        enqueue_senders()
        wait_for(lambda: len(smtp.handler.messages) >= 40, 60, "the first worker to send")
    finally:
        first.kill()
    assert Delivery.objects.filter(status="sending").exists(), "killed outside a batch"
    assert Delivery.objects.exclude(status="sent").exists()

    # The beat's sweeper gives the abandoned claims back once the claim timeout has passed.
    later = timezone.now() + timedelta(seconds=3600)
    assert sending.requeue_abandoned(later) > 0
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    second = start_worker("second", smtp.port)
    try:
        enqueue_senders()
        wait_for(
            lambda: not Delivery.objects.exclude(status="sent").exists(), 60, "the second worker"
        )
    finally:
        second.kill()

    received = collections.Counter(m["To"] for m in smtp.handler.messages)
    expected = set(Subscriber.objects.values_list("email", flat=True))
    assert set(received) == expected  # none lost
    repeated = [address for address, n in received.items() if n > 1]
    assert len(repeated) <= 1  # at most the one in flight when the worker died
    assert all(n <= 2 for n in received.values())
