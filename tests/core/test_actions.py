"""The service layer: each change writes its audit entry and event and moves statuses, or
rejects bad input having written nothing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from statuspage import actions
from statuspage.models import AuditEntry, Component, Event, Incident, Maintenance, SiteState

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


def statuses(*components: Component) -> list[str]:
    return [Component.objects.get(pk=c.pk).status for c in components]


def test_opening_an_incident_sets_components_audits_and_records_an_event(staff, make_component):
    bureau = make_component("bureau")
    version = SiteState.current().version

    incident = actions.open_incident(
        title="Bureau timeouts",
        body="Looking",
        actor=staff,
        via="console",
        impact="major",
        components={bureau: "partial_outage"},
        now=NOW,
    )

    assert statuses(bureau) == ["partial_outage"]
    entry = AuditEntry.objects.get(action="incident.open")
    assert (entry.actor, entry.via, entry.object_id) == (staff, "console", str(incident.pk))
    assert entry.after["components"] == {"bureau": "partial_outage"}
    assert list(Event.objects.filter(incident=incident).values_list("kind", flat=True)) == [
        "incident_opened"
    ]
    assert incident.updates.get().affected_components == [
        {
            "code": str(bureau.pk),
            "name": bureau.name,
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert SiteState.current().version > version


def test_an_internal_incident_records_no_public_event(staff, make_component):
    bureau = make_component("bureau")
    actions.open_incident(
        title="Quiet",
        body="x",
        actor=staff,
        via="api",
        is_public=False,
        components={bureau: "major_outage"},
    )
    assert not Event.objects.filter(kind__startswith="incident").exists()


def test_a_quiet_update_is_recorded_but_notifies_nobody(staff, make_component):
    incident = actions.open_incident(title="T", body="x", actor=staff, via="console")
    actions.post_incident_update(
        incident, status="identified", body="found it", actor=staff, via="console", notify=False
    )
    event = Event.objects.get(kind="incident_updated")
    assert event.notify is False


def test_the_incident_walks_every_status_with_timestamps(staff, make_component):
    bureau = make_component("bureau")
    with time_machine.travel(NOW, tick=False):
        incident = actions.open_incident(
            title="T", body="x", actor=staff, via="console", components={bureau: "major_outage"}
        )
    steps = ["identified", "monitoring", "resolved"]
    for minutes, status in enumerate(steps, start=1):
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            actions.post_incident_update(
                incident, status=status, body=status, actor=staff, via="console"
            )
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        actions.write_postmortem(incident, body="## What happened", actor=staff, via="console")

    incident.refresh_from_db()
    assert incident.status == "postmortem"
    assert incident.monitoring_at == NOW + timedelta(minutes=2)
    assert incident.resolved_at == NOW + timedelta(minutes=3)
    assert statuses(bureau) == ["operational"]
    assert list(AuditEntry.objects.order_by("at", "id").values_list("action", flat=True)) == [
        "incident.open",
        "incident.identified",
        "incident.monitoring",
        "incident.resolved",
        "incident.postmortem",
    ]
    assert list(Event.objects.filter(incident=incident).values_list("kind", flat=True)) == [
        "incident_opened",
        "incident_updated",
        "incident_updated",
        "incident_resolved",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": " "}, "title"),
        ({"body": ""}, "body"),
        ({"impact": "apocalyptic"}, "impact"),
        ({"status": "resolved"}, "status"),
    ],
)
def test_bad_input_to_open_incident_is_rejected_and_writes_nothing(staff, kwargs, field):
    arguments = {"title": "T", "body": "x", "actor": staff, "via": "console", **kwargs}
    with pytest.raises(ValidationError) as error:
        actions.open_incident(**arguments)
    assert field in error.value.message_dict
    assert not Incident.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_bad_component_status_is_rejected(staff, make_component):
    bureau = make_component("bureau")
    with pytest.raises(ValidationError) as error:
        actions.open_incident(
            title="T", body="x", actor=staff, via="api", components={bureau: "on_fire"}
        )
    assert "bureau" in error.value.message_dict["components"][0]


def test_a_postmortem_needs_a_resolved_incident(staff):
    incident = actions.open_incident(title="T", body="x", actor=staff, via="console")
    with pytest.raises(ValidationError):
        actions.write_postmortem(incident, body="too early", actor=staff, via="console")
    with pytest.raises(ValidationError):
        actions.post_incident_update(
            incident, status="postmortem", body="x", actor=staff, via="console"
        )


def test_editing_an_automatic_incident_marks_it_taken_over(staff, make_component):
    bureau = make_component("bureau")
    incident = actions.open_incident(
        title="Auto", body="x", actor=None, via="system", origin="automatic", root_cause=bureau
    )
    assert incident.taken_over_at is None
    actions.edit_incident(incident, title="Bureau down (staff)", actor=staff, via="console")
    incident.refresh_from_db()
    assert incident.taken_over_at is not None


def test_setting_a_component_status_by_hand_is_audited(staff, make_component):
    gateway = make_component("gateway")
    actions.set_component_status(gateway, "degraded_performance", actor=staff, via="console")
    entry = AuditEntry.objects.get(action="component.set_status")
    assert entry.before == {"manual_status": "operational", "status": "operational"}
    assert entry.after == {
        "manual_status": "degraded_performance",
        "status": "degraded_performance",
    }


def test_maintenance_starts_and_completes_at_the_window_edges(staff, make_component):
    gateway = make_component("gateway")
    with time_machine.travel(NOW, tick=False):
        maintenance = actions.schedule_maintenance(
            title="Gateway upgrade",
            starts_at=NOW + timedelta(hours=1),
            ends_at=NOW + timedelta(hours=2),
            components=[gateway],
            actor=staff,
            via="console",
        )
        assert actions.advance_maintenances() == []

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        actions.advance_maintenances()
    maintenance.refresh_from_db()
    assert maintenance.status == "in_progress"
    assert statuses(gateway) == ["under_maintenance"]

    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        actions.advance_maintenances()
    maintenance.refresh_from_db()
    assert maintenance.status == "completed"
    assert statuses(gateway) == ["operational"]
    assert list(Event.objects.filter(maintenance=maintenance).values_list("kind", flat=True)) == [
        "maintenance_scheduled",
        "maintenance_started",
        "maintenance_completed",
    ]


def test_maintenance_with_automation_off_waits_for_staff(staff, make_component):
    with time_machine.travel(NOW, tick=False):
        maintenance = actions.schedule_maintenance(
            title="Manual",
            starts_at=NOW + timedelta(minutes=5),
            ends_at=NOW + timedelta(minutes=30),
            auto_start=False,
            actor=staff,
            via="console",
        )
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        actions.advance_maintenances()
    assert Maintenance.objects.get(pk=maintenance.pk).status == "scheduled"


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        (["in_progress"], "completed", True),
        (["in_progress", "verifying"], "completed", True),
        ([], "completed", False),
        ([], "verifying", False),
        (["cancelled"], "in_progress", False),
        (["in_progress", "completed"], "cancelled", False),
        ([], "cancelled", True),
    ],
)
def test_maintenance_moves_only_forward(staff, path, target, allowed):
    maintenance = actions.schedule_maintenance(
        title="M",
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        actor=staff,
        via="console",
        now=NOW,
    )
    for status in path:
        actions.set_maintenance_status(maintenance, status, actor=staff, via="console", now=NOW)
    if allowed:
        actions.set_maintenance_status(maintenance, target, actor=staff, via="console", now=NOW)
        assert Maintenance.objects.get(pk=maintenance.pk).status == target
    else:
        with pytest.raises(ValidationError):
            actions.set_maintenance_status(maintenance, target, actor=staff, via="console", now=NOW)


def test_a_window_that_ends_before_it_starts_is_rejected(staff):
    with pytest.raises(ValidationError) as error:
        actions.schedule_maintenance(
            title="M",
            starts_at=NOW + timedelta(hours=2),
            ends_at=NOW + timedelta(hours=1),
            actor=staff,
            via="api",
            now=NOW,
        )
    assert "ends_at" in error.value.message_dict
    assert not Maintenance.objects.exists()


def test_internal_notes_are_audited_but_not_published(staff):
    incident = actions.open_incident(title="T", body="x", actor=staff, via="console")
    version = SiteState.current().version
    actions.add_note(body="customer 123 called", actor=staff, via="console", incident=incident)
    assert incident.notes.get().body == "customer 123 called"
    assert SiteState.current().version == version
    assert not Event.objects.filter(kind="note").exists()
