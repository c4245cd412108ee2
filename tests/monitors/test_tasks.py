import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from monitors.checks import REGISTRY, Outcome
from monitors.models import ProbeResult, ProbeState
from monitors.runner import Run, spec_of
from monitors.tasks import run_probes
from statuspage.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def recorder_in_process():
    """The results a run sends to the recorder are recorded here, in this test's transaction."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def run_probe(probe, vantage_point: str, slot: str) -> bool:
    """What a probe worker does with a dispatched run of `probe`, the recorder included;
    True when a new result was stored."""
    before = ProbeResult.objects.count()
    scheduled_at = datetime.fromisoformat(slot)
    run = Run(probe.pk, scheduled_at, scheduled_at + timedelta(minutes=5), spec_of(probe))
    run_probes.run(vantage_point, [run.to_wire()])
    return ProbeResult.objects.count() > before


class Exploding:
    kind = "explodes"

    @classmethod
    def run(cls, config, timeout, probe=None):
        raise RuntimeError("the check has a bug")


class Hanging:
    kind = "hangs"

    @classmethod
    def run(cls, config, timeout, probe=None):
        time.sleep(30)  # ignores its timeout, as a buggy library call would
        return Outcome(connected=True)


@pytest.fixture
def target():
    class Handler(BaseHTTPRequestHandler):
        status = 200

        def do_GET(self):
            self.send_response(Handler.status)
            self.end_headers()
            self.wfile.write(b'{"code":"0000"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.handler = Handler
    yield server
    server.shutdown()


def test_it_runs_the_check_and_records_its_verdict(clock, make_probe, target):
    url = f"http://127.0.0.1:{target.server_port}/health"
    probe = make_probe(config={"url": url}, conditions=[{"condition": "[STATUS] == 200"}])
    assert run_probe(probe, "local", clock.now().isoformat()) is True
    target.handler.status = 500
    clock.shift(10)
    run_probe(probe, "local", clock.now().isoformat())
    ok, failed = ProbeResult.objects.order_by("checked_at")
    assert (ok.ok, ok.status_code) == (True, 200)
    assert ok.latency_ms is not None
    assert (failed.ok, failed.failed_condition, failed.seen) == (False, "[STATUS] == 200", "500")


def test_an_exception_in_a_check_becomes_an_error_result(clock, make_probe, monkeypatch):
    monkeypatch.setitem(REGISTRY, "explodes", Exploding)
    probe = make_probe(kind="explodes", conditions=[])
    run_probe(probe, "local", clock.now().isoformat())
    result = ProbeResult.objects.get()
    assert (result.ok, result.error) == (False, "RuntimeError: the check has a bug")
    assert ProbeState.objects.get().consecutive_failures == 1


@override_settings(PROBE_DEADLINE_MARGIN_SECONDS=1)
def test_a_check_that_ignores_its_timeout_is_cut_off_at_its_deadline(
    clock, make_probe, monkeypatch
):
    monkeypatch.setitem(REGISTRY, "hangs", Hanging)
    probe = make_probe(kind="hangs", timeout_seconds=0.5)
    started = time.monotonic()
    run_probe(probe, "local", clock.now().isoformat())
    assert time.monotonic() - started < 5
    assert ProbeResult.objects.get().error == "DeadlineExceeded: no answer within 1.5 s"


def test_a_redelivered_run_does_nothing(clock, make_probe, target):
    probe = make_probe(config={"url": f"http://127.0.0.1:{target.server_port}/"})
    slot = clock.now().isoformat()
    assert run_probe(probe, "local", slot) is True
    assert run_probe(probe, "local", slot) is False
    assert ProbeResult.objects.count() == 1


def test_a_disabled_probe_or_an_unknown_vantage_point_is_not_recorded(clock, make_probe):
    probe = make_probe(is_enabled=False)
    assert run_probe(probe, "local", clock.now().isoformat()) is False
    probe.is_enabled = True
    probe.save()
    assert run_probe(probe, "mars", clock.now().isoformat()) is False
    assert not ProbeResult.objects.exists()
