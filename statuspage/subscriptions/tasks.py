"""Celery tasks: thin edges over outbox.py and sending.py. Each takes ids, re-reads rows and
calls one service; time limits are layered (socket timeout < soft < hard limit)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from statuspage.subscriptions import outbox, sending, signup
from statuspage.subscriptions.models import Delivery, Subscriber

# A sender stops claiming new batches after this long and hands over to a fresh task, so that
# the soft limit is never reached in the middle of a batch.
SEND_BUDGET_SECONDS = 120


def start_senders(channels=(Delivery.Channel.EMAIL, Delivery.Channel.WEBHOOK)) -> None:
    for channel in channels:
        for _ in range(settings.NOTIFY_PARALLEL_SENDERS):
            send_deliveries.delay(channel)


@shared_task(ignore_result=True, soft_time_limit=280, time_limit=300)
def fan_out_event(event_id: int) -> None:
    """Fan an event (and any earlier one not yet fanned out) out into deliveries, then start
    the senders."""
    if outbox.fan_out_events(event_id, timezone.now()):
        start_senders()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=270)
def send_deliveries(channel: str) -> None:
    """Send due deliveries of one channel in claimed batches; hand over when the budget is up."""
    sending.deliver_due(channel, budget_seconds=SEND_BUDGET_SECONDS)
    if sending.has_due(channel, timezone.now()):
        send_deliveries.delay(channel)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def handle_subscription_requests() -> None:
    """Start the subscriptions the subscribe form queued, then send their emails."""
    if signup.process_requests(timezone.now()):
        send_deliveries.delay(Delivery.Channel.EMAIL)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def sweep_outbox() -> None:
    """Beat, every minute: whatever a lost task or a dead worker left behind is picked up here,
    so nothing depends on one broker message surviving."""
    now = timezone.now()
    sending.requeue_abandoned(now)
    signup.process_requests(now)
    for event_id in outbox.unclaimed_event_ids(now, timedelta(seconds=60)):
        fan_out_event.delay(event_id)
    outbox.create_due_reminders(now)
    due = [c for c in Delivery.Channel.values if sending.has_due(c, now)]
    if due:
        start_senders(due)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def forget_unconfirmed() -> int:
    """Beat, daily: subscriptions not confirmed within 7 days are deleted."""
    return Subscriber.forget_unconfirmed(timezone.now())
