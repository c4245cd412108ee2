"""Public page benchmark: requests per second and p99 latency for `/` and
`/api/v2/summary.json` with 40 components and a year of history, under gunicorn, as a ratio to
two yardsticks measured in the same run with the same load generator:

- `/baseline`, a minimal view returning a short HTML string, served by the product's own stack
  (its settings and all its middleware; goal: ratio >= 0.8);
- `bare:/bare`, the same view in a bare Django (benchmarks/bare_django.py: only the security
  and common middleware), served by a second gunicorn started with the same command
  (goal: ratio >= 0.9, issue 11: a cached page costs almost nothing). The two servers take
  turns on --port, each round.

    .venv/bin/python benchmarks/public_page.py \
        [--duration 8] [--rounds 3] [--connections 16] [--workers 2] [--port 8731] \
        [--database-url postgres://postgres@127.0.0.1:5432/sp_public_bench] \
        [--cache-url redis://127.0.0.1:6379/12] [--generator wrk|python] \
        [--accept-encoding gzip]

For example, with the project's Redis in front (as deployed):

    .venv/bin/python benchmarks/public_page.py --cache-url redis://127.0.0.1:6379/12

Everything runs under a private VAR_DIR (a temporary directory) on a private port; with no
--database-url the database is SQLite in that directory. The database named is flushed and
filled: never point it at a database you care about. The load generator is wrk, installed
from Debian when missing and the script runs as root. The small Python one (threads,
keep-alive connections) is the fallback: on a 2-CPU machine it takes a CPU from the server
and reads a 10 KB page slower than the server writes it, so its ratios say more about it than
about the server (it measured 0.79 and 0.86 where wrk measured 0.97 and 0.99). Requests say
`Accept-Encoding: gzip` as browsers do (`--accept-encoding ''` measures uncompressed bodies).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("/baseline", "bare:/bare", "/", "/api/v2/summary.json")
# Served by the second server (benchmarks/bare_django.py), on the same port in its turn.
BARE = "bare:"
COMPONENTS = 40
HISTORY_DAYS = 365


@dataclass
class Measurement:
    path: str
    requests_per_second: float
    p99_ms: float
    errors: int
    # CPU time the server spent per request: unlike req/s, barely moved by other processes
    # competing for the machine's CPUs.
    server_cpu_ms: float


# --- the data -----------------------------------------------------------------------------------


def populate() -> None:
    """40 public components in 8 groups with dependencies, tracked for a year: a year of daily
    rollups with a bad day now and then, an incident and a maintenance a week, one open
    incident and one upcoming window, and a probe per component with hourly rollups for the
    last 7 days (what the response-time charts read)."""
    from django.core.management import call_command
    from django.utils import timezone

    from monitors.models import Probe, ProbeRollup
    from statuspage import actions
    from statuspage.models import (
        Component,
        ComponentDay,
        ComponentGroup,
        Incident,
        Maintenance,
        SiteState,
    )

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    now = timezone.now()
    # Tracked for the whole history: a component created "now" shows 89 days of "no data".
    tracked_from = now - timedelta(days=HISTORY_DAYS)
    components = []
    for g in range(8):
        group = ComponentGroup.objects.create(name=f"Group {g}", slug=f"group-{g}", position=g)
        for i in range(COMPONENTS // 8):
            components.append(
                Component.objects.create(
                    name=f"Service {g}.{i}",
                    slug=f"service-{g}-{i}",
                    group=group,
                    position=i,
                    description="A part of the lending platform.",
                    created_at=tracked_from,
                    start_date=tracked_from.date(),
                )
            )
    for index, component in enumerate(components[1:], start=1):
        component.depends_on.set([components[index // 2]])
    days = []
    for component in components:
        for back in range(HISTORY_DAYS):
            # About one day in 13 degraded, one in 60 a major outage, differently per component.
            major = (back * 7 + component.pk) % 60 == 0
            bad = major or (back + component.pk) % 13 == 0
            days.append(
                ComponentDay(
                    component=component,
                    day=(now - timedelta(days=back)).date(),
                    worst_status="major_outage"
                    if major
                    else "partial_outage"
                    if bad
                    else "operational",
                    partial_seconds=900 if bad and not major else 0,
                    major_seconds=1800 if major else 0,
                )
            )
    ComponentDay.objects.bulk_create(days, batch_size=2000)
    for week in range(1, HISTORY_DAYS // 7):
        start = now - timedelta(days=7 * week)
        incident = Incident.objects.create(
            title=f"Slow credit checks, week {week}",
            status="resolved",
            impact="minor",
            started_at=start,
            resolved_at=start + timedelta(hours=1),
            created_at=start,
            updated_at=start + timedelta(hours=1),
        )
        for status in ("investigating", "identified", "resolved"):
            incident.updates.create(
                status=status, body=f"{status.title()}.", display_at=start, created_at=start
            )
        for component in components[week % 30 : week % 30 + 3]:
            incident.affected.create(component=component, status="degraded_performance")
        maintenance = Maintenance.objects.create(
            title=f"Database upgrade, week {week}",
            status="completed",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            created_at=start,
            updated_at=start,
        )
        maintenance.components.set(components[week % 35 : week % 35 + 2])
        maintenance.updates.create(
            status="completed", body="Done.", display_at=start, created_at=start
        )
    hour = now.replace(minute=0, second=0, microsecond=0)
    rollups = []
    for component in components:
        probe = Probe.objects.create(component=component, name="health", kind="http")
        for back in range(7 * 24):
            # A daily rhythm, a slow hour now and then, an hour without measurements.
            if (back + component.pk) % 50 == 0:
                continue
            latency = 120 + 40 * ((back + component.pk) % 24) / 24 + (300 if back % 37 == 0 else 0)
            rollups.append(
                ProbeRollup(
                    probe=probe,
                    vantage_point="local",
                    period=ProbeRollup.Period.HOUR,
                    start=hour - timedelta(hours=back),
                    checks=60,
                    failures=1 if back % 37 == 0 else 0,
                    latency_max_ms=latency * 2,
                    latency_sum_ms=latency * 60,
                    latency_count=60,
                )
            )
    ProbeRollup.objects.bulk_create(rollups, batch_size=2000)
    actions.open_incident(
        title="Credit bureau answers slowly",
        body="We are investigating slow answers from the credit bureau.",
        actor=None,
        via="system",
        components={components[3]: "degraded_performance"},
    )
    actions.schedule_maintenance(
        title="Gateway certificates",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1),
        actor=None,
        via="system",
        components=components[:2],
    )
    SiteState.bump()


def page_size(port: int, path: str, encoding: str) -> int:
    """The body size of `path` as sent (compressed when `encoding` is gzip)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": encoding} if encoding else {})
        return len(connection.getresponse().read())
    finally:
        connection.close()


