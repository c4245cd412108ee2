"""The Django admin writes the console's way: through the actions or the public-change
boundary, audited (via admin), recomputed and published."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.forms import MultiWidget
from django.utils import timezone

from monitors.models import Probe, ProbeState
from statuspage import actions
from statuspage.models import AuditEntry, Component, Event, SiteState
from tests.core.test_changes import enqueued

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(user)
    return client


def change_form(client, url: str, **changes) -> dict:
    """The change form's current values as a browser would post them, with `changes`."""
    response = client.get(url)
    assert response.status_code == 200
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name in form.fields:
            value, key = form[name].value(), form.add_prefix(name)
            widget = form.fields[name].widget
            if isinstance(widget, MultiWidget):
                for index, part in enumerate(widget.decompress(value)):
                    data[f"{key}_{index}"] = "" if part is None else part
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = value
    data.update(changes)
    return data


def test_an_admin_edit_of_an_incident_is_audited_and_changes_the_public_page(
    admin_client, staff, make_component
):
    gateway = make_component("api-gateway", name="API gateway")
    incident = actions.open_incident(
        title="Gateway errors",
        body="Investigating.",
        components={gateway: "major_outage"},
        actor=staff,
        via="console",
    )
    assert "Gateway errors" in admin_client.get("/").content.decode()
    url = f"/admin/statuspage/incident/{incident.pk}/change/"

    response = admin_client.post(url, change_form(admin_client, url, title="Payments API errors"))

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="incident.edit")
    assert (entry.via, entry.actor.username) == ("admin", "root")
    assert entry.before["title"] == "Gateway errors"
    assert entry.after["title"] == "Payments API errors"
    page = admin_client.get("/").content.decode()
    assert "Payments API errors" in page
    assert "Gateway errors" not in page


def test_an_admin_edit_of_a_component_is_audited_recomputed_and_published(
    admin_client, make_component, django_capture_on_commit_callbacks
):
    bureau = make_component("credit-bureau", auto_status="major_outage")
    loans = make_component("loan-application", depends_on=[bureau])
    actions.set_component_status(bureau, "major_outage", actor=None, via="system")
    loans.refresh_from_db()
    assert loans.status != "operational"
    version = SiteState.current().version
    url = f"/admin/statuspage/component/{loans.pk}/change/"

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(url, change_form(admin_client, url, depends_on=[]))

    assert response.status_code == 302
    loans.refresh_from_db()
    assert loans.status == "operational"
    entry = AuditEntry.objects.get(action="component.update", via="admin")
    assert (entry.before["depends_on"], entry.after["depends_on"]) == ([bureau.pk], [])
    assert SiteState.current().version == version + 1
    event = Event.objects.filter(kind="component_status_changed", component=loans).last()
    assert event.new_status == "operational"
    assert enqueued(callbacks) == [event.pk]


def test_an_admin_that_disables_a_failing_probe_frees_its_component(admin_client, make_component):
    bureau = make_component("credit-bureau", auto_status="major_outage")
    probe = Probe.objects.create(
        component=bureau,
        name="health",
        kind="http",
        config={"url": "http://127.0.0.1:9/health"},
        vantage_points=["local"],
    )
    ProbeState.objects.create(
        probe=probe, vantage_point="local", is_down=True, next_run_at=timezone.now()
    )
    url = f"/admin/monitors/probe/{probe.pk}/change/"
    data = change_form(admin_client, url)
    del data["is_enabled"]

    assert admin_client.post(url, data).status_code == 302

    bureau.refresh_from_db()
    assert (bureau.auto_status, bureau.status) == ("operational", "operational")
    entry = AuditEntry.objects.get(action="probe.update", via="admin")
    assert (entry.before["is_enabled"], entry.after["is_enabled"]) == (True, False)
    assert "heartbeat_token" not in entry.after


def test_a_component_deleted_in_the_admin_is_audited(admin_client, make_component):
    old = make_component("old-thing")
    url = f"/admin/statuspage/component/{old.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Component.objects.filter(slug="old-thing").exists()
    entry = AuditEntry.objects.get(action="component.delete")
    assert (entry.via, entry.object_id, entry.before["slug"]) == ("admin", str(old.pk), "old-thing")


def test_incidents_cannot_be_deleted_in_the_admin(admin_client, staff):
    incident = actions.open_incident(title="x", body="y", actor=staff, via="console")
    url = f"/admin/statuspage/incident/{incident.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 403


def test_an_admin_edit_of_a_maintenance_goes_through_the_action(
    admin_client, staff, make_component
):
    maintenance = actions.schedule_maintenance(
        title="Gateway upgrade",
        starts_at=timezone.now() + timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=2),
        components=[make_component("api-gateway")],
        actor=staff,
        via="console",
    )
    url = f"/admin/statuspage/maintenance/{maintenance.pk}/change/"
    data = change_form(admin_client, url, title="Gateway and DNS upgrade")

    assert admin_client.post(url, data).status_code == 302

    entry = AuditEntry.objects.get(action="maintenance.edit")
    assert (entry.via, entry.after["title"]) == ("admin", "Gateway and DNS upgrade")
    assert entry.after["components"] == ["api-gateway"]
    assert Event.objects.filter(kind="maintenance_updated", maintenance=maintenance).exists()


def test_an_admin_maintenance_window_must_end_after_it_starts(admin_client, staff):
    maintenance = actions.schedule_maintenance(
        title="Gateway upgrade",
        starts_at=timezone.now() + timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=2),
        actor=staff,
        via="console",
    )
    url = f"/admin/statuspage/maintenance/{maintenance.pk}/change/"
    data = change_form(admin_client, url)
    data["ends_at_0"], data["ends_at_1"] = data["starts_at_0"], data["starts_at_1"]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "The window must end after it starts." in response.content.decode()
    assert not AuditEntry.objects.filter(action="maintenance.edit").exists()
