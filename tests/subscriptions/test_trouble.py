""" "Deliveries failing": staff hear once when subscriber deliveries keep failing and once when
they recover, not per delivery; one subscriber's broken address is not trouble. Against a
real SMTP server that refuses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from statuspage import actions
from statuspage.channels.models import StaffChannel, StaffMessage
from statuspage.models import AuditEntry, ComponentStatus
from statuspage.subscriptions import trouble
from statuspage.subscriptions.models import DeliveryTrouble
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_call(db):
    # A chat channel that wants this event: its messages are counted, not sent.
    return StaffChannel.objects.create(
        name="on-call",
        kind="slack",
        url="https://chat.example.com/hook",
        events=["deliveries_failing"],
    )


def incident(component) -> None:
    actions.open_incident(
        title="Credit bureau timeouts",
        body="Investigating.",
        actor=None,
        via=AuditEntry.Via.SYSTEM,
        components={component: ComponentStatus.PARTIAL_OUTAGE},
    )


def alerts() -> list[str]:
    return list(
        StaffMessage.objects.filter(event="deliveries_failing").values_list("title", flat=True)
    )


def test_a_relay_refusing_every_mail_alerts_once_then_recovery_once(
    smtp, subscribe, make_component, on_call
):
    for i in range(3):
        subscribe(f"u{i}@example.com")
    smtp.handler.rcpt_answer = lambda address: "451 4.3.0 relay unavailable"
    incident(make_component("loans"))
    start = timezone.now()
    run_pipeline(start)
    # Refused, retried, but not waiting long enough to call it trouble.
    assert trouble.watch(start + timedelta(minutes=5)) is None
    for minutes in (11, 12, 20):
        run_pipeline(start + timedelta(minutes=minutes))
        trouble.watch(start + timedelta(minutes=minutes))
    (alert,) = alerts()
    assert alert.startswith("Subscriber deliveries failing since")
    episode = DeliveryTrouble.objects.get()
    assert episode.reasons[0].startswith("email: 3 waiting, the oldest for 11 minutes")
    assert "451" in episode.reasons[0]

    smtp.handler.rcpt_answer = lambda address: None
    later = start + timedelta(hours=3)
    run_pipeline(later)
    assert trouble.watch(later) == "ended"
    assert alerts()[-1] == "Subscriber deliveries recovered" and len(alerts()) == 2
    assert trouble.watch(later + timedelta(minutes=1)) is None


def test_one_broken_address_among_good_ones_is_not_trouble(
    smtp, subscribe, make_component, on_call
):
    for i in range(3):
        subscribe(f"u{i}@example.com")
    subscribe("full-mailbox@example.com")
    smtp.handler.rcpt_answer = lambda a: "452 mailbox full" if a.startswith("full") else None
    incident(make_component("loans"))
    start = timezone.now()
    for minutes in (0, 11, 30):
        run_pipeline(start + timedelta(minutes=minutes))
        assert trouble.watch(start + timedelta(minutes=minutes)) is None
    assert alerts() == []


def test_a_run_of_permanent_failures_is_trouble(settings, smtp, subscribe, make_component, on_call):
    settings.DELIVERIES_FAILING_COUNT = 4
    for i in range(4):
        subscribe(f"u{i}@example.com")
    smtp.handler.rcpt_answer = lambda address: "550 5.7.1 relaying denied"
    incident(make_component("loans"))
    now = timezone.now()
    run_pipeline(now)
    assert trouble.watch(now) == "started"
    assert "email: the last 4 deliveries failed" in DeliveryTrouble.objects.get().reasons[0]
    assert len(alerts()) == 1
