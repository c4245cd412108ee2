import pytest
from django.utils import timezone

from statuspage.subscriptions.models import Delivery, Notification, Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_it_requires_staff(client):
    response = client.get("/console/subscribers/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_lists_counts_and_searches(staff_client, subscribe):
    subscribe("ming@example.com")
    subscribe("li@example.com")
    subscribe("pending@example.com", confirmed_at=None)
    response = staff_client.get("/console/subscribers/")
    assert response.status_code == 200
    assert b'<dd id="count-confirmed">2</dd>' in response.content
    assert b'<dd id="count-pending">1</dd>' in response.content
    response = staff_client.get("/console/subscribers/?q=ming")
    assert b"ming@example.com" in response.content
    assert b"li@example.com" not in response.content


def test_it_removes_a_subscriber(staff_client, subscribe):
    subscriber = subscribe("a@example.com")
    assert staff_client.get(f"/console/subscribers/{subscriber.pk}/remove/").status_code == 405
    staff_client.post(f"/console/subscribers/{subscriber.pk}/remove/")
    assert not Subscriber.objects.exists()


def test_it_shows_the_delivery_log_and_resends_failed_ones(staff_client, subscribe):
    a = subscribe("a@example.com", suppressed_at=timezone.now(), suppressed_reason="SMTP 550")
    notification = Notification.objects.create(kind="incident_opened")
    failed = Delivery.objects.create(
        notification=notification,
        subscriber=a,
        channel="email",
        address=a.email,
        status="failed",
        last_error="SMTP 550: no such user",
    )
    Delivery.objects.create(
        notification=notification,
        channel="email",
        address="b@example.com",
        status="dropped",
        last_error="unsubscribed",
    )
    response = staff_client.get(f"/console/subscribers/notifications/{notification.pk}/")
    assert b"SMTP 550: no such user" in response.content
    assert b"unsubscribed" in response.content
    assert staff_client.get("/console/subscribers/notifications/").status_code == 200
    staff_client.post(f"/console/subscribers/notifications/{notification.pk}/resend/")
    failed.refresh_from_db()
    assert failed.status == "pending"
    a.refresh_from_db()
    assert a.suppressed_at is None


def test_it_adds_webhooks_and_shows_why_one_is_disabled(staff_client, subscribe):
    response = staff_client.post(
        "/console/subscribers/webhooks/", {"url": "https://hooks.example.com/x"}
    )
    hook = Subscriber.objects.get(kind="webhook")
    assert hook.secret.encode() in response.content
    Subscriber.objects.filter(pk=hook.pk).update(
        disabled_at=timezone.now(), disabled_reason="5 failed deliveries in a row; last: HTTP 410"
    )
    response = staff_client.get("/console/subscribers/webhooks/")
    assert b"last: HTTP 410" in response.content
    staff_client.post(f"/console/subscribers/webhooks/{hook.pk}/enable/")
    hook.refresh_from_db()
    assert hook.disabled_at is None
