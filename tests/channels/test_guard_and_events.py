"""Staff-channel URLs cannot reach private networks; automatic incidents, maintenance and
failing webhooks reach the channels that picked them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from monitors.alerts import read_alertmanager, receive_alerts
from statuspage import actions
from statuspage.channels.guard import unsafe_reason
from statuspage.channels.models import StaffChannel, StaffMessage
from statuspage.models import AuditEntry
from statuspage.subscriptions.models import Delivery
from statuspage.subscriptions.outbox import fan_out_events
from statuspage.subscriptions.sending import deliver_due

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://127.0.0.1:8080/hook", "public internet addresses only"),
        ("https://localhost/hook", "public internet addresses only"),
        ("https://169.254.169.254/latest/meta-data", "public internet addresses only"),
        ("https://10.1.2.3/hook", "public internet addresses only"),
        ("https://[::1]/hook", "public internet addresses only"),
        ("https://0x7f000001/hook", "public internet addresses only"),
        ("http://93.184.215.14/hook", "must start with https://"),
        ("ftp://example.com/hook", "must start with https://"),
        ("https://user:pw@oapi.dingtalk.com/robot/send", "user name or password"),
        ("https:///robot/send", "valid URL"),
    ],
)
def test_urls_to_private_networks_are_refused(settings, url, reason):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert reason in unsafe_reason(url)


def test_a_public_address_is_allowed(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert unsafe_reason("https://93.184.215.14/robot/send") == ""


def test_a_delivery_to_a_private_address_fails_at_connection_time(settings):
    # Saved before the rules changed, or a name that now resolves elsewhere (DNS rebinding):
    # the guarded session refuses to connect.
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    StaffChannel.objects.create(name="x", kind="slack", url="https://127.0.0.1:9/hook")
    from statuspage.channels.dispatch import on_staff_alert

    on_staff_alert("network_problem", "s", "b", "", "", "/console/")
    deliver_due(Delivery.Channel.CHAT)
    delivery = Delivery.objects.get(channel="chat")
    assert delivery.status == "failed"
    assert "may not reach" in delivery.last_error


def alert(status="firing"):
    return {
        "status": status,
        "labels": {"alertname": "BureauDown", "component": "credit-bureau", "severity": "critical"},
        "startsAt": "2026-11-29T02:00:00Z",
        "fingerprint": "f1",
    }


def send(now, *alerts):
    body = json.dumps({"version": "4", "alerts": list(alerts)}).encode()
    receive_alerts("alertmanager", read_alertmanager(body), [], now)
    fan_out_events(10**9, now)  # what the fan-out task does after the commit


def test_an_automatic_incident_reaches_channels_in_their_language(make_component, settings):
    make_component("credit-bureau", name="Credit bureau", name_alt="征信接口")
    StaffChannel.objects.create(name="en", kind="slack", url="https://hooks.example.com/a")
    StaffChannel.objects.create(
        name="zh", kind="dingtalk", url="https://oapi.dingtalk.com/robot/send", language="zh-hans"
    )
    now = timezone.now()
    send(now, alert())
    deliveries = {d.staff_channel.name: d for d in Delivery.objects.filter(channel="chat")}
    assert set(deliveries) == {"en", "zh"}
    message = StaffMessage.objects.get()
    assert message.event == "incident_opened"
    assert message.path.startswith("/console/incidents/")
    assert message.text("zh-hans")[0].startswith("新的故障事件：征信接口")
    assert message.text("en")[0].startswith("Incident opened: Credit bureau")

    settings.AUTO_RESOLVE_QUIET_SECONDS = 0
    send(now + timedelta(minutes=1), alert("resolved"))
    from monitors.results import settle_automatic_incidents

    settle_automatic_incidents(now + timedelta(minutes=2))
    fan_out_events(10**9, now + timedelta(minutes=2))
    events = list(StaffMessage.objects.order_by("pk").values_list("event", flat=True))
    assert events == ["incident_opened", "incident_resolved"]


def test_a_manual_incident_is_not_sent_to_channels(make_component, staff):
    StaffChannel.objects.create(name="en", kind="slack", url="https://hooks.example.com/a")
    actions.open_incident(title="x", body="y", actor=staff, via=AuditEntry.Via.CONSOLE)
    fan_out_events(10**9, timezone.now())
    assert not Delivery.objects.filter(channel="chat").exists()


def test_maintenance_starting_reaches_channels(make_component, staff):
    StaffChannel.objects.create(
        name="m", kind="slack", url="https://hooks.example.com/a", events=["maintenance_starting"]
    )
    now = timezone.now()
    actions.schedule_maintenance(
        title="Bureau certificate rotation",
        starts_at=now,
        ends_at=now + timedelta(minutes=30),
        components=[make_component("credit-bureau")],
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )
    actions.advance_maintenances(now)
    fan_out_events(10**9, now)
    assert StaffMessage.objects.get().title == "Maintenance started: Bureau certificate rotation"
