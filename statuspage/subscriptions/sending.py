"""Sending deliveries: claim a batch, send it, record what became of each one.

Claiming. A sender selects due `pending` deliveries and moves them to `sending` with a
conditional UPDATE (`... WHERE status = 'pending'`) stamped with its own claim token; only the
rows it changed are its own. On PostgreSQL the select also takes `FOR UPDATE SKIP LOCKED`, so
concurrent senders pick disjoint batches instead of colliding; SQLite serialises writers.

Order per recipient. Deliveries are written in event order (outbox.fan_out_events), so for one
address a lower id is an earlier event. A delivery is claimable only when no delivery with a
lower id for the same address is still `pending` or `sending`: a resolution waits behind the
alert it resolves, even while that alert is backing off after a 4xx.

Failures. SMTP 4xx, connection errors and timeouts are retried with exponential backoff and
jitter; SMTP 5xx fails the delivery and suppresses the address. Webhook 5xx/408/429/timeouts
are retried; other answers fail it, and a run of failures disables the webhook.

Crashes. A claimed batch whose worker died stays `sending`; `requeue_abandoned` returns it to
`pending` after NOTIFY_CLAIM_TIMEOUT. Each delivery is marked sent right after the server
accepted it, so a worker killed between those two steps causes at most that one delivery to be
sent twice; the rest of its batch was either marked or never sent.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import smtplib
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from statuspage.subscriptions import emails, webhooks
from statuspage.subscriptions.models import Delivery, Notification, Subscriber

log = logging.getLogger(__name__)

Status = Delivery.Status
# Subscription emails go to subscribers who are not confirmed yet; everything else needs an
# active (confirmed, not suppressed, not disabled) subscriber.
UNCONFIRMED_OK = frozenset(
    {Notification.Kind.SUBSCRIPTION_CONFIRM, Notification.Kind.SUBSCRIPTION_EXISTING}
)


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: doubling from NOTIFY_RETRY_BASE_SECONDS, capped at
    NOTIFY_RETRY_MAX_SECONDS, with "equal jitter" (half fixed, half random) so that a crowd of
    retries does not hit a recovering server at the same instant."""
    delay = min(
        settings.NOTIFY_RETRY_MAX_SECONDS,
        settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


def claimable(channel: str, now: datetime):
    earlier_unsent = Delivery.objects.filter(
        address=OuterRef("address"),
        pk__lt=OuterRef("pk"),
        status__in=[Status.PENDING, Status.SENDING],
    )
    return Delivery.objects.filter(
        status=Status.PENDING, channel=channel, next_attempt_at__lte=now
    ).exclude(Exists(earlier_unsent))


def claim_batch(channel: str, now: datetime, size: int) -> list[Delivery]:
    """Claim up to `size` due deliveries for this sender; return them (oldest first)."""
    token = secrets.token_hex(8)
    with transaction.atomic():
        candidates = claimable(channel, now).order_by("pk")
        if db_connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("pk", flat=True)[:size])
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.SENDING, claimed_at=now, claimed_by=token, updated_at=now
        )
    claimed = list(
        Delivery.objects.filter(claimed_by=token, status=Status.SENDING)
        .select_related("subscriber")
        .order_by("pk")
    )
    # A batch is mostly one notification to many recipients: each notification (with what it
    # is about) is loaded once and shared, not joined into every row. That took a seventh of
    # the sender's CPU time per email (benchmarks/fanout.py).
    notifications = Notification.objects.select_related(
        "event__incident_update",
        "event__maintenance_update",
        "event__component",
        "incident",
        "maintenance",
    ).in_bulk({delivery.notification_id for delivery in claimed})
    for delivery in claimed:
        delivery.notification = notifications[delivery.notification_id]
    return claimed


# --- recording outcomes -------------------------------------------------------------------


