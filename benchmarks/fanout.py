"""Fan-out benchmark: 10,000 confirmed subscribers and one incident update, through the real
pipeline (the web process commits, the broker carries the task, a Celery worker fans out and
sends), until every email has reached a local aiosmtpd sink.

Compared with a plain smtplib loop sending the same number of messages over one connection to
the same sink in the same run (goal: ratio >= 0.5), and the worker's peak RSS (goal < 200 MB).
Each round runs both; the figures are the medians of the rounds (one round varies by +-0.05 on
a 2-CPU machine, where the sink, the worker and PostgreSQL share the CPUs). The CPU time per
email of the worker and of the plain loop are printed too: steadier than rates.

    .venv/bin/python benchmarks/fanout.py \
        [--subscribers 10000] [--concurrency 4] [--pool threads|prefork] [--rounds 3] \
        [--database-url postgres://postgres@127.0.0.1:5432/sp_fanout_bench] \
        [--broker redis://127.0.0.1:6379/7]

The worker runs a thread pool by default, as `make run` and the README's deployment do: one
process, so its memory is the whole worker's. (A prefork pool of 4 sends about twice as fast but
holds ~100 MB per process.)

The database named is created if missing and its subscription tables are emptied: never point
it at a database you care about.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import smtplib
import statistics
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --- the sink: a separate process, so that it does not share a GIL with either client -------


def run_sink() -> None:
    """aiosmtpd on port 0; prints the port, then for each `expect N` line on stdin prints
    `done <time>` once N more messages have arrived."""
    from aiosmtpd.smtp import SMTP

    state = {"count": 0, "target": None}

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            state["count"] += 1
            if state["target"] is not None and state["count"] >= state["target"]:
                print(f"done {time.time()}", flush=True)
                state["target"] = None
            return "250 OK"

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Counter()), "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            state["count"], state["target"] = 0, int(line.split()[1])

    asyncio.run(main())


class Sink:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())

    def expect(self, count: int) -> None:
        self.process.stdin.write(f"expect {count}\n")
        self.process.stdin.flush()

    def wait_done(self) -> float:
        return float(self.process.stdout.readline().split()[1])

    def close(self) -> None:
        self.process.kill()


# --- the baseline --------------------------------------------------------------------------


def baseline(sink: Sink, count: int) -> tuple[float, float]:
    """A plain smtplib loop over one connection; a text + HTML message of the same shape. Its
    seconds, and the CPU seconds it used."""
    message = EmailMessage()
    message["From"] = "status@localhost"
    message["Subject"] = "[Identified] Credit bureau interface timeouts"
    message.set_content("The credit bureau link is degraded; applications are slower.\n" * 8)
    message.add_alternative("<p>The credit bureau link is degraded.</p>" * 8, subtype="html")
    sink.expect(count)
    started, cpu = time.time(), time.process_time()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for i in range(count):
            del message["To"]
            message["To"] = f"user{i}@example.com"
            smtp.send_message(message)
    cpu = time.process_time() - cpu
    return sink.wait_done() - started, cpu


# --- the pipeline --------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids.extend(process_tree(int(child)))
    except OSError:
        pass
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def prepare_database(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')


def pipeline(sink: Sink, count: int, args) -> tuple[float, dict]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from statuspage import actions
    from statuspage.models import AuditEntry, ComponentStatus, Event, Incident
    from statuspage.subscriptions.models import Delivery, Notification, Subscriber

    call_command("migrate", verbosity=0)
    Delivery.objects.all().delete()
    Notification.objects.all().delete()
    Subscriber.objects.all().delete()
    Incident.objects.filter(title__startswith="[bench]").delete()
    now = timezone.now()
    Subscriber.objects.bulk_create(
        (
            Subscriber(
                email=f"user{i}@example.com",
                address_key=f"user{i}@example.com",
                language="zh-hans" if i % 2 else "en",
                confirmed_at=now,
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    from statuspage.models import Component

    component, _ = Component.objects.get_or_create(
        slug="credit-bureau", defaults={"name": "Credit bureau"}
    )
    incident = actions.open_incident(
        title="[bench] Credit bureau interface timeouts",
        body="Investigating.",
        actor=None,
        via=AuditEntry.Via.SYSTEM,
        notify=False,
        components={component: ComponentStatus.DEGRADED_PERFORMANCE},
    )
    # Nothing earlier is waiting: only the update below is measured.
    Event.objects.filter(fanned_out_at__isnull=True).update(fanned_out_at=now)

    log = Path(os.environ["VAR_DIR"]) / "bench-worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "statuspage",
            "worker",
            "-c",
            str(args.concurrency),
            "-P",
            args.pool,
            "-n",
            "bench@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "--logfile",
            str(log),
        ],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in (log.read_text() if log.exists() else ""):
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not start; see " + str(log))
            time.sleep(0.1)
        sink.expect(count)
        started, cpu = time.time(), cpu_seconds(process_tree(worker.pid))
        actions.post_incident_update(
            incident,
            status="identified",
            body="The credit bureau interface is slow; loan decisions take longer.",
            body_alt="征信接口响应缓慢，贷款审批时间延长。",
            actor=None,
            via=AuditEntry.Via.SYSTEM,
        )
        elapsed = sink.wait_done() - started
        cpu = cpu_seconds(process_tree(worker.pid)) - cpu
        # Let the last sender record its final marks before counting rows.
        deadline = time.monotonic() + 30
        while Delivery.objects.exclude(status="sent").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        tree = process_tree(worker.pid)
        memory = {pid: peak_rss_mb(pid) for pid in tree}
        sent = Delivery.objects.filter(status="sent").count()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    return elapsed, {"memory": memory, "sent": sent, "main": worker.pid, "cpu": cpu}


def main() -> None:
    if "--sink" in sys.argv:
        run_sink()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pool", choices=["prefork", "threads"], default="threads")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/sp_fanout_bench"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    var_dir = ROOT / "var" / "bench-fanout"
    var_dir.mkdir(parents=True, exist_ok=True)
    sink = Sink()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="statuspage.settings",
        VAR_DIR=str(var_dir),
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.broker,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        NOTIFY_PARALLEL_SENDERS=str(args.concurrency),
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    prepare_database(args.database_url)
    import redis

    redis.Redis.from_url(args.broker).flushdb()
    n = args.subscribers
    rounds = []
    try:
        for number in range(1, args.rounds + 1):
            plain, plain_cpu = baseline(sink, n)
            ours, details = pipeline(sink, n, args)
            rounds.append((plain, plain_cpu, ours, details))
            print(
                f"round {number}: plain {n / plain:.0f} msg/s, pipeline {n / ours:.0f} msg/s, "
                f"ratio {plain / ours:.2f}; CPU per email: worker "
                f"{details['cpu'] / n * 1000:.2f} ms, plain loop {plain_cpu / n * 1000:.2f} ms",
                flush=True,
            )
    finally:
        sink.close()
    plain = statistics.median(r[0] for r in rounds)
    plain_cpu = statistics.median(r[1] for r in rounds)
    ours = statistics.median(r[2] for r in rounds)
    worker_cpu = statistics.median(r[3]["cpu"] for r in rounds)
    details = rounds[-1][3]
    main_rss = details["memory"].pop(details["main"], 0.0)
    children = details["memory"].values()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    database = args.database_url.split("://")[0]
    print(f"subscribers: {n}, worker pool: {args.pool} x {args.concurrency}, database: {database}")
    print(f"medians of {len(rounds)} rounds:")
    print(f"plain smtplib loop, one connection: {plain:.2f} s ({n / plain:.0f} msg/s)")
    print(f"pipeline, commit to the last email in the sink: {ours:.2f} s ({n / ours:.0f} msg/s)")
    ratio = statistics.median(r[0] / r[2] for r in rounds)
    print(f"ratio plain/pipeline: {ratio:.2f} (goal >= 0.5)")
    print(
        f"CPU per email: worker {worker_cpu / n * 1000:.2f} ms, "
        f"plain loop {plain_cpu / n * 1000:.2f} ms"
    )
    print(f"deliveries marked sent (last round): {details['sent']} of {n}")
    largest = max(children, default=0.0)
    print(
        f"worker peak RSS (goal < 200 MB): main process {main_rss:.0f} MB, "
        f"largest pool process {largest:.0f} MB, all {main_rss + sum(children):.0f} MB"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
