"""Probe tasks, thin: they re-fetch rows and call one function of the core.

Probe workers wait on the network, so they run a thread pool, one per vantage point:

    celery -A statuspage worker -Q probes.local -P threads -c 20

Time limits are layered: the probe's own timeout (at most PROBE_MAX_TIMEOUT_SECONDS) < the
run's deadline (the timeout + PROBE_DEADLINE_MARGIN_SECONDS, enforced here because Celery's
time limits are not enforced in a thread pool) < the task's soft time limit < its hard limit.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import connections
from django.utils import timezone

from monitors.models import Probe
from monitors.results import RunResult, record_result, settle_automatic_incidents
from monitors.rollups import purge_old_results, purge_old_rollups
from monitors.scheduler import RUN_PROBE, dispatch_due
from monitors.stall import watch_if_due

log = logging.getLogger(__name__)

SOFT_TIME_LIMIT = settings.PROBE_MAX_TIMEOUT_SECONDS + 2 * settings.PROBE_DEADLINE_MARGIN_SECONDS
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 15


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


def execute(probe: Probe) -> RunResult:
    """Run the probe's check and conditions; anything that goes wrong is an error result."""
    timeout = min(probe.timeout_seconds, settings.PROBE_MAX_TIMEOUT_SECONDS)
    deadline = timeout + settings.PROBE_DEADLINE_MARGIN_SECONDS
    try:
        from monitors.checks import REGISTRY
        from monitors.conditions import evaluate

        check = REGISTRY[probe.kind]
        outcome = call_with_deadline(
            lambda: check.run(probe.config, timeout, probe=probe), deadline
        )
        verdict = evaluate(probe.conditions, outcome)
        return RunResult.from_check(outcome, verdict)
    except Exception as exc:
        log.warning("probe %s raised %r", probe, exc)
        return RunResult.from_error(f"{type(exc).__name__}: {exc}")


@shared_task(
    name=RUN_PROBE,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def run_probe(probe_id: int, vantage_point: str, scheduled_at: str) -> bool:
    """Run one probe at this vantage point for the slot `scheduled_at` and record the result.
    Returns False when there was nothing to do (probe gone, disabled, or already recorded)."""
    try:
        probe = Probe.objects.get(pk=probe_id, is_enabled=True)
    except Probe.DoesNotExist:
        return False
    if vantage_point not in probe.vantage_points:
        return False
    started_at = timezone.now()
    run = execute(probe)
    result = record_result(
        probe,
        vantage_point,
        run,
        now=timezone.now(),
        checked_at=started_at,
        scheduled_at=datetime.fromisoformat(scheduled_at),
    )
    return result is not None


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def dispatch_due_probes() -> int:
    """The one probe scheduler (beat runs it every PROBE_DISPATCH_SECONDS)."""
    return len(dispatch_due(timezone.now()))


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def settle_automatic_incidents_task() -> list[str]:
    """Resolve quiet automatic incidents; open those a finished maintenance was hiding."""
    return settle_automatic_incidents(timezone.now())


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def watch_monitoring() -> str | None:
    """Beat, every 10 s: open or close the monitoring stall (web requests watch too, in case
    the beat is what stopped; see monitors.stall)."""
    return watch_if_due(timezone.now(), settings.MONITORING_WATCH_SECONDS)


@shared_task(ignore_result=True, soft_time_limit=1800, time_limit=1900)
def purge_probe_history() -> int:
    """Daily: raw results past RESULT_RETENTION_DAYS, rollups past ROLLUP_RETENTION_DAYS."""
    now = timezone.now()
    return purge_old_results(now) + purge_old_rollups(now)