# --- the server ---------------------------------------------------------------------------------


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    """gunicorn serving the WSGI application of env's DJANGO_SETTINGS_MODULE."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "statuspage.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited at start-up") from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU time of the gunicorn master and its workers so far (Linux /proc)."""
    pids = [master_pid]
    with suppress(OSError):
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
        pids += [int(pid) for pid in children.split()]
    ticks = 0
    for pid in pids:
        with suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# --- load generators ----------------------------------------------------------------------------


def have_wrk() -> bool:
    """Whether wrk is installed, installing Debian's when missing and we may (as root)."""
    if not shutil.which("wrk") and os.geteuid() == 0:
        print("Installing wrk (apt-get install wrk) ...", flush=True)
        subprocess.run(
            "apt-get update -q && apt-get install -y -q wrk",
            shell=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
        )
    return shutil.which("wrk") is not None


def run_wrk(url: str, duration: int, connections: int, headers: dict) -> tuple[float, float, int]:
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", *header_args, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", output).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors:.*?timeout (\d+)", output):
        errors += int(match.group(1))
    return rps, p99, errors


def run_python(
    url: str, duration: int, connections: int, headers: dict
) -> tuple[float, float, int]:
    """Threads, each with one keep-alive connection, requesting for `duration` seconds."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        mine: list[float] = []
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=10)
                continue
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    return len(latencies) / duration, p99, errors[0]


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the three paths")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--cache-url", default="")
    parser.add_argument("--generator", choices=("wrk", "python"), default="wrk")
    parser.add_argument(
        "--accept-encoding",
        default="gzip",
        help="the Accept-Encoding header sent with every request, as browsers do ('' for none)",
    )
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="public-bench-"))
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "benchmarks.public_page_settings",
        "STATIC_SNAPSHOT_DIR": "",
        "LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.cache_url:
        env["CACHE_URL"] = args.cache_url
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    print(f"Filling the database ({connection.vendor}) ...", flush=True)
    started = time.monotonic()
    populate()
    connection.close()
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)

    if args.generator == "wrk" and not have_wrk():
        print("wrk is missing and cannot be installed here (not root): the Python generator")
        print("is used, and the ratios are its limits as much as the server's.", flush=True)
        args.generator = "python"
    generator = run_wrk if args.generator == "wrk" else run_python
    headers = {"Accept-Encoding": args.accept_encoding} if args.accept_encoding else {}
    # The two servers take turns on the one port, each round: the product's, then the bare one.
    servers = {
        "benchmarks.public_page_settings": [p for p in PATHS if not p.startswith(BARE)],
        "benchmarks.bare_django": [p for p in PATHS if p.startswith(BARE)],
    }

    def run(path: str, duration: int) -> tuple[float, float, int]:
        url = f"http://127.0.0.1:{args.port}{path.removeprefix(BARE)}"
        return generator(url, duration, args.connections, headers)

    results: dict[str, list[Measurement]] = {path: [] for path in PATHS}
    page_sizes: dict[str, int] = {}
    try:
        for round_number in range(args.rounds):
            for settings_module, paths in servers.items():
                server_env = {**env, "DJANGO_SETTINGS_MODULE": settings_module}
                server = start_gunicorn(server_env, args.port, args.workers)
                try:
                    if not page_sizes and "/" in paths:
                        page_sizes = {e: page_size(args.port, "/", e) for e in ("", "gzip")}
                    for path in paths:  # warm-up: caches, connections, imports
                        run(path, 2)
                    for path in paths:
                        cpu_before = server_cpu_seconds(server.pid)
                        rps, p99, errors = run(path, args.duration)
                        cpu = server_cpu_seconds(server.pid) - cpu_before
                        cpu_ms = cpu * 1000 / max(rps * args.duration, 1)
                        results[path].append(Measurement(path, rps, p99, errors, cpu_ms))
                        print(
                            f"  round {round_number + 1} {path:24} {rps:9.1f} req/s  "
                            f"p99 {p99:7.1f} ms  server CPU {cpu_ms:.3f} ms/req  errors {errors}",
                            flush=True,
                        )
                finally:
                    server.terminate()
                    server.wait(10)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)

    def median_rps(path: str) -> float:
        return statistics.median(m.requests_per_second for m in results[path])

    def median_p99(path: str) -> float:
        return statistics.median(m.p99_ms for m in results[path])

    def median_cpu(path: str) -> float:
        return statistics.median(m.server_cpu_ms for m in results[path])

    # The two yardsticks, and each one's goal for the pages.
    yardsticks = {"/baseline": 0.8, "bare:/bare": 0.9}
    print()
    print(
        f"gunicorn gthread, {args.workers} workers x 4 threads; {args.generator}, "
        f"{args.connections} keep-alive connections, {args.rounds} x {args.duration} s per path, "
        f"Accept-Encoding: {args.accept_encoding or '(none)'} "
        f"(medians); {COMPONENTS} components, {HISTORY_DAYS} days of history; "
        f"{connection.vendor}; {os.cpu_count()} CPUs"
    )
    print(
        f"{'path':24} {'req/s':>9} {'p99 ms':>8} {'CPU ms/req':>10}  "
        f"{'ratio to /baseline (>= 0.8)':>28}  {'ratio to bare Django (>= 0.9)':>30}"
    )
    failed = False
    for path in PATHS:
        rps, cpu = median_rps(path), median_cpu(path)
        ratios = []
        for yardstick, goal in yardsticks.items():
            ratio = rps / median_rps(yardstick) if median_rps(yardstick) else float("nan")
            cpu_ratio = median_cpu(yardstick) / cpu if cpu else float("nan")
            verdict = ""
            if path not in yardsticks:
                verdict = "ok" if ratio >= goal else "MISSED"
                failed |= verdict == "MISSED"
            ratios.append(f"{ratio:5.2f} (CPU {cpu_ratio:4.2f}) {verdict:6}")
        print(
            f"{path:24} {rps:9.1f} {median_p99(path):8.1f} {cpu:10.3f}  "
            f"{ratios[0]:>28}  {ratios[1]:>30}"
        )
    print("(CPU: the yardstick's server CPU time per request over the path's.)")
    print(f"Size of /: {page_sizes['']:,} bytes, {page_sizes['gzip']:,} bytes gzipped")
    print()
    print("Reproduce: .venv/bin/python " + " ".join(["benchmarks/public_page.py", *sys.argv[1:]]))
    errors = sum(m.errors for ms in results.values() for m in ms)
    if errors:
        print(f"{errors} requests failed")
    sys.exit(1 if failed or errors else 0)


if __name__ == "__main__":
    main()
