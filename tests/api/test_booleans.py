"""Boolean fields take JSON true or false only, as the OpenAPI schema says: 0, 1 and strings
are refused with a 400 naming the field (issue 10: the API accepted 0 and 1)."""

import pytest

from statuspage.models import Incident, Maintenance

from .conftest import field_errors

pytestmark = pytest.mark.django_db

NOT_BOOLEANS = [0, 1, "true", "false", "yes", "1", None, [], {}]


@pytest.mark.parametrize("value", NOT_BOOLEANS)
@pytest.mark.parametrize("field", ["is_public", "deliver_notifications"])
def test_an_incident_refuses_a_boolean_that_is_not_true_or_false(api, components, field, value):
    if value is None and field == "is_public":
        pytest.skip("covered by the edit, where null means 'leave it'")
    response = api.post("/incidents", {"name": "Slow", "body": "x", field: value})
    assert response.status_code == 400
    assert field in field_errors(response)
    assert not Incident.objects.exists()


@pytest.mark.parametrize("value", [0, 1, "true"])
def test_an_edit_refuses_them_too(api, components, value):
    incident = api.post("/incidents", {"name": "Slow", "body": "x"}).json()
    response = api.patch(f"/incidents/{incident['id']}", {"is_public": value})
    assert response.status_code == 400
    assert "is_public" in field_errors(response)
    assert Incident.objects.get().is_public is True


@pytest.mark.parametrize("value", [True, False])
def test_true_and_false_are_taken(api, components, value):
    response = api.post("/incidents", {"name": "Slow", "body": "x", "is_public": value})
    assert response.status_code == 201
    assert Incident.objects.get().is_public is value


def test_a_maintenance_refuses_them(api, components):
    response = api.post(
        "/maintenances",
        {
            "name": "Upgrade",
            "scheduled_for": "2030-01-01T01:00:00Z",
            "scheduled_until": "2030-01-01T02:00:00Z",
            "auto_start": 1,
        },
    )
    assert response.status_code == 400
    assert "auto_start" in field_errors(response)
    assert not Maintenance.objects.exists()


def test_the_schema_declares_every_request_flag_as_a_plain_boolean(anonymous):
    """What the schema says is what the API does: booleans are `boolean`, with no integer or
    string alternative."""
    schema = anonymous.client.get("/api/v1/openapi.json").json()
    flags = []
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            options = spec.get("anyOf", [spec])
            types = {option.get("type") for option in options}
            if "boolean" in types:
                flags.append((name, field))
                assert types <= {"boolean", "null"}, (name, field, spec)
    assert ("IncidentCreate", "is_public") in flags
    assert ("MaintenanceEdit", "auto_start") in flags
