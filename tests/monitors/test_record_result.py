from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitors.models import ProbeResult, ProbeRollup, ProbeState, VantagePointProblem
from monitors.recorder import record_result
from monitors.results import RunResult
from statuspage.models import Component, Incident

from .conftest import bad, feed, good

pytestmark = pytest.mark.django_db


def component_status(probe):
    return Component.objects.get(pk=probe.component_id).auto_status


@pytest.mark.parametrize(
    "runs, auto_status",
    [
        ("F", "operational"),
        ("FF", "operational"),
        ("FFF", "partial_outage"),
        ("FFSF", "operational"),
        ("FFFS", "partial_outage"),
        ("FFFSS", "operational"),
    ],
)
def test_a_component_fails_only_after_the_failure_threshold(clock, make_probe, runs, auto_status):
    probe = make_probe()
    for mark in runs:
        feed(probe, "local", good() if mark == "S" else bad(), clock)
    assert component_status(probe) == auto_status


def test_a_single_failed_check_opens_nothing(clock, make_probe):
    probe = make_probe()
    feed(probe, "local", good(), clock)
    feed(probe, "local", bad(), clock)
    feed(probe, "local", good(), clock)
    assert not Incident.objects.exists()
    assert ProbeResult.objects.filter(ok=False).count() == 1


def test_a_failure_seen_by_one_vantage_point_of_two_is_a_network_problem(clock, make_probe):
    probe = make_probe(vantage_points=["shanghai", "shenzhen"])
    for _ in range(5):
        feed(probe, "shanghai", bad(), clock, step=0)
        feed(probe, "shenzhen", good(), clock)
    assert component_status(probe) == "operational"
    assert Component.objects.get(pk=probe.component_id).status == "operational"
    assert not Incident.objects.exists()
    problem = VantagePointProblem.objects.get()
    assert (problem.vantage_point, problem.ended_at, problem.seen) == ("shanghai", None, "500")

    feed(probe, "shanghai", good(), clock)
    feed(probe, "shanghai", good(), clock)
    problem.refresh_from_db()
    assert problem.ended_at is not None and not problem.escalated


def test_a_failure_confirmed_by_the_quorum_is_an_outage(clock, make_probe):
    probe = make_probe(vantage_points=["shanghai", "shenzhen"])
    for _ in range(3):
        feed(probe, "shanghai", bad("major_outage"), clock)
    assert VantagePointProblem.objects.filter(ended_at__isnull=True).count() == 1
    for _ in range(3):
        feed(probe, "shenzhen", bad("major_outage"), clock)
    assert component_status(probe) == "major_outage"
    assert Incident.objects.count() == 1
    assert VantagePointProblem.objects.get().escalated


def test_an_explicit_quorum_of_one_makes_any_vantage_point_enough(clock, make_probe):
    probe = make_probe(vantage_points=["shanghai", "shenzhen"], quorum=1)
    for _ in range(3):
        feed(probe, "shanghai", bad(), clock)
    assert component_status(probe) == "partial_outage"


def test_the_component_takes_the_worst_severity_of_its_failing_probes(
    clock, make_probe, make_component
):
    bureau = make_component("bureau")
    slow = make_probe(bureau, name="latency")
    down = make_probe(bureau, name="health")
    for _ in range(3):
        feed(slow, "local", bad("degraded_performance"), clock, step=0)
        feed(down, "local", good(), clock)
    assert bureau.__class__.objects.get(pk=bureau.pk).auto_status == "degraded_performance"
    for _ in range(3):
        feed(down, "local", bad("major_outage"), clock)
    assert bureau.__class__.objects.get(pk=bureau.pk).auto_status == "major_outage"


def test_a_redelivered_run_is_recorded_once(clock, make_probe):
    probe = make_probe()
    now = clock.now()
    first = record_result(probe, "local", bad(), now=now, scheduled_at=now)
    again = record_result(probe, "local", bad(), now=now + timedelta(seconds=3), scheduled_at=now)
    assert first is not None and again is None
    assert ProbeResult.objects.count() == 1
    state = ProbeState.objects.get()
    assert state.consecutive_failures == 1
    hour = ProbeRollup.objects.get(period="hour")
    assert (hour.checks, hour.failures) == (1, 1)


def test_a_late_run_counts_in_history_but_does_not_move_the_state(clock, make_probe):
    probe = make_probe()
    now = clock.now()
    record_result(probe, "local", good(), now=now, scheduled_at=now)
    late_slot = now - timedelta(seconds=60)
    record_result(probe, "local", bad(), now=now, scheduled_at=late_slot)
    state = ProbeState.objects.get()
    assert (state.consecutive_failures, state.last_ok) == (0, True)
    assert ProbeRollup.objects.get(period="day").checks == 2


def test_an_unconfirmed_failure_pulls_the_next_run_to_the_recheck_interval(clock, make_probe):
    probe = make_probe(interval_seconds=300, recheck_seconds=7)
    ProbeState.objects.create(
        probe=probe, vantage_point="local", next_run_at=clock.now() + timedelta(seconds=300)
    )
    feed(probe, "local", bad(), clock, step=0)
    assert ProbeState.objects.get().next_run_at == clock.now() + timedelta(seconds=7)


def test_a_failed_result_keeps_the_condition_and_the_value_seen(clock, make_probe):
    probe = make_probe()
    feed(probe, "local", RunResult.from_error("ConnectionRefusedError: refused"), clock)
    result = ProbeResult.objects.get()
    assert (result.ok, result.error, result.severity) == (
        False,
        "ConnectionRefusedError: refused",
        "partial_outage",
    )
    state = ProbeState.objects.get()
    assert state.failed_condition == "ConnectionRefusedError: refused"


def test_downtime_is_counted_while_confirmed_down(clock, make_probe):
    probe = make_probe(interval_seconds=60, recheck_seconds=10)
    for _ in range(3):
        feed(probe, "local", bad(), clock)  # confirmed down at the third
    feed(probe, "local", bad(), clock)  # +10 s down
    feed(probe, "local", good(), clock)  # +10 s down, still down (1 success of 2)
    feed(probe, "local", good(), clock)  # +10 s down, then up
    feed(probe, "local", good(), clock)  # up: nothing more
    assert ProbeRollup.objects.get(period="hour").downtime_seconds == 30


def test_a_success_that_changes_nothing_public_costs_a_handful_of_statements(clock, make_probe):
    probe = make_probe()
    feed(probe, "local", good(), clock)
    with CaptureQueriesContext(connection) as queries:
        feed(probe, "local", good(), clock)
    # Lock the probe, insert the result, read the states, upsert both rollups, update the
    # state; plus the savepoint around it (and on PostgreSQL the asynchronous commit).
    work = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "SET"))]
    assert len(work) == 5, work
