"""Subscriber deliveries that keep failing: one staff alert ("deliveries failing") when it starts
and one when it ends, not one per delivery.

A channel (email, webhooks) is in trouble when
- a delivery has waited DELIVERIES_FAILING_AFTER_MINUTES and nothing of that channel was sent
  since it was queued (the SMTP relay is down, the senders are stuck), or
- its last DELIVERIES_FAILING_COUNT finished deliveries all failed (a relay that refuses every
  address, an egress that blocks every webhook).
One subscriber's broken endpoint is not trouble: the others' deliveries get through, and that
webhook is disabled on its own (`sending.record_webhook_failure`). The beat runs `watch`
every minute (`statuspage.tasks.watch_deliveries`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from statuspage.subscriptions.models import Delivery, DeliveryTrouble
from statuspage.subscriptions.staff import alert_staff

Status = Delivery.Status
SUBSCRIBER_CHANNELS = (Delivery.Channel.EMAIL, Delivery.Channel.WEBHOOK)
EVENT = "deliveries_failing"  # statuspage.channels.models.ChannelEvent.DELIVERIES_FAILING
PATH = "/console/subscribers/notifications/"


def channel_trouble(channel: str, now: datetime) -> tuple[datetime, str] | None:
    """(since when, why) when `channel` keeps failing, else None."""
    deliveries = Delivery.objects.filter(channel=channel, to_staff=False)
    waiting = deliveries.filter(status__in=(Status.PENDING, Status.SENDING))
    oldest = (
        waiting.order_by("notification__created_at")
        .values_list("notification__created_at", "last_error")
        .first()
    )
    limit = timedelta(minutes=settings.DELIVERIES_FAILING_AFTER_MINUTES)
    if oldest is not None and oldest[0] <= now - limit:
        queued_at, last_error = oldest
        if not deliveries.filter(status=Status.SENT, sent_at__gte=queued_at).exists():
            minutes = (now - queued_at).total_seconds() // 60
            why = f"{channel}: {waiting.count()} waiting, the oldest for {minutes:.0f} minutes"
            return queued_at, f"{why}; last error: {last_error}" if last_error else why
    count = settings.DELIVERIES_FAILING_COUNT
    last = list(
        deliveries.filter(status__in=(Status.SENT, Status.FAILED))
        .order_by("-updated_at", "-id")
        .values_list("status", "updated_at", "last_error")[:count]
    )
    if len(last) == count and all(status == Status.FAILED for status, _, _ in last):
        return last[-1][
            1
        ], f"{channel}: the last {count} deliveries failed; last error: {last[0][2]}"
    return None


def local_text(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def watch(now: datetime | None = None) -> str | None:
    """Open an episode when a channel is in trouble and none is open, close it when none is;
    return "started", "ended" or None. At most one episode is open (a partial unique index),
    so several sweeps alert once."""
    now = now or timezone.now()
    troubles = [t for c in SUBSCRIBER_CHANNELS if (t := channel_trouble(c, now)) is not None]
    with transaction.atomic():
        current = DeliveryTrouble.objects.filter(ended_at__isnull=True).first()
        if troubles and current is None:
            try:
                with transaction.atomic():
                    episode = DeliveryTrouble.objects.create(
                        started_at=min(since for since, _ in troubles),
                        noticed_at=now,
                        reasons=[why for _, why in troubles],
                    )
            except IntegrityError:
                return None  # another sweep opened it a moment ago
            reasons = "\n".join(f"- {why}" for why in episode.reasons)
            alert_staff(
                f"Subscriber deliveries failing since {local_text(episode.started_at)}",
                f"Notifications to subscribers are not getting through:\n{reasons}\n\n"
                "They are kept and retried. Check the SMTP relay or the outbound network; the "
                "console's Notifications page shows each delivery's error. You will hear once "
                "more when deliveries recover.",
                event=EVENT,
                subject_alt=f"订阅通知自 {local_text(episode.started_at)} 起投递失败",
                body_alt=f"发给订阅者的通知未能送达：\n{reasons}\n\n通知会保留并重试。"
                "请检查 SMTP 中继或出站网络；控制台的通知页面列出每次投递的错误。"
                "恢复后会再通知一次。",
                path=PATH,
            )
            return "started"
        if not troubles and current is not None:
            closed = DeliveryTrouble.objects.filter(pk=current.pk, ended_at__isnull=True)
            if not closed.update(ended_at=now):
                return None
            minutes = (now - current.started_at).total_seconds() // 60
            alert_staff(
                "Subscriber deliveries recovered",
                f"Notifications to subscribers are getting through again as of "
                f"{local_text(now)}, after about {minutes:.0f} minutes of failures.",
                event=EVENT,
                subject_alt="订阅通知投递已恢复",
                body_alt=f"自 {local_text(now)} 起订阅通知恢复送达，"
                f"此前失败约 {minutes:.0f} 分钟。",
                path=PATH,
            )
            return "ended"
    return None
