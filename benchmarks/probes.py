"""Probe benchmarks, against a real PostgreSQL, a real Redis broker and real Celery workers.

    .venv/bin/python benchmarks/probes.py                 # a to e, 10^4 and 10^7 results
    .venv/bin/python benchmarks/probes.py --only a,c      # some of them
    .venv/bin/python benchmarks/probes.py --big 1000000   # a smaller "large" history for (d)

(a) throughput of HTTP probes through broker, probe worker and recorder (run_probes: the
    check and conditions at the worker; record_results: the result with its rollups and
    confirmation state, in batches) against a local target, as a ratio to a plain `requests`
    loop with the same concurrency in the same run, both laid out alike (--processes N: N
    worker processes and N loop processes, each of concurrency/N threads; one recorder), with
    the CPU time each side spends per run, worker and recorder together (steadier than rates
    on a shared machine);
(b) with 1,000 probes at a 10 s interval, how late the dispatch loop hands runs out;
(c) detection latency of an injected outage, in seconds and in probe intervals;
(d) the time to render a component's 90-day history with 10^4 and 10^7 stored raw results;
(e) --scale-probes probes (5,000) at two vantage points every 30 s, a worker per vantage point
    and one recorder, the dispatch loop in this process: how late runs are handed out, how late
    they run, and whether the recorder's backlog (results waiting on its queue) stays bounded.

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
sp_probes_bench, created if missing and emptied first) and Redis (BENCH_BROKER_URL, default
redis://127.0.0.1:6379/5, flushed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sp_probes_bench"
)
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")
ENV = {
    "DJANGO_SETTINGS_MODULE": "statuspage.settings",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER,
    "VAR_DIR": tempfile.mkdtemp(prefix="probes-bench-"),
    "LOG_LEVEL": "WARNING",
    "AUTO_RESOLVE_QUIET_SECONDS": "0",
}
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))


# --- a local target, in its own process so that it does not share our GIL -------------------


def serve_target(port_out, mode, delay_ms) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            if delay_ms.value:
                time.sleep(delay_ms.value / 1000)
            status = 500 if mode.value == 1 else 200
            body = b'{"code":"0000","data":{"state":"ok"}}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.value = server.server_port
    server.serve_forever()


class Target:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = context.Value("i", 0)
        self.mode = context.Value("i", 0)
        self.delay_ms = context.Value("i", 0)
        self.process = context.Process(
            target=serve_target, args=(self.port, self.mode, self.delay_ms), daemon=True
        )
        self.process.start()
        while not self.port.value:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port.value}/health"

    def stop(self) -> None:
        self.process.terminate()


# --- the database, the broker and the workers --------------------------------------------------


def prepare_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True
    )


def start_worker(queue: str, concurrency: int, index: int = 0) -> subprocess.Popen:
    """A probe worker: `concurrency` probe threads, and no database (it must not need one)."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "statuspage", "worker", "-Q", queue,
         "-P", "threads", "-c", "8", "-n", f"bench-{queue}-{index}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **ENV, "PROBE_THREADS": str(concurrency),
             "DATABASE_URL": "postgres://postgres@127.0.0.1:9/no-database-here"},
        start_new_session=True,
    )  # fmt: skip


def start_recorder() -> subprocess.Popen:
    """The recorder, with RECORDER_THREADS (env, default 1: solo) batches at once."""
    threads = int(os.environ.get("RECORDER_THREADS", "1"))
    pool = ["-P", "solo"] if threads == 1 else ["-P", "threads", "-c", str(threads)]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "statuspage", "worker", "-Q", "results",
         *pool, "-n", "bench-recorder@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        start_new_session=True,
    )  # fmt: skip


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def make_component(slug: str, **fields):
    from statuspage.models import Component

    return Component.objects.create(name=slug.replace("-", " ").title(), slug=slug, **fields)


