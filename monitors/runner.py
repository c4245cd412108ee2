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
  backlog never runs late), and runs the checks on the process's pool of PROBE_THREADS
  threads, each check under its own deadline (`call_with_deadline`).
- Results are sent as they come in, in `record_results` messages of up to
  PROBE_RESULTS_PER_MESSAGE results or PROBE_RESULTS_FLUSH_SECONDS old, to the `results`
  queue, which the recorder consumes.
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
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.db import connections
from django.utils import timezone

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


class DeadlineExceeded(Exception):
    pass


def call_with_deadline(function, deadline_seconds: float):
    """Run `function()` in its own thread and give up waiting after `deadline_seconds`: a
    check stuck in a library call cannot hold the worker's thread forever."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = function()
        except BaseException as exc:  # handed to the caller, who records it
            box["error"] = exc
        finally:
            connections.close_all()  # this thread's own connections, if the check used any

    thread = threading.Thread(target=target, daemon=True, name="probe-run")
    thread.start()
    thread.join(deadline_seconds)
    if thread.is_alive():
        raise DeadlineExceeded(f"no answer within {deadline_seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


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


def execute(spec: dict) -> RunResult:
    """Run a spec's check and conditions; anything that goes wrong is an error result."""
    timeout = min(float(spec["timeout"]), settings.PROBE_MAX_TIMEOUT_SECONDS)
    deadline = timeout + settings.PROBE_DEADLINE_MARGIN_SECONDS
    try:
        from monitors.checks import REGISTRY
        from monitors.conditions import evaluate

        check = REGISTRY[spec["kind"]]
        probe = ping_facts(spec) if spec["kind"] == "heartbeat" else None
        outcome = call_with_deadline(
            lambda: check.run(spec["config"], timeout, probe=probe), deadline
        )
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


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The process's probe threads, shared by every batch it runs at once."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(settings.PROBE_THREADS, thread_name_prefix="probe")
        return _pool


def run_one(run: Run, vantage_point: str) -> dict | None:
    """Run one probe now, unless it expired while waiting for a thread."""
    started = timezone.now()
    if started >= run.expires_at:
        log.info(
            "probe %s at %s for %s expired unrun", run.probe_id, vantage_point, run.scheduled_at
        )
        return None
    return result_wire(run, vantage_point, execute(run.spec), started)


def run_batch(vantage_point: str, runs: list[Run], publish: Callable[[list[dict]], None]) -> int:
    """Run each run at its slot (runs already due at once), hand the results to `publish`
    in groups as they arrive, and return how many results were published. Returns once every
    result is published: only then may the batch's message be acknowledged."""
    waiting = sorted(runs, key=lambda run: run.scheduled_at)
    running: set[Future] = set()
    unsent: list[dict] = []
    oldest_unsent = 0.0
    published = 0
    flush_seconds = settings.PROBE_RESULTS_FLUSH_SECONDS
    while waiting or running or unsent:
        now = time.time()
        while waiting and waiting[0].scheduled_at.timestamp() <= now:
            run = waiting.pop(0)
            if run.expires_at.timestamp() <= now:
                log.info(
                    "probe %s at %s for %s expired", run.probe_id, vantage_point, run.scheduled_at
                )
                continue
            running.add(pool().submit(run_one, run, vantage_point))
        full = len(unsent) >= settings.PROBE_RESULTS_PER_MESSAGE
        if unsent and (full or not (waiting or running) or now - oldest_unsent >= flush_seconds):
            publish(unsent)
            published += len(unsent)
            unsent = []
            continue
        timeouts = [flush_seconds]
        if waiting:
            timeouts.append(waiting[0].scheduled_at.timestamp() - now)
        if unsent:
            timeouts.append(oldest_unsent + flush_seconds - now)
        timeout = max(0.001, min(timeouts))
        if not running:
            time.sleep(timeout)
            continue
        done, running = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            wire = future.result()
            if wire is not None:
                if not unsent:
                    oldest_unsent = time.time()
                unsent.append(wire)
    return published
