from statuspage.models import Event, Incident, IncidentTemplate


def open_form(**fields):
    data = {
        "title": "Repayments delayed",
        "title_alt": "还款延迟",
        "impact": "minor",
        "status": "investigating",
        "body": "Repayments take longer than usual.",
        "body_alt": "还款比平时慢。",
        "notify": "on",
        "is_public": "on",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_it_shows_the_form(staff_client, components):
    bureau, loans = components
    response = staff_client.get("/console/incidents/new/")
    content = response.content.decode()
    assert response.status_code == 200
    assert f'name="component_{bureau.pk}"' in content
    assert 'action="/console/incidents/create/"' in content


def test_it_opens_an_incident_with_component_statuses(staff_client, staff, components):
    bureau, loans = components
    response = staff_client.post(
        "/console/incidents/create/",
        open_form(
            **{f"component_{bureau.pk}": "partial_outage", f"component_{loans.pk}": "major_outage"}
        ),
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert incident.title_alt == "还款延迟"
    assert {link.component.slug: link.status for link in incident.affected.all()} == {
        "credit-bureau": "partial_outage",
        "loan-application": "major_outage",
    }
    update = incident.updates.get()
    assert (update.body_alt, update.author, update.notify_subscribers) == (
        "还款比平时慢。",
        staff,
        True,
    )


def test_it_keeps_everything_typed_when_the_message_is_missing(staff_client, components):
    bureau, _ = components
    response = staff_client.post(
        "/console/incidents/create/",
        open_form(body="", impact="critical", **{f"component_{bureau.pk}": "major_outage"}),
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert not Incident.objects.exists()
    assert "This field is required." in content
    assert 'value="Repayments delayed"' in content
    assert 'value="还款延迟"' in content
    assert "还款比平时慢。</textarea>" in content
    assert '<option value="critical" selected>' in content
    assert '<option value="major_outage" selected>' in content


def test_it_rejects_a_new_incident_that_is_already_resolved(staff_client, db):
    response = staff_client.post("/console/incidents/create/", open_form(status="resolved"))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Incident.objects.exists()


def test_it_opens_an_internal_only_incident_without_a_public_event(staff_client, db):
    response = staff_client.post("/console/incidents/create/", open_form(is_public=None))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.is_public is False
    assert not Event.objects.filter(incident=incident).exists()


def test_it_opens_a_quiet_incident(staff_client, db):
    staff_client.post("/console/incidents/create/", open_form(notify=None))
    event = Event.objects.get(kind="incident_opened")
    assert event.notify is False


def test_it_prefills_the_form_from_a_template(staff_client, components):
    bureau, loans = components
    template = IncidentTemplate.objects.create(
        name="Bureau down",
        title="Credit bureau unavailable",
        body="Credit checks are failing; loan decisions are delayed.",
        impact="major",
        component_status="major_outage",
    )
    template.components.set([bureau])
    response = staff_client.get("/console/incidents/new/", {"template": template.pk})
    form = response.context["form"]
    content = response.content.decode()
    assert response.status_code == 200
    assert 'value="Credit bureau unavailable"' in content
    assert "Credit checks are failing; loan decisions are delayed.</textarea>" in content
    assert form[f"component_{bureau.pk}"].value() == "major_outage"
    assert form[f"component_{loans.pk}"].value() == ""
    assert form["impact"].value() == "major"


def test_it_lists_the_templates_on_the_form(staff_client, db):
    template = IncidentTemplate.objects.create(name="DNS trouble", title="DNS", body="x")
    content = staff_client.get("/console/incidents/new/").content.decode()
    assert f'href="?template={template.pk}"' in content
    assert "DNS trouble" in content


def test_it_404s_for_an_unknown_template(staff_client, db):
    assert staff_client.get("/console/incidents/new/", {"template": "999"}).status_code == 404
    assert staff_client.get("/console/incidents/new/", {"template": "x"}).status_code == 404
