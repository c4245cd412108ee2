"""The stall test: with Disbursement down and then no dispatcher run and no result past the
threshold (no beat at all: the web requests notice it), the page in both languages, the
console, /health and the staff's email all say that the checks are delayed; when results come
back, all of them clear by themselves."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from monitors.models import DispatcherState, Probe
from monitors.recorder import record_result
from statuspage.models import SiteState
from statuspage.public import snapshot
from tests.monitors.conftest import bad, good
from tests.public.pages import get, platform
from tests.subscriptions.conftest import SmtpServer, run_pipeline

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
NOTICE = "Automatic checks are delayed"
NOTICE_ZH = "自动检测出现延迟"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com"]
    yield server
    server.stop()


@pytest.fixture
def down(db, clock, settings, smtp):
    """Disbursement confirmed down by its probe (every 30 s: the threshold is 120 s), a
    dispatcher that ran, and the web requests' watch on, as in production."""
    settings.MONITORING_WATCH_SECONDS = 10
    lending = platform()
    probe = Probe.objects.create(
        component=lending.disbursement,
        name="health",
        kind="http",
        config={"url": "http://127.0.0.1:9/"},
        vantage_points=["local"],
        interval_seconds=30,
        failure_threshold=2,
    )
    for _ in range(2):
        dispatch_and_deliver(probe, bad("major_outage"), clock)
    return probe


def dispatch_and_deliver(probe, run, clock, seconds=10):
    now = timezone.now()
    DispatcherState.record_run(now)
    record_result(probe, "local", run, now=now, scheduled_at=now)
    clock.shift(seconds)


def subjects(smtp) -> list[str]:
    return [m["Subject"].split("] ", 1)[-1] for m in smtp.handler.messages]


def test_a_stall_is_shown_everywhere_and_clears_by_itself(down, clock, smtp, staff):
    page = get("/")
    assert "Major outage" in page and NOTICE not in page
    last_result = NOW + timedelta(seconds=10)

    clock.shift(121)  # nothing since the last result at 10:00:10
    page = get("/")
    assert NOTICE in page
    assert "statuses on this page may be out of date" in page
    assert f'Delayed since: <time datetime="{timezone.localtime(last_result).isoformat()}"' in page
    assert "Major outage" in page  # the last known status stays
    assert "Last checked:" in page
    zh = get("/", "zh-hans")
    assert NOTICE_ZH in zh and "本页显示的状态可能不是最新的" in zh and "最后检测于" in zh

    console = Client()
    console.force_login(staff)
    dashboard = console.get("/console/").content.decode()
    assert NOTICE in dashboard
    assert "the dispatcher (beat): last heard 2026-11-29 10:00:10 UTC+08:00" in dashboard
    assert "Staff were emailed" in dashboard

    response = Client().get("/health")
    assert response.status_code == 503
    assert "the dispatcher has not run for 131 s" in response.json()["reasons"]

    summary = Client().get("/api/v2/summary.json").json()
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert summary["status"]["indicator"] != "none"

    run_pipeline()
    assert "Monitoring stalled since 2026-11-29 10:00:10 UTC+08:00" in subjects(smtp)

    # The beat comes back: the dispatcher runs and the vantage point delivers again.
    for _ in range(2):
        dispatch_and_deliver(down, good(), clock, seconds=6)
    page = get("/")
    assert NOTICE not in page and "Last checked:" not in page
    assert NOTICE_ZH not in get("/", "zh-hans")
    assert NOTICE not in console.get("/console/").content.decode()
    assert Client().get("/health").status_code == 200
    run_pipeline()
    stall_emails = [s for s in subjects(smtp) if s.startswith("Monitoring")]
    assert stall_emails == [
        "Monitoring stalled since 2026-11-29 10:00:10 UTC+08:00",
        "Monitoring resumed (stalled since 2026-11-29 10:00:10 UTC+08:00)",
    ]


def test_the_notice_shows_on_a_page_cached_before_the_stall(down, clock):
    get("/")
    version = SiteState.current().version
    clock.shift(130)
    assert NOTICE in get("/")
    assert SiteState.current().version == version + 1


def test_a_snapshot_written_while_stalled_carries_the_notice(down, clock, tmp_path, settings):
    clock.shift(130)
    get("/")  # a visit notices the stall
    snapshot.publish(tmp_path / "site")
    assert NOTICE in (tmp_path / "site" / "index.html").read_text()
    assert NOTICE_ZH in (tmp_path / "site" / "index.zh-hans.html").read_text()
