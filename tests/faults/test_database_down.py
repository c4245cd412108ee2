"""The database unreachable, in process: every query fails as it does when PostgreSQL is down
(Django's execute_wrapper raising OperationalError)."""

from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.utils import timezone

from statuspage.public.fallback import server_error
from statuspage.public.snapshot import SiteRenderer, publish
from tests.public import worlds


def unreachable(execute, sql, params, many, context):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


@contextmanager
def database_down():
    with connection.execute_wrapper(unreachable):
        yield


@pytest.fixture
def snapshot(db, settings, tmp_path):
    worlds.busy(timezone.now())
    publish(tmp_path / "snap")
    settings.STATIC_SNAPSHOT_DIR = str(tmp_path / "snap")
    return tmp_path / "snap"


def test_the_token_api_answers_503_json_with_retry_after(db):
    with database_down():
        response = Client().post(
            "/api/v1/incidents",
            {"name": "x", "body": "y"},
            content_type="application/json",
            headers={"Authorization": "Bearer sp_abcdefghijklmnop"},
        )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["field"] is None
    assert "temporarily unavailable" in error["message"]


def test_the_console_answers_a_503_page_to_signed_in_staff(client, staff):
    client.force_login(staff)
    with database_down():
        response = client.get("/console/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert "Temporarily unavailable" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Subscribing to updates needs a service"), ("zh-CN", "订阅更新所需的服务暂时不可用")],
)
def test_the_subscribe_page_answers_503_in_the_visitors_language(db, language, expected):
    for method in ("get", "post"):
        with database_down():
            response = getattr(Client(), method)(
                "/subscriptions/", headers={"Accept-Language": language}
            )
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        page = response.content.decode()
        assert expected in page
        assert '<a href="/">' in page, "points to the status page, which the snapshot serves"


def test_the_public_page_is_still_served_from_the_snapshot(snapshot):
    with database_down():
        response = Client().get("/")
    assert response.status_code == 200
    assert response["X-Served-From"] == "snapshot"


def test_a_client_cannot_switch_the_fallback_off_with_a_header(snapshot):
    with database_down():
        response = Client().get("/", headers={"X-Snapshot-Render": "1"})
    assert response.status_code == 200
    assert response["X-Served-From"] == "snapshot"


def test_the_snapshot_renderer_is_never_answered_from_the_old_snapshot(snapshot):
    with database_down(), pytest.raises(OperationalError):
        SiteRenderer().get("/")


def test_a_database_error_outside_a_view_is_a_503_too(db):
    request = RequestFactory().post("/console/incidents/new")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_any_other_error_is_still_a_plain_500(db):
    request = RequestFactory().get("/console/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
