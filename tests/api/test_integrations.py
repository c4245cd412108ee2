"""POST /api/v1/integrations/alertmanager and /grafana: alerts in, with a staff token."""

import json

import pytest
from django.contrib.auth import get_user_model

from monitors.models import FiringAlert
from statuspage.api.tokens import issue_token
from statuspage.models import Component, Incident

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def alertmanager_payload(status="firing", **labels):
    """As Alertmanager 0.25+ sends it (webhook payload version 4)."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="BureauDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "statuspage",
        "groupLabels": {"alertname": "BureauDown"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "BureauDown", **labels},
                "annotations": {"summary": "The bureau answers 503"},
                "startsAt": "2026-11-29T02:00:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "c8e8a4e3a6f3b1d2",
            }
        ],
    }


def grafana_payload(**labels):
    """As Grafana's unified alerting webhook contact point sends it."""
    return {
        "receiver": "statuspage",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "PayoutLatency", **labels},
                "annotations": {"description": "p95 above 3 s"},
                "startsAt": "2026-11-29T02:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://grafana:3000/alerting/grafana/x/view",
                "fingerprint": "0a1b2c3d4e5f6071",
                "silenceURL": "http://grafana:3000/alerting/silence/new",
                "values": {"B": 3.2},
            }
        ],
        "groupLabels": {},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://grafana:3000/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": "[FIRING:1] PayoutLatency",
        "state": "alerting",
        "message": "…",
    }


def test_it_sets_the_components_status_from_an_alertmanager_alert(api, components):
    response = api.post(
        "/integrations/alertmanager",
        alertmanager_payload(component="credit-bureau", severity="critical"),
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "received": 1,
        "matched": 1,
        "unmatched": 0,
        "resolved": 0,
        "ignored": 0,
        "components": ["credit-bureau"],
    }
    assert Component.objects.get(slug="credit-bureau").status == "major_outage"
    assert Incident.objects.get().root_cause.slug == "credit-bureau"


def test_it_sets_the_components_status_from_a_grafana_alert(api, components):
    response = api.post(
        "/integrations/grafana", grafana_payload(component="api-gateway", severity="warning")
    )
    assert response.status_code == 200, response.content
    assert Component.objects.get(slug="api-gateway").status == "degraded_performance"
    assert FiringAlert.objects.get().source == "grafana"


def test_a_resolved_notification_clears_it(api, components):
    api.post(
        "/integrations/alertmanager",
        alertmanager_payload(component="credit-bureau", severity="error"),
    )
    response = api.post(
        "/integrations/alertmanager",
        alertmanager_payload("resolved", component="credit-bureau", severity="error"),
    )
    assert response.json()["resolved"] == 1
    assert Component.objects.get(slug="credit-bureau").status == "operational"


def test_an_unmatched_alert_is_accepted_and_counted(api, components):
    response = api.post("/integrations/alertmanager", alertmanager_payload(team="ops"))
    assert response.status_code == 200
    assert response.json()["unmatched"] == 1
    assert FiringAlert.objects.get().component is None


@pytest.mark.parametrize(
    "raw, field",
    [
        ("{not json", None),  # about the whole body: no field
        (json.dumps({"version": "2", "alerts": []}), "version"),
        (json.dumps({"version": "4", "alerts": [{"status": "firing"}]}), "alerts.0.labels"),
    ],
)
def test_a_bad_payload_is_a_400_with_the_field_and_reason(api, raw, field):
    response = api.post("/integrations/alertmanager", raw=raw)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == field and error["message"]
    assert not FiringAlert.objects.exists()


def test_it_needs_a_token(anonymous):
    assert anonymous.post("/integrations/alertmanager", alertmanager_payload()).status_code == 401
    assert anonymous.post("/integrations/grafana", grafana_payload()).status_code == 401


def test_it_needs_a_staff_token(db):
    user = get_user_model().objects.create_user("bob", "bob@example.com", "pw-bob-123")
    client = ApiClient(issue_token(user)[1])
    assert client.post("/integrations/alertmanager", alertmanager_payload()).status_code == 403
