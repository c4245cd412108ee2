import pytest
from django.db import transaction

from statuspage import actions
from statuspage.models import AuditEntry, ComponentStatus, Origin
from statuspage.subscriptions.models import Delivery
from statuspage.subscriptions.staff import alert_staff
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db


def test_alert_staff_emails_the_staff_addresses(smtp, settings):
    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com", "sre@example.com"]
    alert_staff(
        "Vantage point shanghai-1 cannot resolve DNS", "3 probes failed from shanghai-1 only."
    )
    run_pipeline()
    assert sorted(m["To"] for m in smtp.handler.messages) == [
        "oncall@example.com",
        "sre@example.com",
    ]
    message = smtp.handler.messages[0]
    assert "Vantage point shanghai-1 cannot resolve DNS" in message["Subject"]
    assert "List-Unsubscribe" not in message


def test_alert_staff_writes_nothing_when_the_caller_rolls_back(settings):
    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com"]
    with pytest.raises(RuntimeError), transaction.atomic():
        alert_staff("x", "y")
        raise RuntimeError
    assert not Delivery.objects.exists()


def test_an_automatic_incident_emails_staff(smtp, settings, make_component, subscribe):
    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com"]
    subscribe("public@example.com")
    bureau = make_component("credit-bureau")
    actions.open_incident(
        title="Credit bureau unreachable",
        body="Probes fail from every vantage point.",
        actor=None,
        via=AuditEntry.Via.SYSTEM,
        origin=Origin.AUTOMATIC,
        root_cause=bureau,
        components={bureau: ComponentStatus.MAJOR_OUTAGE},
    )
    run_pipeline()
    [internal] = smtp.handler.to("oncall@example.com")
    assert "Automatic incident opened: Credit bureau unreachable" in internal["Subject"]
    assert len(smtp.handler.to("public@example.com")) == 1
