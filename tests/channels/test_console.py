"""/console/channels/: staff add and edit channels (the secret is write-only) and send tests."""

import pytest
from django.contrib.auth import get_user_model

from statuspage.channels.models import StaffChannel
from statuspage.models import AuditEntry
from statuspage.subscriptions.models import Delivery

pytestmark = pytest.mark.django_db
# A public address literal: no DNS needed to pass the private-network check.
DINGTALK = "https://93.184.215.14/robot/send?access_token=abc"


@pytest.fixture
def console(client, staff, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    client.force_login(staff)
    return client


def form(**fields):
    return {
        "name": "On call",
        "kind": "dingtalk",
        "url": DINGTALK,
        "secret": "SECxyz-very-secret",
        "language": "zh-hans",
        "events": ["incident_opened", "monitoring_stalled"],
        "is_enabled": "on",
        **fields,
    }


def test_it_requires_staff(client):
    assert client.get("/console/channels/").status_code == 302
    user = get_user_model().objects.create_user("bob", password="pw-bob-123")
    client.force_login(user)
    assert client.get("/console/channels/").status_code == 403


def test_staff_add_a_channel_whose_secret_is_never_shown_again(console):
    response = console.post("/console/channels/new/", form())
    assert response.status_code == 302, response.context["form"].errors
    channel = StaffChannel.objects.get()
    assert (channel.secret, channel.language, channel.events) == (
        "SECxyz-very-secret",
        "zh-hans",
        ["incident_opened", "monitoring_stalled"],
    )
    for url in ("/console/channels/", f"/console/channels/{channel.pk}/"):
        page = console.get(url).content
        assert b"SECxyz-very-secret" not in page
        assert b"access_token=abc" not in page  # the robot URL's token is write-only too
    entry = AuditEntry.objects.get(action="channel.create")
    assert entry.after["has_secret"] is True and "SECxyz" not in str(entry.after)

    console.post(f"/console/channels/{channel.pk}/", form(secret="", url="", name="Renamed"))
    channel.refresh_from_db()
    assert (channel.name, channel.secret, channel.url) == (
        "Renamed",
        "SECxyz-very-secret",
        DINGTALK,
    )


def test_a_private_url_is_refused_with_the_reason(console):
    response = console.post("/console/channels/new/", form(url="https://10.0.0.5/robot/send"))
    assert response.status_code == 200
    assert b"public internet addresses only" in response.content
    assert not StaffChannel.objects.exists()


def test_an_email_channel_needs_an_address(console):
    response = console.post("/console/channels/new/", form(kind="email", url="not an address"))
    assert b"Enter the email address" in response.content


def test_send_a_test_queues_a_delivery_through_the_outbox(console):
    channel = StaffChannel.objects.create(name="x", kind="slack", url="https://h.example.com/a")
    response = console.post(f"/console/channels/{channel.pk}/test/")
    assert response.status_code == 302
    delivery = Delivery.objects.get(channel="chat")
    assert delivery.staff_channel == channel and delivery.status == "pending"
    page = console.get("/console/channels/").content.decode()
    assert "Test message from x" in page


def test_it_rejects_a_get_on_the_test_button(console):
    channel = StaffChannel.objects.create(name="x", kind="slack", url="https://h.example.com/a")
    assert console.get(f"/console/channels/{channel.pk}/test/").status_code == 405


def test_a_channel_from_the_config_file_is_not_edited_here(console):
    channel = StaffChannel.objects.create(
        name="x", kind="slack", url="https://h.example.com/a", from_config=True
    )
    console.post(f"/console/channels/{channel.pk}/", form(name="changed"))
    channel.refresh_from_db()
    assert channel.name == "x"
    assert console.post(f"/console/channels/{channel.pk}/delete/").status_code == 404


def test_the_list_says_every_event_rather_than_listing_them_all(console):
    StaffChannel.objects.create(name="all", kind="slack", url="https://h.example.com/a")
    StaffChannel.objects.create(
        name="some", kind="slack", url="https://h.example.com/b", events=["incident_opened"]
    )
    page = console.get("/console/channels/").content.decode()
    assert page.count("Every event") == 1
    assert "Automatic incident opened" in page
