from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitors import results
from monitors.models import ProbeResult, ProbeRollup, ProbeState
from monitors.recorder import RunRecord, record_batch
from monitors.runner import spec_of
from statuspage.models import Component, Incident

from .conftest import bad, good

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_changes(monkeypatch):
    """Every public change the recorder opens (the one way to the component locks)."""
    opened = []
    real = results.public_change

    def spy(now, **kwargs):
        opened.append(now)
        return real(now, **kwargs)

    monkeypatch.setattr(results, "public_change", spy)
    return opened


def records(probes, run, at, vantage_points=("sh",)):
    return [RunRecord(p.pk, vp, run, at, at) for p in probes for vp in vantage_points]


def rollup_counts():
    return sorted(
        ProbeRollup.objects.values_list(
            "probe_id", "vantage_point", "period", "checks", "failures", "histogram"
        )
    )


def test_the_same_batch_twice_is_counted_once(clock, make_probe, make_component):
    probes = [make_probe(make_component(f"c{i}"), vantage_points=["sh", "sz"]) for i in range(3)]
    at = clock.now()
    batch = records(probes, good(), at, ("sh", "sz")) + records(probes[:1], bad(), at, ("sz",))
    first = record_batch(batch, now=at)
    assert (first.accepted, first.duplicates) == (6, 1)  # the same run twice in one batch
    states = list(ProbeState.objects.order_by("pk").values())
    rollups = rollup_counts()

    again = record_batch(batch, now=at + timedelta(seconds=5))
    assert (again.accepted, again.duplicates, again.results) == (0, 7, [])
    assert ProbeResult.objects.count() == 6
    assert rollup_counts() == rollups
    assert list(ProbeState.objects.order_by("pk").values()) == states
    assert ProbeRollup.objects.get(probe=probes[0], vantage_point="sz", period="hour").checks == 1


def test_a_batch_counts_its_results_in_the_rollups_like_one_at_a_time(clock, make_probe):
    probe = make_probe(vantage_points=["sh"])
    at = clock.now()
    batch = [
        RunRecord(
            probe.pk, "sh", run, at + timedelta(seconds=10 * i), at + timedelta(seconds=10 * i)
        )
        for i, run in enumerate([good(5), good(30), bad(), good(30)])
    ]
    record_batch(batch, now=at + timedelta(seconds=40))
    hour = ProbeRollup.objects.get(period="hour")
    assert (hour.checks, hour.failures, hour.latency_count) == (4, 1, 4)
    assert (hour.latency_max_ms, hour.latency_sum_ms) == (30.0, 95.0)
    assert hour.histogram[:3] == [1, 0, 3]  # 5 ms; 30, 30 and the failure's 30 ms
    state = ProbeState.objects.get()
    assert (state.last_ok, state.consecutive_successes, state.last_scheduled_at) == (
        True,
        1,
        batch[-1].scheduled_at,
    )


def test_a_batch_that_moves_statuses_takes_one_public_change(
    clock, make_probe, make_component, public_changes
):
    probes = [
        make_probe(make_component(f"c{i}"), vantage_points=["sh"], failure_threshold=1)
        for i in range(3)
    ]
    outcome = record_batch(records(probes, bad("major_outage"), clock.now()), now=clock.now())
    assert outcome.public_changes == 1
    assert len(public_changes) == 1
    assert set(Component.objects.values_list("status", flat=True)) == {"major_outage"}
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 3


def test_a_batch_that_moves_no_status_takes_no_component_lock(
    clock, make_probe, make_component, public_changes
):
    probes = [make_probe(make_component(f"c{i}"), vantage_points=["sh"]) for i in range(3)]
    record_batch(records(probes, good(), clock.now()), now=clock.now())  # first results
    clock.shift(10)
    public_changes.clear()
    with CaptureQueriesContext(connection) as queries:
        outcome = record_batch(records(probes, good(), clock.now()), now=clock.now())
    assert (outcome.accepted, outcome.public_changes) == (3, 0)
    assert public_changes == []
    # Neither the components' lock (SELECT … FROM statuspage_component … FOR UPDATE) nor any
    # write to them; the probes' own lock joins their component for its slug only.
    touching = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(('UPDATE "statuspage_component', 'INSERT INTO "statuspage'))
        or 'FROM "statuspage_component"' in q["sql"]
    ]
    assert touching == []
    # One statement each for the probe locks, the insert, the states, the rollups.
    assert len(queries) <= 8, [q["sql"][:80] for q in queries]


def test_a_status_that_moves_twice_in_one_batch_publishes_both_moves(
    clock, make_probe, public_changes
):
    probe = make_probe(vantage_points=["sh"], failure_threshold=1, success_threshold=1)
    at = clock.now()
    batch = [
        RunRecord(probe.pk, "sh", bad("major_outage"), at, at),
        RunRecord(probe.pk, "sh", good(), at + timedelta(seconds=10), at + timedelta(seconds=10)),
    ]
    outcome = record_batch(batch, now=at + timedelta(seconds=20))
    assert outcome.public_changes == 2
    # The outage opened its automatic incident, the recovery moved it to monitoring.
    incident = Incident.objects.get(root_cause=probe.component)
    assert incident.status == "monitoring"
    assert Component.objects.get(pk=probe.component_id).status == "operational"


def test_results_for_probes_gone_disabled_or_elsewhere_are_refused(
    clock, make_probe, make_component
):
    component = make_component("bureau")
    elsewhere = make_probe(component, name="elsewhere", vantage_points=["sh"])
    disabled = make_probe(component, name="disabled", vantage_points=["sh"], is_enabled=False)
    at = clock.now()
    outcome = record_batch(
        [
            RunRecord(elsewhere.pk, "sz", good(), at, at),
            RunRecord(disabled.pk, "sh", good(), at, at),
            RunRecord(999_999, "sh", good(), at, at),
        ],
        now=at,
    )
    assert (outcome.accepted, outcome.refused) == (0, 3)
    assert not ProbeResult.objects.exists()


def test_a_result_run_from_an_older_spec_is_dropped(clock, make_probe):
    probe = make_probe(vantage_points=["sh"])
    dispatched = spec_of(probe)["version"]
    probe.config = {"url": "http://127.0.0.1:8/fixed"}
    probe.save()
    at = clock.now()
    outcome = record_batch([RunRecord(probe.pk, "sh", bad(), at, at, dispatched)], now=at)
    assert (outcome.accepted, outcome.stale) == (0, 1)
    current = spec_of(probe)["version"]
    outcome = record_batch([RunRecord(probe.pk, "sh", good(), at, at, current)], now=at)
    assert outcome.accepted == 1
    assert ProbeResult.objects.get().ok is True
