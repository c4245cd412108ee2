"""Real probe workers, one per vantage point, and a real recorder, on a real broker (Redis db 5),
against a real local HTTP target. The probe workers get a database address where nothing
listens: they need only the broker. The recorder needs a database it can reach: run with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_monitors (skipped on in-memory SQLite)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from monitors.models import Probe, ProbeResult, ProbeRollup, ProbeState
from monitors.results import settle_automatic_incidents
from monitors.scheduler import Dispatch, dispatch_due, send
from statuspage.celery import app
from statuspage.models import Component, Incident
from tests.servers import BackgroundLoop

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("MONITORS_TEST_BROKER", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 3


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(autouse=True)
def shared_database():
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or name == ":memory:"):
        pytest.skip("worker processes need a database file or server (set DATABASE_URL)")


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    # What this process sends (outbox events, runs) goes to this broker too, never to the
    # project's; nobody consumes the events here and the database is flushed afterwards.
    previous = app.conf.broker_url
    app.conf.broker_url = BROKER
    app._pool = None
    yield client
    app.conf.broker_url = previous
    app._pool = None
    client.flushdb()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


# Where a probe worker would find a database, if it looked: nowhere.
NO_DATABASE = f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere"


@pytest.fixture
def workers(broker):
    """Start a probe worker for a queue (with no database), and the recorder with the first."""
    started: list[subprocess.Popen] = []

    def start(queue: str, database: str | None = None) -> subprocess.Popen:
        if not started and queue != "results":
            start("results", database_url())
        if database is None:
            database = NO_DATABASE
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="statuspage.settings",
            DATABASE_URL=database,
            CELERY_BROKER_URL=BROKER,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            AUTO_RESOLVE_QUIET_SECONDS="2",
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "statuspage",
                "worker",
                "-Q",
                queue,
                "-P",
                "threads",
                "-c",
                "4",
                "-n",
                f"{queue}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group, so a SIGKILL takes all of it
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class Target:
    """A local HTTP service whose answer the test switches: ok, error, or slow."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests = 0
        self.slow_seconds = 4.0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                target.requests += 1
                if target.mode == "slow":
                    time.sleep(target.slow_seconds)
                self.send_response(500 if target.mode == "error" else 200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/health"


@pytest.fixture
def target():
    service = Target()
    yield service
    service.server.shutdown()


class Beat(BackgroundLoop):
    """The dispatch beat, in a thread of the test process, against the test broker."""

    def loop(self) -> None:
        with app.connection_for_write(BROKER) as conn:
            while not self.stopped.is_set():
                dispatch_due(timezone.now(), broker_connection=conn)
                self.stopped.wait(0.5)


def wait_for(predicate, timeout: float, what: str):
    """Wait for the worker processes to do their part (real time: they are not ours to move)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def make_probe(component_slug: str, url: str, vantage_points: list[str], **fields) -> Probe:
    component = Component.objects.create(name=component_slug.title(), slug=component_slug)
    return Probe.objects.create(
        component=component,
        name="health",
        kind="http",
        config={"url": url},
        conditions=[{"condition": "[STATUS] == 200", "severity": "major_outage"}],
        interval_seconds=fields.pop("interval_seconds", 10),
        recheck_seconds=fields.pop("recheck_seconds", 1),
        timeout_seconds=fields.pop("timeout_seconds", 2),
        vantage_points=vantage_points,
        **fields,
    )


@override_settings(AUTO_RESOLVE_QUIET_SECONDS=2)
def test_two_vantage_points_detect_an_outage_and_its_recovery(workers, target):
    probe = make_probe("credit-bureau", target.url, ["sh", "sz"])
    workers("probes.sh")
    workers("probes.sz")
    with Beat():
        wait_for(
            lambda: (
                set(ProbeResult.objects.filter(ok=True).values_list("vantage_point", flat=True))
                == {"sh", "sz"}
            ),
            40,
            "a good result from each vantage point",
        )
        target.mode = "error"
        broke_at = time.monotonic()
        incident = wait_for(
            lambda: Incident.objects.filter(root_cause=probe.component).first(),
            40,
            "the automatic incident",
        )
        detected_in = time.monotonic() - broke_at
        assert Component.objects.get(pk=probe.component_id).status == "major_outage"
        assert incident.impact == "critical"
        target.mode = "ok"
        wait_for(
            lambda: Incident.objects.get(pk=incident.pk).status == "monitoring",
            40,
            "the recovery update",
        )
    time.sleep(2.1)  # the quiet period, in real time like everything the workers did
    assert settle_automatic_incidents(timezone.now()) == ["resolved credit-bureau"]
    assert Incident.objects.count() == 1
    assert set(ProbeResult.objects.filter(ok=False).values_list("vantage_point", flat=True)) == {
        "sh",
        "sz",
    }
    # Detection: the next slot (<= one interval) + failure threshold x recheck + slack.
    assert detected_in < probe.interval_seconds + 3 * probe.recheck_seconds + 5


def assert_a_redelivery_changes_nothing(run: Dispatch, probe: Probe, target, requests: int):
    """Send `run` once more: it runs (the target's `requests`-th request), and the recorder
    recognises its result and drops it: one good result for the slot, counted once."""
    with app.connection_for_write(BROKER) as conn:
        send([run], timezone.now(), broker_connection=conn)
    wait_for(lambda: target.requests >= requests, 90, "the duplicate to run")
    time.sleep(1)  # for the recorder to have had the duplicate: nothing to wait on
    result = ProbeResult.objects.get()
    assert (result.scheduled_at, result.ok) == (run.scheduled_at, True)
    assert ProbeRollup.objects.get(period="hour").checks == 1
    assert ProbeState.objects.get(probe=probe).last_ok is True


def test_a_worker_killed_mid_probe_loses_no_result_and_double_counts_none(workers, target):
    probe = make_probe(
        "disbursement", target.url, ["kill"], interval_seconds=300, timeout_seconds=8
    )
    target.mode = "slow"
    slot = timezone.now().replace(microsecond=0)
    run = Dispatch(probe.pk, "kill", slot, slot + timedelta(seconds=300))
    first = workers("probes.kill")
    with app.connection_for_write(BROKER) as conn:
        send([run], timezone.now(), broker_connection=conn)
    wait_for(lambda: target.requests >= 1, 90, "the probe to reach the target")
    os.killpg(first.pid, signal.SIGKILL)  # mid-probe: the target has not answered yet
    first.wait(10)
    assert not ProbeResult.objects.exists()

    target.mode = "ok"
    time.sleep(VISIBILITY_TIMEOUT + 1)  # until the broker considers the run abandoned
    workers("probes.kill")
    wait_for(lambda: ProbeResult.objects.exists(), 90, "the redelivered run's result")

    # The same run delivered once more (a second redelivery) is recognised and dropped.
    assert_a_redelivery_changes_nothing(run, probe, target, requests=3)


def test_a_probe_worker_with_no_database_probes_and_the_recorder_records(workers, target):
    probe = make_probe("bureau", target.url, ["far"], interval_seconds=300)
    slot = timezone.now().replace(microsecond=0)
    worker = workers("probes.far")  # DATABASE_URL points where nothing listens
    with app.connection_for_write(BROKER) as conn:
        send([Dispatch(probe.pk, "far", slot, slot + timedelta(seconds=300))], timezone.now(), conn)
    result = wait_for(lambda: ProbeResult.objects.filter(probe=probe).first(), 60, "the result")
    assert (result.vantage_point, result.scheduled_at, result.ok) == ("far", slot, True)
    assert target.requests == 1
    assert worker.poll() is None
    assert ProbeState.objects.get(probe=probe, vantage_point="far").last_ok is True


def test_a_recorder_killed_mid_batch_loses_no_result_and_double_counts_none(workers, target):
    if connection.vendor != "postgresql":
        pytest.skip("runs once, on PostgreSQL: it holds the recorder with a table lock")
    import psycopg

    probe = make_probe("ledger", target.url, ["rk"], interval_seconds=300)
    slot = timezone.now().replace(microsecond=0)
    run = Dispatch(probe.pk, "rk", slot, slot + timedelta(seconds=300))
    # Another session holds the results table: the recorder's batch waits inside its
    # transaction, with its message taken and not yet acknowledged.
    blocker = psycopg.connect(database_url())
    blocker.execute("LOCK TABLE monitors_proberesult IN EXCLUSIVE MODE")
    try:
        recorder = workers("results", database_url())
        workers("probes.rk")
        with app.connection_for_write(BROKER) as conn:
            send([run], timezone.now(), broker_connection=conn)
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%%monitors_proberesult%%' AND datname = current_database()"
        )

        def recorder_waits() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(waiting)
                return cursor.fetchone()[0] > 0

        wait_for(recorder_waits, 60, "the recorder to wait on the results table")
        os.killpg(recorder.pid, signal.SIGKILL)  # mid-batch: nothing committed, nothing acked
        recorder.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
    assert not ProbeResult.objects.exists()

    time.sleep(VISIBILITY_TIMEOUT + 1)  # until the broker considers the batch abandoned
    workers("results", database_url())
    wait_for(lambda: ProbeResult.objects.exists(), 90, "the redelivered batch's result")
    # The same run once more (a probe worker's redelivery) is recognised and dropped.
    assert_a_redelivery_changes_nothing(run, probe, target, requests=2)
