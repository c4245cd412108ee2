import pytest

from statuspage import actions
from statuspage.models import AuditEntry, Incident

VIA = AuditEntry.Via.CONSOLE


@pytest.fixture
def incident(staff, components):
    bureau, _ = components
    return actions.open_incident(
        title="Credit checks failing",
        body="We are looking into it.",
        components={bureau: "major_outage"},
        actor=staff,
        via=VIA,
    )


def test_it_shows_the_timeline_with_internal_notes_marked(staff_client, staff, incident):
    actions.add_note(
        body="Bureau on-call paged, ticket 4711.", incident=incident, actor=staff, via=VIA
    )
    content = staff_client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "We are looking into it." in content
    note_at = content.index("Bureau on-call paged, ticket 4711.")
    entry_start = content.rindex('<li class="entry', 0, note_at)
    assert content[entry_start:note_at].count("Internal note") == 1
    assert 'class="entry note"' in content[entry_start : entry_start + 30]


def test_it_shows_the_affected_components(staff_client, incident):
    content = staff_client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "<strong>Credit bureau</strong>: put in" in content
    assert "status-major_outage" in content


def test_it_adds_an_internal_note(staff_client, staff, incident):
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/notes/", {"body": "Called them."}
    )
    assert response.status_code == 302
    note = incident.notes.get()
    assert (note.body, note.author) == ("Called them.", staff)
    assert AuditEntry.objects.filter(action="note.add", actor=staff).exists()


def test_it_rejects_an_empty_note(staff_client, incident):
    response = staff_client.post(f"/console/incidents/{incident.pk}/notes/", {"body": " "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not incident.notes.exists()


def test_it_posts_an_update_that_changes_the_components(staff_client, incident, components):
    bureau, loans = components
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/update/",
        {
            "status": "identified",
            "impact": "critical",
            "body": "Both are down.",
            f"component_{bureau.pk}": "major_outage",
            f"component_{loans.pk}": "partial_outage",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    loans.refresh_from_db()
    assert (incident.status, incident.impact) == ("identified", "critical")
    assert loans.status == "partial_outage"
    update = incident.updates.first()
    assert update.notify_subscribers is False
    assert {c["name"]: c["new_status"] for c in update.affected_components} == {
        "Credit bureau": "major_outage",
        "Loan application": "partial_outage",
    }


def test_it_keeps_the_update_typed_when_the_message_is_missing(staff_client, incident, components):
    bureau, _ = components
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/update/",
        {
            "status": "monitoring",
            "impact": "minor",
            "body": "",
            "body_alt": "正在监控",
            f"component_{bureau.pk}": "degraded_performance",
        },
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in content
    assert "正在监控</textarea>" in content
    assert '<option value="monitoring" selected>' in content
    assert '<option value="degraded_performance" selected>' in content
    assert Incident.objects.get(pk=incident.pk).status == "investigating"


def test_it_refuses_a_postmortem_before_the_incident_is_resolved(staff_client, incident):
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/postmortem/", {"body": "Too early.", "publish": "on"}
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "Resolve the incident before writing its postmortem." in content
    assert "Too early.</textarea>" in content
    assert Incident.objects.get(pk=incident.pk).postmortem == ""


def test_it_saves_a_postmortem_draft_without_publishing(staff_client, staff, incident):
    actions.resolve_incident(incident, body="fixed", actor=staff, via=VIA)
    response = staff_client.post(f"/console/incidents/{incident.pk}/postmortem/", {"body": "Draft"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.postmortem) == ("resolved", "Draft")
    assert incident.postmortem_published_at is None


def test_it_edits_an_incident_without_posting_to_the_timeline(staff_client, incident, components):
    bureau, loans = components
    response = staff_client.get(f"/console/incidents/{incident.pk}/edit/")
    assert 'value="Credit checks failing"' in response.content.decode()
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/save/",
        {
            "title": "Bureau outage",
            "impact": "major",
            f"component_{loans.pk}": "degraded_performance",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.impact, incident.is_public) == (
        "Bureau outage",
        "major",
        False,
    )
    assert [link.component for link in incident.affected.all()] == [loans]
    assert incident.updates.count() == 1
    entry = AuditEntry.objects.get(action="incident.edit")
    assert entry.before["title"] == "Credit checks failing"
    assert entry.after["title"] == "Bureau outage"


def test_it_keeps_the_edit_typed_when_the_title_is_missing(staff_client, incident):
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/save/",
        {"title": "", "title_alt": "征信故障", "impact": "major"},
    )
    assert response.status_code == 400
    assert 'value="征信故障"' in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).title == "Credit checks failing"


def test_it_404s_for_an_unknown_incident(staff_client, db):
    assert staff_client.get("/console/incidents/999/").status_code == 404
    assert staff_client.post("/console/incidents/999/update/", {}).status_code == 404


def test_an_update_posted_without_the_component_selects_keeps_the_components(
    staff_client, incident, components
):
    bureau, _ = components
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/update/",
        {"status": "monitoring", "impact": "minor", "body": "Watching."},
    )
    assert response.status_code == 302
    assert [(link.component, link.status) for link in incident.affected.all()] == [
        (bureau, "major_outage")
    ]


def test_an_update_can_clear_every_affected_component(staff_client, incident, components):
    bureau, loans = components
    response = staff_client.post(
        f"/console/incidents/{incident.pk}/update/",
        {
            "status": "monitoring",
            "impact": "minor",
            "body": "Only a blip.",
            f"component_{bureau.pk}": "",
            f"component_{loans.pk}": "",
        },
    )
    assert response.status_code == 302
    assert not incident.affected.exists()
    bureau.refresh_from_db()
    assert bureau.status == "operational"


def test_its_query_count_does_not_grow_with_the_timeline(
    staff_client, staff, incident, make_component, django_assert_max_num_queries
):
    for n in range(30):
        make_component(f"component-{n}")
        actions.post_incident_update(
            incident, status="identified", body=f"u{n}", actor=staff, via=VIA
        )
        actions.add_note(body=f"n{n}", incident=incident, actor=staff, via=VIA)
    # 11: the role's permissions and the second-factor check cost one each per request.
    with django_assert_max_num_queries(11):
        response = staff_client.get(f"/console/incidents/{incident.pk}/")
    assert response.content.decode().count('class="entry note"') == 30


def test_the_resolve_message_and_the_postmortem_are_written_in_both_languages(
    staff_client, incident
):
    from django.test import Client

    staff_client.post(
        f"/console/incidents/{incident.pk}/resolve/",
        {"body": "Checks work again.", "body_alt": "征信查询已恢复。", "notify": "on"},
    )
    staff_client.post(
        f"/console/incidents/{incident.pk}/postmortem/",
        {
            "body": "# What happened\nA bad deploy.",
            "body_alt": "# 经过\n一次错误的发布。",
            "publish": "on",
        },
    )
    incident.refresh_from_db()
    assert incident.postmortem_alt == "# 经过\n一次错误的发布。"
    assert incident.updates.get(status="resolved").body_alt == "征信查询已恢复。"
    # The form shows what was saved, ready to be edited.
    assert (
        "一次错误的发布。</textarea>"
        in staff_client.get(f"/console/incidents/{incident.pk}/").content.decode()
    )
    zh = Client().get(f"/incidents/{incident.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "征信查询已恢复。" in zh and "<h3>经过</h3>" in zh
    assert "Checks work again." not in zh and "A bad deploy." not in zh
    en = Client().get(f"/incidents/{incident.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Checks work again." in en and "<h3>What happened</h3>" in en
