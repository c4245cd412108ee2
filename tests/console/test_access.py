"""Every console view requires staff; every change is a POST with CSRF."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from statuspage import actions
from statuspage.models import AuditEntry

PAGES = [
    ("console:dashboard", False),
    ("console:incident_list", False),
    ("console:incident_new", False),
    ("console:incident_detail", True),
    ("console:incident_edit", True),
    ("console:maintenance_list", False),
    ("console:maintenance_new", False),
    ("console:maintenance_detail", True),
    ("console:maintenance_edit", True),
    ("console:audit_log", False),
]
CHANGES = [
    ("console:component_status", "component"),
    ("console:incident_create", None),
    ("console:incident_update", "incident"),
    ("console:incident_resolve", "incident"),
    ("console:incident_save", "incident"),
    ("console:incident_postmortem", "incident"),
    ("console:incident_note", "incident"),
    ("console:maintenance_create", None),
    ("console:maintenance_save", "maintenance"),
    ("console:maintenance_status", "maintenance"),
    ("console:maintenance_note", "maintenance"),
]


@pytest.fixture
def objects(staff, make_component):
    component = make_component("gateway")
    incident = actions.open_incident(
        title="Slow", body="Looking", actor=staff, via=AuditEntry.Via.CONSOLE
    )
    now = timezone.now()
    maintenance = actions.schedule_maintenance(
        title="Upgrade",
        starts_at=now + timezone.timedelta(hours=1),
        ends_at=now + timezone.timedelta(hours=2),
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )
    return {"component": component, "incident": incident, "maintenance": maintenance}


def page_url(name: str, needs_pk: bool, objects) -> str:
    if not needs_pk:
        return reverse(name)
    kind = "incident" if "incident" in name else "maintenance"
    return reverse(name, args=[objects[kind].pk])


def change_url(name: str, kind: str | None, objects) -> str:
    return reverse(name, args=[objects[kind].pk]) if kind else reverse(name)


@pytest.mark.parametrize("name,needs_pk", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, objects, name, needs_pk):
    url = page_url(name, needs_pk, objects)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("name,needs_pk", PAGES)
def test_it_forbids_users_who_are_not_staff(user_client, objects, name, needs_pk):
    assert user_client.get(page_url(name, needs_pk, objects)).status_code == 403


@pytest.mark.parametrize("name,needs_pk", PAGES)
def test_it_shows_every_page_to_staff(staff_client, objects, name, needs_pk):
    response = staff_client.get(page_url(name, needs_pk, objects))
    assert response.status_code == 200
    assert b'href="/console/probes/"' in response.content


@pytest.mark.parametrize("name,kind", CHANGES)
def test_it_rejects_get_for_changes(staff_client, objects, name, kind):
    assert staff_client.get(change_url(name, kind, objects)).status_code == 405


@pytest.mark.parametrize("name,kind", CHANGES)
def test_it_redirects_anonymous_posts_to_the_login_page(client, objects, name, kind):
    response = client.post(change_url(name, kind, objects), {})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name,kind", CHANGES)
def test_it_forbids_changes_by_users_who_are_not_staff(user_client, objects, name, kind):
    before = AuditEntry.objects.count()
    assert user_client.post(change_url(name, kind, objects), {}).status_code == 403
    assert AuditEntry.objects.count() == before


def test_it_requires_the_csrf_token(staff, objects):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = reverse("console:incident_note", args=[objects["incident"].pk])
    response = client.post(url, {"body": "no token"})
    assert response.status_code == 403
    assert not objects["incident"].notes.exists()


def test_it_accepts_a_post_with_the_csrf_token(staff, objects):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = reverse("console:incident_detail", args=[objects["incident"].pk])
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("console:incident_note", args=[objects["incident"].pk]),
        {"body": "with token", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert objects["incident"].notes.get().body == "with token"


def test_the_console_speaks_one_language_whatever_the_browser_asks(staff_client, components):
    from statuspage import actions

    bureau, _ = components
    actions.set_component_status(bureau, "major_outage", actor=None, via="system")
    content = staff_client.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Major outage" in content and "严重中断" not in content
    assert "借贷平台服务状态" not in content  # the site name too
