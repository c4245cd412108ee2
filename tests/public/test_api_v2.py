import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from jsonschema import Draft202012Validator

from statuspage import actions
from statuspage.models import Component
from statuspage.public.caching import clear_public_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
SCHEMA = json.loads((Path(__file__).parent / "statuspage_schema.json").read_text())
ENDPOINTS = {
    "/api/v2/summary.json": "summary.json",
    "/api/v2/status.json": "status.json",
    "/api/v2/components.json": "components.json",
    "/api/v2/incidents.json": "incidents.json",
    "/api/v2/incidents/unresolved.json": "incidents.json",
    "/api/v2/scheduled-maintenances.json": "scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json": "scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/active.json": "scheduled-maintenances.json",
}


def validator(document: str) -> Draft202012Validator:
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{document}"})


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield


def get(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.json()


def situation(name: str) -> None:
    if name == "quiet":
        worlds.components()
    elif name == "busy":
        worlds.busy(NOW)
    elif name == "maintenance-only":
        c = worlds.components()
        maintenance = actions.schedule_maintenance(
            title="Upgrade",
            starts_at=NOW,
            ends_at=NOW.replace(hour=6),
            actor=None,
            via="system",
            components=[c["loan-app"]],
            now=NOW.replace(hour=3),
        )
        actions.set_maintenance_status(maintenance, "in_progress", actor=None, via="system")


@pytest.mark.parametrize("name", ["empty", "quiet", "busy", "maintenance-only"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_matches_the_statuspage_schema(db, client, name, path):
    situation(name)
    body = get(client, path)
    errors = sorted(validator(ENDPOINTS[path]).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_wrong_enumeration(db, client):
    worlds.busy(NOW)
    body = get(client, "/api/v2/summary.json")
    body["components"][0]["status"] = "down"
    assert not validator("summary.json").is_valid(body)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_allows_any_origin(db, client, path):
    assert client.get(path)["Access-Control-Allow-Origin"] == "*"


def test_it_rejects_post(db, client):
    assert client.post("/api/v2/summary.json").status_code == 405


def test_internal_only_data_never_appears(db, client):
    world = worlds.busy(NOW)
    secret = world["components"]["secret"]
    for path in ENDPOINTS:
        text = client.get(path).content.decode()
        assert worlds.SECRET not in text, path
        assert str(secret.pk) not in component_ids(json.loads(text)), path


def component_ids(node) -> set[str]:
    """Every component id anywhere in a document: component objects, group children,
    affected components."""
    found: set[str] = set()
    if isinstance(node, dict):
        if "group" in node and "page_id" in node:
            found.add(node["id"])
            found.update(node.get("components", []))
        if "code" in node and "new_status" in node:
            found.add(node["code"])
        for value in node.values():
            found |= component_ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= component_ids(value)
    return found


def test_the_page_object_names_the_site(db, client, settings):
    settings.SITE_URL = "https://status.example.com"
    settings.PAGE_ID = "abc123"
    worlds.components()
    page = get(client, "/api/v2/status.json")["page"]
    assert page["id"] == "abc123"
    assert page["url"] == "https://status.example.com"
    assert page["time_zone"] == "Asia/Shanghai"
    assert page["updated_at"] == "2026-11-20T12:00:00.000+08:00"


def test_groups_list_their_public_children(db, client):
    c = worlds.components(count=4)
    body = get(client, "/api/v2/components.json")
    by_id = {item["id"]: item for item in body["components"]}
    group = next(item for item in body["components"] if item["group"])
    children = [str(c[slug].pk) for slug in ("loan-app", "service-1", "service-2")]
    assert group["name"] == "Lending"
    assert group["components"] == children
    assert all(by_id[child]["group_id"] == group["id"] for child in children)
    assert by_id[str(c["bureau"].pk)]["group_id"] is None
    assert group["id"] not in {str(x.pk) for x in Component.objects.all()}


def test_a_group_takes_the_worst_status_of_its_children(db, client):
    c = worlds.components()
    actions.set_component_status(c["loan-app"], "partial_outage", actor=None, via="system")
    group = next(x for x in get(client, "/api/v2/components.json")["components"] if x["group"])
    assert group["status"] == "partial_outage"


def test_summary_shows_open_incidents_and_upcoming_and_active_maintenance(db, client):
    world = worlds.busy(NOW)
    body = get(client, "/api/v2/summary.json")
    assert [i["id"] for i in body["incidents"]] == [str(world["open"].pk)]
    assert [m["id"] for m in body["scheduled_maintenances"]] == [
        f"m{world['active'].pk}",
        f"m{world['upcoming'].pk}",
    ]
    assert body["status"] == {
        "indicator": "minor",
        "description": "Minor Service Outage",
        "story": "minor",
        "checks_delayed": False,
    }


def test_the_indicator_follows_the_worst_public_status(db, client):
    c = worlds.components()
    actions.set_component_status(c["secret"], "major_outage", actor=None, via="system")
    assert get(client, "/api/v2/status.json")["status"]["indicator"] == "none"
    actions.set_component_status(c["bureau"], "major_outage", actor=None, via="system")
    assert get(client, "/api/v2/status.json")["status"] == {
        "indicator": "critical",
        "description": "Major Service Outage",
        "story": "critical",
        "checks_delayed": False,
    }


def test_an_incident_carries_its_updates_newest_first_and_its_public_components(db, client):
    world = worlds.busy(NOW)
    incident = get(client, "/api/v2/incidents/unresolved.json")["incidents"][0]
    assert incident["name"] == "Credit checks are slow"
    assert incident["status"] == "identified"
    assert [u["status"] for u in incident["incident_updates"]] == ["identified", "investigating"]
    assert incident["incident_updates"][0]["body"] == "The bureau's gateway drops connections."
    assert [c["id"] for c in incident["components"]] == [str(world["components"]["bureau"].pk)]
    affected = incident["incident_updates"][1]["affected_components"]
    assert affected == [
        {
            "code": str(world["components"]["bureau"].pk),
            "name": "Credit bureau",
            "old_status": "operational",
            "new_status": "degraded_performance",
        }
    ]
    assert incident["shortlink"].endswith(f"/incidents/{world['open'].pk}")
    assert incident["started_at"] == "2026-11-20T10:00:00.000+08:00"


def test_incidents_json_lists_resolved_ones_too(db, client):
    world = worlds.busy(NOW)
    body = get(client, "/api/v2/incidents.json")
    assert [i["id"] for i in body["incidents"]] == [
        str(world["open"].pk),
        str(world["resolved"].pk),
    ]
    assert body["incidents"][1]["resolved_at"] == "2026-11-19T08:00:00.000+08:00"


def test_maintenance_lists_split_by_state(db, client):
    world = worlds.busy(NOW)
    upcoming = get(client, "/api/v2/scheduled-maintenances/upcoming.json")
    active = get(client, "/api/v2/scheduled-maintenances/active.json")
    everything = get(client, "/api/v2/scheduled-maintenances.json")
    assert [m["name"] for m in upcoming["scheduled_maintenances"]] == ["Database upgrade"]
    assert [m["name"] for m in active["scheduled_maintenances"]] == ["Gateway certificates"]
    assert {m["name"] for m in everything["scheduled_maintenances"]} == {
        "Database upgrade",
        "Gateway certificates",
        "Network switch swap",
    }
    window = upcoming["scheduled_maintenances"][0]
    assert window["scheduled_for"] == "2026-11-21T12:00:00.000+08:00"
    assert window["scheduled_until"] == "2026-11-21T14:00:00.000+08:00"
    assert window["impact"] == "maintenance"
    assert [c["name"] for c in window["components"]] == ["Loan App"]
    assert window["id"] == f"m{world['upcoming'].pk}"


def test_a_component_in_maintenance_says_so(db, client):
    world = worlds.busy(NOW)
    body = get(client, "/api/v2/components.json")
    by_id = {item["id"]: item for item in body["components"]}
    # The bureau is degraded by an incident: the worse of the two shows.
    assert by_id[str(world["components"]["bureau"].pk)]["status"] == "degraded_performance"


def count_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clear_public_cache()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_the_number_of_queries_does_not_grow_with_the_page(db, client, path):
    worlds.busy(NOW, count=5)
    small = count_queries(client, path)
    for index in range(35):
        Component.objects.create(name=f"Extra {index}", slug=f"extra-{index}", position=10 + index)
    worlds.long_history(NOW)
    large = count_queries(client, path)
    assert large == small
    assert large <= 12


def test_an_update_keeps_a_public_component_it_no_longer_affects(db, client):
    world = worlds.busy(NOW)
    bureau, loan = world["components"]["bureau"], world["components"]["loan-app"]
    actions.post_incident_update(
        world["open"],
        status="identified",
        body="It is the loan application after all.",
        actor=None,
        via="system",
        components={loan: "partial_outage"},
    )
    incident = get(client, "/api/v2/incidents/unresolved.json")["incidents"][0]
    first = incident["incident_updates"][-1]["affected_components"]
    assert [a["code"] for a in first] == [str(bureau.pk)]
    assert [c["id"] for c in incident["components"]] == [str(loan.pk)]
