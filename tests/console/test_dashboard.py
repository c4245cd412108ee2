from datetime import timedelta

from django.utils import timezone

from statuspage import actions
from statuspage.models import AuditEntry, Component

VIA = AuditEntry.Via.CONSOLE


def test_it_shows_open_incidents_and_not_resolved_ones(staff_client, staff):
    actions.open_incident(title="Loans failing", body="x", actor=staff, via=VIA)
    old = actions.open_incident(title="Old trouble", body="x", actor=staff, via=VIA)
    actions.resolve_incident(old, body="fixed", actor=staff, via=VIA)
    content = staff_client.get("/console/").content.decode()
    assert "Loans failing" in content
    assert "Old trouble" not in content


def test_it_shows_active_and_upcoming_maintenance(staff_client, staff):
    now = timezone.now()
    upcoming = actions.schedule_maintenance(
        title="Database upgrade",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        actor=staff,
        via=VIA,
    )
    active = actions.schedule_maintenance(
        title="Gateway patching",
        starts_at=now + timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        actor=staff,
        via=VIA,
    )
    actions.set_maintenance_status(active, "in_progress", actor=staff, via=VIA)
    response = staff_client.get("/console/")
    content = response.content.decode()
    assert "Gateway patching" in content
    assert "Database upgrade" in content
    assert f"/console/maintenance/{upcoming.pk}/" in content


def test_it_names_the_cause_of_a_dependent_components_status(staff_client, staff, components):
    bureau, loans = components
    actions.set_component_status(bureau, "major_outage", actor=staff, via=VIA)
    content = staff_client.get("/console/").content.decode()
    row = content[content.index(f'id="component-{loans.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Degraded performance" in row
    assert "because of <strong>Credit bureau</strong>" in row


def test_it_sets_a_components_status_by_hand(staff_client, staff, components):
    bureau, loans = components
    url = f"/console/components/{bureau.pk}/status/"
    response = staff_client.post(url, {f"c{bureau.pk}-status": "partial_outage"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    bureau.refresh_from_db()
    loans.refresh_from_db()
    assert bureau.manual_status == bureau.status == "partial_outage"
    assert loans.status == "degraded_performance"
    entry = AuditEntry.objects.get(action="component.set_status")
    assert (entry.actor, entry.via) == (staff, VIA)
    assert entry.after["status"] == "partial_outage"


def test_it_shows_a_bad_status_as_a_field_error(staff_client, components):
    bureau, _ = components
    url = f"/console/components/{bureau.pk}/status/"
    response = staff_client.post(url, {f"c{bureau.pk}-status": "on_fire"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Component.objects.get(pk=bureau.pk).manual_status == "operational"


def test_it_404s_for_an_unknown_component(staff_client, db):
    assert staff_client.post("/console/components/999/status/", {}).status_code == 404


def test_its_query_count_does_not_grow_with_components_or_incidents(
    staff_client, staff, make_component, django_assert_max_num_queries
):
    components = [make_component(f"component-{n}") for n in range(40)]
    for n in range(5):
        actions.open_incident(
            title=f"Incident {n}",
            body="x",
            components={components[n]: "major_outage"},
            actor=staff,
            via=VIA,
        )
    # 14: two of them load the user's permissions (the role), one asks whether they enrolled a
    # second factor, once per request; one reads the silent vantage points.
    with django_assert_max_num_queries(14):
        response = staff_client.get("/console/")
    assert response.content.decode().count('class="badge status-major_outage"') == 5


def test_set_by_hand_never_claims_operational_beside_an_outage(staff_client, staff, components):
    bureau, _ = components
    incident = actions.open_incident(
        title="Bureau down", body="x", components={bureau: "major_outage"}, actor=staff, via=VIA
    )
    content = staff_client.get("/console/").content.decode()
    row = content[content.index(f'id="component-{bureau.pk}"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge status-major_outage">Major outage</span>' in row
    # The select says what is set by hand (nothing), and the row says what declares the outage.
    assert '<option value="operational" selected>Not set (operational)</option>' in row
    assert f'href="/console/incidents/{incident.pk}/">Bureau down</a>: major outage' in row


def test_a_status_set_by_hand_is_shown_as_such(staff_client, staff, components):
    bureau, _ = components
    actions.set_component_status(bureau, "partial_outage", actor=staff, via=VIA)
    content = staff_client.get("/console/").content.decode()
    row = content[content.index(f'id="component-{bureau.pk}"') :]
    row = row[: row.index("</tr>")]
    assert '<option value="partial_outage" selected>Partial outage</option>' in row
    assert "set by hand: partial outage" in row
    response = staff_client.post(
        f"/console/components/{bureau.pk}/status/", {f"c{bureau.pk}-status": "operational"}
    )
    assert (
        "nothing set by hand any more; now Operational"
        in [str(m) for m in response.wsgi_request._messages][0]
    )
