"""A staff user takes an incident through every status in the console, and the audit log
shows each step with the actor."""

from statuspage.models import AuditEntry, Event, Incident


def test_it_takes_an_incident_from_open_to_postmortem(staff_client, staff, components):
    bureau, loans = components
    response = staff_client.post(
        "/console/incidents/create/",
        {
            "title": "Credit checks failing",
            "impact": "major",
            "status": "investigating",
            "body": "Loan decisions are failing; we are **investigating**.",
            f"component_{bureau.pk}": "major_outage",
            "notify": "on",
            "is_public": "on",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/incidents/{incident.pk}/"
    bureau.refresh_from_db()
    loans.refresh_from_db()
    assert bureau.status == "major_outage"
    assert loans.status == "degraded_performance"

    steps = [
        ("identified", "The bureau's gateway rejects our certificate."),
        ("monitoring", "A new certificate is deployed; watching."),
    ]
    for status, body in steps:
        response = staff_client.post(
            f"/console/incidents/{incident.pk}/update/",
            {
                "status": status,
                "impact": "major",
                "body": body,
                "notify": "on",
                f"component_{bureau.pk}": "major_outage",
            },
        )
        assert response.status_code == 302, response.content.decode()
        incident.refresh_from_db()
        assert incident.status == status

    response = staff_client.post(
        f"/console/incidents/{incident.pk}/resolve/", {"body": "All good again.", "notify": "on"}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    bureau.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.resolved_at is not None
    assert bureau.status == "operational"

    response = staff_client.post(
        f"/console/incidents/{incident.pk}/postmortem/",
        {"body": "## What happened\nAn expired certificate.", "publish": "on"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "postmortem"
    assert incident.postmortem_published_at is not None

    page = staff_client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "<strong>investigating</strong>" in page
    assert "An expired certificate." in page
    assert page.index("All good again.") < page.index("Loan decisions are failing")

    audit = staff_client.get("/console/audit/", {"object_type": "incident"}).content.decode()
    for action in (
        "incident.open",
        "incident.identified",
        "incident.monitoring",
        "incident.resolved",
        "incident.postmortem",
    ):
        assert f"<code>{action}</code>" in audit
    entries = AuditEntry.objects.filter(object_type="incident", object_id=str(incident.pk))
    assert entries.count() == 5
    assert {(e.actor_id, e.actor_name, e.via) for e in entries} == {(staff.pk, "alice", "console")}
    kinds = list(Event.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds == [
        "incident_opened",
        "incident_updated",
        "incident_updated",
        "incident_resolved",
    ]


def test_it_can_reopen_a_resolved_incident_with_an_update(staff_client, staff, components):
    from statuspage import actions

    incident = actions.open_incident(title="Blip", body="x", actor=staff, via="console")
    actions.resolve_incident(incident, body="done", actor=staff, via="console")
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/update/",
        {"status": "investigating", "impact": "minor", "body": "It is back."},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "investigating"
    assert incident.resolved_at is None
