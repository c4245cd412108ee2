"""A NUL character in a path, a query value or a cookie is a 400, never a 500 (PostgreSQL
cannot compare text with one)."""

import pytest
from django.test import Client

from statuspage.api.tokens import issue_token

pytestmark = pytest.mark.django_db

PATHS = [
    "/probes/heartbeat/%00abc",
    "/probes/heartbeat/%00abc/fail",
    "/probes/heartbeat/abc%00",
    "/subscriptions/confirm/%00abc/",
    "/subscriptions/manage/%00abc/",
    "/subscriptions/unsubscribe/%00abc/",
    "/components/%00",
    "/components/dns%00/badge.svg",
    "/feeds/components/%00.rss",
    "/incidents/1%00",
    "/admin/statuspage/incident/%00/change/",
    "/console/%00",
    "/api/v1/components/%00",
    "/api/v1/incidents/%00",
    "/static/%00.css",
]
QUERIES = [
    "/console/subscribers/?q=%00",
    "/console/subscribers/?page=%00",
    "/console/audit/?actor=%00",
    "/console/audit/?action=a%00b",
    "/console/incidents/?status=%00",
    "/console/subscribers/notifications/?page=1%00",
    "/?lang=%00",
    "/history?page=%00",
    "/history?%00=1",
    "/api/v2/incidents.json?x=%00",
    "/subscriptions/?email=%00",
    "/admin/statuspage/incident/?q=%00",
    "/accounts/login/?next=/%00",
    "/probes/heartbeat/abc?status=%00",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize("url", PATHS + QUERIES)
@pytest.mark.parametrize("method", ["get", "post", "head"])
def test_a_nul_in_a_path_or_query_is_a_400(staff_client, url, method):
    response = getattr(staff_client, method)(url)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url, field",
    [("/api/v1/incidents?component=%00", "component"), ("/api/v1/components/%00", None)],
)
def test_the_api_answers_its_own_error_shape(staff, url, field):
    token = issue_token(staff, name="t")[1]
    response = Client().get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"field": field, "message": "NUL characters are not allowed."}]
    }


def test_a_nul_in_a_cookie_is_a_400(db):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/console/").status_code == 400


def test_the_same_requests_without_nul_are_not_refused(staff_client):
    assert staff_client.get("/console/subscribers/?q=abc").status_code == 200
    assert staff_client.get("/probes/heartbeat/abc").status_code == 404
