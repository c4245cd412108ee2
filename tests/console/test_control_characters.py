"""Text typed in the console is stored without control characters other than tab and
newline."""

from statuspage.models import Incident

from .test_incident_open import open_form


def test_control_characters_are_dropped_from_a_new_incident(staff_client, components):
    response = staff_client.post(
        "/console/incidents/create/",
        open_form(title="Gateway\x0bslow\r\nagain", body="Line one\r\nline\ttwo\x07"),
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.title == "Gatewayslow again"
    assert incident.updates.get().body == "Line one\nline\ttwo"


def test_a_title_of_control_characters_only_is_required_again(staff_client, components):
    response = staff_client.post("/console/incidents/create/", open_form(title="\x07\x1b"))
    assert response.status_code == 400  # the form again, with the message
    assert "This field is required." in response.content.decode()
    assert not Incident.objects.exists()


def test_nul_is_refused_with_a_message(staff_client, components):
    response = staff_client.post("/console/incidents/create/", open_form(body="a\x00b"))
    assert response.status_code == 400  # the form again, with the message
    assert "Null characters are not allowed." in response.content.decode()
    assert not Incident.objects.exists()
