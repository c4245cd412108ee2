import threading
from datetime import UTC, datetime, timedelta

import pytest

from monitors.checks import REGISTRY, Outcome
from monitors.runner import ResultSender, Run, run_batch


class Instant:
    kind = "instant"

    @classmethod
    def run(cls, config, timeout, probe=None):
        return Outcome(connected=True, response_time_ms=1.0)


@pytest.fixture
def instant(monkeypatch):
    monkeypatch.setitem(REGISTRY, "instant", Instant)
    return {"kind": "instant", "config": {}, "conditions": [], "timeout": 1, "version": "v1"}


def runs(spec, count, first_id=1, expires_in=60):
    now = datetime.now(UTC)
    return [
        Run(first_id + i, now - timedelta(seconds=1), now + timedelta(seconds=expires_in), spec)
        for i in range(count)
    ]


def test_batches_running_at_once_send_their_results_together(instant, settings):
    settings.PROBE_RESULTS_FLUSH_SECONDS = 0.3
    messages = []
    returned = []

    def publish(results):
        messages.append(results)

    def batch(first_id):
        count = run_batch("sh", runs(instant, 20, first_id), publish)
        mine = [r for m in messages for r in m if first_id <= r["probe_id"] < first_id + 100]
        returned.append((count, len(mine)))  # every result sent before it returned

    threads = [threading.Thread(target=batch, args=(i * 100,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert returned == [(20, 20), (20, 20)]
    results = [result for message in messages for result in message]
    assert sorted(r["probe_id"] for r in results) == sorted(
        [100 + i for i in range(20)] + [200 + i for i in range(20)]
    )
    assert len(messages) < 4  # not a message per result, nor per batch
    assert {r["vantage_point"] for r in results} == {"sh"}
    assert all(r["run"]["ok"] for r in results)


def test_a_batch_returns_only_once_its_results_are_sent(instant, settings):
    settings.PROBE_RESULTS_FLUSH_SECONDS = 0.2
    sent = []
    assert run_batch("sh", runs(instant, 5, 1000), sent.extend) == 5
    assert sorted(r["probe_id"] for r in sent) == list(range(1000, 1005))


def test_runs_past_their_expiry_are_dropped_unrun(instant):
    sent = []
    assert run_batch("sh", runs(instant, 3, 2000, expires_in=-1), sent.extend) == 0
    assert sent == []


def test_a_refused_publish_fails_the_batch(instant, settings):
    settings.PROBE_RESULTS_FLUSH_SECONDS = 0.05

    def broker_down(results):
        raise ConnectionError("broker down")

    sender = ResultSender(broker_down)
    ticket = sender.add({"probe_id": 1})
    with pytest.raises(ConnectionError):
        sender.wait_sent(ticket)
