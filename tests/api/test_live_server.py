"""The API over real HTTP, as a deploy pipeline calls it: no cookies, no CSRF token."""

from datetime import timedelta

import requests
from django.utils import timezone

from statuspage.api.tokens import issue_token
from statuspage.models import InternalNote, Maintenance


def test_it_serves_bearer_requests_over_http(live_server, staff, make_component):
    make_component("api-gateway")
    token = issue_token(staff)[1]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = f"{live_server.url}/api/v1"

    listed = session.get(f"{base}/components", timeout=5)
    assert listed.status_code == 200
    assert [component["slug"] for component in listed.json()] == ["api-gateway"]

    # A change by POST with neither a session nor a CSRF token. An internal note publishes
    # nothing, so no notification is queued on the broker other tests share.
    now = timezone.now()
    maintenance = Maintenance.objects.create(
        title="Upgrade", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2)
    )
    path = f"{base}/maintenances/{maintenance.pk}/notes"
    response = session.post(path, json={"body": "Vendor on the bridge."}, timeout=5)
    assert response.status_code == 201
    assert InternalNote.objects.get().author == staff

    anonymous = requests.get(f"{base}/components", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["Content-Type"].startswith("application/json")