def make_probe(component, name: str, url: str, vantage_points: list[str], **fields):
    from monitors.models import Probe

    return Probe.objects.create(
        component=component,
        name=name,
        kind="http",
        config={"url": url},
        conditions=[{"condition": "[STATUS] == 200", "severity": "major_outage"}],
        vantage_points=vantage_points,
        **fields,
    )


# --- (a) throughput ----------------------------------------------------------------------------


def plain_requests(url: str, count: int, threads: int, ready, start, done) -> None:
    """One process of the plain loop: `count` GETs on `threads` threads, once told to start."""
    import requests

    requests.get(url, timeout=5)  # imports and first-use costs, outside the timing
    ready.put(True)
    start.wait()
    cpu = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        codes = list(pool.map(lambda _: requests.get(url, timeout=5).status_code, range(count)))
    done.put((all(code == 200 for code in codes), time.process_time() - cpu))


def plain_loop(url: str, count: int, processes: int, concurrency: int) -> tuple[float, float]:
    """Requests per second of a plain `requests` loop laid out as the workers are: `processes`
    processes of concurrency/processes threads, the same number of requests in flight; and
    the CPU seconds it spent per request."""
    context = multiprocessing.get_context("spawn")
    ready, done, start = context.Queue(), context.Queue(), context.Event()
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    children = [
        context.Process(
            target=plain_requests,
            args=(url, share, concurrency // processes, ready, start, done),
            daemon=True,
        )
        for share in shares
    ]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=60)
    started = time.perf_counter()
    start.set()
    results = [done.get(timeout=600) for _ in children]
    elapsed = time.perf_counter() - started
    for child in children:
        child.join(10)
    assert all(ok for ok, _ in results), "the target answered something other than 200"
    return count / elapsed, sum(cpu for _, cpu in results) / count


def cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc)."""
    total = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def bench_throughput(
    target: Target, runs: int, concurrency: int, processes: int, delays: list[int]
) -> None:
    from django.utils import timezone

    from monitors.models import Probe, ProbeResult
    from monitors.scheduler import Dispatch, send
    from statuspage.celery import app

    component = make_component("throughput")
    probes = [
        make_probe(component, f"p{i}", target.url, ["bench"], interval_seconds=3600)
        for i in range(50)
    ]
    workers = [
        start_worker("probes.bench", concurrency // processes, index) for index in range(processes)
    ]
    workers.append(start_recorder())
    try:
        base = timezone.now().replace(microsecond=0) - timedelta(days=1)
        sent = 0
        split = {}

        def through_workers(count: int) -> tuple[float, float]:
            nonlocal sent
            before = ProbeResult.objects.count()
            dispatches = []
            for i in range(count):
                slot = base + timedelta(milliseconds=sent + i)
                probe = probes[i % len(probes)]
                dispatches.append(
                    Dispatch(probe.pk, "bench", slot, timezone.now() + timedelta(hours=1))
                )
            sent += count
            started, cpu = time.perf_counter(), cpu_seconds(workers)
            recorder_cpu = cpu_seconds(workers[-1:])
            with app.connection_for_write(BROKER) as conn:
                send(dispatches, timezone.now(), broker_connection=conn)
            if not wait_until(lambda: ProbeResult.objects.count() >= before + count, 600):
                raise SystemExit("the worker did not record every run within 10 minutes")
            elapsed = time.perf_counter() - started
            split["recorder"] = (cpu_seconds(workers[-1:]) - recorder_cpu) / count
            return count / elapsed, (cpu_seconds(workers) - cpu) / count

        through_workers(100)  # warm-up: connections, imports
        threads = concurrency // processes
        layout = f"{processes} process{'es' if processes > 1 else ''} x {threads} threads"
        for delay in delays:
            target.delay_ms.value = delay
            plain, plain_cpu = plain_loop(target.url, runs, processes, concurrency)
            worker_rate, worker_cpu = through_workers(runs)
            goals = " (goals: ratio >= 0.8, CPU <= 1.5x)" if delay == 0 else ""
            print(
                f"(a) target answering in {delay} ms, {runs} runs, concurrency {concurrency} "
                f"({layout} on both sides, one recorder): worker {worker_rate:.0f} probes/s, "
                f"plain requests {plain:.0f} req/s, ratio {worker_rate / plain:.2f}; "
                f"CPU per run: worker + recorder {worker_cpu * 1000:.2f} ms "
                f"(recorder {split['recorder'] * 1000:.2f} ms), "
                f"plain loop {plain_cpu * 1000:.2f} ms, {worker_cpu / plain_cpu:.2f}x{goals}"
            )
        target.delay_ms.value = 0
    finally:
        for worker in workers:
            stop_worker(worker)
        # Its states are due (the recorder made them): no later benchmark should dispatch them.
        Probe.objects.filter(pk__in=[p.pk for p in probes]).update(is_enabled=False)


# --- (b) lateness --------------------------------------------------------------------------------


def bench_lateness(target: Target, probes_count: int, seconds: int) -> None:
    from django.conf import settings
    from django.utils import timezone

    from monitors import scheduler
    from monitors.models import ProbeState
    from statuspage.celery import app

    components = [make_component(f"late-{i}") for i in range(10)]
    for i in range(probes_count):
        make_probe(components[i % 10], f"p{i}", target.url, ["lateness"], interval_seconds=10)
    tick = settings.PROBE_DISPATCH_SECONDS
    lateness: list[float] = []
    dispatched = 0
    durations = []
    with app.connection_for_write(BROKER) as conn:
        scheduler.dispatch_due(timezone.now(), broker_connection=conn)  # first slots
        end = time.monotonic() + seconds
        next_tick = time.monotonic()
        while time.monotonic() < end:
            next_tick += tick
            time.sleep(max(0, next_tick - time.monotonic()))
            started = time.perf_counter()
            dispatches = scheduler.dispatch_due(timezone.now(), broker_connection=conn)
            handed_out = timezone.now()
            durations.append(time.perf_counter() - started)
            dispatched += len(dispatches)
            for dispatch in dispatches:
                # Held until its slot by the worker when handed out early (eta): not late.
                lateness.append(max(0.0, (handed_out - dispatch.scheduled_at).total_seconds()))
    expected = probes_count * seconds / 10
    print(
        f"(b) {probes_count} probes every 10 s, beat every {tick} s for {seconds} s: "
        f"{dispatched} runs handed out (expected about {expected:.0f}); lateness "
        f"p50 {percentile(lateness, 0.5):.3f} s, p99 {percentile(lateness, 0.99):.3f} s, "
        f"max {max(lateness):.3f} s (goal p99 < 2 s); one dispatch pass takes "
        f"p50 {percentile(durations, 0.5) * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms"
    )
    ProbeState.objects.filter(vantage_point="lateness").delete()
    flush_broker()


# --- (c) detection -------------------------------------------------------------------------------


def bench_detection(target: Target, trials: int) -> None:
    from django.utils import timezone

    from monitors.models import ProbeResult
    from monitors.scheduler import dispatch_due
    from statuspage.celery import app
    from statuspage.models import Component, ComponentStatusChange

    interval, recheck, threshold = 10, 2, 3
    component = make_component("detection")
    probe = make_probe(
        component, "health", target.url, ["detect"], interval_seconds=interval,
        recheck_seconds=recheck, failure_threshold=threshold, timeout_seconds=2,
    )  # fmt: skip
    worker = start_worker("probes.detect", 4)
    stop = threading.Event()

    def beat() -> None:
        from django.db import connections

        with app.connection_for_write(BROKER) as conn:
            while not stop.is_set():
                dispatch_due(timezone.now(), broker_connection=conn)
                stop.wait(2)
        connections.close_all()

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    from_outage, from_first_failure = [], []
    try:
        wait_until(lambda: ProbeResult.objects.filter(probe=probe, ok=True).exists(), 30)
        for _ in range(trials):
            time.sleep(random.uniform(0, interval))  # outages start at any phase
            target.mode.value = 1
            injected = timezone.now()
            if not wait_until(
                lambda: Component.objects.get(pk=component.pk).auto_status != "operational", 60
            ):
                raise SystemExit("the outage was not detected within 60 s")
            change = ComponentStatusChange.objects.filter(
                component=component, at__gte=injected
            ).first()
            first_failed = (
                ProbeResult.objects.filter(probe=probe, ok=False, checked_at__gte=injected)
                .order_by("checked_at")
                .first()
            )
            from_outage.append((change.at - injected).total_seconds())
            from_first_failure.append((change.at - first_failed.checked_at).total_seconds())
            target.mode.value = 0
            wait_until(
                lambda: Component.objects.get(pk=component.pk).auto_status == "operational", 60
            )
    finally:
        stop.set()
        thread.join(10)
        stop_worker(worker)
    goal = threshold * recheck + 2
    print(
        f"(c) interval {interval} s, recheck {recheck} s, failure threshold {threshold}, "
        f"{trials} outages: from the outage's start to the status change "
        f"median {statistics.median(from_outage):.1f} s, max {max(from_outage):.1f} s "
        f"({max(from_outage) / interval:.2f} intervals, the wait for the next slot included); "
        f"from the first failed check median {statistics.median(from_first_failure):.1f} s, "
        f"max {max(from_first_failure):.1f} s (goal <= {threshold} x {recheck} + 2 = {goal} s)"
    )


# --- (d) history rendering -----------------------------------------------------------------------


def seed_rollups(probes, now) -> None:
    from monitors.latency import LATENCY_BUCKETS_MS
    from monitors.models import ProbeRollup
    from monitors.rollups import hour_start
    from statuspage.times import day_start

    rows = []
    rng = random.Random(1)
    for probe in probes:
        for vantage_point in probe.vantage_points:
            for days in range(90):
                histogram = [rng.randint(0, 300) for _ in range(len(LATENCY_BUCKETS_MS) + 1)]
                rows.append(
                    ProbeRollup(
                        probe=probe, vantage_point=vantage_point, period="day",
                        start=day_start(now) - timedelta(days=days), checks=sum(histogram),
                        failures=rng.randint(0, 5), latency_max_ms=12000, histogram=histogram,
                    )
                )  # fmt: skip
                for hour in range(24):
                    rows.append(
                        ProbeRollup(
                            probe=probe, vantage_point=vantage_point, period="hour",
                            start=hour_start(now) - timedelta(days=days, hours=hour),
                            checks=360, failures=0, latency_max_ms=900,
                            histogram=[0, 10, 50, 200, 80, 10, 5, 3, 2, 0, 0, 0, 0, 0],
                        )
                    )  # fmt: skip
    ProbeRollup.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


def insert_results(probe_ids: list[int], start: int, stop: int, total: int) -> None:
    """Raw results number start..stop-1 of `total`, spread over the retention period, with
    one fast INSERT ... SELECT over generate_series."""
    from django.db import connection

    step_us = int(14 * 86400 * 1e6 / total)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO monitors_proberesult
                (probe_id, vantage_point, scheduled_at, checked_at, ok, latency_ms,
                 status_code, failed_condition, seen, error, severity)
            SELECT (%s::bigint[])[1 + g %% %s],
                   CASE WHEN (g / %s) %% 2 = 0 THEN 'sh' ELSE 'sz' END,
                   now() - make_interval(secs => g * %s / 1e6),
                   now() - make_interval(secs => g * %s / 1e6),
                   g %% 97 <> 0, 20 + g %% 400, 200, '', '', '', ''
            FROM generate_series(%s::bigint, %s::bigint) AS g
            """,
            [probe_ids, len(probe_ids), len(probe_ids), step_us, step_us, start, stop - 1],
        )


