"""An on-call engineer's whole incident, through the API only."""

from datetime import UTC, datetime, timedelta

import time_machine

from statuspage.models import AuditEntry, Component, Event


def test_an_incident_goes_through_every_status_and_the_audit_log_names_the_actor(
    api, staff, components
):
    start = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        opened = api.post(
            "/incidents",
            {
                "name": "Loan applications fail",
                "body": "Investigating failed credit checks.",
                "impact": "major",
                "components": {"credit-bureau": "major_outage"},
            },
        )
        assert opened.status_code == 201
        incident_id = opened.json()["id"]
        loans = Component.objects.get(slug="loan-application")
        assert loans.status == "degraded_performance"
        assert loans.status_cause == components["bureau"]

        for status in ("identified", "monitoring"):
            clock.shift(timedelta(minutes=10))
            response = api.post(
                f"/incidents/{incident_id}/updates", {"status": status, "body": f"Now {status}."}
            )
            assert response.status_code == 201
            assert response.json()["status"] == status

        clock.shift(timedelta(minutes=10))
        resolved = api.post(f"/incidents/{incident_id}/resolve", {"body": "Recovered."}).json()
        assert resolved["status"] == "resolved"
        assert resolved["monitoring_at"] == "2026-11-29T02:20:00Z"
        assert resolved["resolved_at"] == "2026-11-29T02:30:00Z"
        assert Component.objects.get(slug="credit-bureau").status == "operational"

        clock.shift(timedelta(days=1))
        final = api.post(f"/incidents/{incident_id}/postmortem", {"body": "Root cause: …"}).json()
        assert final["status"] == "postmortem"

    timeline = [update["status"] for update in final["incident_updates"]]
    assert timeline == ["resolved", "monitoring", "identified", "investigating"]

    entries = AuditEntry.objects.filter(object_type="incident", object_id=incident_id)
    assert [entry.action for entry in entries.order_by("at", "id")] == [
        "incident.open",
        "incident.identified",
        "incident.monitoring",
        "incident.resolved",
        "incident.postmortem",
    ]
    assert {(entry.actor, entry.actor_name, entry.via) for entry in entries} == {
        (staff, "alice", AuditEntry.Via.API)
    }
    kinds = list(Event.objects.filter(incident_id=incident_id).values_list("kind", flat=True))
    assert kinds == ["incident_opened", "incident_updated", "incident_updated", "incident_resolved"]
