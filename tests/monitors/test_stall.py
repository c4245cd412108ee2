"""Stalled monitoring: the dispatcher records its runs, the watch opens one stall when probing
falls silent and closes it when results come back, each flip alerting staff once and bumping
the public version once."""

from datetime import timedelta

import pytest
from django.db import IntegrityError

from monitors.models import DispatcherState, MonitoringStall
from monitors.scheduler import dispatch_due
from monitors.stall import claim_watch, load_facts, watch, watch_if_due
from statuspage.models import SiteState
from statuspage.subscriptions.models import Notification
from tests.core.test_settings import manage
from tests.monitors.conftest import feed, good

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitored(clock, make_probe, settings):
    """One probe run every 30 s at `local`, a dispatcher that just ran, a staff address."""
    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com"]
    probe = make_probe(interval_seconds=30)
    DispatcherState.record_run(clock.now())
    feed(probe, "local", good(), clock, step=0)
    return probe


def version() -> int:
    return SiteState.current().version


def staff_alerts() -> list[str]:
    return list(
        Notification.objects.filter(kind=Notification.Kind.STAFF_ALERT)
        .order_by("id")
        .values_list("subject", flat=True)
    )


def test_the_dispatcher_records_each_run(clock):
    dispatch_due(clock.now())
    assert DispatcherState.last_run() == clock.now()
    clock.shift(2)
    dispatch_due(clock.now())
    assert DispatcherState.last_run() == clock.now()
    assert DispatcherState.objects.count() == 1


def test_the_default_threshold_follows_the_shortest_enabled_interval(clock, make_probe):
    slow = make_probe(name="slow", interval_seconds=300)
    assert load_facts().threshold == timedelta(seconds=900)
    make_probe(slow.component, name="fast", interval_seconds=60)
    assert load_facts().threshold == timedelta(seconds=180)


def test_monitoring_stale_seconds_overrides_the_default(monitored, settings):
    settings.MONITORING_STALE_SECONDS = 45
    assert load_facts().threshold == timedelta(seconds=45)


def test_it_is_quiet_while_results_arrive_in_time(monitored, clock):
    before = version()
    clock.shift(119)
    assert watch(clock.now()) is None
    assert not MonitoringStall.objects.exists()
    assert version() == before


def test_a_silent_dispatcher_opens_one_stall_and_alerts_staff_once(monitored, clock):
    started = clock.now()
    before = version()
    clock.shift(121)
    assert watch(clock.now()) == "started"
    clock.shift(30)
    assert watch(clock.now()) is None
    (stall,) = MonitoringStall.objects.all()
    assert stall.started_at == started and stall.ended_at is None
    assert stall.noticed_at == started + timedelta(seconds=121)
    assert stall.reasons == [
        "the dispatcher (beat): last heard 2026-11-29 10:00:00 UTC+08:00",
        "vantage point local: last heard 2026-11-29 10:00:00 UTC+08:00",
    ]
    assert staff_alerts() == ["Monitoring stalled since 2026-11-29 10:00:00 UTC+08:00"]
    assert version() == before + 1


def test_a_silent_vantage_point_stalls_monitoring_though_the_dispatcher_runs(monitored, clock):
    started = clock.now()
    for _ in range(70):
        clock.shift(2)
        DispatcherState.record_run(clock.now())
    assert watch(clock.now()) == "started"
    stall = MonitoringStall.objects.get()
    assert stall.started_at == started
    assert stall.reasons == ["vantage point local: last heard 2026-11-29 10:00:00 UTC+08:00"]


def test_results_arriving_again_close_the_stall_and_alert_staff_once(monitored, clock):
    clock.shift(200)
    watch(clock.now())
    stalled = version()
    DispatcherState.record_run(clock.now())
    assert watch(clock.now()) is None  # the dispatcher is back, the vantage point not yet
    feed(monitored, "local", good(), clock, step=0)
    assert watch(clock.now()) == "ended"
    assert watch(clock.now()) is None
    stall = MonitoringStall.objects.get()
    assert stall.ended_at == clock.now()
    assert staff_alerts()[1:] == [
        "Monitoring resumed (stalled since 2026-11-29 10:00:00 UTC+08:00)"
    ]
    assert version() == stalled + 1


def test_a_later_stall_is_a_new_one(monitored, clock):
    clock.shift(200)
    watch(clock.now())
    DispatcherState.record_run(clock.now())
    feed(monitored, "local", good(), clock, step=0)
    watch(clock.now())
    clock.shift(200)
    assert watch(clock.now()) == "started"
    assert MonitoringStall.objects.count() == 2
    assert len(staff_alerts()) == 3


def test_at_most_one_stall_can_be_open(monitored, clock):
    MonitoringStall.objects.create(started_at=clock.now(), noticed_at=clock.now())
    with pytest.raises(IntegrityError):
        MonitoringStall.objects.create(started_at=clock.now(), noticed_at=clock.now())


def test_with_no_enabled_probe_nothing_can_stall(monitored, clock):
    monitored.is_enabled = False
    monitored.save()
    clock.shift(3600)
    assert watch(clock.now()) is None


def test_a_disabled_probes_silence_does_not_count(monitored, clock, make_probe, make_component):
    other = make_probe(make_component("gateway"), vantage_points=["shanghai"])
    feed(other, "shanghai", good(), clock, step=0)
    other.is_enabled = False
    other.save()
    for _ in range(100):
        clock.shift(2)
        DispatcherState.record_run(clock.now())
        if _ % 10 == 0:
            feed(monitored, "local", good(), clock, step=0)
    assert watch(clock.now()) is None


def test_one_watcher_per_period_across_processes(clock):
    assert claim_watch(clock.now(), 10)
    clock.shift(9)
    assert not claim_watch(clock.now(), 10)
    assert watch_if_due(clock.now(), 10) is None
    clock.shift(1)
    assert claim_watch(clock.now(), 10)


def test_a_bad_monitoring_stale_seconds_stops_start_up():
    for value in ("two minutes", "5"):
        result = manage("check", MONITORING_STALE_SECONDS=value)
        assert result.returncode != 0
        assert "MONITORING_STALE_SECONDS=" in result.stderr
