"""Internal notifications to STAFF_NOTIFY_EMAILS."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from statuspage.enqueue import enqueue_on_commit
from statuspage.subscriptions.models import Notification
from statuspage.subscriptions.outbox import add_staff_deliveries

# Called as listener(event, subject, body, subject_alt, body_alt, path) by every staff alert;
# statuspage.channels plugs its staff channels in here.
ALERT_LISTENERS: list = []


def alert_staff(
    subject: str,
    body: str,
    *,
    event: str = "",
    subject_alt: str = "",
    body_alt: str = "",
    path: str = "",
) -> None:
    """Email `subject` and `body` to the staff addresses, and tell the staff channels that
    want `event` (in their language: `subject_alt` and `body_alt` are the second one's).

    Writes the outbox rows in the caller's transaction (nothing is sent if it rolls back) and
    starts the sender once it commits. No email when STAFF_NOTIFY_EMAILS is empty."""
    for listener in ALERT_LISTENERS:
        listener(event, subject, body, subject_alt, body_alt, path)
    if not settings.STAFF_NOTIFY_EMAILS:
        return
    now = timezone.now()
    notification = Notification.objects.create(
        kind=Notification.Kind.STAFF_ALERT, subject=subject[:300], body=body, created_at=now
    )
    add_staff_deliveries(notification, now)
    from statuspage.subscriptions.tasks import send_deliveries

    enqueue_on_commit(send_deliveries, "email")
