"""Incident templates, managed in the console and written in both languages."""

import pytest
from django.test import Client

from statuspage.models import AuditEntry, IncidentTemplate

pytestmark = pytest.mark.django_db

BUREAU_DOWN = {
    "name": "Bureau outage",
    "title": "Credit checks are failing",
    "title_alt": "征信查询失败",
    "body": "Loan decisions are delayed while the credit bureau is unavailable.",
    "body_alt": "征信机构暂时不可用，借款审批会有延迟。",
    "impact": "major",
    "component_status": "major_outage",
}


def test_it_requires_staff(client, user_client, db):
    for url in ("/console/incidents/templates/", "/console/incidents/templates/new/"):
        assert client.get(url).status_code == 302
        assert user_client.get(url).status_code == 403


def test_staff_add_a_template_in_both_languages(staff_client, staff, components):
    bureau, _ = components
    response = staff_client.post(
        "/console/incidents/templates/new/", {**BUREAU_DOWN, "components": [bureau.pk]}
    )
    assert response.status_code == 302
    template = IncidentTemplate.objects.get()
    assert (template.title_alt, template.body_alt) == ("征信查询失败", BUREAU_DOWN["body_alt"])
    assert list(template.components.all()) == [bureau]
    entry = AuditEntry.objects.get(action="incident_template.create")
    assert (entry.actor, entry.after["components"]) == (staff, ["credit-bureau"])
    listing = staff_client.get("/console/incidents/templates/").content.decode()
    assert "Bureau outage" in listing and "征信查询失败" in listing


def test_opening_an_incident_from_a_template_fills_both_languages(staff_client, components):
    bureau, _ = components
    staff_client.post(
        "/console/incidents/templates/new/", {**BUREAU_DOWN, "components": [bureau.pk]}
    )
    template = IncidentTemplate.objects.get()
    form = staff_client.get("/console/incidents/new/", {"template": template.pk}).context["form"]
    assert form.initial["title_alt"] == "征信查询失败"
    assert form.initial["body_alt"] == BUREAU_DOWN["body_alt"]


def test_staff_edit_a_template_and_the_change_is_audited(staff_client, db):
    staff_client.post("/console/incidents/templates/new/", BUREAU_DOWN)
    template = IncidentTemplate.objects.get()
    url = f"/console/incidents/templates/{template.pk}/"
    assert "征信查询失败" in staff_client.get(url).content.decode()
    staff_client.post(url, {**BUREAU_DOWN, "title_alt": "征信查询暂时失败"})
    template.refresh_from_db()
    assert template.title_alt == "征信查询暂时失败"
    entry = AuditEntry.objects.get(action="incident_template.edit")
    assert (entry.before["title_alt"], entry.after["title_alt"]) == (
        "征信查询失败",
        "征信查询暂时失败",
    )


def test_a_name_is_used_once_and_bad_input_is_told_clearly(staff_client, db):
    staff_client.post("/console/incidents/templates/new/", BUREAU_DOWN)
    response = staff_client.post(
        "/console/incidents/templates/new/", {**BUREAU_DOWN, "name": "bureau OUTAGE"}
    )
    assert response.status_code == 400
    assert "Another template has this name." in response.content.decode()
    response = staff_client.post(
        "/console/incidents/templates/new/", {**BUREAU_DOWN, "name": "x", "impact": "apocalyptic"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert IncidentTemplate.objects.count() == 1


def test_deleting_takes_a_post_with_csrf_and_is_audited(staff, staff_client, db):
    staff_client.post("/console/incidents/templates/new/", BUREAU_DOWN)
    template = IncidentTemplate.objects.get()
    url = f"/console/incidents/templates/{template.pk}/delete/"
    assert staff_client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(url).status_code == 403
    assert staff_client.post(url).status_code == 302
    assert not IncidentTemplate.objects.exists()
    assert AuditEntry.objects.filter(action="incident_template.delete").exists()
