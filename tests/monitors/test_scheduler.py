import base64
import json
import os
from collections import Counter
from datetime import timedelta

import pytest
import redis

from monitors.agent_tokens import issue_agent_token, revoke_agent_token
from monitors.models import ProbeState
from monitors.runner import Run, spec_of
from monitors.scheduler import (
    claim_due,
    next_slot,
    send,
    stable_offset,
    sync_states,
)
from statuspage.celery import app

from .conftest import START

pytestmark = pytest.mark.django_db
BROKER = os.environ.get("MONITORS_TEST_BROKER", "redis://127.0.0.1:6379/5")


def test_every_enabled_probe_gets_a_state_per_vantage_point(clock, make_probe, make_component):
    two = make_probe(vantage_points=["shanghai", "shenzhen"])
    make_probe(make_component("gateway"), is_enabled=False)
    sync_states(clock.now())
    assert sorted(ProbeState.objects.values_list("probe_id", "vantage_point")) == [
        (two.pk, "shanghai"),
        (two.pk, "shenzhen"),
    ]
    two.vantage_points = ["shanghai"]
    two.save()
    sync_states(clock.now())
    assert list(ProbeState.objects.values_list("vantage_point", flat=True)) == ["shanghai"]


def test_the_first_run_falls_on_the_probes_own_phase_within_its_interval(clock, make_probe):
    probe = make_probe(interval_seconds=60)
    sync_states(clock.now())
    state = ProbeState.objects.get()
    assert clock.now() < state.next_run_at <= clock.now() + timedelta(seconds=60)
    offset = stable_offset(probe.pk, "local", 60)
    assert abs((state.next_run_at.timestamp() - offset) % 60) < 0.002


def test_probes_with_the_same_interval_are_spread_over_it():
    offsets = [stable_offset(probe_id, "local", 10) for probe_id in range(1, 1001)]
    per_second = Counter(int(offset) for offset in offsets)
    assert set(per_second) == set(range(10))
    assert max(per_second.values()) < 140  # about 100 per second, never a stampede


@pytest.mark.parametrize("after_seconds, expected_seconds", [(0, 3.5), (3.5, 13.5), (4, 13.5)])
def test_next_slot_is_strictly_after_on_the_phase(after_seconds, expected_seconds):
    base = START.replace(second=0)
    after = base + timedelta(seconds=after_seconds)
    slot = next_slot(after, 10, 3.5)
    assert slot - base == timedelta(seconds=expected_seconds)


def test_it_claims_only_what_is_due_and_moves_it_forward(clock, make_probe, make_component):
    due = make_probe(interval_seconds=30)
    later = make_probe(make_component("gateway"), interval_seconds=30)
    off = make_probe(make_component("dns"), interval_seconds=30, is_enabled=False)
    now = clock.now()
    for probe, at in ((due, now), (later, now + timedelta(seconds=20)), (off, now)):
        ProbeState.objects.create(probe=probe, vantage_point="local", next_run_at=at)

    dispatches = claim_due(now, lookahead_seconds=2, limit=100)
    assert [(d.probe_id, d.queue, d.scheduled_at) for d in dispatches] == [
        (due.pk, "probes.local", now)
    ]
    state = ProbeState.objects.get(probe=due)
    assert now < state.next_run_at <= now + timedelta(seconds=30)
    assert dispatches[0].expires_at == state.next_run_at
    assert claim_due(now, lookahead_seconds=0, limit=100) == []


def test_an_unconfirmed_failure_is_rechecked_at_the_recheck_interval(clock, make_probe):
    probe = make_probe(interval_seconds=300, recheck_seconds=5)
    now = clock.now()
    ProbeState.objects.create(
        probe=probe, vantage_point="local", next_run_at=now, consecutive_failures=1
    )
    (dispatch,) = claim_due(now, 0, 10)
    assert dispatch.expires_at == now + timedelta(seconds=5)


def test_a_run_due_within_the_lookahead_is_claimed_with_its_own_slot(clock, make_probe):
    probe = make_probe(interval_seconds=10)
    soon = clock.now() + timedelta(seconds=1.5)
    ProbeState.objects.create(probe=probe, vantage_point="local", next_run_at=soon)
    (dispatch,) = claim_due(clock.now(), 2, 10)
    assert dispatch.scheduled_at == soon


