"""Webhooks reach public https addresses only: checked when staff save one and again when the
worker connects (issue 10: the console accepted 15 of 22 hostile URLs, and the worker then
POSTed to the local Redis)."""

import ipaddress
import socket

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from statuspage import actions
from statuspage.models import AuditEntry, ComponentStatus
from statuspage.roles import ADMIN, set_role
from statuspage.subscriptions.models import Delivery, Subscriber
from statuspage.subscriptions.outbound import check_webhook_url
from tests.core.test_settings import manage
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db

HOSTILE = [
    # Named in the issue.
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "https://[::1]/hook",
    "https://0.0.0.0/hook",
    "https://[::ffff:169.254.169.254]/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "ftp://ftp.example.com/hook",
    "https://user:pass@hooks.example.com/hook",
    "127.0.0.1:6379",
    # Obvious variants.
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://127.1/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://224.0.0.1/hook",
    "https://100.64.0.1/hook",
    "https://[::]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://[2002:a9fe:a9fe::1]/hook",
    "https://user@93.184.215.14/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "https://nonexistent-host.invalid/hook",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_client(db) -> Client:
    user = get_user_model().objects.create_user("carol", password="pw-carol-123", is_staff=True)
    set_role(user, ADMIN)  # webhooks are the admins'
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", HOSTILE)
def test_the_console_refuses_a_hostile_webhook_url(staff_client, url):
    response = staff_client.post("/console/subscribers/webhooks/", {"url": url})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not Subscriber.objects.filter(kind="webhook").exists()


def admin_add_webhook(url: str):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    return client.post(
        "/admin/subscriptions/subscriber/add/",
        {
            "kind": "webhook",
            "url": url,
            "language": "en",
            "consecutive_failures": 0,
            "created_at_0": "2026-11-20",
            "created_at_1": "04:00:00",
        },
    )


@pytest.mark.parametrize("url", HOSTILE)
def test_the_admin_refuses_a_hostile_webhook_url(db, url):
    response = admin_add_webhook(url)
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not Subscriber.objects.exists()


def test_the_admin_saves_a_public_webhook_url(db):
    response = admin_add_webhook("https://93.184.215.14/hook")
    assert response.status_code == 302
    assert Subscriber.objects.get().url == "https://93.184.215.14/hook"


def test_a_name_that_does_not_resolve_gets_the_same_answer_as_a_private_address():
    messages = set()
    for url in ("https://10.0.0.5/", "https://nonexistent-host.invalid/", "https://[::1]/"):
        with pytest.raises(Exception) as refused:
            check_webhook_url(url)
        messages.add(str(refused.value))
    assert len(messages) == 1


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/hook", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x"]
)
def test_a_public_https_address_is_accepted(staff_client, url):
    response = staff_client.post("/console/subscribers/webhooks/", {"url": url})
    assert response.status_code == 200
    assert Subscriber.objects.get(kind="webhook").url == url


def test_allowed_networks_open_an_internal_range_on_purpose(staff_client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    staff_client.post("/console/subscribers/webhooks/", {"url": "https://10.0.0.5/hook"})
    assert Subscriber.objects.filter(url="https://10.0.0.5/hook").exists()
    # Only that range, and still https only.
    for url in ("https://192.168.1.1/hook", "http://10.0.0.6/hook"):
        staff_client.post("/console/subscribers/webhooks/", {"url": url})
        assert not Subscriber.objects.filter(url=url).exists()


def test_a_bad_allowed_network_stops_start_up_naming_the_variable():
    result = manage("check", WEBHOOK_ALLOWED_NETWORKS="10.0.0.0/8, 10.0.0.0/33")
    assert result.returncode != 0
    assert "WEBHOOK_ALLOWED_NETWORKS" in result.stderr
    assert "10.0.0.0/33" in result.stderr


def open_incident(make_component):
    return actions.open_incident(
        title="Gateway errors",
        body="Investigating.",
        actor=None,
        via=AuditEntry.Via.SYSTEM,
        components={make_component("api-gateway"): ComponentStatus.MAJOR_OUTAGE},
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]"])
def test_the_worker_refuses_a_forbidden_address_at_connect_time(
    receiver, subscribe, make_component, settings, host
):
    """A URL stored past the form (an old row, a name that now resolves elsewhere) is checked
    again on the address the connection would use."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []  # the receiver's loopback is not allowed here
    port = receiver.server.server_address[1]
    subscribe(f"http://{host}:{port}/hook", kind="webhook")
    open_incident(make_component)
    run_pipeline()
    assert receiver.requests == []
    delivery = Delivery.objects.filter(channel="webhook").first()
    # Permanent: a forbidden address does not get better by retrying.
    assert (delivery.status, delivery.last_error) == ("failed", "could not deliver")


def test_the_connection_goes_to_the_checked_address(receiver, subscribe, make_component):
    subscribe(receiver.url, kind="webhook")
    open_incident(make_component)
    run_pipeline()
    assert len(receiver.requests) == 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_staff_cannot_tell_a_closed_port_from_an_open_one(receiver, subscribe, make_component):
    receiver.answers = [404] * 10
    open_hook = subscribe(receiver.url, kind="webhook")
    closed_hook = subscribe(f"http://127.0.0.1:{closed_port()}/hook", kind="webhook")
    open_incident(make_component)
    run_pipeline()
    errors = {
        hook: set(
            Delivery.objects.filter(subscriber=hook, attempts__gt=0).values_list(
                "last_error", flat=True
            )
        )
        for hook in (open_hook, closed_hook)
    }
    assert errors[open_hook] == errors[closed_hook] == {"could not deliver"}