def mark_sent(delivery: Delivery, now: datetime) -> None:
    """Record one accepted message at once: this is what bounds a crash to one duplicate."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENT,
        sent_at=now,
        attempts=F("attempts") + 1,
        last_error="",
        updated_at=now,
    )


@contextlib.contextmanager
def commits_without_flush():
    """On PostgreSQL, let this session's commits return before the WAL flush while a batch is
    marked. Each mark is still visible to every other session at once (a killed worker loses
    nothing); only a crash of the database server itself in the next fraction of a second could
    lose a mark, and that message would be sent again. One flush per email would otherwise cost
    more than sending it."""
    if db_connection.vendor != "postgresql":
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def mark_dropped(delivery: Delivery, reason: str, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.DROPPED, last_error=reason[:500], updated_at=now
    )


def mark_failed(delivery: Delivery, reason: str, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, attempts=F("attempts") + 1, last_error=reason[:500], updated_at=now
    )


def retry_later(delivery: Delivery, reason: str, now: datetime) -> bool:
    """Put the delivery back with a backoff; fail it after NOTIFY_MAX_ATTEMPTS. Returns True
    when it will be retried."""
    attempts = delivery.attempts + 1
    if attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        mark_failed(delivery, f"gave up after {attempts} attempts: {reason}", now)
        return False
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.PENDING,
        attempts=attempts,
        next_attempt_at=now + backoff(attempts),
        claimed_by="",
        last_error=reason[:500],
        updated_at=now,
    )
    return True


def release(deliveries: list[Delivery], reason: str, now: datetime) -> None:
    """Give back deliveries that were never tried (the connection broke before them)."""
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries], status=Status.SENDING).update(
        status=Status.PENDING,
        next_attempt_at=now + backoff(1),
        claimed_by="",
        last_error=reason[:500],
        updated_at=now,
    )


def suppress(subscriber: Subscriber | None, reason: str, now: datetime) -> None:
    if subscriber is not None:
        Subscriber.objects.filter(pk=subscriber.pk).update(
            suppressed_at=now, suppressed_reason=reason[:300]
        )


def reason_to_drop(delivery: Delivery, now: datetime, stale: dict[int, str]) -> str:
    """Why this delivery must not be sent any more (empty when it may)."""
    notification_id = delivery.notification_id
    if notification_id not in stale:
        stale[notification_id] = delivery.notification.reason_to_drop(now)
    if stale[notification_id]:
        return stale[notification_id]
    if delivery.to_staff:
        return ""
    subscriber = delivery.subscriber
    if subscriber is None:
        return "unsubscribed"
    if subscriber.suppressed_at is not None:
        return "address suppressed"
    if subscriber.disabled_at is not None:
        return "webhook disabled"
    if subscriber.confirmed_at is None and delivery.notification.kind not in UNCONFIRMED_OK:
        return "not confirmed"
    return ""


# --- email ----------------------------------------------------------------------------------


def smtp_code(exc: smtplib.SMTPException) -> int:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return max(codes) if codes else 0
    return getattr(exc, "smtp_code", 0) or 0


def send_email_batch(deliveries: list[Delivery], now: datetime) -> dict[str, int]:
    """Send claimed email deliveries over one SMTP connection."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    stale: dict[int, str] = {}
    rendered: dict[tuple, emails.Rendered] = {}
    mail = get_connection()
    try:
        mail.open()
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"cannot connect: {type(exc).__name__}: {exc}"
        for delivery in deliveries:
            counts["retry" if retry_later(delivery, reason, now) else "failed"] += 1
        return counts
    with commits_without_flush():
        try:
            for index, delivery in enumerate(deliveries):
                reason = reason_to_drop(delivery, now, stale)
                if reason:
                    mark_dropped(delivery, reason, now)
                    counts["dropped"] += 1
                    continue
                key = (delivery.notification_id, delivery.language, delivery.to_staff)
                if key not in rendered:
                    rendered[key] = emails.render(
                        delivery.notification, delivery.language, delivery.to_staff
                    )
                message = emails.build_message(delivery, rendered[key], mail)
                try:
                    mail.send_messages([message])
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                    code = smtp_code(exc)
                    reason = f"SMTP {code}: {exc}"
                    if code >= 500:
                        mark_failed(delivery, reason, now)
                        suppress(delivery.subscriber, reason, now)
                        counts["failed"] += 1
                    else:
                        counts["retry" if retry_later(delivery, reason, now) else "failed"] += 1
                except (smtplib.SMTPException, OSError) as exc:
                    # The connection is gone (or the server refuses us as a sender): retry this
                    # one, give back the rest untried.
                    reason = f"{type(exc).__name__}: {exc}"
                    counts["retry" if retry_later(delivery, reason, now) else "failed"] += 1
                    release(deliveries[index + 1 :], reason, now)
                    counts["retry"] += len(deliveries) - index - 1
                    break
                else:
                    mark_sent(delivery, now)
                    counts["sent"] += 1
        finally:
            try:
                mail.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not lose counts
                pass
    return counts


