"""Whatever a client sends, the answer is a JSON 4xx naming the problem, never a 500."""

import pytest
from django.test import Client

from tests.api.conftest import field_errors

MALFORMED_BODIES = [
    b"{not json",
    b"",
    b"[]",
    b'"a string"',
    b"null",
    b"42",
    b"\xff\xfe\x00garbage",
    b'{"name": "x", "body": "y", "components": ["api-gateway"]}',
    b'{"name": "x", "body": "y", "components": {"api-gateway": 3}}',
    b'{"name": 5, "body": {"text": "y"}}',
    b'{"name": "x", "body": "y", "is_public": "sometimes"}',
    b'{"name": "x", "body": "y", "impact": null}',
    b'{"name": "x\\u0000", "body": "y"}',
    b'{"name": "x", "body": "y", "components": {"api\\u0000": "major_outage"}}',
    b'{"name": "x", "body": "y", "components": {"": "major_outage"}}',
]


@pytest.fixture
def endpoints(api, components):
    """One path per endpoint that takes a body, on objects that exist."""
    incident = api.post("/incidents", {"name": "x", "body": "y"}).json()
    maintenance = api.post(
        "/maintenances",
        {
            "name": "x",
            "scheduled_for": "2099-01-01T00:00:00Z",
            "scheduled_until": "2099-01-01T01:00:00Z",
        },
    ).json()
    return [
        ("post", "/incidents"),
        ("patch", f"/incidents/{incident['id']}"),
        ("post", f"/incidents/{incident['id']}/updates"),
        ("post", f"/incidents/{incident['id']}/resolve"),
        ("post", f"/incidents/{incident['id']}/postmortem"),
        ("post", f"/incidents/{incident['id']}/notes"),
        ("post", "/maintenances"),
        ("patch", f"/maintenances/{maintenance['id']}"),
        ("post", f"/maintenances/{maintenance['id']}/start"),
        ("post", f"/maintenances/{maintenance['id']}/notes"),
        ("patch", "/components/api-gateway"),
    ]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_it_answers_400_to_a_malformed_body_on_every_endpoint(api, endpoints, body):
    for method, path in endpoints:
        response = api.send(method, path, raw=body)
        if response.status_code == 200:
            # An empty or all-optional body is a valid request for some endpoints.
            assert body in (b"", b"null") or method == "patch", (method, path, body)
            continue
        assert response.status_code == 400, (method, path, body, response.content)
        assert response["Content-Type"].startswith("application/json")
        assert field_errors(response)


def test_it_says_when_the_body_is_not_json(api):
    response = api.post("/incidents", raw="{not json")
    assert response.status_code == 400
    assert field_errors(response) == {None: "Cannot parse request body"}


def test_it_answers_400_to_a_form_encoded_body(api):
    response = Client().post(
        "/api/v1/incidents",
        {"name": "x", "body": "y"},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 400


def test_it_answers_a_json_404_for_unknown_ids(api):
    response = api.get("/incidents/" + "9" * 40)
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"field": None, "message": f"No incident with id '{'9' * 40}'."}]
    }


def test_it_checks_the_token_before_the_body(anonymous):
    response = anonymous.post("/incidents", raw="{not json")
    assert response.status_code == 401


def test_it_answers_400_to_a_nul_character_in_a_path(api, components):
    # Refused for the whole site before any view runs (statuspage.nul_bytes).
    for path in ("/components/api%00gateway", "/incidents/1%00"):
        response = api.get(path)
        assert response.status_code == 400
        assert field_errors(response) == {None: "NUL characters are not allowed."}


def test_it_answers_400_naming_a_query_parameter_with_a_nul_character(api, components):
    response = api.get("/incidents", {"component": "a\x00"})
    assert response.status_code == 400
    assert field_errors(response) == {"component": "NUL characters are not allowed."}
