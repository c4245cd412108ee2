"""The outbox's sender for staff channels (Delivery.Channel.CHAT): one request per delivery,
with the platform's signature; transient failures retry with the outbox's backoff."""

from __future__ import annotations

from datetime import datetime

import requests
from django.conf import settings
from django.core.mail import send_mail

from statuspage.channels import platforms
from statuspage.subscriptions import outbound
from statuspage.subscriptions.models import Delivery
from statuspage.subscriptions.sending import mark_dropped, mark_failed, mark_sent, retry_later
from statuspage.subscriptions.webhooks import TRANSIENT_STATUSES


def message_for(delivery: Delivery) -> platforms.Message:
    staff_message = delivery.notification.staff_message
    title, body = staff_message.text(delivery.language)
    return platforms.Message(
        event=staff_message.event or "test",
        title=title,
        body=body,
        link=settings.SITE_URL + staff_message.path,
        language=delivery.language,
        is_test=staff_message.is_test,
    )


def send_one(delivery: Delivery, now: datetime) -> tuple[bool, bool, str]:
    """(ok, transient, reason) of one attempt."""
    channel = delivery.staff_channel
    message = message_for(delivery)
    if channel.kind == "email":
        try:
            send_mail(
                message.title,
                f"{message.body}\n\n{message.link}\n",
                settings.DEFAULT_FROM_EMAIL,
                [channel.url],
            )
        except OSError as error:
            return False, True, f"email: {type(error).__name__}: {error}"[:300]
        return True, False, ""
    request = platforms.build(channel.kind, channel.url, channel.secret, message, now)
    try:
        # Connects only to addresses the webhook rules allow, checked at connection time.
        with outbound.guarded_session() as session:
            response = session.post(
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
                allow_redirects=False,
            )
    except requests.RequestException as error:
        if outbound.is_blocked(error):
            return False, False, "the URL's host resolves to an address channels may not reach"
        if isinstance(error, requests.Timeout):
            return False, True, "timed out"
        if isinstance(error, requests.ConnectionError):
            return False, True, f"connection error: {type(error).__name__}"
        return False, False, f"request error: {error}"[:300]
    if not 200 <= response.status_code < 300:
        return False, response.status_code in TRANSIENT_STATUSES, f"HTTP {response.status_code}"
    refused = platforms.platform_error(channel.kind, response.status_code, response.text[:2000])
    return not refused, False, refused


def send_chat_batch(deliveries: list[Delivery], now: datetime) -> dict[str, int]:
    counts = {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    for delivery in deliveries:
        channel = delivery.staff_channel
        if channel is None or not channel.is_enabled:
            mark_dropped(delivery, "the channel is gone or disabled", now)
            counts["dropped"] += 1
            continue
        ok, transient, reason = send_one(delivery, now)
        if ok:
            mark_sent(delivery, now)
            counts["sent"] += 1
        elif transient and retry_later(delivery, reason, now):
            counts["retry"] += 1
        else:
            if not transient:
                mark_failed(delivery, reason, now)
            counts["failed"] += 1
    return counts
