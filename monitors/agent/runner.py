"""Running the assigned probes on the agent's own clock, with the site's checks and conditions.

Slots are UTC epoch multiples of a probe's interval (of its recheck interval while its recent
runs disagree), so that a run is identified by (probe, vantage point, scheduled_at) on both
sides and a re-upload is recognised as the same run. A thread pool runs the checks; each run
has the probe's timeout, and one that overruns it by DEADLINE_MARGIN_SECONDS is recorded as a
failure by the scheduler (its thread is left to finish, its late answer ignored). A run that
could not even start before its probe's next slot is dropped, as the site's queues drop stale
runs: running it late would report the past as the present.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitors.checks import REGISTRY, Outcome
from monitors.conditions import Verdict, evaluate
from monitors.confirmation import DEFAULT_SEVERITY
from statuspage.text import clean_text

log = logging.getLogger(__name__)

MAX_TIMEOUT_SECONDS = 60.0
DEADLINE_MARGIN_SECONDS = 5.0
MINIMUM_INTERVAL_SECONDS = 1.0
# After a probe's result changes, it runs at its recheck interval until this many runs in a
# row agree: the site's failure and success thresholds (which the agent does not know) then
# confirm the change quickly, as they would for a probe the site schedules itself.
RECHECK_RUNS = 5
# Heartbeat probes are pinged at the site; the agent has nothing to check for them.
AGENT_KINDS = frozenset(REGISTRY) - {"heartbeat"}


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of the assignment, as the site sent it."""

    id: int
    name: str
    kind: str
    config: dict
    conditions: list
    interval_seconds: float
    recheck_seconds: float
    timeout_seconds: float

    @classmethod
    def from_assignment(cls, item: dict) -> ProbeSpec:
        """From one item of the assignment's `probes`; ValueError if it is malformed."""
        try:
            return cls(
                id=int(item["id"]),
                name=str(item.get("name", "")),
                kind=str(item["kind"]),
                config=dict(item.get("config") or {}),
                conditions=list(item.get("conditions") or []),
                interval_seconds=max(MINIMUM_INTERVAL_SECONDS, float(item["interval_seconds"])),
                recheck_seconds=max(
                    MINIMUM_INTERVAL_SECONDS,
                    float(item.get("recheck_seconds") or item["interval_seconds"]),
                ),
                timeout_seconds=min(MAX_TIMEOUT_SECONDS, float(item["timeout_seconds"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed probe in the assignment: {exc!r}") from None


def next_slot(after: float, every: float) -> float:
    """The first epoch multiple of `every` seconds strictly after `after` (to the ms)."""
    return round((math.floor(after / every) + 1) * every, 3)


def latest_slot(at: float, every: float) -> float:
    """The last epoch multiple of `every` seconds at or before `at` (to the ms)."""
    return round(math.floor(at / every) * every, 3)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def clip(text, length: int) -> str:
    text = clean_text("" if text is None else str(text))
    return text if len(text) <= length else text[: length - 1] + "…"


def result_from_check(outcome: Outcome, verdict: Verdict) -> dict:
    """What a run found, as uploaded (the fields and limits of the site's RunResult)."""
    return {
        "ok": bool(verdict.ok),
        "latency_ms": outcome.response_time_ms,
        "status_code": outcome.status_code,
        "failed_condition": clip(verdict.failed_condition or "", 200),
        "seen": clip(verdict.seen if verdict.seen is not None else "", 200),
        "error": clip(outcome.error or "", 300),
        "severity": "" if verdict.ok else (verdict.severity or DEFAULT_SEVERITY),
    }


def result_from_error(error: str) -> dict:
    return {
        "ok": False,
        "latency_ms": None,
        "status_code": None,
        "failed_condition": "",
        "seen": "",
        "error": clip(error, 300),
        "severity": DEFAULT_SEVERITY,
    }


def run_check(spec: ProbeSpec) -> dict:
    """Run the probe's check and conditions; anything that goes wrong is an error result."""
    if spec.kind not in AGENT_KINDS:
        return result_from_error(f"probes of kind {spec.kind!r} cannot run on an agent")
    try:
        outcome = REGISTRY[spec.kind].run(spec.config, spec.timeout_seconds)
        return result_from_check(outcome, evaluate(spec.conditions, outcome))
    except Exception as exc:
        log.warning("probe %s (%s) raised %r", spec.id, spec.name, exc)
        return result_from_error(f"{type(exc).__name__}: {exc}")


@dataclass
class Pace:
    """A probe's recent results, for its pace: its interval, or its recheck interval while a
    change is recent."""

    # A probe starts as up, as its state at the site does: a first run that fails is a change.
    last_ok: bool = True
    streak: int = 0  # runs in a row with last_ok
    changed: bool = False  # the streak began with a change

    def add(self, ok: bool) -> None:
        if ok == self.last_ok:
            self.streak += 1
        else:
            self.changed, self.last_ok, self.streak = True, ok, 1

    @property
    def rechecking(self) -> bool:
        return self.changed and self.streak < RECHECK_RUNS


@dataclass
class Run:
    """A run handed to the pool: its slot, and when its thread started it (None: waiting)."""

    spec: ProbeSpec
    scheduled_at: float
    started_at: float | None = None
    given_up: bool = False


@dataclass
class Scheduler:
    """Decides which probe runs when and hands the runs to a thread pool; `record` receives
    each finished run's result (a dict as uploaded). `tick(now)` does one pass and never
    sleeps, so that tests drive it with their own clock."""

    record: Callable[[dict], None]
    workers: int = 32
    clock: Callable[[], float] = time.time
    check: Callable[[ProbeSpec], dict] = run_check
    probes: dict[int, ProbeSpec] = field(default_factory=dict)
    due_at: dict[int, float] = field(default_factory=dict)
    paces: dict[int, Pace] = field(default_factory=dict)
    running: dict[int, Run] = field(default_factory=dict)
    skipped: int = 0  # slots not run: the previous run still going, or it could not start

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="probe")

    def assign(self, specs: list[ProbeSpec], now: float) -> None:
        """Take a new assignment: new probes start at their next slot, changed ones are
        rescheduled, and those no longer assigned stop (a run under way still reports)."""
        with self.lock:
            wanted = {spec.id: spec for spec in specs}
            for probe_id in set(self.probes) - set(wanted):
                self.probes.pop(probe_id)
                self.due_at.pop(probe_id, None)
                self.paces.pop(probe_id, None)
            for probe_id, spec in wanted.items():
                previous = self.probes.get(probe_id)
                self.probes[probe_id] = spec
                if previous is None or (
                    previous.interval_seconds,
                    previous.recheck_seconds,
                ) != (spec.interval_seconds, spec.recheck_seconds):
                    self.due_at[probe_id] = next_slot(now, spec.interval_seconds)

    def tick(self, now: float | None = None) -> float:
        """Start the runs that are due, give up on those past their deadline; return the
        seconds until the next run is due (at most one)."""
        now = self.clock() if now is None else now
        with self.lock:
            overdue = self._give_up_overdue(now)
            for probe_id, due in list(self.due_at.items()):
                if due <= now:
                    self._start(self.probes[probe_id], due, now)
            upcoming = min(self.due_at.values(), default=now + 1)
        for result in overdue:
            self.record(result)
        return max(0.0, min(1.0, upcoming - now))

    def _pace(self, spec: ProbeSpec) -> float:
        pace = self.paces.get(spec.id)
        return spec.recheck_seconds if pace and pace.rechecking else spec.interval_seconds

    def _start(self, spec: ProbeSpec, due: float, now: float) -> None:
        pace = self._pace(spec)
        # Woken late (a suspended machine, a long pause): run the latest slot, not the missed.
        scheduled = max(due, latest_slot(now, pace))
        self.due_at[spec.id] = next_slot(now, pace)
        if spec.id in self.running:
            self.skipped += 1
            log.warning("probe %s: its run for %s is still going; slot skipped", spec.id, iso(due))
            return
        run = Run(spec, scheduled)
        self.running[spec.id] = run
        self.pool.submit(self._execute, run)

    def _execute(self, run: Run) -> None:
        started = self.clock()
        with self.lock:
            if run.given_up:
                return
            if started - run.scheduled_at > run.spec.interval_seconds:
                # Waited in the pool's queue past its successor's slot: stale.
                self.running.pop(run.spec.id, None)
                self.skipped += 1
                return
            run.started_at = started
        result = self.check(run.spec)
        self._finish(run, started, result)

    def _finish(self, run: Run, started: float, result: dict) -> None:
        with self.lock:
            recorded = self._settle(run, started, result)
        if recorded is not None:
            self.record(recorded)

    def _settle(self, run: Run, started: float, result: dict) -> dict | None:
        """Under the lock: the run is over; its result as recorded, None if given up."""
        if run.given_up:
            return None  # already recorded as overdue, or the agent is stopping
        run.given_up = True
        if self.running.get(run.spec.id) is run:
            del self.running[run.spec.id]
        if run.spec.id in self.due_at:
            self.paces.setdefault(run.spec.id, Pace()).add(result["ok"])
            # The next slot at the pace this result sets (sooner after a change).
            after = max(self.clock(), run.scheduled_at)
            self.due_at[run.spec.id] = next_slot(after, self._pace(run.spec))
        return {
            "probe": run.spec.id,
            "scheduled_at": iso(run.scheduled_at),
            "checked_at": iso(started),
            **result,
        }

    def _give_up_overdue(self, now: float) -> list[dict]:
        given_up = []
        for run in list(self.running.values()):
            deadline = run.spec.timeout_seconds + DEADLINE_MARGIN_SECONDS
            if run.started_at is not None and now - run.started_at > deadline:
                error = result_from_error(f"no answer within {deadline:g} s")
                given_up.append(self._settle(run, run.started_at, error))
        return given_up

    def idle(self) -> bool:
        with self.lock:
            return not self.running

    def shutdown(self) -> None:
        """Start nothing more; runs under way may still report until `abandon()`."""
        with self.lock:
            self.due_at.clear()
            # Those still waiting for a thread will never start: nothing to wait for.
            for probe_id, run in list(self.running.items()):
                if run.started_at is None:
                    run.given_up = True
                    del self.running[probe_id]
        self.pool.shutdown(wait=False, cancel_futures=True)

    def abandon(self) -> None:
        """Ignore whatever the runs still under way report."""
        with self.lock:
            for run in self.running.values():
                run.given_up = True
            self.running.clear()
