import pytest
from django.utils import timezone

from statuspage.models import AuditEntry
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
    entry = AuditEntry.objects.get(action="notification.resend")
    assert (entry.object_id, entry.after) == (str(notification.pk), {"deliveries_queued_again": 1})


def test_it_adds_webhooks_and_shows_why_one_is_disabled(staff_client, subscribe):
    # A public address: the form resolves the host, and this machine may have no DNS.
    response = staff_client.post(
        "/console/subscribers/webhooks/", {"url": "https://93.184.215.14/x"}
    )
    hook = Subscriber.objects.get(kind="webhook")
    assert hook.secret.encode() in response.content
    Subscriber.objects.filter(pk=hook.pk).update(
        disabled_at=timezone.now(),
        disabled_reason="5 failed deliveries in a row; last: could not deliver",
    )
    response = staff_client.get("/console/subscribers/webhooks/")
    assert b"last: could not deliver" in response.content
    staff_client.post(f"/console/subscribers/webhooks/{hook.pk}/enable/")
    hook.refresh_from_db()
    assert hook.disabled_at is None


def test_a_test_delivery_goes_through_the_sender_and_shows_in_its_log(
    staff_client, subscribe, receiver, django_capture_on_commit_callbacks
):
    import time

    from statuspage.subscriptions import webhooks
    from tests.subscriptions.conftest import run_pipeline

    hook = subscribe(receiver.url, kind="webhook")
    assert staff_client.get(f"/console/subscribers/webhooks/{hook.pk}/test/").status_code == 405
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(f"/console/subscribers/webhooks/{hook.pk}/test/")
    assert len(callbacks) == 1  # the sender is started once the delivery is committed
    log = response["Location"]
    assert response.status_code == 302 and log.startswith("/console/subscribers/notifications/")
    assert staff_client.get(log).content.count(b"<td>Pending</td>") == 1

    run_pipeline()
    [request] = receiver.requests
    assert webhooks.verify(
        hook.secret,
        request["headers"][webhooks.TIMESTAMP_HEADER],
        request["body"],
        request["headers"][webhooks.SIGNATURE_HEADER],
        time.time(),
    )
    assert "nothing has changed" in receiver.json(0)["test"]["message"]
    assert b"<td>Sent</td>" in staff_client.get(log).content
    listing = staff_client.get("/console/subscribers/webhooks/").content.decode()
    assert f'href="{log}">sent</a>' in listing


def test_a_refused_test_delivery_shows_why_in_its_log(staff_client, subscribe, receiver):
    from tests.subscriptions.conftest import run_pipeline

    receiver.answers = [410]
    hook = subscribe(receiver.url, kind="webhook")
    log = staff_client.post(f"/console/subscribers/webhooks/{hook.pk}/test/")["Location"]
    run_pipeline()
    html = staff_client.get(log).content.decode()
    # The one reason staff see for any failure: a closed port and an HTTP error look alike.
    assert "<td>Failed</td>" in html and "could not deliver" in html


def test_the_test_button_needs_a_csrf_token(staff, subscribe):
    from django.test import Client

    hook = subscribe("https://hooks.example.com/x", kind="webhook")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(f"/console/subscribers/webhooks/{hook.pk}/test/").status_code == 403
    assert not Delivery.objects.exists()


def test_remove_is_not_styled_as_the_primary_action(staff_client, subscribe):
    subscribe("https://hooks.example.com/x", kind="webhook")
    html = staff_client.get("/console/subscribers/webhooks/").content.decode()
    assert '<button type="submit" class="small danger">Remove</button>' in html
    assert '<button type="submit" class="small secondary">Send a test delivery</button>' in html


def test_removing_a_subscriber_is_audited_without_its_secret(staff_client, subscribe):
    subscriber = subscribe("a@example.com")
    staff_client.post(f"/console/subscribers/{subscriber.pk}/remove/")
    entry = AuditEntry.objects.get(action="subscriber.delete")
    assert (entry.via, entry.actor_name, entry.object_id) == (
        "console",
        "alice",
        str(subscriber.pk),
    )
    assert entry.before["address"] == "a@example.com" and entry.after is None
    assert subscriber.secret not in str(entry.before)


def test_adding_and_enabling_a_webhook_are_audited(staff_client):
    # A public address: the form resolves the host, and this machine may have no DNS.
    staff_client.post("/console/subscribers/webhooks/", {"url": "https://93.184.215.14/x"})
    hook = Subscriber.objects.get()
    assert AuditEntry.objects.get(action="subscriber.create").after["address"] == hook.url
    Subscriber.objects.filter(pk=hook.pk).update(
        disabled_at=timezone.now(), disabled_reason="HTTP 500, 10 times"
    )

    staff_client.post(f"/console/subscribers/webhooks/{hook.pk}/enable/")
    staff_client.post(f"/console/subscribers/webhooks/{hook.pk}/enable/")  # already enabled

    entry = AuditEntry.objects.get(action="subscriber.enable")
    assert entry.before == {"disabled_reason": "HTTP 500, 10 times"}
    hook.refresh_from_db()
    assert hook.disabled_at is None
