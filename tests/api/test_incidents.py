from statuspage.models import AuditEntry, Incident, IncidentStatus, IncidentUpdate, InternalNote
from tests.api.conftest import field_errors


def open_incident(api, **fields):
    body = {"name": "Loans are slow", "body": "We are looking into it.", **fields}
    response = api.post("/incidents", body)
    assert response.status_code == 201, response.content
    return response.json()


# --- create -------------------------------------------------------------------------------------


def test_it_opens_an_incident(api, staff, components):
    incident = open_incident(
        api,
        impact="major",
        components={
            "credit-bureau": "major_outage",
            str(components["gateway"].pk): "degraded_performance",
        },
    )
    assert incident["id"] == str(Incident.objects.get().pk)
    assert incident["status"] == "investigating"
    assert incident["impact"] == "major"
    assert {(c["slug"], c["affected_status"]) for c in incident["components"]} == {
        ("credit-bureau", "major_outage"),
        ("api-gateway", "degraded_performance"),
    }
    [update] = incident["incident_updates"]
    assert update["body"] == "We are looking into it."
    assert update["author"] == "alice"
    components["bureau"].refresh_from_db()
    assert components["bureau"].status == "major_outage"
    entry = AuditEntry.objects.get(action="incident.open")
    assert (entry.actor, entry.via) == (staff, AuditEntry.Via.API)


def test_it_opens_an_incident_with_the_defaults(api):
    incident = open_incident(api)
    assert (incident["status"], incident["impact"], incident["is_public"]) == (
        "investigating",
        "minor",
        True,
    )
    assert incident["incident_updates"][0]["deliver_notifications"] is True


def test_it_requires_a_name_and_a_body(api):
    response = api.post("/incidents", {})
    assert response.status_code == 400
    assert set(field_errors(response)) == {"name", "body"}


def test_it_rejects_a_blank_name_with_the_api_field_name(api):
    response = api.post("/incidents", {"name": "   ", "body": "x"})
    assert response.status_code == 400
    assert "name" in field_errors(response)


def test_it_rejects_an_unknown_impact(api):
    response = api.post("/incidents", {"name": "x", "body": "y", "impact": "apocalyptic"})
    assert response.status_code == 400
    assert "critical" in field_errors(response)["impact"]


def test_it_rejects_a_closed_status_for_a_new_incident(api):
    response = api.post("/incidents", {"name": "x", "body": "y", "status": "resolved"})
    assert response.status_code == 400
    assert "status" in field_errors(response)


def test_it_rejects_an_unknown_component(api, components):
    response = api.post(
        "/incidents", {"name": "x", "body": "y", "components": {"nope": "major_outage"}}
    )
    assert response.status_code == 400
    assert "'nope'" in field_errors(response)["components"]
    assert not Incident.objects.exists()


def test_it_rejects_an_unknown_component_status(api, components):
    response = api.post(
        "/incidents", {"name": "x", "body": "y", "components": {"api-gateway": "on_fire"}}
    )
    assert response.status_code == 400
    assert "components.api-gateway" in field_errors(response)


def test_it_rejects_an_unknown_field(api):
    response = api.post("/incidents", {"name": "x", "body": "y", "title": "typo"})
    assert response.status_code == 400
    assert "title" in field_errors(response)


def test_it_rejects_a_name_longer_than_the_column(api):
    response = api.post("/incidents", {"name": "x" * 201, "body": "y"})
    assert response.status_code == 400
    assert "name" in field_errors(response)


# --- list and get -------------------------------------------------------------------------------


def test_it_lists_incidents_newest_first(api):
    first = open_incident(api, name="First")
    second = open_incident(api, name="Second")
    listed = api.get("/incidents").json()
    assert [incident["id"] for incident in listed] == [second["id"], first["id"]]


def test_it_filters_open_incidents(api):
    still_open = open_incident(api, name="Open")
    closed = open_incident(api, name="Closed")
    api.post(f"/incidents/{closed['id']}/resolve", {"body": "Fixed."})
    assert [i["id"] for i in api.get("/incidents", {"status": "open"}).json()] == [still_open["id"]]
    assert [i["id"] for i in api.get("/incidents", {"status": "resolved"}).json()] == [closed["id"]]


def test_it_filters_by_impact_and_component(api, components):
    minor = open_incident(api, impact="minor", components={"api-gateway": "partial_outage"})
    open_incident(api, impact="critical")
    assert [i["id"] for i in api.get("/incidents", {"impact": "minor"}).json()] == [minor["id"]]
    assert [i["id"] for i in api.get("/incidents", {"component": "api-gateway"}).json()] == [
        minor["id"]
    ]
    assert api.get("/incidents", {"component": "unknown"}).json() == []


