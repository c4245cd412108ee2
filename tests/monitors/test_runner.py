import threading
from datetime import UTC, datetime, timedelta

import pytest

from monitors import runner
from monitors.checks import REGISTRY, Outcome
from monitors.result_sender import ResultSender, sender_for
from monitors.runner import Run, run_batch
from tests.servers import wait_for


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


class Blocking:
    """A check that ignores its timeout until the test lets it go, as a stuck library call."""

    kind = "blocking"
    release = threading.Event()
    threads: list[threading.Thread] = []

    @classmethod
    def run(cls, config, timeout, probe=None):
        cls.threads.append(threading.current_thread())
        cls.release.wait(30)
        return Outcome(connected=True, response_time_ms=1.0)


@pytest.fixture
def blocking(monkeypatch):
    monkeypatch.setitem(REGISTRY, "blocking", Blocking)
    Blocking.release.clear()
    Blocking.threads.clear()
    yield {"kind": "blocking", "config": {}, "conditions": [], "timeout": 1, "version": "v1"}
    Blocking.release.set()


def test_a_check_past_its_deadline_is_reported_and_its_thread_replaced(blocking, instant, settings):
    settings.PROBE_DEADLINE_MARGIN_SECONDS = 0.2
    threads = runner.ProbeThreads(1)
    reported = []
    threads.submit(runner.Job(runs(blocking, 1, 3000)[0], "sh", reported.append))
    # Queued behind the stuck check on the only thread: it runs once the watchdog gives up.
    threads.submit(runner.Job(runs(instant, 1, 3001)[0], "sh", reported.append))
    assert wait_for(lambda: len(reported) == 2, 10)
    failed, done = reported
    assert failed["probe_id"] == 3000 and not failed["run"]["ok"]
    assert failed["run"]["error"] == "DeadlineExceeded: no answer within 1.2 s"
    assert (done["probe_id"], done["run"]["ok"]) == (3001, True)
    Blocking.release.set()  # the stuck call returns at last: its thread drops it and ends
    (stuck_thread,) = Blocking.threads
    stuck_thread.join(10)
    assert not stuck_thread.is_alive()
    assert len(reported) == 2


def test_a_waiting_batch_is_sent_at_once_once_nothing_else_runs(instant, settings):
    settings.PROBE_RESULTS_FLUSH_SECONDS = 60
    sent = []
    batch = threading.Thread(target=run_batch, args=("sh", runs(instant, 5, 5000), sent.extend))
    batch.start()
    batch.join(10)  # not the 60 s of the flush timer
    assert not batch.is_alive()
    assert sorted(r["probe_id"] for r in sent) == list(range(5000, 5005))


def test_a_finished_batch_waits_for_the_runs_still_under_way(blocking, instant, settings):
    settings.PROBE_RESULTS_FLUSH_SECONDS = 60
    settings.PROBE_DEADLINE_MARGIN_SECONDS = 30
    messages = []
    slow = threading.Thread(target=run_batch, args=("sh", runs(blocking, 1, 6000), messages.append))
    slow.start()
    wait_for(lambda: Blocking.threads, 10, "the blocking check to start")
    quick = threading.Thread(target=run_batch, args=("sh", runs(instant, 3, 6100), messages.append))
    quick.start()
    sender = sender_for(messages.append)
    wait_for(lambda: sender.waiting == 1, 10, "the quick batch to wait for its results")
    assert messages == []  # held for the run still under way, to go out with its result
    Blocking.release.set()
    slow.join(10)
    quick.join(10)
    assert not slow.is_alive() and not quick.is_alive()
    assert [sorted(r["probe_id"] for r in m) for m in messages] == [[6000, 6100, 6101, 6102]]
