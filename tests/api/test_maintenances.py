from datetime import UTC, datetime

import pytest
import time_machine

from statuspage.models import AuditEntry, Component, Maintenance
from tests.api.conftest import field_errors

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def schedule(api, **fields):
    body = {
        "name": "Database upgrade",
        "scheduled_for": "2026-11-30T01:00:00+08:00",
        "scheduled_until": "2026-11-30T03:00:00+08:00",
        **fields,
    }
    response = api.post("/maintenances", body)
    assert response.status_code == 201, response.content
    return response.json()


# --- schedule -----------------------------------------------------------------------------------


def test_it_schedules_maintenance(api, staff, components):
    maintenance = schedule(
        api, description="Expect *short* errors.", components=["api-gateway", "credit-bureau"]
    )
    assert maintenance["status"] == "scheduled"
    assert maintenance["impact"] == "maintenance"
    assert maintenance["scheduled_for"] == "2026-11-29T17:00:00Z"
    assert maintenance["scheduled_until"] == "2026-11-29T19:00:00Z"
    assert {c["slug"] for c in maintenance["components"]} == {"api-gateway", "credit-bureau"}
    assert maintenance["maintenance_updates"][0]["body"] == "Expect *short* errors."
    entry = AuditEntry.objects.get(action="maintenance.schedule")
    assert (entry.actor, entry.via) == (staff, "api")


def test_it_rejects_a_window_that_ends_before_it_starts(api):
    response = api.post(
        "/maintenances",
        {
            "name": "Backwards",
            "scheduled_for": "2026-11-30T03:00:00Z",
            "scheduled_until": "2026-11-30T01:00:00Z",
        },
    )
    assert response.status_code == 400
    assert "scheduled_until" in field_errors(response)
    assert not Maintenance.objects.exists()


def test_it_rejects_a_window_already_over(api):
    response = api.post(
        "/maintenances",
        {
            "name": "Past",
            "scheduled_for": "2026-11-28T01:00:00Z",
            "scheduled_until": "2026-11-28T03:00:00Z",
        },
    )
    assert "scheduled_until" in field_errors(response)


def test_it_requires_times_with_an_offset(api):
    response = api.post(
        "/maintenances",
        {
            "name": "Naive",
            "scheduled_for": "2026-11-30T01:00:00",
            "scheduled_until": "not a time",
        },
    )
    assert response.status_code == 400
    assert {"scheduled_for", "scheduled_until"} <= set(field_errors(response))


def test_it_rejects_a_time_out_of_range(api):
    response = api.post(
        "/maintenances",
        {
            "name": "Far",
            "scheduled_for": "2026-11-30T01:00:00Z",
            "scheduled_until": "9999-12-31T23:59:59-12:00",
        },
    )
    assert response.status_code == 400
    assert "scheduled_until" in field_errors(response)


def test_it_rejects_an_unknown_component(api, components):
    response = api.post(
        "/maintenances",
        {
            "name": "x",
            "scheduled_for": "2026-11-30T01:00:00Z",
            "scheduled_until": "2026-11-30T03:00:00Z",
            "components": ["api-gateway", "ghost"],
        },
    )
    assert response.status_code == 400
    assert "'ghost'" in field_errors(response)["components"]
    assert not Maintenance.objects.exists()


def test_it_requires_a_name_and_a_window(api):
    response = api.post("/maintenances", {})
    assert {"name", "scheduled_for", "scheduled_until"} <= set(field_errors(response))


# --- list and get -------------------------------------------------------------------------------


def test_it_lists_and_filters_maintenances(api, frozen_clock):
    upcoming = schedule(api, name="Later")
    active = schedule(api, name="Now", scheduled_for="2026-11-29T01:00:00Z")
    api.post(f"/maintenances/{active['id']}/start", {})
    assert {m["id"] for m in api.get("/maintenances").json()} == {upcoming["id"], active["id"]}
    assert [m["id"] for m in api.get("/maintenances", {"status": "upcoming"}).json()] == [
        upcoming["id"]
    ]
    assert [m["id"] for m in api.get("/maintenances", {"status": "active"}).json()] == [
        active["id"]
    ]
    assert [m["id"] for m in api.get("/maintenances", {"status": "in_progress"}).json()] == [
        active["id"]
    ]
    assert "status" in field_errors(api.get("/maintenances", {"status": "someday"}))


def test_it_gets_a_maintenance(api):
    maintenance = schedule(api)
    assert api.get(f"/maintenances/{maintenance['id']}").json() == maintenance


def test_it_answers_404_for_an_unknown_maintenance(api):
    assert api.get("/maintenances/42").status_code == 404
    assert api.get("/maintenances/x").status_code == 404
    assert api.patch("/maintenances/42", {"name": "x"}).status_code == 404
    for action in ("start", "verify", "complete", "cancel"):
        assert api.post(f"/maintenances/42/{action}", {}).status_code == 404
    assert api.post("/maintenances/42/notes", {"body": "x"}).status_code == 404


# --- edit ---------------------------------------------------------------------------------------


