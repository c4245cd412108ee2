"""No buttons for what a role may not do; the admin site follows the roles too."""

from statuspage import actions
from statuspage.models import AuditEntry, Component
from statuspage.roles import ADMIN, RESPONDER, VIEWER


def open_incident(users):
    component = Component.objects.create(name="Repayments", slug="repayments")
    return actions.open_incident(
        title="Repayments fail",
        body="Looking.",
        components={component: "major_outage"},
        actor=users[ADMIN],
        via=AuditEntry.Via.CONSOLE,
    )


def test_a_viewer_sees_no_button_to_open_or_change_anything(users, client_as):
    incident = open_incident(users)
    dashboard = client_as(VIEWER).get("/console/").content.decode()
    assert "Open an incident" not in dashboard
    assert "/status/" not in dashboard  # no form to set a component's status
    detail = client_as(VIEWER).get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "Post update" not in detail and "Resolve incident" not in detail
    assert "Add note" in detail  # customer service may leave internal notes


def test_a_responder_sees_the_incident_buttons_but_not_the_admin_ones(users, client_as):
    incident = open_incident(users)
    detail = client_as(RESPONDER).get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "Post update" in detail and "Resolve incident" in detail
    webhooks = client_as(RESPONDER).get("/console/subscribers/webhooks/").content.decode()
    assert "Add a webhook" not in webhooks


def test_an_admin_sees_the_webhook_form(users, client_as):
    webhooks = client_as(ADMIN).get("/console/subscribers/webhooks/").content.decode()
    assert "Add a webhook" in webhooks


def test_the_admin_site_lets_viewers_look_but_not_change(users, client_as):
    viewer = client_as(VIEWER)
    assert viewer.get("/admin/statuspage/component/").status_code == 200
    assert viewer.get("/admin/statuspage/component/add/").status_code == 403
    assert viewer.get("/admin/auth/user/").status_code == 403
    response = viewer.post("/admin/statuspage/component/add/", {"name": "X", "slug": "x"})
    assert response.status_code == 403
    assert not Component.objects.filter(slug="x").exists()


def test_the_admin_site_lets_admins_change_configuration_and_users(users, client_as):
    admin = client_as(ADMIN)
    assert admin.get("/admin/statuspage/component/add/").status_code == 200
    assert admin.get("/admin/auth/user/").status_code == 200


def test_a_user_without_a_role_is_refused_by_the_console(db, client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("eve", is_staff=True)
    client.force_login(user)
    assert client.get("/console/").status_code == 403
