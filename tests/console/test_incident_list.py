from datetime import datetime, timedelta

from statuspage import actions
from statuspage.models import AuditEntry

VIA = AuditEntry.Via.CONSOLE
T0 = datetime.fromisoformat("2026-11-01T00:00:00+00:00")


def test_it_lists_open_incidents_first_then_the_most_recent(staff_client, staff):
    old_open = actions.open_incident(title="Old but open", body="x", actor=staff, via=VIA, now=T0)
    recent_closed = actions.open_incident(
        title="Recent, resolved", body="x", actor=staff, via=VIA, now=T0 + timedelta(days=2)
    )
    actions.resolve_incident(recent_closed, body="ok", actor=staff, via=VIA)
    older_closed = actions.open_incident(
        title="Older, resolved", body="x", actor=staff, via=VIA, now=T0 + timedelta(days=1)
    )
    actions.resolve_incident(older_closed, body="ok", actor=staff, via=VIA)
    response = staff_client.get("/console/incidents/")
    assert [incident.title for incident in response.context["page"]] == [
        old_open.title,
        recent_closed.title,
        older_closed.title,
    ]


def test_it_marks_internal_and_automatic_incidents(staff_client, staff):
    actions.open_incident(
        title="Hidden", body="x", is_public=False, origin="automatic", actor=None, via="system"
    )
    content = staff_client.get("/console/incidents/").content.decode()
    assert "internal only" in content
    assert '<span class="tag">automatic</span>' in content


def test_it_pages_through_incidents(staff_client, staff):
    for n in range(51):
        actions.open_incident(
            title=f"Incident {n}", body="x", actor=staff, via=VIA, now=T0 + timedelta(minutes=n)
        )
    first = staff_client.get("/console/incidents/")
    assert len(first.context["page"]) == 50
    second = staff_client.get("/console/incidents/", {"page": 2})
    assert [i.title for i in second.context["page"]] == ["Incident 0"]
