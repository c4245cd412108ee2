"""From what happened to staff-channel deliveries in the outbox.

Two ways in: a public event as the outbox claims it (`on_public_event`: automatic incidents
opened, escalated, resolved; maintenance starting) and a staff alert (`on_staff_alert`:
vantage-point network problems, monitoring stalls, failing deliveries). Either writes one
Notification (kind staff_alert) with its StaffMessage in both languages, and one Delivery per
channel that wants the event, in the caller's transaction; the chat sender starts on commit.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from statuspage.channels.models import ChannelEvent, StaffChannel, StaffMessage
from statuspage.enqueue import enqueue_on_commit
from statuspage.models import Event, IncidentStatus, Origin
from statuspage.subscriptions.models import Delivery, Notification

LABELS = {
    ChannelEvent.INCIDENT_OPENED: ("Incident opened", "新的故障事件"),
    ChannelEvent.INCIDENT_ESCALATED: ("Incident escalated", "故障事件升级"),
    ChannelEvent.INCIDENT_RESOLVED: ("Incident resolved", "故障事件已解决"),
    ChannelEvent.MAINTENANCE_STARTING: ("Maintenance started", "维护开始"),
}


def channel_event_for(event: Event) -> str:
    """The staff-channel event a public event is, or "" when it is none."""
    incident = event.incident
    if incident is not None and incident.origin == Origin.AUTOMATIC:
        if event.kind == Event.Kind.INCIDENT_OPENED:
            return ChannelEvent.INCIDENT_OPENED
        if event.kind == Event.Kind.INCIDENT_RESOLVED:
            return ChannelEvent.INCIDENT_RESOLVED
        update = event.incident_update
        if (
            event.kind == Event.Kind.INCIDENT_UPDATED
            and event.notify
            and update is not None
            and update.status in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED)
        ):
            return ChannelEvent.INCIDENT_ESCALATED
    if event.kind == Event.Kind.MAINTENANCE_STARTED and event.maintenance_id:
        return ChannelEvent.MAINTENANCE_STARTING
    return ""


def on_public_event(event: Event, now: datetime) -> int:
    kind = channel_event_for(event)
    if not kind:
        return 0
    label, label_alt = LABELS[kind]
    if event.incident is not None:
        incident, update = event.incident, event.incident_update
        body = update.body if update else ""
        body_alt = (update.body_alt or update.body) if update else ""
        return queue(
            kind,
            f"{label}: {incident.title}",
            body,
            f"{label_alt}：{incident.title_alt or incident.title}",
            body_alt,
            f"/console/incidents/{incident.pk}/",
            now,
        )
    maintenance = event.maintenance
    title_alt = getattr(maintenance, "title_alt", "") or maintenance.title
    starts, ends = (timezone.localtime(t) for t in (maintenance.starts_at, maintenance.ends_at))
    window = f"{starts:%Y-%m-%d %H:%M} – {ends:%H:%M}"
    return queue(
        kind,
        f"{label}: {maintenance.title}",
        window,
        f"{label_alt}：{title_alt}",
        window,
        f"/console/maintenance/{maintenance.pk}/",
        now,
    )


def on_staff_alert(
    kind: str, subject: str, body: str, subject_alt: str, body_alt: str, path: str
) -> None:
    if kind:
        queue(kind, subject, body, subject_alt, body_alt, path, timezone.now())


def on_webhook_disabled(subscriber, reason: str, now: datetime) -> None:
    failures = subscriber.consecutive_failures
    queue(
        ChannelEvent.DELIVERIES_FAILING,
        f"Webhook disabled after {failures} failed deliveries",
        f"{subscriber.url} failed {failures} times in a row (last: {reason}) and receives "
        "nothing more until it is re-enabled.",
        f"Webhook 连续 {failures} 次投递失败，已停用",
        f"{subscriber.url} 连续失败 {failures} 次（最近一次：{reason}），"
        "重新启用前不会再收到通知。",
        "/console/subscribers/",
        now,
    )


def queue(
    kind: str,
    title: str,
    body: str,
    title_alt: str,
    body_alt: str,
    path: str,
    now: datetime,
    *,
    channels: list[StaffChannel] | None = None,
    is_test: bool = False,
) -> int:
    """Write the deliveries of one message to the channels that want `kind` (or to
    `channels`); return how many."""
    if channels is None:
        channels = [c for c in StaffChannel.objects.filter(is_enabled=True) if c.wants(kind)]
    if not channels:
        return 0
    notification = Notification.objects.create(
        kind=Notification.Kind.STAFF_ALERT, subject=title[:300], body=body, created_at=now
    )
    StaffMessage.objects.create(
        notification=notification,
        event=kind,
        title=title[:300],
        body=body,
        title_alt=title_alt[:300],
        body_alt=body_alt,
        path=path,
        is_test=is_test,
    )
    Delivery.objects.bulk_create(
        Delivery(
            notification=notification,
            channel=Delivery.Channel.CHAT,
            staff_channel=channel,
            address=channel.url[:500],
            language=channel.language,
            to_staff=True,
            next_attempt_at=now,
            updated_at=now,
        )
        for channel in channels
    )
    from statuspage.subscriptions.tasks import send_deliveries

    enqueue_on_commit(send_deliveries, Delivery.Channel.CHAT)
    return len(channels)


def send_test(channel: StaffChannel, now: datetime) -> int:
    """Queue a test message to one channel, through the outbox like any other."""
    return queue(
        "",
        f"Test message from {channel.name}",
        "This channel is set up: staff alerts will arrive here.",
        f"来自 {channel.name} 的测试消息",
        "此通道已配置好：值班告警会发送到这里。",
        "/console/channels/",
        now,
        channels=[channel],
        is_test=True,
    )
