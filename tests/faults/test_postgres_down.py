"""The site under gunicorn on a private PostgreSQL cluster that the test stops and starts
again: nothing answers a 500 while it is down, and everything works once it is back."""

import json
import os
import subprocess
import sys

import pytest
from django.utils import timezone

from statuspage.public.snapshot import publish
from tests.public import worlds
from tests.servers import ROOT, LiveSite, PrivatePostgres

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres():
    server = PrivatePostgres()
    server.init().start()
    server.create_database("statuspage")
    yield server
    server.destroy()


@pytest.fixture
def snapshot(transactional_db, tmp_path):
    # The snapshot a site already published (from the test database: any data will do).
    worlds.busy(timezone.now())
    publish(tmp_path / "snap")
    return tmp_path / "snap"


def manage(database_url: str, *command: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_postgresql_stopped_and_started_under_a_running_site(postgres, snapshot, tmp_path):
    url = postgres.url("statuspage")
    manage(url, "migrate", "--noinput", "-v", "0")
    manage(url, "create_staff_user", "ops", "--role", "responder")
    token = manage(url, "create_api_token", "ops").split()[-1]
    site = LiveSite(tmp_path, DATABASE_URL=url, STATIC_SNAPSHOT_DIR=str(snapshot))
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        assert site.get("/subscriptions/")[0] == 200
        assert site.get("/api/v1/incidents", **bearer)[0] == 200

        postgres.stop()
        status, headers, body = site.get("/")
        assert (status, headers["X-Served-From"]) == (200, "snapshot")
        status, headers, body = site.get("/subscriptions/", **{"Accept-Language": "zh-CN"})
        assert (status, headers["Retry-After"]) == (503, "30")
        assert "订阅更新所需的服务暂时不可用" in body.decode()
        assert site.get("/console/")[0] == 302, "anonymous: the login redirect needs no database"
        status, headers, body = site.get("/console/", Cookie="sessionid=a-session-to-look-up")
        assert (status, headers["Retry-After"]) == (503, "30")
        assert "Temporarily unavailable" in body.decode()
        status, headers, body = site.get("/api/v1/incidents", **bearer)
        assert (status, headers["Retry-After"]) == (503, "30")
        assert headers["Content-Type"] == "application/json"
        assert "temporarily unavailable" in json.loads(body)["errors"][0]["message"]
        incident = json.dumps({"name": "x", "body": "y"}).encode()
        headers = {**bearer, "Content-Type": "application/json"}
        status, _, body = site.request("POST", "/api/v1/incidents", incident, **headers)
        assert status == 503

        postgres.start()
        assert site.get("/subscriptions/")[0] == 200
        status, _, body = site.request("POST", "/api/v1/incidents", incident, **headers)
        assert status == 201, body
        status, headers, _ = site.get("/")
        assert status == 200
        assert "X-Served-From" not in headers
    finally:
        output = site.stop()
    assert "Traceback" not in output
