"""From public events to delivery rows: which notifications exist and who receives them.

Fanning out streams through the subscribers in keyset batches and writes deliveries with
`bulk_create`, so memory does not grow with the number of subscribers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from statuspage.models import Component, Event, Incident, Maintenance, MaintenanceStatus, Origin
from statuspage.subscriptions.models import Delivery, Notification, Subscriber

FAN_OUT_BATCH = 1000
# Called with (event, now) for every event claimed, in its transaction; each returns how many
# deliveries it wrote. statuspage.channels plugs its staff channels in here.
EVENT_LISTENERS: list = []

# What subscribers hear about. Component status changes go to webhooks only: probes move
# them often, and an email per move would teach people to ignore the emails that matter.
EMAIL_KINDS = frozenset(
    {
        Notification.Kind.INCIDENT_OPENED,
        Notification.Kind.INCIDENT_UPDATED,
        Notification.Kind.INCIDENT_RESOLVED,
        Notification.Kind.MAINTENANCE_SCHEDULED,
        Notification.Kind.MAINTENANCE_REMINDER,
        Notification.Kind.MAINTENANCE_UPDATED,
        Notification.Kind.MAINTENANCE_STARTED,
        Notification.Kind.MAINTENANCE_COMPLETED,
        Notification.Kind.MAINTENANCE_CANCELLED,
    }
)
WEBHOOK_KINDS = (EMAIL_KINDS - {Notification.Kind.MAINTENANCE_REMINDER}) | {
    Notification.Kind.COMPONENT_STATUS_CHANGED
}


def notification_for_event(event: Event) -> Notification | None:
    """The notification a public event announces, or None when it announces nothing (a quiet
    update, or a maintenance edit without a timeline entry)."""
    if not event.notify:
        return None
    if event.kind == Event.Kind.MAINTENANCE_UPDATED and event.maintenance_update_id is None:
        return None
    if event.kind == Event.Kind.COMPONENT_STATUS_CHANGED and not (
        Subscriber.objects.filter(
            kind=Subscriber.Kind.WEBHOOK, confirmed_at__isnull=False, disabled_at__isnull=True
        ).exists()
    ):
        return None  # only webhooks hear about these; probes move them often
    return Notification.objects.create(
        kind=event.kind,
        event=event,
        incident_id=event.incident_id,
        maintenance_id=event.maintenance_id,
        created_at=event.created_at,
    )


def component_ids(notification: Notification) -> set[int]:
    """The components a notification touches (what component filtering matches against)."""
    event = notification.event
    ids: set[int] = set()
    if notification.incident_id:
        ids.update(notification.incident.affected.values_list("component_id", flat=True))
        if event is not None and event.incident_update_id:
            for item in event.incident_update.affected_components or []:
                if str(item.get("code", "")).isdigit():
                    ids.add(int(item["code"]))
    if notification.maintenance_id:
        ids.update(notification.maintenance.components.values_list("pk", flat=True))
    if event is not None and event.component_id:
        ids.add(event.component_id)
    return ids


def recipients(kind: str, touched: Iterable[int]) -> QuerySet[Subscriber]:
    """Active subscribers of this kind who chose none of the components (= everything) or one
    of `touched`."""
    through = Subscriber.components.through
    chose_any = Exists(through.objects.filter(subscriber_id=OuterRef("pk")))
    chose_touched = Exists(
        through.objects.filter(subscriber_id=OuterRef("pk"), component_id__in=list(touched))
    )
    return Subscriber.objects.filter(
        kind=kind,
        confirmed_at__isnull=False,
        suppressed_at__isnull=True,
        disabled_at__isnull=True,
    ).filter(~chose_any | chose_touched)


def keyset(queryset: QuerySet, fields: tuple[str, ...], size: int) -> Iterator[list[tuple]]:
    """Batches of `fields` (the first must be "pk") in pk order, one bounded query each."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values_list(*fields)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def is_public(notification: Notification) -> bool:
    """Whether subscribers may hear of it: what it is about passes the public filter."""
    if notification.incident_id:
        return Incident.objects.public().filter(pk=notification.incident_id).exists()
    if notification.maintenance_id:
        return Maintenance.objects.public().filter(pk=notification.maintenance_id).exists()
    event = notification.event
    if event is not None and event.component_id:
        return Component.objects.public().filter(pk=event.component_id).exists()
    return True


