import queue
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitors.agent.runner import (
    DEADLINE_MARGIN_SECONDS,
    RECHECK_RUNS,
    ProbeSpec,
    Scheduler,
    latest_slot,
    next_slot,
    run_check,
)

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC).timestamp()  # a multiple of 30 s


def spec(
    probe_id=7, interval=30, recheck=10, timeout=5.0, kind="http", config=None, conditions=None
):
    return ProbeSpec.from_assignment({
        "id": probe_id, "name": "Credit bureau API", "kind": kind,
        "config": config or {"url": "http://127.0.0.1:9/"},
        "conditions": conditions or [{"condition": "[STATUS] == 200"}],
        "interval_seconds": interval, "recheck_seconds": recheck, "timeout_seconds": timeout,
    })  # fmt: skip


class Recorder:
    """The scheduler's `record`: results arrive from the pool's threads."""

    def __init__(self):
        self.results = queue.Queue()

    def __call__(self, result):
        self.results.put(result)

    def next(self):
        return self.results.get(timeout=10)

    def nothing(self):
        with pytest.raises(queue.Empty):
            self.results.get(timeout=0.2)


@pytest.fixture
def scheduler():
    made = []

    def make(check, now=T0):
        recorder = Recorder()
        clock = [now]
        s = Scheduler(recorder, workers=4, clock=lambda: clock[0], check=check)
        s.recorder, s.now = recorder, clock
        made.append(s)
        return s

    yield make
    for s in made:
        s.abandon()
        s.shutdown()


def always(ok=True):
    answer = {"ok": ok, "latency_ms": 1.0, "status_code": 200 if ok else 500,
              "failed_condition": "", "seen": "", "error": "", "severity": ""}  # fmt: skip
    return lambda spec: answer


def run_at(s, moment):
    s.now[0] = moment
    s.tick(moment)


def test_slots_are_utc_epoch_multiples_of_the_interval():
    assert next_slot(T0, 30) == T0 + 30
    assert next_slot(T0 + 0.001, 30) == T0 + 30
    assert next_slot(T0 - 0.5, 30) == T0
    assert latest_slot(T0 + 29.9, 30) == T0
    assert next_slot(T0 + 3, 7) % 7 == 0


def test_a_new_probe_runs_at_its_next_slot_then_every_interval(scheduler):
    s = scheduler(always(True))
    s.assign([spec()], T0 + 3)
    run_at(s, T0 + 29)
    s.recorder.nothing()
    run_at(s, T0 + 30.2)
    first = s.recorder.next()
    assert first["probe"] == 7
    assert first["scheduled_at"] == "2026-12-02T03:00:30+00:00"
    assert first["checked_at"] == "2026-12-02T03:00:30.200000+00:00"
    run_at(s, T0 + 45)
    s.recorder.nothing()
    run_at(s, T0 + 60)
    assert s.recorder.next()["scheduled_at"] == "2026-12-02T03:01:00+00:00"


def test_after_a_change_it_rechecks_until_runs_agree(scheduler):
    answers = iter([True] + [False] * (RECHECK_RUNS + 1))
    s = scheduler(lambda spec: {**always(True)(spec), "ok": next(answers)})
    s.assign([spec(interval=30, recheck=10)], T0 - 1)
    slots = []
    moment = T0
    for _ in range(RECHECK_RUNS + 2):
        moment = s.due_at[7]
        run_at(s, moment)
        slots.append(s.recorder.next()["scheduled_at"][14:19])
    # ok at :00; fails from :30, rechecked every 10 s until RECHECK_RUNS failures agree.
    assert slots == ["00:00", "00:30", "00:40", "00:50", "01:00", "01:10", "01:30"]


def test_a_probe_that_fails_from_its_first_run_is_rechecked(scheduler):
    s = scheduler(always(False))
    s.assign([spec(interval=30, recheck=10)], T0 - 1)
    run_at(s, T0)
    s.recorder.next()
    assert s.due_at[7] == T0 + 10


def test_a_woken_late_scheduler_runs_the_latest_slot_not_the_missed_ones(scheduler):
    s = scheduler(always(True))
    s.assign([spec()], T0 - 1)
    run_at(s, T0 + 95)  # slots :00, :30, :60 and :90 passed while it slept
    assert s.recorder.next()["scheduled_at"] == "2026-12-02T03:01:30+00:00"
    s.recorder.nothing()


def test_a_run_past_its_deadline_is_a_failure_and_its_late_answer_is_ignored(scheduler):
    release = threading.Event()

    def stuck(spec):
        release.wait(10)
        return always(True)(spec)

    s = scheduler(stuck)
    s.assign([spec(timeout=2)], T0 - 1)
    run_at(s, T0)
    while s.running[7].started_at is None:  # the pool's thread picks it up
        threading.Event().wait(0.01)
    run_at(s, T0 + 2 + DEADLINE_MARGIN_SECONDS + 0.1)
    overdue = s.recorder.next()
    assert overdue["ok"] is False
    assert overdue["error"] == "no answer within 7 s"
    assert overdue["scheduled_at"] == "2026-12-02T03:00:00+00:00"
    release.set()
    s.recorder.nothing()


def test_a_slot_is_skipped_while_the_previous_run_is_still_going(scheduler):
    release = threading.Event()
    s = scheduler(lambda spec: release.wait(10) and always(True)(spec))
    s.assign([spec(interval=10, timeout=30)], T0 - 1)
    run_at(s, T0)
    run_at(s, T0 + 10)
    assert s.skipped == 1
    release.set()
    assert s.recorder.next()["scheduled_at"] == "2026-12-02T03:00:00+00:00"
    s.recorder.nothing()


def test_a_probe_taken_out_of_the_assignment_stops_and_a_changed_interval_applies(scheduler):
    s = scheduler(always(True))
    s.assign([spec(7), spec(8, interval=60)], T0 - 1)
    s.assign([spec(8, interval=20)], T0 - 1)
    run_at(s, T0 + 20)
    assert s.recorder.next()["probe"] == 8
    s.recorder.nothing()
    assert set(s.due_at) == {8}


def test_it_runs_the_sites_checks_and_conditions():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503 if self.path == "/down" else 200)
            self.end_headers()
            self.wfile.write(b'{"state": "ok"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        good = run_check(spec(config={"url": base + "/up"}, conditions=[
            {"condition": "[STATUS] == 200"}, {"condition": "[BODY].state == ok"}]))  # fmt: skip
        bad = run_check(spec(config={"url": base + "/down"}, conditions=[
            {"condition": "[STATUS] == 200", "severity": "major_outage"}]))  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert good["ok"] is True and good["status_code"] == 200 and good["latency_ms"] >= 0
    assert bad["ok"] is False
    assert (bad["failed_condition"], bad["seen"], bad["severity"]) == (
        "[STATUS] == 200",
        "503",
        "major_outage",
    )
    refused = run_check(spec(config={"url": "http://127.0.0.1:9/"}))
    assert refused["ok"] is False and refused["error"] == "connection refused"


def test_a_heartbeat_probe_cannot_run_on_an_agent():
    result = run_check(spec(kind="heartbeat", config={"grace": "5m"}))
    assert result["ok"] is False
    assert "cannot run on an agent" in result["error"]


def test_a_malformed_probe_in_the_assignment_is_a_clear_error():
    with pytest.raises(ValueError, match="malformed probe"):
        ProbeSpec.from_assignment({"id": "x", "kind": "http"})