# --- webhooks -------------------------------------------------------------------------------


# Called as listener(subscriber, reason, now) when a webhook is disabled for failing;
# statuspage.channels tells the staff channels that want "deliveries failing".
WEBHOOK_DISABLED_LISTENERS: list = []


def record_webhook_failure(delivery: Delivery, reason: str, now: datetime) -> None:
    """Count a permanent failure; disable the webhook after a run of them."""
    subscriber = delivery.subscriber
    Subscriber.objects.filter(pk=subscriber.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    subscriber.refresh_from_db(fields=["consecutive_failures"])
    if subscriber.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER:
        disabled = Subscriber.objects.filter(pk=subscriber.pk, disabled_at__isnull=True).update(
            disabled_at=now,
            disabled_reason=(
                f"{subscriber.consecutive_failures} failed deliveries in a row; last: {reason}"
            )[:300],
        )
        if disabled:
            for listener in WEBHOOK_DISABLED_LISTENERS:
                listener(subscriber, reason, now)


def send_webhook_batch(deliveries: list[Delivery], now: datetime) -> dict[str, int]:
    counts = {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    stale: dict[int, str] = {}
    payloads: dict[int, dict] = {}
    for delivery in deliveries:
        reason = reason_to_drop(delivery, now, stale)
        if reason:
            mark_dropped(delivery, reason, now)
            counts["dropped"] += 1
            continue
        if delivery.notification_id not in payloads:
            payloads[delivery.notification_id] = webhooks.payload(delivery.notification)
        outcome = webhooks.post(delivery, payloads[delivery.notification_id], now)
        if outcome.ok:
            mark_sent(delivery, now)
            Subscriber.objects.filter(pk=delivery.subscriber_id).update(consecutive_failures=0)
            counts["sent"] += 1
        elif outcome.transient and retry_later(delivery, outcome.reason, now):
            counts["retry"] += 1
        else:
            if not outcome.transient:
                mark_failed(delivery, outcome.reason, now)
            record_webhook_failure(delivery, outcome.reason, now)
            counts["failed"] += 1
    return counts


SENDERS = {
    Delivery.Channel.EMAIL: send_email_batch,
    Delivery.Channel.WEBHOOK: send_webhook_batch,
}


def deliver_due(
    channel: str, *, now: datetime | None = None, budget_seconds: float | None = None
) -> dict[str, int]:
    """Claim and send batches until none is due (or the time budget is spent)."""
    totals = {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    started = time.monotonic()
    while budget_seconds is None or time.monotonic() - started < budget_seconds:
        batch_now = now or timezone.now()
        batch = claim_batch(channel, batch_now, settings.NOTIFY_BATCH_SIZE)
        if not batch:
            break
        for key, value in SENDERS[channel](batch, batch_now).items():
            totals[key] += value
    return totals


def requeue_abandoned(now: datetime) -> int:
    """Give back deliveries claimed longer than NOTIFY_CLAIM_TIMEOUT ago (their worker died or
    lost its task); return how many."""
    cutoff = now - timedelta(seconds=settings.NOTIFY_CLAIM_TIMEOUT)
    return Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.PENDING, claimed_by="", next_attempt_at=now, updated_at=now
    )


def has_due(channel: str, now: datetime) -> bool:
    return Delivery.objects.filter(
        status=Status.PENDING, channel=channel, next_attempt_at__lte=now
    ).exists()


def resend(delivery_ids: list[int], now: datetime) -> int:
    """Staff: queue failed deliveries again (a suppressed address is un-suppressed)."""
    failed = Delivery.objects.filter(pk__in=delivery_ids, status=Status.FAILED)
    Subscriber.objects.filter(
        pk__in=failed.values("subscriber_id"), suppressed_at__isnull=False
    ).update(suppressed_at=None, suppressed_reason="")
    return failed.update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, claimed_by="", updated_at=now
    )