def fan_out(notification: Notification, now: datetime) -> int:
    """Write one delivery per recipient of `notification`; return how many."""
    touched = component_ids(notification)
    count = 0
    channels = []
    if is_public(notification):
        if notification.kind in EMAIL_KINDS:
            channels.append((Subscriber.Kind.EMAIL, Delivery.Channel.EMAIL, "email"))
        if notification.kind in WEBHOOK_KINDS:
            channels.append((Subscriber.Kind.WEBHOOK, Delivery.Channel.WEBHOOK, "url"))
    for subscriber_kind, channel, address_field in channels:
        queryset = recipients(subscriber_kind, touched)
        for rows in keyset(queryset, ("pk", address_field, "language"), FAN_OUT_BATCH):
            Delivery.objects.bulk_create(
                Delivery(
                    notification=notification,
                    subscriber_id=pk,
                    channel=channel,
                    address=address,
                    language=language,
                    next_attempt_at=now,
                    updated_at=now,
                )
                for pk, address, language in rows
            )
            count += len(rows)
    if (
        notification.kind == Notification.Kind.INCIDENT_OPENED
        and notification.incident.origin == Origin.AUTOMATIC
    ):
        count += len(add_staff_deliveries(notification, now))
    return count


def add_staff_deliveries(notification: Notification, now: datetime) -> list[Delivery]:
    return Delivery.objects.bulk_create(
        Delivery(
            notification=notification,
            channel=Delivery.Channel.EMAIL,
            address=address,
            language=settings.LANGUAGE_CODE,
            to_staff=True,
            next_attempt_at=now,
            updated_at=now,
        )
        for address in settings.STAFF_NOTIFY_EMAILS
    )


def fan_out_events(up_to_id: int, now: datetime) -> int:
    """Fan out every unclaimed event with id <= `up_to_id`, oldest first; return how many
    deliveries were written.

    Each event is claimed with a conditional UPDATE in the transaction that writes its
    deliveries, so two tasks never fan out the same event, and an event's deliveries are
    committed before any later event's: delivery ids follow event order, which is what keeps
    per-recipient order (see sending.py)."""
    written = 0
    pending = Event.objects.filter(fanned_out_at__isnull=True, pk__lte=up_to_id)
    for event_id in list(pending.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            claimed = Event.objects.filter(pk=event_id, fanned_out_at__isnull=True).update(
                fanned_out_at=now
            )
            if not claimed:
                continue  # another task has it
            event = Event.objects.select_related("incident", "incident_update").get(pk=event_id)
            notification = notification_for_event(event)
            if notification is not None:
                written += fan_out(notification, now)
            for listener in EVENT_LISTENERS:
                written += listener(event, now)
    return written


def unclaimed_event_ids(now: datetime, older_than: timedelta) -> list[int]:
    return list(
        Event.objects.filter(fanned_out_at__isnull=True, created_at__lt=now - older_than)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def create_due_reminders(now: datetime) -> list[Notification]:
    """Reminders for public scheduled maintenance starting within MAINTENANCE_REMINDER_MINUTES,
    once per (maintenance, start time): a moved window gets a new reminder."""
    lead = timedelta(minutes=settings.MAINTENANCE_REMINDER_MINUTES)
    due = Maintenance.objects.public().filter(
        status=MaintenanceStatus.SCHEDULED,
        starts_at__gt=now,
        starts_at__lte=now + lead,
    )
    created = []
    for maintenance in due:
        with transaction.atomic():
            notification, is_new = Notification.objects.get_or_create(
                kind=Notification.Kind.MAINTENANCE_REMINDER,
                maintenance=maintenance,
                reminder_for=maintenance.starts_at,
                defaults={"created_at": now},
            )
            if is_new:
                fan_out(notification, now)
                created.append(notification)
    return created


def webhook_test(subscriber: Subscriber, now: datetime) -> Delivery:
    """Queue a test delivery to one webhook: sent, retried and logged like any other, so that
    what staff see in its delivery log is what a real notification would meet."""
    notification = Notification.objects.create(
        kind=Notification.Kind.WEBHOOK_TEST,
        subject=f"Test delivery to {subscriber.url}"[:300],
        created_at=now,
    )
    return Delivery.objects.create(
        notification=notification,
        subscriber=subscriber,
        channel=Delivery.Channel.WEBHOOK,
        address=subscriber.url,
        language=subscriber.language,
        next_attempt_at=now,
        updated_at=now,
    )


def subscription_email(subscriber: Subscriber, kind: str, now: datetime) -> Delivery:
    """Queue a confirmation (or "you are already subscribed") email for one subscriber."""
    notification = Notification.objects.create(kind=kind, created_at=now)
    return Delivery.objects.create(
        notification=notification,
        subscriber=subscriber,
        channel=Delivery.Channel.EMAIL,
        address=subscriber.email,
        language=subscriber.language,
        next_attempt_at=now,
        updated_at=now,
    )
