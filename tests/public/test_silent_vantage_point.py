"""The silent agent test: the credit bureau is probed from the site (`local`) and from an agent
(`edge`). Cut the agent's link and nothing else: the vantage point becomes silent (the
console, /health and one staff email say so) and the public page, in both languages, says
nothing about it and opens no incident. Restore the link: the agent uploads what it kept,
history is complete, the silence ends with one more email."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from monitors.agent_tokens import issue_agent_token
from monitors.models import DispatcherState, Probe, ProbeResult
from monitors.results import record_result
from statuspage.models import Incident
from tests.monitors.conftest import good
from tests.public.pages import get, platform
from tests.public.test_stalled_monitoring import NOTICE, NOTICE_ZH, smtp, subjects  # noqa: F401
from tests.subscriptions.conftest import run_pipeline

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bureau(db, clock, settings, smtp):  # noqa: F811
    """The credit bureau probed every 30 s from local and edge, both delivering, and the web
    requests' watch on, as in production."""
    settings.MONITORING_WATCH_SECONDS = 10
    lending = platform()
    probe = Probe.objects.create(
        component=lending.bureau,
        name="Credit bureau API",
        kind="http",
        config={"url": "http://127.0.0.1:9/"},
        vantage_points=["local", "edge"],
        interval_seconds=30,
    )
    for vantage_point in ("local", "edge"):
        record_result(probe, vantage_point, good(), now=NOW, scheduled_at=NOW)
    DispatcherState.record_run(NOW)
    return probe


def local_delivers(probe, clock, seconds: int) -> None:
    for _ in range(seconds // 10):
        clock.shift(10)
        now = timezone.now()
        DispatcherState.record_run(now)
        record_result(probe, "local", good(), now=now, scheduled_at=now)


def test_a_cut_agent_is_silent_for_staff_and_invisible_to_the_public(bureau, clock, smtp, staff):  # noqa: F811
    local_delivers(bureau, clock, 130)  # the agent's link is cut: nothing from edge
    page = get("/")  # a web request runs the watch
    assert NOTICE not in page and "Last checked:" not in page
    assert NOTICE_ZH not in get("/", "zh-hans")
    assert not Incident.objects.exists()
    summary = Client().get("/api/v2/summary.json").json()
    assert summary["status"]["indicator"] == "none"

    console = Client()
    console.force_login(staff)
    for path in ("/console/", "/console/probes/"):
        text = console.get(path).content.decode()
        assert "Silent vantage points" in text and "<strong>edge</strong>" in text
        assert NOTICE not in text
    assert "silent since 10:00:00" in console.get("/console/probes/").content.decode()
    detail = console.get(f"/console/probes/{bureau.pk}/").content.decode()
    assert "while 1 is silent, 1 of the 1 heard" in detail

    health = Client().get("/health")
    assert health.status_code == 200
    assert health.json()["warnings"] == [
        "vantage point edge has delivered no result for 130 s "
        "(its probes are heard from other vantage points)"
    ]
    run_pipeline()
    assert subjects(smtp) == ["Vantage point edge is silent since 2026-11-29 10:00:00 UTC+08:00"]

    # The link is back: the agent uploads the 4 runs it kept, then goes on as usual.
    agent = Client(headers={"Authorization": f"Bearer {issue_agent_token('edge')[1]}"})
    kept = []
    for seconds in (30, 60, 90, 120):
        at = (NOW + timedelta(seconds=seconds)).isoformat()
        kept.append({"probe": bureau.pk, "scheduled_at": at, "checked_at": at, "ok": True})
    upload = agent.post("/api/v1/agent/results", {"results": kept}, content_type="application/json")
    assert upload.json()["accepted"] == 4
    clock.shift(10)
    page = get("/")
    assert "Silent vantage points" not in console.get("/console/").content.decode()
    assert Client().get("/health").json()["warnings"] == []
    assert ProbeResult.objects.filter(vantage_point="edge").count() == 5  # no gap
    run_pipeline()
    assert subjects(smtp)[1:] == [
        "Vantage point edge delivers again (silent since 2026-11-29 10:00:00 UTC+08:00)"
    ]
    assert not Incident.objects.exists()