def bench_history(big: int, budget_seconds: float) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from monitors.models import ProbeResult
    from monitors.rollups import component_uptime, daily_history

    now = timezone.now()
    component = make_component("history")
    filler = make_component("history-filler")
    probes = [make_probe(component, f"h{i}", "http://127.0.0.1:9/", ["sh", "sz"]) for i in range(2)]
    probes += [make_probe(filler, f"f{i}", "http://127.0.0.1:9/", ["sh", "sz"]) for i in range(48)]
    seed_rollups(probes[:2], now)
    probe_ids = [p.pk for p in probes]
    staff = get_user_model().objects.create_user("bench", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)

    def render() -> float:
        timings = []
        for _ in range(15):
            started = time.perf_counter()
            history = daily_history([p.pk for p in probes[:2]], 90, timezone.now())
            component.refresh_from_db()
            uptime = component_uptime(component, 90, timezone.now())
            for probe in probes[:2]:
                response = client.get(f"/console/probes/{probe.pk}/")
                assert response.status_code == 200
            assert len(history) == 90 and uptime.period_seconds > 0
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)

    small = 10_000
    insert_results(probe_ids, 0, small, small)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitors_proberesult")
    small_time = render()
    print(
        f"(d) {small:,} raw results: 90-day history + two probe pages in {small_time * 1000:.1f} ms"
    )

    started = time.monotonic()
    chunk = 1_000_000
    done = small
    while done < big and time.monotonic() - started < budget_seconds:
        upto = min(big, done + chunk)
        insert_results(probe_ids, done, upto, big)
        done = upto
        print(f"    inserted {done:,} rows ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitors_proberesult")
    stored = ProbeResult.objects.count()
    big_time = render()
    print(
        f"(d) {stored:,} raw results: the same in {big_time * 1000:.1f} ms; "
        f"ratio {big_time / small_time:.2f} (goal <= 1.2)"
        + ("" if done >= big else f" [stopped at {done:,} rows: time budget]")
    )


