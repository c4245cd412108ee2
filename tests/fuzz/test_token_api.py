"""Fuzz of the token API from its own OpenAPI schema: for every operation in
/api/v1/openapi.json, requests built from the schema (valid values, values just outside the
constraints, and values of the wrong type), with a valid staff token. No case may answer 5xx,
and every 400 names the field at fault in the API's error shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors.models import Probe
from statuspage import actions
from statuspage.api.tokens import issue_token
from tests.fuzz.strategies import FUZZ_SETTINGS, any_json, examples, nasty_text


def resolve(node: dict, schemas: dict) -> dict:
    while "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    return node


def timestamps(hostile: bool) -> st.SearchStrategy[str]:
    soon = st.integers(1, 24 * 30).map(
        lambda hours: (timezone.now() + timedelta(hours=hours)).isoformat()
    )
    if not hostile:
        return soon
    moments = st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    )
    return st.one_of(
        soon,
        moments.map(lambda m: m.isoformat()),
        st.just("2030-01-01T01:00:00"),  # no offset: refused
        st.just("0001-01-01T00:00:00+14:00"),  # overflows in UTC
        nasty_text,
    )


def from_schema(node: dict, schemas: dict, hostile: bool, depth: int = 0) -> st.SearchStrategy:
    """Values a schema node allows (near its edges too); when `hostile`, also values of the
    wrong type or past the constraints."""
    node = resolve(node, schemas)
    wrong = any_json if hostile else st.nothing()
    if depth > 4:
        return any_json
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            return st.one_of([from_schema(n, schemas, hostile, depth + 1) for n in node[key]])
    if "enum" in node:
        return st.one_of(st.sampled_from(node["enum"]), wrong)
    kind = node.get("type")
    if kind == "string":
        if node.get("format") == "date-time":
            return timestamps(hostile)
        low, high = node.get("minLength", 0), node.get("maxLength", 300)
        valid = st.text(min_size=max(low, 1), max_size=min(high, 60))
        if not hostile:
            return valid
        too_long = st.text(min_size=high + 1, max_size=high + 2)
        return st.one_of(valid, too_long if "maxLength" in node else valid, nasty_text, wrong)
    if kind == "integer":
        bounded = st.integers(node.get("minimum", 0), node.get("maximum", 1000))
        return st.one_of(bounded, st.integers(-(2**64), 2**64), wrong) if hostile else bounded
    if kind == "boolean":
        return (
            st.one_of(st.booleans(), st.sampled_from([0, 1, "true"])) if hostile else st.booleans()
        )
    if kind == "null":
        return st.none()
    if kind == "array":
        items = from_schema(node.get("items", {}), schemas, hostile, depth + 1)
        return st.one_of(st.lists(items, max_size=3), wrong)
    if kind == "object" or "properties" in node:
        return objects(node, schemas, hostile, depth)
    return wrong


def objects(node: dict, schemas: dict, hostile: bool, depth: int) -> st.SearchStrategy[dict]:
    properties = node.get("properties", {})
    required = set(node.get("required", []))

    @st.composite
    def build(draw):
        value = {}
        for name, spec in properties.items():
            if name in required or draw(st.booleans()):
                if hostile and name in required and draw(st.integers(0, 9)) == 0:
                    continue  # a required field missing
                value[name] = draw(from_schema(spec, schemas, hostile, depth + 1))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            keys = ["dns", "api-gateway"] + (["1", "nope", ""] if hostile else [])
            for key in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
                value[key] = draw(from_schema(extra, schemas, hostile, depth + 1))
        if hostile and draw(st.integers(0, 9)) == 0:
            value[draw(nasty_text)] = draw(any_json)  # an unknown field
        return value

    return build()


@pytest.fixture
def world(db, staff, make_component):
    gateway = make_component("api-gateway", name="API gateway")
    make_component("dns", name="DNS")
    incident = actions.open_incident(
        title="Slow", body="x", actor=None, via="system", components={gateway: "major_outage"}
    )
    maintenance = actions.schedule_maintenance(
        title="Upgrade",
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=1, hours=1),
        actor=None,
        via="system",
    )
    probe = Probe.objects.create(
        component=gateway, name="health", kind="http", config={"url": "http://127.0.0.1:9/"}
    )
    return {
        "token": issue_token(staff, name="fuzz")[1],
        "incident_id": str(incident.pk),
        "maintenance_id": str(maintenance.pk),
        "component_ref": "api-gateway",
        "probe_id": str(probe.pk),
    }


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


@st.composite
def api_requests(draw, schema: dict, world: dict):
    schemas = schema["components"]["schemas"]
    method, template, operation = draw(st.sampled_from(operations(schema)))
    path = template
    # Two cases in three stay within the schema (they reach the views); the third is hostile.
    hostile = draw(st.integers(0, 2)) == 0
    query = {}
    for parameter in operation.get("parameters", []):
        name, spec = parameter["name"], parameter.get("schema", {})
        if parameter["in"] == "path":
            odd = st.one_of(st.integers(-5, 2**70).map(str), st.text(min_size=1, max_size=20))
            value = draw(st.one_of(st.just(world[name]), odd) if hostile else st.just(world[name]))
            path = path.replace("{" + name + "}", quote(value.encode("utf-8", "replace"), safe=""))
        elif draw(st.booleans()):
            value = draw(from_schema(spec, schemas, hostile))
            query[name] = value if isinstance(value, str) else json.dumps(value)
    body = None
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        valid = from_schema(content["schema"], schemas, hostile)
        body = draw(st.one_of(valid, any_json) if hostile else valid)
    return method, template, path, query, body


def request_fields(schema: dict, method: str, template: str) -> list[str]:
    """The parameter and body property names an operation declares."""
    operation = schema["paths"][template][method.lower()]
    names = [parameter["name"] for parameter in operation.get("parameters", [])]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        stack = [content["schema"]]
        while stack:
            node = resolve(stack.pop(), schema["components"]["schemas"])
            names += list(node.get("properties", {}))
            for key in ("anyOf", "oneOf", "allOf"):
                stack += node.get(key, [])
    return names


@pytest.mark.django_db
def test_no_token_api_request_gets_a_5xx_and_every_400_names_its_field(world, settings_fast):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {world['token']}"}
    schema = client.get("/api/v1/openapi.json").json()
    statuses: dict[int, int] = {}

    @settings(
        max_examples=examples(200),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **FUZZ_SETTINGS,
    )
    @given(api_requests(schema, world))
    def check(request):
        method, template, path, query, body = request
        url = path + ("?" + urlencode(query) if query else "")
        data = json.dumps(body) if body is not None else ""
        response = client.generic(
            method, url, data=data, content_type="application/json", headers=headers
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (method, url, data[:300], response.content[:300])
        if response.status_code == 400:
            errors = response.json()["errors"]
            assert errors, (method, url, data[:300])
            for error in errors:
                assert set(error) == {"field", "message"} and error["message"]
            # A named field is one the request sent or the operation knows, never a made-up
            # or internal name (ninja's "payload", "body").
            known = set(query) | set(body if isinstance(body, dict) else {})
            known |= set(request_fields(schema, method, template))
            for error in errors:
                field = error["field"]
                if field:  # "components.dns", or a sent key that itself contains a dot
                    assert field in known or field.split(".")[0] in known, (error, method, url)

    check()
    print("token API fuzz: statuses", dict(sorted(statuses.items())))
    # The cases reached the views, not only the validation.
    assert statuses.get(200, 0) + statuses.get(201, 0) > 0, statuses
    assert statuses.get(400, 0) > 0, statuses


@pytest.fixture
def settings_fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
