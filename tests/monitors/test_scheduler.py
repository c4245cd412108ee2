import json
import os
from collections import Counter
from datetime import timedelta

import pytest
import redis

from monitors.agent_tokens import issue_agent_token, revoke_agent_token
from monitors.models import ProbeState
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


def test_it_sends_each_run_to_its_vantage_points_queue_with_eta_and_expiry(clock, make_probe):
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
        messages = {}
        for queue in ("probes.shanghai", "probes.shenzhen"):
            (raw,) = client.lrange(queue, 0, -1)
            messages[queue] = json.loads(raw)["headers"]
        shanghai, shenzhen = messages["probes.shanghai"], messages["probes.shenzhen"]
        assert shanghai["task"] == "monitors.tasks.run_probe"
        assert shanghai["eta"] is None
        assert shenzhen["eta"].startswith((now + timedelta(seconds=1)).isoformat()[:19])
        for headers, dispatch in zip((shanghai, shenzhen), dispatches, strict=True):
            assert headers["expires"].startswith(dispatch.expires_at.isoformat()[:19])
            assert str(dispatch.scheduled_at.isoformat()) in headers["argsrepr"]
    finally:
        client.delete("probes.shanghai", "probes.shenzhen")


def test_the_dispatcher_sends_runs_under_the_probe_tasks_name():
    from monitors.scheduler import RUN_PROBE
    from monitors.tasks import run_probe

    assert run_probe.name == RUN_PROBE
    assert RUN_PROBE in app.tasks


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
