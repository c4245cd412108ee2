"""A probe worker survives its broker going away: a private redis-server, stopped for
BROKER_OUTAGE_SECONDS (60 by default, as the outage that used to kill the worker) and started
again on the same port, under a real Celery probe worker. Needs a database the worker can
reach: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_NAME (skipped on SQLite:
it runs once, in the PostgreSQL stage). Slow (over a minute): marked integration."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection, connections
from django.utils import timezone

from monitors.models import Probe, ProbeResult
from monitors.scheduler import dispatch_due
from statuspage.celery import app
from statuspage.models import Component

from .test_worker_integration import Target, database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = float(os.environ.get("BROKER_OUTAGE_SECONDS", "60"))
INTERVAL = 10
PROBES = 20


@pytest.fixture(autouse=True)
def shared_database():
    if connection.vendor == "sqlite":
        # Over a minute of real time about the broker, not the database: it runs once, in
        # the PostgreSQL stage of .ci/run (SQLite's single writer also makes a run written
        # just after the outage look late).
        pytest.skip("runs once, on PostgreSQL: the broker outage does not depend on the database")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, which it may stop and start again on the same port
    (no persistence: what was queued is lost with it, as in a real crash)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: self.answers(client), 10, "redis-server to start")

    @staticmethod
    def answers(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    previous = app.conf.broker_url
    app.conf.broker_url = server.url
    app._pool = None
    yield server
    app.conf.broker_url = previous
    app._pool = None
    server.stop()


@pytest.fixture
def target():
    service = Target()
    yield service
    service.server.shutdown()


class Dispatcher:
    """The beat's dispatcher in a thread, every 0.5 s; while the broker is down its sends fail
    (those runs are lost, as they would be: the next slots are dispatched once it is back)."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self.stopped = threading.Event()
        self.failed_sends = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    with app.connection_for_write(self.broker_url) as conn:
                        conn.ensure_connection(max_retries=1)
                        dispatch_due(timezone.now(), broker_connection=conn)
                except Exception:
                    self.failed_sends += 1
                self.stopped.wait(0.5)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(15)


def start_worker(broker_url: str, queue: str, log_path: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="statuspage.settings",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=broker_url,
    )
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "statuspage", "worker", "-Q", queue]
            + ["-P", "threads", "-c", "4", "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"]
            + ["-l", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_a_probe_worker_survives_its_broker_stopping_and_resumes_without_stale_runs(
    private_redis, target, tmp_path
):
    # Enough probes, and a slow enough target, that the worker always holds runs it has not
    # acknowledged yet (running, or waiting for their slot) when the broker goes away.
    target.mode, target.slow_seconds = "slow", 1.0
    for index in range(PROBES):
        component = Component.objects.create(name=f"C{index}", slug=f"c{index}")
        Probe.objects.create(
            component=component,
            name="health",
            kind="http",
            config={"url": target.url},
            conditions=[{"condition": "[STATUS] == 200"}],
            interval_seconds=INTERVAL,
            timeout_seconds=3,
            vantage_points=["outage"],
        )
    log_path = tmp_path / "worker.log"
    worker = start_worker(private_redis.url, "probes.outage", log_path)
    try:
        with Dispatcher(private_redis.url):
            wait_for(lambda: ProbeResult.objects.count() >= PROBES, 40, "runs")

            private_redis.stop()
            stopped_at = timezone.now()
            time.sleep(OUTAGE_SECONDS)  # the outage itself: real time, nothing to move
            assert worker.poll() is None, log_path.read_text()[-3000:]
            private_redis.start()
            restarted_at = timezone.now()

            wait_for(
                lambda: ProbeResult.objects.filter(checked_at__gt=restarted_at).count() >= PROBES,
                60,
                "probing to resume after the broker came back",
            )
        log = log_path.read_text()
        assert worker.poll() is None, log[-3000:]
        assert "has no attribute 'hostname'" not in log, log[-3000:]
        after = ProbeResult.objects.filter(checked_at__gt=stopped_at)
        # No burst: no run was held over the outage and run late, and no slot ran twice.
        late = [r for r in after if r.checked_at - r.scheduled_at > timedelta(seconds=INTERVAL)]
        assert late == []
        per_probe = (timezone.now() - restarted_at).total_seconds() / INTERVAL + 2
        assert after.count() <= PROBES * per_probe
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(5)
