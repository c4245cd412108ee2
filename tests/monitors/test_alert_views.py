"""The alerts console: firing alerts by component, and the ones that matched nothing."""

import json

import pytest
from django.contrib.auth import get_user_model

from monitors.alerts import read_alertmanager, receive_alerts

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, staff):
    client.force_login(staff)
    return client


def send(now, *alerts):
    body = json.dumps({"version": "4", "alerts": list(alerts)}).encode()
    receive_alerts("alertmanager", read_alertmanager(body), [], now)


def alert(fingerprint, status="firing", **labels):
    return {
        "status": status,
        "labels": {"alertname": f"Alert{fingerprint}", **labels},
        "annotations": {"summary": f"summary of {fingerprint}"},
        "startsAt": "2026-11-29T02:00:00Z",
        "fingerprint": fingerprint,
    }


def test_it_requires_staff(client):
    user = get_user_model().objects.create_user("bob", "bob@example.com", "pw-bob-123")
    assert client.get("/console/probes/alerts/").status_code == 302
    client.force_login(user)
    assert client.get("/console/probes/alerts/").status_code in (302, 403)


def test_it_rejects_post(console):
    assert console.post("/console/probes/alerts/").status_code == 405


def test_it_lists_firing_alerts_and_the_unmatched_with_their_count(clock, console, make_component):
    make_component("credit-bureau", name="Credit bureau")
    send(
        clock.now(),
        alert("a1", component="credit-bureau", severity="critical"),
        alert("u1", team="ops"),
        alert("u2", component="nope", severity="critical"),
    )
    send(clock.now(), alert("u1", team="ops"))
    page = console.get("/console/probes/alerts/").content.decode()
    firing, unmatched = page.split("<h2>Unmatched")
    assert "Alerta1" in firing and "summary of a1" in firing and "Major outage" in firing
    assert "Alertu1" in unmatched and "Alertu2" in unmatched
    assert "(2 in the last 7 days)" in unmatched
    assert 'team="ops"' in unmatched and "2×" in unmatched