# --- (e) scale: many probes, two vantage points, one recorder ---------------------------------


def queue_length(client, queue: str) -> int:
    return client.llen(queue)


def bench_scale(target: Target, probes_count: int, seconds: int, interval: int) -> None:
    import redis
    from django.conf import settings
    from django.utils import timezone

    from monitors import scheduler
    from monitors.models import Probe, ProbeResult, ProbeState
    from statuspage.celery import app

    vantage_points = ["e1", "e2"]
    components = [make_component(f"scale-{i}") for i in range(50)]
    Probe.objects.bulk_create(
        [
            Probe(
                component=components[i % len(components)], name=f"p{i}", kind="http",
                config={"url": target.url}, conditions=[{"condition": "[STATUS] == 200"}],
                vantage_points=vantage_points, interval_seconds=interval, timeout_seconds=5,
            )
            for i in range(probes_count)
        ],
        batch_size=1000,
    )  # fmt: skip
    client = redis.Redis.from_url(BROKER)
    processes = [start_worker(f"probes.{vp}", 20, index) for index, vp in enumerate(vantage_points)]
    recorder = start_recorder()
    processes.append(recorder)
    tick = settings.PROBE_DISPATCH_SECONDS
    lateness: list[float] = []
    durations: list[float] = []
    backlog: list[tuple[float, int, int]] = []  # (seconds in, results waiting, runs waiting)
    dispatched = 0
    started_at = timezone.now()
    cpu_before = None
    try:
        time.sleep(5)  # the workers start
        cpu_before = cpu_seconds(processes)
        with app.connection_for_write(BROKER) as conn:
            began = time.monotonic()
            end = began + seconds
            next_tick = began
            while time.monotonic() < end:
                started = time.perf_counter()
                dispatches = scheduler.dispatch_due(timezone.now(), broker_connection=conn)
                handed_out = timezone.now()
                durations.append(time.perf_counter() - started)
                dispatched += len(dispatches)
                for dispatch in dispatches:
                    lateness.append(max(0.0, (handed_out - dispatch.scheduled_at).total_seconds()))
                runs_waiting = sum(queue_length(client, f"probes.{vp}") for vp in vantage_points)
                backlog.append(
                    (time.monotonic() - began, queue_length(client, "results"), runs_waiting)
                )
                next_tick += tick
                time.sleep(max(0, next_tick - time.monotonic()))
        cpu_used = cpu_seconds(processes) - cpu_before
        drained_in = None
        drain_start = time.monotonic()
        if wait_until(lambda: queue_length(client, "results") == 0, 120):
            drained_in = time.monotonic() - drain_start
        time.sleep(3)  # the last runs of the last pass
    finally:
        for process in processes:
            stop_worker(process)
    recorded = ProbeResult.objects.filter(checked_at__gte=started_at).count()
    run_lateness = [
        (checked - scheduled).total_seconds()
        for scheduled, checked in ProbeResult.objects.filter(checked_at__gte=started_at)
        .values_list("scheduled_at", "checked_at")
        .iterator()
    ]
    half = len(backlog) // 2
    first_half = max(b[1] for b in backlog[:half]) if half else 0
    second_half = max(b[1] for b in backlog[half:]) if backlog else 0
    expected = probes_count * len(vantage_points) * seconds / interval
    print(
        f"(e) {probes_count} probes x {len(vantage_points)} vantage points every {interval} s "
        f"({probes_count * len(vantage_points) / interval:.0f} runs/s), beat every {tick} s for "
        f"{seconds} s, a worker per vantage point ({cpu_seconds_text(cpu_used, seconds)}), one "
        f"recorder: {dispatched} runs handed out (expected about {expected:.0f}), "
        f"{recorded} recorded; dispatch lateness p50 {percentile(lateness, 0.5):.3f} s, "
        f"p99 {percentile(lateness, 0.99):.3f} s, max {max(lateness):.3f} s (goal p99 < 1 s); "
        f"one dispatch pass p50 {percentile(durations, 0.5) * 1000:.0f} ms, "
        f"max {max(durations) * 1000:.0f} ms; run started after its slot p50 "
        f"{percentile(run_lateness, 0.5):.3f} s, p99 {percentile(run_lateness, 0.99):.3f} s; "
        f"recorder backlog (result messages waiting) max {first_half} in the first half, "
        f"{second_half} in the second, {backlog[-1][1]} at the end, drained in "
        + (f"{drained_in:.1f} s" if drained_in is not None else "more than 120 s [MISS]")
        + f"; probe runs waiting at most {max(b[2] for b in backlog)} messages"
    )
    ProbeState.objects.filter(vantage_point__in=vantage_points).delete()
    flush_broker()