def test_it_pages_the_list(api):
    ids = [open_incident(api, name=f"Incident {n}")["id"] for n in range(3)]
    page = api.get("/incidents", {"limit": 1, "offset": 1}).json()
    assert [incident["id"] for incident in page] == [ids[1]]


def test_it_rejects_an_unknown_filter_value(api):
    response = api.get("/incidents", {"status": "sleeping"})
    assert response.status_code == 400
    assert "status" in field_errors(response)
    assert "limit" in field_errors(api.get("/incidents", {"limit": "many"}))
    assert "limit" in field_errors(api.get("/incidents", {"limit": 0}))
    assert "offset" in field_errors(api.get("/incidents", {"offset": 10**30}))
    assert "offset" in field_errors(api.get("/incidents", {"offset": -1}))


def test_it_gets_an_incident(api):
    incident = open_incident(api)
    response = api.get(f"/incidents/{incident['id']}")
    assert response.status_code == 200
    assert response.json() == incident


def test_it_answers_404_for_an_unknown_incident(api):
    for incident_id in ("999", "abc", "0", "-1", str(2**70), "１"):
        response = api.get(f"/incidents/{incident_id}")
        assert response.status_code == 404, incident_id
        assert response.json()["errors"][0]["field"] is None


def test_it_answers_404_when_changing_an_unknown_incident(api):
    assert api.patch("/incidents/999", {"name": "x"}).status_code == 404
    assert (
        api.post("/incidents/999/updates", {"status": "identified", "body": "x"}).status_code == 404
    )
    assert api.post("/incidents/999/resolve", {"body": "x"}).status_code == 404
    assert api.post("/incidents/999/postmortem", {"body": "x"}).status_code == 404
    assert api.post("/incidents/999/notes", {"body": "x"}).status_code == 404


# --- edit ---------------------------------------------------------------------------------------


def test_it_edits_an_incident_without_a_timeline_entry(api, staff, components):
    incident = open_incident(api, components={"api-gateway": "partial_outage"})
    response = api.patch(
        f"/incidents/{incident['id']}",
        {
            "name": "Gateway errors",
            "impact": "critical",
            "components": {"credit-bureau": "major_outage"},
        },
    )
    assert response.status_code == 200
    edited = response.json()
    assert (edited["name"], edited["impact"]) == ("Gateway errors", "critical")
    assert [c["slug"] for c in edited["components"]] == ["credit-bureau"]
    assert len(edited["incident_updates"]) == 1
    components["gateway"].refresh_from_db()
    assert components["gateway"].status == "operational"
    entry = AuditEntry.objects.get(action="incident.edit")
    assert (entry.actor, entry.via, entry.after["title"]) == (staff, "api", "Gateway errors")


def test_it_leaves_omitted_fields_alone_when_editing(api):
    incident = open_incident(api, impact="major")
    edited = api.patch(f"/incidents/{incident['id']}", {"is_public": False}).json()
    assert (edited["name"], edited["impact"], edited["is_public"]) == (
        "Loans are slow",
        "major",
        False,
    )


def test_it_rejects_a_bad_edit(api):
    incident = open_incident(api)
    response = api.patch(f"/incidents/{incident['id']}", {"impact": 3})
    assert response.status_code == 400
    assert "impact" in field_errors(response)
    response = api.patch(f"/incidents/{incident['id']}", {"name": " "})
    assert "name" in field_errors(response)


# --- updates, resolve, postmortem, notes --------------------------------------------------------


def test_it_posts_an_update(api, components):
    incident = open_incident(api, components={"credit-bureau": "major_outage"})
    response = api.post(
        f"/incidents/{incident['id']}/updates",
        {
            "status": "identified",
            "body": "The bureau's link is down.",
            "impact": "major",
            "components": {"credit-bureau": "partial_outage"},
            "deliver_notifications": False,
        },
    )
    assert response.status_code == 201
    updated = response.json()
    assert (updated["status"], updated["impact"]) == ("identified", "major")
    latest = updated["incident_updates"][0]
    assert (latest["status"], latest["deliver_notifications"]) == ("identified", False)
    assert latest["affected_components"] == [
        {
            "code": str(components["bureau"].pk),
            "name": "Credit bureau",
            "old_status": "major_outage",
            "new_status": "partial_outage",
        }
    ]


