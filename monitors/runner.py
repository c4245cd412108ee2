"""Running probes at a vantage point, with nothing but the broker: the probe's spec travels in
the message, the result goes back to the recorder (`monitors.recorder`) over the broker.

A probe worker never opens a database connection, so it can sit wherever the broker is
reachable, without database credentials:

    celery -A statuspage worker -Q probes.local -P threads -c 8

Batching, chosen for throughput (benchmarks/probes.py (a)) with the simplest pieces:

- The dispatcher sends one `run_probes` message per vantage point and dispatch pass (up to
  PROBE_RUNS_PER_MESSAGE runs), not one per run: Celery's cost per message (receive, decode,
  the task's machinery, the late ack) is then paid once per pass instead of once per run.
- The task holds each run until its slot, drops a run whose `expires_at` has passed (a
  backlog never runs late), and runs the checks on the process's PROBE_THREADS probe
  threads (`ProbeThreads`), each check under its own deadline.
- Results go to the recorder through the process's one `ResultSender`
  (`monitors.result_sender`): the results of every batch running in the process together, in
  `record_results` messages of up to PROBE_RESULTS_PER_MESSAGE results or
  PROBE_RESULTS_FLUSH_MS old, or at once when nothing more is running, on the `results` queue.
- The run message is acknowledged (acks_late) only once every result is handed to the broker:
  a worker killed mid-batch has its message delivered again, the runs are repeated and the
  recorder drops the results it already has (idempotent per probe, vantage point and slot).

Celery-batches (which buffers single messages inside the consumer and hands them to a task as a
list) was considered and not used: the batches exist already where the work starts (one
dispatch pass, one flush of results), so there is nothing to regroup, and the ack stays
Celery's own late ack of one message.

Time limits are layered: the probe's own timeout (at most PROBE_MAX_TIMEOUT_SECONDS) < the
run's deadline (the timeout + PROBE_DEADLINE_MARGIN_SECONDS, enforced here because Celery's
time limits are not enforced in a thread pool) < the task's soft time limit < its hard limit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone

from monitors.result_sender import ImmediateSender, sender_for
from monitors.results import RunResult

log = logging.getLogger(__name__)


def spec_version(kind: str, config: dict, conditions: list, timeout_seconds: float) -> str:
    """A short digest of what a run checks: a result run from an older spec (the probe was
    edited since it was dispatched) is recognised by the recorder and dropped."""
    canonical = json.dumps(
        [kind, config, conditions, float(timeout_seconds)], sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def spec_of(probe) -> dict:
    """What a worker needs to run `probe` (a `monitors.models.Probe`), as JSON: its check,
    conditions and timeout, the version of those, and for heartbeat probes the last ping as
    the dispatcher read it (the worker cannot read the database; the dispatch lookahead is a
    couple of seconds, well inside any heartbeat's grace)."""
    spec = {
        "kind": probe.kind,
        "config": probe.config,
        "conditions": probe.conditions,
        "timeout": probe.timeout_seconds,
        "version": spec_version(probe.kind, probe.config, probe.conditions, probe.timeout_seconds),
    }
    if probe.kind == "heartbeat":
        spec["ping"] = {
            "last_ping_at": probe.last_ping_at.isoformat() if probe.last_ping_at else None,
            "last_ping_ok": probe.last_ping_ok,
            "created_at": probe.created_at.isoformat(),
        }
    return spec


def ping_facts(spec: dict) -> SimpleNamespace:
    """The heartbeat check's view of its probe, from the spec (pk None: read nothing more)."""
    ping = spec.get("ping") or {}

    def moment(text):
        return datetime.fromisoformat(text) if text else None

    return SimpleNamespace(
        pk=None,
        last_ping_at=moment(ping.get("last_ping_at")),
        last_ping_ok=ping.get("last_ping_ok", True),
        created_at=moment(ping.get("created_at")) or timezone.now(),
    )


def timeout_of(spec: dict) -> float:
    return min(float(spec["timeout"]), settings.PROBE_MAX_TIMEOUT_SECONDS)


def deadline_of(spec: dict) -> float:
    """How long a run of `spec` may take before it is given up (`ProbeThreads`)."""
    return timeout_of(spec) + settings.PROBE_DEADLINE_MARGIN_SECONDS


def execute(spec: dict) -> RunResult:
    """Run a spec's check and conditions, in the caller's thread; anything that goes wrong is
    an error result. The caller enforces the run's deadline (`ProbeThreads`)."""
    try:
        from monitors.checks import REGISTRY
        from monitors.conditions import evaluate

        check = REGISTRY[spec["kind"]]
        probe = ping_facts(spec) if spec["kind"] == "heartbeat" else None
        outcome = check.run(spec["config"], timeout_of(spec), probe=probe)
        verdict = evaluate(spec["conditions"], outcome)
        return RunResult.from_check(outcome, verdict)
    except Exception as exc:
        log.warning("probe %s (%s) raised %r", spec.get("kind"), spec.get("version"), exc)
        return RunResult.from_error(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Run:
    """One run as the dispatcher sends it: probe, slot, until when it is worth running, spec."""

    probe_id: int
    scheduled_at: datetime
    expires_at: datetime
    spec: dict

    def to_wire(self) -> list:
        return [
            self.probe_id,
            self.scheduled_at.isoformat(),
            self.expires_at.isoformat(),
            self.spec,
        ]

    @classmethod
    def from_wire(cls, wire: list) -> Run:
        probe_id, scheduled_at, expires_at, spec = wire
        return cls(
            int(probe_id),
            datetime.fromisoformat(scheduled_at),
            datetime.fromisoformat(expires_at),
            spec,
        )


def result_wire(run: Run, vantage_point: str, result: RunResult, checked_at: datetime) -> dict:
    """A result as it travels to the recorder (`monitors.recorder.RunRecord.from_wire`)."""
    return {
        "probe_id": run.probe_id,
        "vantage_point": vantage_point,
        "scheduled_at": run.scheduled_at.isoformat(),
        "checked_at": checked_at.isoformat(),
        "version": run.spec.get("version", ""),
        "run": asdict(result),
    }


@dataclass(eq=False)
class Job:
    """A run handed to the probe threads, and where its result goes (None: it expired)."""

    run: Run
    vantage_point: str
    report: Callable[[dict | None], None]
    started_at: datetime | None = None
    deadline: float = 0.0  # time.monotonic() past which it is given up


class ProbeThreads:
    """The process's PROBE_THREADS probe threads, shared by every batch it runs at once.

    A thread runs one check at a time, itself. A watchdog gives up on a check still running
    past its deadline (a library call that ignores its timeout): it reports the run as failed,
    starts a new thread in the stuck one's place, and the stuck thread, once its call returns,
    drops its result and ends. Watching each check from a thread started for it, as before,
    cost about a third of the throughput (benchmarks/probes.py (a))."""

    WATCH_SECONDS = 0.1

    def __init__(self, size: int) -> None:
        self.jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.running: dict[int, Job] = {}  # by thread ident
        for _ in range(size):
            self.add_thread()
        threading.Thread(target=self.watch, daemon=True, name="probe-watchdog").start()

    def submit(self, job: Job) -> None:
        self.jobs.put(job)

    def add_thread(self) -> None:
        threading.Thread(target=self.work, daemon=True, name="probe").start()

    def work(self) -> None:
        me = threading.get_ident()
        while True:
            job = self.jobs.get()
            job.started_at = timezone.now()
            if job.started_at >= job.run.expires_at:
                log.info(
                    "probe %s at %s for %s expired unrun",
                    job.run.probe_id,
                    job.vantage_point,
                    job.run.scheduled_at,
                )
                job.report(None)
                continue
            with self.lock:
                job.deadline = time.monotonic() + deadline_of(job.run.spec)
                self.running[me] = job
            result = execute(job.run.spec)
            with self.lock:
                given_up = self.running.pop(me, None) is not job
            if given_up:
                return  # the watchdog reported it and put a new thread in this one's place
            job.report(result_wire(job.run, job.vantage_point, result, job.started_at))

    def watch(self) -> None:
        while True:
            time.sleep(self.WATCH_SECONDS)
            now = time.monotonic()
            with self.lock:
                overdue = [(me, job) for me, job in self.running.items() if job.deadline <= now]
                for me, _ in overdue:
                    del self.running[me]
                    self.add_thread()
            for _, job in overdue:
                seconds = deadline_of(job.run.spec)
                result = RunResult.from_error(f"DeadlineExceeded: no answer within {seconds:g} s")
                job.report(result_wire(job.run, job.vantage_point, result, job.started_at))


_threads: ProbeThreads | None = None
_threads_lock = threading.Lock()


def probe_threads() -> ProbeThreads:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ProbeThreads(settings.PROBE_THREADS)
        return _threads


def run_batch(
    vantage_point: str, runs: list[Run], publish: Callable[[list[dict]], None], eager=False
) -> int:
    """Run each run at its slot (runs already due at once) on the probe threads, hand the
    results to the process's sender for `publish` (or publish each at once when `eager`), and
    return how many there were. Returns once every result is published: only then may the
    batch's message be acknowledged."""
    waiting = sorted(runs, key=lambda run: run.scheduled_at)
    finished: queue.SimpleQueue[dict | None] = queue.SimpleQueue()
    sender = ImmediateSender(publish) if eager else sender_for(publish)
    in_flight = 0
    last_ticket = 0
    results = 0
    while waiting or in_flight:
        now = time.time()
        while waiting and waiting[0].scheduled_at.timestamp() <= now:
            run = waiting.pop(0)
            if run.expires_at.timestamp() <= now:
                log.info(
                    "probe %s at %s for %s expired", run.probe_id, vantage_point, run.scheduled_at
                )
                continue
            sender.expect()
            probe_threads().submit(Job(run, vantage_point, finished.put))
            in_flight += 1
        timeout = 1.0
        if waiting:
            timeout = max(0.001, min(timeout, waiting[0].scheduled_at.timestamp() - now))
        if not in_flight:
            if waiting:
                time.sleep(timeout)
            continue
        try:
            wire = finished.get(timeout=timeout)
        except queue.Empty:
            continue
        in_flight -= 1
        if wire is None:
            sender.forget()
        else:
            last_ticket = sender.add(wire)
            results += 1
    if last_ticket:
        sender.wait_sent(last_ticket)
    return results