def cpu_seconds_text(cpu: float, seconds: float) -> str:
    return f"workers and recorder used {cpu / seconds:.2f} CPU cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="a,b,c,d,e")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="(a): split the concurrency over this many worker processes, and the plain loop "
        "over as many processes",
    )
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--big", type=int, default=10_000_000)
    parser.add_argument("--scale-probes", type=int, default=5000, help="(e)")
    parser.add_argument("--scale-seconds", type=int, default=120, help="(e)")
    parser.add_argument("--scale-interval", type=int, default=30, help="(e)")
    parser.add_argument("--budget", type=float, default=900, help="seconds for (d)'s inserts")
    args = parser.parse_args()
    only = set(args.only.split(","))

    print("command:", " ".join([".venv/bin/python", "benchmarks/probes.py", *sys.argv[1:]]))
    print(
        f"database {DATABASE_URL}, broker {BROKER}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    target = Target()
    prepare_database()
    flush_broker()
    import django

    django.setup()
    try:
        if "a" in only:
            bench_throughput(
                target, args.runs, args.concurrency, args.processes, delays=[0, 50, 200]
            )
        if "b" in only:
            bench_lateness(target, args.probes, args.seconds)
        if "c" in only:
            bench_detection(target, args.trials)
        if "d" in only:
            bench_history(args.big, args.budget)
        if "e" in only:
            bench_scale(target, args.scale_probes, args.scale_seconds, args.scale_interval)
    finally:
        flush_broker()
        target.stop()


if __name__ == "__main__":
    main()
