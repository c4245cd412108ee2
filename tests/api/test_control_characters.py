"""Text sent to the API is stored without control characters other than tab and newline."""

import pytest

from statuspage.models import Incident, Maintenance

from .conftest import field_errors

pytestmark = pytest.mark.django_db


def test_control_characters_are_dropped_from_an_incident(api, components):
    response = api.post(
        "/incidents",
        {
            "name": "Gateway\u000bslow\u0007",
            "body": "Line one\r\nline\ttwo\u001b[31m",
            "components": {"api-gateway": "partial_outage"},
        },
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert incident.title == "Gatewayslow"
    assert incident.updates.get().body == "Line one\nline\ttwo[31m"


def test_line_breaks_in_a_title_become_spaces(api, components):
    response = api.post("/incidents", {"name": "Gateway\nslow\tagain", "body": "x"})
    assert response.status_code == 201, response.content
    assert Incident.objects.get().title == "Gateway slow again"


def test_a_title_of_control_characters_only_is_refused_as_empty(api, components):
    response = api.post("/incidents", {"name": "\u0007\u000b", "body": "x"})
    assert response.status_code == 400
    assert "name" in field_errors(response)
    assert not Incident.objects.exists()


def test_nul_is_still_refused_with_the_field_named(api, components):
    response = api.post("/incidents", {"name": "Gateway\u0000", "body": "x"})
    assert response.status_code == 400
    assert "NUL" in field_errors(response)["name"]


def test_control_characters_are_dropped_from_a_maintenance_and_its_edit(api, components):
    response = api.post(
        "/maintenances",
        {
            "name": "Upgrade\u0008",
            "description": "Planned\u000c work",
            "scheduled_for": "2030-01-01T01:00:00Z",
            "scheduled_until": "2030-01-01T02:00:00Z",
        },
    )
    assert response.status_code == 201, response.content
    maintenance = Maintenance.objects.get()
    assert (maintenance.title, maintenance.description) == ("Upgrade", "Planned work")
    response = api.patch(f"/maintenances/{maintenance.pk}", {"description_alt": "维护\u0001"})
    assert response.status_code == 200, response.content
    maintenance.refresh_from_db()
    assert maintenance.description_alt == "维护"
