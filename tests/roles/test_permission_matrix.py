"""Every console URL and every token API operation, for every role and for anonymous visitors.

The tables below say the least role each one needs. The URL resolver and the ninja routers are
read to check that the tables cover everything: a new URL or operation fails here until someone
decides who may use it.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from monitors.agent_tokens import issue_agent_token
from monitors.models import Probe
from statuspage import actions
from statuspage.api.tokens import issue_token
from statuspage.api.v1 import api
from statuspage.channels.models import StaffChannel
from statuspage.models import AuditEntry, Component, IncidentTemplate
from statuspage.roles import ADMIN, RESPONDER, ROLES, VIEWER
from statuspage.subscriptions.models import Notification, Subscriber

V, R, A = VIEWER, RESPONDER, ADMIN

# URL name -> {method: least role}, and the kind of object its <pk> names.
CONSOLE = {
    "console:dashboard": ({"get": V}, None),
    "console:component_status": ({"post": R}, "component"),
    "console:incident_list": ({"get": V}, None),
    "console:incident_new": ({"get": R}, None),
    "console:incident_create": ({"post": R}, None),
    "console:incident_detail": ({"get": V}, "incident"),
    "console:incident_update": ({"post": R}, "incident"),
    "console:incident_resolve": ({"post": R}, "incident"),
    "console:incident_edit": ({"get": R}, "incident"),
    "console:incident_save": ({"post": R}, "incident"),
    "console:incident_postmortem": ({"post": R}, "incident"),
    "console:incident_note": ({"post": V}, "incident"),
    "console:template_list": ({"get": V}, None),
    "console:template_new": ({"get": R, "post": R}, None),
    "console:template_edit": ({"get": R, "post": R}, "template"),
    "console:template_delete": ({"post": R}, "template"),
    "console:maintenance_list": ({"get": V}, None),
    "console:maintenance_new": ({"get": R}, None),
    "console:maintenance_create": ({"post": R}, None),
    "console:maintenance_detail": ({"get": V}, "maintenance"),
    "console:maintenance_edit": ({"get": R}, "maintenance"),
    "console:maintenance_save": ({"post": R}, "maintenance"),
    "console:maintenance_status": ({"post": R}, "maintenance"),
    "console:maintenance_note": ({"post": V}, "maintenance"),
    "console:maintenance_cancel_series": ({"post": R}, "maintenance"),
    "console:maintenance_series_edit": ({"get": R}, "maintenance"),
    "console:maintenance_series_save": ({"post": R}, "maintenance"),
    "console:audit_log": ({"get": V}, None),
    "console:audit_export": ({"get": V}, None),
    "console:lookup": ({"get": V}, None),
    "console:reports": ({"get": V}, None),
    "console:token_list": ({"get": A}, None),
    "console:token_revoke": ({"post": A}, "token"),
    "console:agent_token_revoke": ({"post": A}, "agent_token"),
    "console:user_list": ({"get": A}, None),
    "console:user_create": ({"post": A}, None),
    "console:user_role": ({"post": A}, "user"),
    "console:user_second_factor_reset": ({"post": A}, "user"),
    "two_factor_setup": ({"get": V}, None),
    "probes:list": ({"get": V}, None),
    "probes:detail": ({"get": V}, "probe"),
    "probes:alerts": ({"get": V}, None),
    "channels:list": ({"get": V}, None),
    "channels:new": ({"get": A, "post": A}, None),
    "channels:edit": ({"get": A, "post": A}, "channel"),
    "channels:test": ({"post": A}, "channel"),
    "channels:delete": ({"post": A}, "channel"),
    "subscriptions_console:subscribers": ({"get": V}, None),
    "subscriptions_console:remove": ({"post": A}, "subscriber"),
    "subscriptions_console:notifications": ({"get": V}, None),
    "subscriptions_console:notification": ({"get": V}, "notification"),
    "subscriptions_console:resend": ({"post": A}, "notification"),
    "subscriptions_console:webhooks": ({"get": V, "post": A}, None),
    "subscriptions_console:webhook_enable": ({"post": A}, "webhook"),
    "subscriptions_console:webhook_test": ({"post": A}, "webhook"),
}

# (METHOD, path under /api/v1) -> least role.
API = {
    ("GET", "/incidents"): V,
    ("POST", "/incidents"): R,
    ("GET", "/incidents/{incident_id}"): V,
    ("PATCH", "/incidents/{incident_id}"): R,
    ("POST", "/incidents/{incident_id}/updates"): R,
    ("POST", "/incidents/{incident_id}/resolve"): R,
    ("POST", "/incidents/{incident_id}/postmortem"): R,
    ("POST", "/incidents/{incident_id}/notes"): V,
    ("GET", "/maintenances"): V,
    ("POST", "/maintenances"): R,
    ("GET", "/maintenances/{maintenance_id}"): V,
    ("PATCH", "/maintenances/{maintenance_id}"): R,
    ("POST", "/maintenances/{maintenance_id}/start"): R,
    ("POST", "/maintenances/{maintenance_id}/verify"): R,
    ("POST", "/maintenances/{maintenance_id}/complete"): R,
    ("POST", "/maintenances/{maintenance_id}/cancel"): R,
    ("POST", "/maintenances/{maintenance_id}/notes"): V,
    ("POST", "/maintenances/{maintenance_id}/cancel-series"): R,
    ("PATCH", "/maintenances/{maintenance_id}/series"): R,
    ("GET", "/components"): V,
    ("GET", "/components/{component_ref}"): V,
    ("PATCH", "/components/{component_ref}"): R,
    ("GET", "/probes"): V,
    ("GET", "/probes/{probe_id}"): V,
    ("GET", "/probes/{probe_id}/results"): V,
    ("GET", "/reports/availability"): V,
    ("POST", "/integrations/alertmanager"): R,
    ("POST", "/integrations/grafana"): R,
}

WHO = [None, *ROLES]  # None: anonymous


def allowed(role: str | None, least: str) -> bool:
    return role is not None and ROLES.index(role) >= ROLES.index(least)


def console_url_names(patterns=None, namespace="", prefix="") -> set[str]:
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= console_url_names(pattern.url_patterns, inner, route)
        elif isinstance(pattern, URLPattern) and route.startswith("console/"):
            names.add(namespace + pattern.name)
    return names


def api_operations() -> set[tuple[str, str]]:
    found = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.add((method, (prefix.rstrip("/") + "/" + path.lstrip("/")).rstrip("/")))
    return {(method, "/" + path.lstrip("/")) for method, path in found if path}


def test_the_console_table_covers_every_console_url():
    assert console_url_names() == set(CONSOLE)


def test_the_api_table_covers_every_api_operation():
    assert api_operations() == set(API)


@pytest.fixture
def world(db, users):
    """One object of each kind a console URL or an API path names."""
    now = timezone.now()
    component = Component.objects.create(name="Repayments", slug="repayments")
    incident = actions.open_incident(
        title="Repayments fail",
        body="Looking.",
        components={component: "major_outage"},
        actor=users[ADMIN],
        via=AuditEntry.Via.CONSOLE,
    )
    maintenance = actions.schedule_maintenance(
        title="Database upgrade",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1),
        components=[component],
        actor=users[ADMIN],
        via=AuditEntry.Via.CONSOLE,
    )
    webhook = Subscriber.objects.create(
        kind=Subscriber.Kind.WEBHOOK, url="https://hooks.example.com/x", confirmed_at=now
    )
    return {
        "component": component.pk,
        "incident": incident.pk,
        "maintenance": maintenance.pk,
        "template": IncidentTemplate.objects.create(name="DB", title="Database slow").pk,
        "subscriber": Subscriber.objects.create(email="b@example.com", confirmed_at=now).pk,
        "webhook": webhook.pk,
        "notification": Notification.objects.create(
            kind=Notification.Kind.STAFF_ALERT, subject="x"
        ).pk,
        "probe": Probe.objects.create(component=component, name="health", kind="http").pk,
        "component_ref": component.slug,
        "token": issue_token(users[VIEWER], name="x")[0].pk,
        "agent_token": issue_agent_token("edge")[0].pk,
        "user": get_user_model().objects.create_user("someone", is_staff=True).pk,
        "channel": StaffChannel.objects.create(
            name="on call", kind="slack", url="https://hooks.example.com/on-call"
        ).pk,
    }


CONSOLE_CASES = [
    (name, method, least, who)
    for name, (methods, _kind) in CONSOLE.items()
    for method, least in methods.items()
    for who in WHO
]


@pytest.mark.parametrize(("name", "method", "least", "who"), CONSOLE_CASES)
def test_console_url_answers_each_role_as_the_table_says(
    world, client_as, name, method, least, who
):
    from django.urls import reverse

    kind = CONSOLE[name][1]
    url = reverse(name, kwargs={"pk": world[kind]} if kind else None)
    response = getattr(client_as(who), method)(url)
    if who is None:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif allowed(who, least):
        assert response.status_code != 403
        assert "/accounts/login/" not in response.get("Location", "")
    else:
        assert response.status_code == 403


API_CASES = [(method, path, least, who) for (method, path), least in API.items() for who in WHO]


@pytest.mark.parametrize(("method", "path", "least", "who"), API_CASES)
def test_api_operation_answers_each_role_as_the_table_says(
    world, token_as, client, method, path, least, who
):
    url = "/api/v1" + path.format(
        **{f"{kind}_id": world[kind] for kind in ("incident", "maintenance", "probe")},
        component_ref=world["component_ref"],
    )
    token = token_as(who)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.generic(method, url, "{}", content_type="application/json", headers=headers)
    if who is None:
        assert response.status_code == 401
    elif allowed(who, least):
        assert response.status_code not in (401, 403), response.content
    else:
        assert response.status_code == 403
        assert "needs" in response.json()["errors"][0]["message"]


# The remote agents' endpoints (statuspage.api.agents): an agent token only, never a staff
# token of any role, never anonymous.
AGENT = {("GET", "/agent/assignment"), ("POST", "/agent/results")}


def agent_paths() -> set[str]:
    """The routes under api/v1/ that are plain views beside the ninja API."""
    (api_v1,) = [
        p for p in get_resolver().url_patterns if str(getattr(p, "pattern", "")) == "api/v1/"
    ]
    return {
        "/" + str(pattern.pattern)
        for pattern in api_v1.url_patterns
        if isinstance(pattern, URLPattern) and str(pattern.pattern)
    }


def test_the_agent_table_covers_every_plain_view_of_the_api():
    assert agent_paths() == {path for _method, path in AGENT}


@pytest.mark.parametrize(("method", "path"), sorted(AGENT))
@pytest.mark.parametrize("who", WHO)
def test_agent_endpoints_refuse_every_staff_token_and_anonymous(
    world, token_as, client, method, path, who
):
    token = token_as(who)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.generic(
        method,
        "/api/v1" + path,
        '{"results": []}',
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert "agent token" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path"), sorted(AGENT))
def test_agent_endpoints_answer_an_agent_token(world, client, method, path):
    headers = {"Authorization": f"Bearer {issue_agent_token('edge')[1]}"}
    response = client.generic(
        method,
        "/api/v1" + path,
        '{"results": []}',
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200
