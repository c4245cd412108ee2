from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage import actions
from statuspage.models import AuditEntry
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Delivery, Notification
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db
Via = AuditEntry.Via


@pytest.fixture
def maintenance(db, make_component):
    now = timezone.now()
    return actions.schedule_maintenance(
        title="Database failover drill",
        starts_at=now + timedelta(minutes=90),
        ends_at=now + timedelta(minutes=150),
        components=[make_component("repayment")],
        actor=None,
        via=Via.SYSTEM,
        now=now,
    )


def test_a_reminder_goes_out_once_within_the_lead_time(smtp, subscribe, maintenance, settings):
    settings.MAINTENANCE_REMINDER_MINUTES = 60
    subscribe("a@example.com")
    run_pipeline()  # the "scheduled" email
    assert outbox.create_due_reminders(maintenance.starts_at - timedelta(minutes=61)) == []
    now = maintenance.starts_at - timedelta(minutes=59)
    assert len(outbox.create_due_reminders(now)) == 1
    assert outbox.create_due_reminders(now) == []
    run_pipeline(now)
    subjects = [m["Subject"] for m in smtp.handler.to("a@example.com")]
    assert subjects == [
        "[Scheduled maintenance] Database failover drill",
        "[Maintenance starts soon] Database failover drill",
    ]


@pytest.mark.parametrize("change", ["started", "cancelled", "moved"])
def test_a_reminder_that_is_no_longer_true_is_dropped(smtp, subscribe, maintenance, change):
    subscribe("a@example.com")
    run_pipeline()
    now = maintenance.starts_at - timedelta(minutes=30)
    [reminder] = outbox.create_due_reminders(now)
    if change == "started":
        actions.set_maintenance_status(
            maintenance, "in_progress", actor=None, via=Via.SYSTEM, now=now
        )
    elif change == "cancelled":
        actions.set_maintenance_status(
            maintenance, "cancelled", actor=None, via=Via.SYSTEM, now=now
        )
    else:
        actions.edit_maintenance(
            maintenance,
            actor=None,
            via=Via.SYSTEM,
            starts_at=maintenance.starts_at + timedelta(hours=5),
            ends_at=maintenance.ends_at + timedelta(hours=5),
            now=now,
        )
    run_pipeline(now)
    dropped = Delivery.objects.get(notification=reminder)
    assert dropped.status == "dropped"
    expected = {"started": "already started", "cancelled": "cancelled", "moved": "moved"}[change]
    assert expected in dropped.last_error
    subjects = [m["Subject"] for m in smtp.handler.to("a@example.com")]
    assert not any("starts soon" in s for s in subjects)


def test_a_moved_window_gets_its_own_reminder(subscribe, maintenance):
    subscribe("a@example.com")
    now = maintenance.starts_at - timedelta(minutes=30)
    outbox.create_due_reminders(now)
    actions.edit_maintenance(
        maintenance,
        actor=None,
        via=Via.SYSTEM,
        starts_at=maintenance.starts_at + timedelta(minutes=10),
        now=now,
    )
    assert len(outbox.create_due_reminders(now)) == 1
    assert Notification.objects.filter(kind="maintenance_reminder").count() == 2