def test_a_long_stopped_dispatcher_runs_once_now_instead_of_replaying(clock, make_probe):
    probe = make_probe(interval_seconds=10)
    now = clock.now()
    ProbeState.objects.create(
        probe=probe, vantage_point="local", next_run_at=now - timedelta(hours=1)
    )
    (dispatch,) = claim_due(now, 0, 10)
    assert dispatch.scheduled_at == now
    assert claim_due(now, 0, 10) == []


def test_it_sends_each_run_with_its_spec_slot_and_expiry_to_its_vantage_points_queue(
    clock, make_probe
):
    client = redis.Redis.from_url(BROKER)
    client.delete("probes.shanghai", "probes.shenzhen")
    probe = make_probe(vantage_points=["shanghai", "shenzhen"], interval_seconds=60)
    now = clock.now()
    ProbeState.objects.create(probe=probe, vantage_point="shanghai", next_run_at=now)
    ProbeState.objects.create(
        probe=probe, vantage_point="shenzhen", next_run_at=now + timedelta(seconds=1)
    )
    dispatches = claim_due(now, 2, 10)
    with app.connection_for_write(BROKER) as connection:
        send(dispatches, now, broker_connection=connection)
    try:
        for queue, dispatch in zip(("probes.shanghai", "probes.shenzhen"), dispatches, strict=True):
            (raw,) = client.lrange(queue, 0, -1)
            message = json.loads(raw)
            assert message["headers"]["task"] == "monitors.tasks.run_probes"
            # The message lives as long as its last run is worth running.
            assert message["headers"]["expires"].startswith(dispatch.expires_at.isoformat()[:19])
            (vantage_point, runs), _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            (run,) = [Run.from_wire(wire) for wire in runs]
            assert vantage_point == dispatch.vantage_point
            assert (run.probe_id, run.scheduled_at, run.expires_at) == (
                probe.pk,
                dispatch.scheduled_at,
                dispatch.expires_at,
            )
            # The worker needs no database: everything the check needs is in the message.
            assert run.spec == spec_of(probe)
            assert run.spec["config"] == probe.config
    finally:
        client.delete("probes.shanghai", "probes.shenzhen")


def test_runs_of_one_pass_share_a_message_per_vantage_point(
    clock, make_probe, make_component, settings
):
    settings.PROBE_RUNS_PER_MESSAGE = 2
    client = redis.Redis.from_url(BROKER)
    client.delete("probes.shanghai")
    component = make_component("bureau")
    probes = [make_probe(component, name=f"p{i}", vantage_points=["shanghai"]) for i in range(5)]
    now = clock.now()
    for probe in probes:
        ProbeState.objects.create(probe=probe, vantage_point="shanghai", next_run_at=now)
    with app.connection_for_write(BROKER) as connection:
        send(claim_due(now, 2, 10), now, broker_connection=connection)
    try:
        sizes = []
        for raw in client.lrange("probes.shanghai", 0, -1):
            (_vp, runs), _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
            sizes.append(len(runs))
        assert sorted(sizes) == [1, 2, 2]
    finally:
        client.delete("probes.shanghai")


def test_the_dispatcher_sends_runs_under_the_probe_tasks_name():
    from monitors.scheduler import RUN_PROBES
    from monitors.tasks import run_probes

    assert run_probes.name == RUN_PROBES
    assert RUN_PROBES in app.tasks


def test_an_agents_vantage_point_is_never_dispatched_to_a_queue(clock, make_probe):
    make_probe(vantage_points=["local", "edge"], interval_seconds=30)
    token, _ = issue_agent_token("edge")
    sync_states(clock.now())
    clock.shift(60)
    assert [d.vantage_point for d in claim_due(clock.now(), 0, 100)] == ["local"]
    # The state stays, for the stall watch: an agent that never reports falls silent.
    assert ProbeState.objects.filter(vantage_point="edge").exists()
    revoke_agent_token(token)  # no agent any more: back to the workers of probes.edge
    assert [d.vantage_point for d in claim_due(clock.now(), 0, 100)] == ["edge"]