def test_it_edits_a_maintenance(api, staff, components):
    maintenance = schedule(api, components=["api-gateway"])
    response = api.patch(
        f"/maintenances/{maintenance['id']}",
        {
            "name": "Database upgrade, part 1",
            "scheduled_until": "2026-11-30T04:00:00+08:00",
            "components": ["credit-bureau"],
            "auto_complete": False,
        },
    )
    assert response.status_code == 200
    edited = response.json()
    assert edited["name"] == "Database upgrade, part 1"
    assert edited["scheduled_for"] == maintenance["scheduled_for"]
    assert edited["scheduled_until"] == "2026-11-29T20:00:00Z"
    assert [c["slug"] for c in edited["components"]] == ["credit-bureau"]
    assert edited["auto_complete"] is False
    entry = AuditEntry.objects.get(action="maintenance.edit")
    assert (entry.actor, entry.via) == (staff, "api")


def test_it_rejects_an_edit_that_ends_the_window_before_it_starts(api):
    maintenance = schedule(api)
    response = api.patch(
        f"/maintenances/{maintenance['id']}", {"scheduled_until": "2026-11-29T00:00:00Z"}
    )
    assert response.status_code == 400
    assert "scheduled_until" in field_errors(response)
    assert Maintenance.objects.get().ends_at == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)


def test_it_rejects_an_edit_with_unknown_fields_or_components(api):
    maintenance = schedule(api)
    path = f"/maintenances/{maintenance['id']}"
    assert "starts_at" in field_errors(api.patch(path, {"starts_at": "2026-11-30T00:00:00Z"}))
    assert "components" in field_errors(api.patch(path, {"components": ["ghost"]}))
    assert "auto_start" in field_errors(api.patch(path, {"auto_start": "perhaps"}))


def test_it_refuses_to_edit_a_completed_maintenance(api):
    maintenance = schedule(api)
    api.post(f"/maintenances/{maintenance['id']}/cancel", {})
    response = api.patch(f"/maintenances/{maintenance['id']}", {"name": "Too late"})
    assert response.status_code == 400
    # About the maintenance's state, not a field of the request: no field named.
    assert "cancelled" in field_errors(response)[None]


# --- transitions --------------------------------------------------------------------------------


def test_it_starts_verifies_and_completes_a_maintenance(api, staff, components):
    maintenance = schedule(api, components=["api-gateway"])
    path = f"/maintenances/{maintenance['id']}"

    started = api.post(f"{path}/start", {"body": "Work has begun."})
    assert started.status_code == 200
    assert started.json()["status"] == "in_progress"
    assert started.json()["started_at"] == "2026-11-29T02:00:00Z"
    assert Component.objects.get(slug="api-gateway").status == "under_maintenance"

    assert api.post(f"{path}/verify", {}).json()["status"] == "verifying"
    completed = api.post(f"{path}/complete", {"body": "Done."}).json()
    assert completed["status"] == "completed"
    assert [u["status"] for u in completed["maintenance_updates"]] == [
        "completed",
        "verifying",
        "in_progress",
        "scheduled",
    ]
    assert Component.objects.get(slug="api-gateway").status == "operational"
    actions = AuditEntry.objects.filter(object_type="maintenance").values_list("action", "via")
    assert sorted(actions) == sorted(
        [
            ("maintenance.schedule", "api"),
            ("maintenance.in_progress", "api"),
            ("maintenance.verifying", "api"),
            ("maintenance.completed", "api"),
        ]
    )


def test_it_transitions_without_a_body(api):
    maintenance = schedule(api)
    response = api.post(f"/maintenances/{maintenance['id']}/start", raw="")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress"


def test_it_cancels_a_maintenance(api):
    maintenance = schedule(api)
    cancelled = api.post(f"/maintenances/{maintenance['id']}/cancel", {"body": "Postponed."})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["completed_at"] is not None


def test_it_refuses_a_transition_out_of_order(api):
    maintenance = schedule(api)
    path = f"/maintenances/{maintenance['id']}"
    response = api.post(f"{path}/complete", {})
    assert response.status_code == 400
    assert "scheduled" in field_errors(response)[None]
    api.post(f"{path}/cancel", {})
    assert api.post(f"{path}/start", {}).status_code == 400
    assert Maintenance.objects.get().status == "cancelled"


def test_it_adds_an_internal_note_to_a_maintenance(api):
    maintenance = schedule(api)
    response = api.post(f"/maintenances/{maintenance['id']}/notes", {"body": "Vendor confirmed."})
    assert response.status_code == 201
    fetched = api.get(f"/maintenances/{maintenance['id']}").json()
    assert [note["body"] for note in fetched["internal_notes"]] == ["Vendor confirmed."]
    assert "body" in field_errors(api.post(f"/maintenances/{maintenance['id']}/notes", {}))


def test_the_list_costs_the_same_queries_however_many_maintenances(
    api, components, django_assert_max_num_queries
):
    for n in range(10):
        schedule(api, name=f"Window {n}", components=["api-gateway"])
    with django_assert_max_num_queries(8):
        assert len(api.get("/maintenances").json()) == 10
