"""Silent vantage points: the watch opens one silence per vantage point that stops delivering
and closes it when results come back, each alerting staff once; while it is open the
vantage point counts as unknown in every quorum, and the public page stays as it is as long as
another vantage point of each probe delivers."""

from datetime import timedelta

import pytest

from monitors.models import DispatcherState, MonitoringStall, ProbeState, VantagePointSilence
from monitors.results import record_result
from monitors.stall import watch
from statuspage.models import Component, Incident, SiteState
from tests.monitors.conftest import bad, feed, good
from tests.monitors.test_stall import staff_alerts

pytestmark = pytest.mark.django_db


@pytest.fixture
def bureau(clock, make_probe, settings):
    """The credit bureau probed every 30 s from `local` and from the `edge` agent (a quorum of
    both), a dispatcher that just ran, a staff address."""
    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com"]
    probe = make_probe(vantage_points=["local", "edge"], interval_seconds=30)
    DispatcherState.record_run(clock.now())
    for vantage_point in ("local", "edge"):
        feed(probe, vantage_point, good(), clock, step=0)
    return probe


def only_local(probe, clock, seconds: int, run=None) -> None:
    """`seconds` of the dispatcher running and `local` delivering, every 10 s; edge says
    nothing."""
    for _ in range(seconds // 10):
        DispatcherState.record_run(clock.now())
        feed(probe, "local", run or good(), clock)


def silent() -> list[str]:
    return sorted(VantagePointSilence.objects.silent())


def component(probe) -> Component:
    return Component.objects.get(pk=probe.component_id)


def test_an_agent_that_stops_delivering_is_silent_with_no_stall_and_nothing_public(bureau, clock):
    version = SiteState.current().version
    only_local(bureau, clock, 120)
    assert watch(clock.now()) is None  # no stall: every probe is still heard
    assert silent() == []  # 120 s is not yet longer than the threshold
    only_local(bureau, clock, 10)
    assert watch(clock.now()) is None
    assert silent() == ["edge"]
    silence = VantagePointSilence.objects.get()
    assert silence.started_at == clock.now() - timedelta(seconds=130)
    assert staff_alerts() == ["Vantage point edge is silent since 2026-11-29 10:00:00 UTC+08:00"]
    assert not MonitoringStall.objects.exists()
    assert not Incident.objects.exists()
    assert component(bureau).auto_status == "operational"
    assert SiteState.current().version == version  # nothing public moved
    only_local(bureau, clock, 60)
    watch(clock.now())
    assert len(staff_alerts()) == 1  # once


def test_results_arriving_again_end_the_silence_and_alert_once(bureau, clock):
    only_local(bureau, clock, 150)
    watch(clock.now())
    # The agent's link is back: it uploads what it kept (checked during the gap, received now).
    now = clock.now()
    for seconds in range(120, -1, -30):
        at = now - timedelta(seconds=seconds)
        record_result(bureau, "edge", good(), now=now, checked_at=at, scheduled_at=at)
    watch(clock.now())
    assert silent() == []
    silence = VantagePointSilence.objects.get()
    assert silence.ended_at == now
    assert staff_alerts()[1:] == [
        "Vantage point edge delivers again (silent since 2026-11-29 10:00:00 UTC+08:00)"
    ]
    watch(clock.now())
    assert len(staff_alerts()) == 2


def test_a_silent_agent_cannot_hide_an_outage_that_local_confirms(bureau, clock):
    only_local(bureau, clock, 130)
    watch(clock.now())
    assert silent() == ["edge"]
    only_local(bureau, clock, 30, run=bad("major_outage"))  # local confirms (3 failures)
    assert component(bureau).auto_status == "major_outage"
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 1


def test_while_heard_the_agent_outvotes_a_failure_seen_from_local_only(bureau, clock):
    for _ in range(3):
        clock.shift(10)
        DispatcherState.record_run(clock.now())
        feed(bureau, "local", bad("major_outage"), clock, step=0)
        feed(bureau, "edge", good(), clock, step=0)
    assert component(bureau).auto_status == "operational"
    assert not Incident.objects.exists()
    assert bureau.network_problems.get().vantage_point == "local"


def test_a_silent_agent_cannot_open_an_outage(bureau, clock):
    only_local(bureau, clock, 130)
    watch(clock.now())
    # Its spooled failures arrive while it still counts as silent: history, not an outage.
    now = clock.now()
    for seconds in (90, 60, 30):
        at = now - timedelta(seconds=seconds)
        record_result(bureau, "edge", bad("major_outage"), now=now, checked_at=at, scheduled_at=at)
    assert ProbeState.objects.get(probe=bureau, vantage_point="edge").is_down
    assert component(bureau).auto_status == "operational"
    assert not Incident.objects.exists()


def test_falling_silent_retakes_the_quorum_at_once(bureau, clock):
    # local confirms a failure that edge does not share: a network problem, nothing public.
    for _ in range(3):
        clock.shift(10)
        DispatcherState.record_run(clock.now())
        feed(bureau, "local", bad("major_outage"), clock, step=0)
        feed(bureau, "edge", good(), clock, step=0)
    assert component(bureau).auto_status == "operational"
    # Then edge falls silent: the quorum is local's alone, at the watch that notices it.
    only_local(bureau, clock, 130, run=bad("major_outage"))
    watch(clock.now())
    assert component(bureau).auto_status == "major_outage"
    assert Incident.objects.filter(resolved_at__isnull=True).exists()


def test_a_silence_that_stalls_the_page_is_told_by_the_stall_alone(bureau, clock):
    # Neither vantage point delivers: the probe is unheard, the page says checks are delayed.
    for _ in range(14):
        clock.shift(10)
        DispatcherState.record_run(clock.now())
    assert watch(clock.now()) == "started"
    assert silent() == ["edge", "local"]
    assert staff_alerts() == ["Monitoring stalled since 2026-11-29 10:00:00 UTC+08:00"]
    # local comes back, edge does not: the stall ends, and edge's silence is told on its own.
    feed(bureau, "local", good(), clock, step=0)
    assert watch(clock.now()) == "ended"
    assert silent() == ["edge"]
    assert staff_alerts()[1:] == [
        "Vantage point edge is silent since 2026-11-29 10:00:00 UTC+08:00",
        "Monitoring resumed (stalled since 2026-11-29 10:00:00 UTC+08:00)",
    ]


def test_a_probe_run_only_from_the_silent_agent_stalls_the_page(bureau, clock, make_probe):
    make_probe(bureau.component, name="edge only", vantage_points=["edge"], interval_seconds=30)
    only_local(bureau, clock, 130)
    assert watch(clock.now()) == "started"
    assert MonitoringStall.objects.get().reasons == [
        "vantage point edge: last heard 2026-11-29 10:00:00 UTC+08:00"
    ]


def test_a_vantage_point_no_probe_lists_any_more_is_closed_without_a_word(bureau, clock):
    only_local(bureau, clock, 130)
    watch(clock.now())
    bureau.vantage_points = ["local"]
    bureau.save()
    ProbeState.objects.filter(vantage_point="edge").delete()
    watch(clock.now())
    assert silent() == []
    assert len(staff_alerts()) == 1
