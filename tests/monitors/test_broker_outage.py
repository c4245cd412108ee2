"""A probe worker (and the recorder) survive their broker going away: a private redis-server,
stopped for BROKER_OUTAGE_SECONDS (60 by default, as the outage that used to kill the worker)
and started again on the same port, under a real Celery probe worker (with no database) and
recorder. Needs a database the recorder can reach: run with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_NAME (skipped on SQLite: it runs once, in
the PostgreSQL stage). Slow (over a minute): marked integration."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from monitors.models import Probe, ProbeResult
from monitors.scheduler import dispatch_due
from statuspage.celery import app
from statuspage.models import Component
from tests.servers import BackgroundLoop, CeleryWorker, PrivateRedis, wait_for

from .test_worker_integration import NO_DATABASE, Target

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

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


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    previous = app.conf.broker_url
    app.conf.broker_url = server.url()
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


class Dispatcher(BackgroundLoop):
    """The beat's dispatcher in a thread, every 0.5 s; while the broker is down its sends fail
    (those runs are lost, as they would be: the next slots are dispatched once it is back)."""

    def __init__(self, broker_url: str) -> None:
        super().__init__()
        self.broker_url = broker_url
        self.failed_sends = 0

    def loop(self) -> None:
        while not self.stopped.is_set():
            try:
                with app.connection_for_write(self.broker_url) as conn:
                    conn.ensure_connection(max_retries=1)
                    dispatch_due(timezone.now(), broker_connection=conn)
            except Exception:
                self.failed_sends += 1
            self.stopped.wait(0.5)


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
    worker = CeleryWorker(
        private_redis.url(),
        "-Q", "probes.outage", "-P", "threads", "-c", "4", "-l", "INFO",
        name=f"probes.outage-{uuid.uuid4().hex[:6]}",
        log=log_path,
        DATABASE_URL=NO_DATABASE,
    )  # fmt: skip
    recorder_log = tmp_path / "recorder.log"
    recorder = CeleryWorker(
        private_redis.url(), "-Q", "results", "-P", "solo", "-l", "INFO", log=recorder_log
    )
    try:
        with Dispatcher(private_redis.url()):
            wait_for(lambda: ProbeResult.objects.count() >= PROBES, 40, "runs")

            private_redis.stop()
            stopped_at = timezone.now()
            time.sleep(OUTAGE_SECONDS)  # the outage itself: real time, nothing to move
            assert worker.poll() is None, log_path.read_text()[-3000:]
            assert recorder.poll() is None, recorder_log.read_text()[-3000:]
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
        assert recorder.poll() is None, recorder_log.read_text()[-3000:]
        after = ProbeResult.objects.filter(checked_at__gt=stopped_at)
        # No burst: no run was held over the outage and run late, and no slot ran twice.
        late = [r for r in after if r.checked_at - r.scheduled_at > timedelta(seconds=INTERVAL)]
        assert late == []
        per_probe = (timezone.now() - restarted_at).total_seconds() / INTERVAL + 2
        assert after.count() <= PROBES * per_probe
    finally:
        worker.stop()
        recorder.stop()
