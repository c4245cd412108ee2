from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitors.checks import REGISTRY
from monitors.checks.heartbeat import HeartbeatCheck, new_heartbeat_token
from monitors.conditions import evaluate
from monitors.models import Probe

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
CONFIG = {"period": "24h", "grace": "1h"}


@pytest.fixture
def probe(make_component):
    with time_machine.travel(START, tick=False):
        return Probe.objects.create(
            component=make_component("bureau-upload"),
            name="nightly-upload",
            kind="heartbeat",
            config=CONFIG,
            heartbeat_token=new_heartbeat_token(),
        )


def run_at(moment: datetime, probe: Probe):
    with time_machine.travel(moment, tick=False):
        return HeartbeatCheck.run(CONFIG, timeout=1, probe=probe)


def ping(probe: Probe, at: datetime, ok: bool = True) -> None:
    Probe.objects.filter(pk=probe.pk).update(last_ping_at=at, last_ping_ok=ok)


def test_it_is_registered_under_its_kind():
    assert REGISTRY["heartbeat"] is HeartbeatCheck


def test_a_new_probe_is_given_time_for_its_first_call(probe):
    outcome = run_at(START + timedelta(hours=25), probe)

    assert outcome.connected
    assert evaluate([], outcome).ok


def test_a_probe_never_called_fails_after_period_and_grace(probe):
    outcome = run_at(START + timedelta(hours=25, seconds=1), probe)

    assert not outcome.connected
    assert outcome.error == "never called (expected every 24h + 1h grace)"
    assert evaluate([], outcome).severity == "major_outage"


def test_a_call_within_the_period_is_fine(probe):
    ping(probe, START + timedelta(hours=1))

    outcome = run_at(START + timedelta(hours=25), probe)

    assert outcome.connected
    assert outcome.details["seconds_since_ping"] == 24 * 3600


def test_a_late_call_fails_once_the_grace_is_used_up(probe):
    ping(probe, START)

    assert run_at(START + timedelta(hours=25), probe).connected
    late = run_at(START + timedelta(hours=25, minutes=1), probe)
    assert not late.connected
    assert late.error == "last call 25h1m ago (expected every 24h + 1h grace)"


def test_a_call_reporting_failure_fails_at_once(probe):
    ping(probe, START + timedelta(hours=2), ok=False)

    outcome = run_at(START + timedelta(hours=2, minutes=5), probe)

    assert not outcome.connected
    assert outcome.error == "the job reported failure 5m ago"
    verdict = evaluate([], outcome)
    assert (verdict.ok, verdict.seen) == (False, "the job reported failure 5m ago")


def test_it_reads_the_latest_call_not_the_row_it_was_given(probe):
    stale = Probe.objects.get(pk=probe.pk)
    ping(probe, START + timedelta(hours=30))

    assert run_at(START + timedelta(hours=31), stale).connected


def test_it_needs_its_probe():
    outcome = HeartbeatCheck.run(CONFIG, timeout=1)

    assert not outcome.connected


def test_tokens_are_long_and_unique():
    tokens = {new_heartbeat_token() for _ in range(100)}

    assert len(tokens) == 100
    assert all(len(token) == 32 for token in tokens)


def test_it_accepts_durations_as_numbers_or_text():
    assert HeartbeatCheck.validate({"period": 3600}) == {"period": 3600.0, "grace": 300.0}
    assert HeartbeatCheck.validate({"period": "1d", "grace": "30m"}) == {
        "period": 86400.0,
        "grace": 1800.0,
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "period: required"),
        ({"period": "soon"}, "period: expected a duration"),
        ({"period": "5s"}, "period: must be at least 10s"),
        ({"period": "1h", "grace": -5}, "grace: expected a positive duration"),
        ({"period": "1h", "cron": "0 2 * * *"}, "cron: unknown setting"),
    ],
)
def test_it_rejects_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        HeartbeatCheck.validate(config)