def test_it_rejects_a_bad_update(api):
    incident = open_incident(api)
    path = f"/incidents/{incident['id']}/updates"
    assert "status" in field_errors(api.post(path, {"status": "fixed", "body": "x"}))
    assert "body" in field_errors(api.post(path, {"status": "identified", "body": ""}))
    assert "body" in field_errors(api.post(path, {"status": "identified", "body": "  "}))
    response = api.post(path, {"status": "postmortem", "body": "x"})
    assert "Resolve" in field_errors(response)["status"]


def test_it_resolves_an_incident(api, components):
    incident = open_incident(api, components={"api-gateway": "major_outage"})
    response = api.post(
        f"/incidents/{incident['id']}/resolve", {"body": "All good.", "body_alt": "已恢复。"}
    )
    assert response.status_code == 200
    assert IncidentUpdate.objects.get(status="resolved").body_alt == "已恢复。"
    resolved = response.json()
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] is not None
    components["gateway"].refresh_from_db()
    assert components["gateway"].status == "operational"


def test_it_requires_a_message_to_resolve(api):
    incident = open_incident(api)
    response = api.post(f"/incidents/{incident['id']}/resolve", {})
    assert response.status_code == 400
    assert "body" in field_errors(response)


def test_it_writes_a_postmortem(api):
    incident = open_incident(api)
    api.post(f"/incidents/{incident['id']}/resolve", {"body": "Fixed."})
    response = api.post(f"/incidents/{incident['id']}/postmortem", {"body": "## What happened"})
    assert response.status_code == 200
    written = response.json()
    assert written["status"] == "postmortem"
    assert written["postmortem_body"] == "## What happened"
    assert written["postmortem_published_at"] is not None


def test_it_writes_the_postmortem_in_the_second_language_too(api):
    incident = open_incident(api)
    path = f"/incidents/{incident['id']}/postmortem"
    api.post(f"/incidents/{incident['id']}/resolve", {"body": "Fixed.", "body_alt": "已修复。"})
    written = api.post(path, {"body": "## What happened", "body_alt": "## 经过"}).json()
    assert written["postmortem_body_alt"] == "## 经过"
    assert written["incident_updates"][0]["body_alt"] == "已修复。"
    # Leaving body_alt out keeps the translation already written.
    assert api.post(path, {"body": "## What happened, v2"}).json()["postmortem_body_alt"] == (
        "## 经过"
    )


def test_it_saves_an_unpublished_postmortem_as_a_draft(api):
    incident = open_incident(api)
    api.post(f"/incidents/{incident['id']}/resolve", {"body": "Fixed."})
    draft = api.post(
        f"/incidents/{incident['id']}/postmortem", {"body": "draft", "publish": False}
    ).json()
    assert (draft["status"], draft["postmortem_published_at"]) == ("resolved", None)


def test_it_refuses_a_postmortem_before_resolution(api):
    incident = open_incident(api)
    response = api.post(f"/incidents/{incident['id']}/postmortem", {"body": "Too early"})
    assert response.status_code == 400
    assert "Resolve" in field_errors(response)["body"]
    assert Incident.objects.get().postmortem == ""


def test_it_adds_an_internal_note(api, staff):
    incident = open_incident(api)
    response = api.post(f"/incidents/{incident['id']}/notes", {"body": "Paged the DBA."})
    assert response.status_code == 201
    assert response.json()["author"] == "alice"
    assert InternalNote.objects.get().incident_id == int(incident["id"])
    fetched = api.get(f"/incidents/{incident['id']}").json()
    assert [note["body"] for note in fetched["internal_notes"]] == ["Paged the DBA."]
    entry = AuditEntry.objects.get(action="note.add")
    assert (entry.actor, entry.via) == (staff, "api")


def test_it_rejects_an_empty_note(api):
    incident = open_incident(api)
    response = api.post(f"/incidents/{incident['id']}/notes", {"body": " "})
    assert response.status_code == 400
    assert "body" in field_errors(response)
    assert not InternalNote.objects.exists()


def test_it_reopens_a_resolved_incident_with_an_open_status(api):
    incident = open_incident(api)
    api.post(f"/incidents/{incident['id']}/resolve", {"body": "Fixed."})
    reopened = api.post(
        f"/incidents/{incident['id']}/updates", {"status": "investigating", "body": "Back."}
    ).json()
    assert (reopened["status"], reopened["resolved_at"]) == (IncidentStatus.INVESTIGATING, None)


def test_the_list_costs_the_same_queries_however_many_incidents(
    api, components, django_assert_max_num_queries
):
    for n in range(10):
        incident = open_incident(
            api, name=f"Incident {n}", components={"api-gateway": "partial_outage"}
        )
        api.post(f"/incidents/{incident['id']}/notes", {"body": "note"})
    with django_assert_max_num_queries(8):
        assert len(api.get("/incidents").json()) == 10
