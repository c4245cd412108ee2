"""Probe tasks, thin: they re-fetch rows (or take the message's spec) and call one function.

Probe workers need only the broker (`monitors.runner`), one per vantage point:

    celery -A statuspage worker -Q probes.local -P threads -c 8

and the recorder writes what they found (`monitors.recorder`), next to the database:

    celery -A statuspage worker -Q results -P solo -n recorder@%h
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from monitors.recorder import RunRecord, outcome_text, record_batch
from monitors.results import settle_automatic_incidents
from monitors.rollups import purge_old_results, purge_old_rollups
from monitors.runner import Run, run_batch
from monitors.scheduler import RUN_PROBES, dispatch_due
from monitors.stall import watch_if_due

log = logging.getLogger(__name__)

# A batch lasts until its last slot (the dispatch lookahead) plus one run's deadline, longer
# when the process's probe threads are all busy (its runs then expire rather than run late).
# Celery does not enforce time limits in a thread pool: the run deadlines are what hold.
SOFT_TIME_LIMIT = (
    settings.PROBE_DISPATCH_LOOKAHEAD_SECONDS
    + settings.PROBE_MAX_TIMEOUT_SECONDS
    + 2 * settings.PROBE_DEADLINE_MARGIN_SECONDS
)
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 15


@shared_task(
    bind=True,
    name=RUN_PROBES,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def run_probes(self, vantage_point: str, runs: list) -> int:
    """Run a dispatch pass's runs at this vantage point, each at its slot, and send the
    results to the recorder; return how many were sent. No database: the specs are in the
    message. Acknowledged (late) once every result is with the broker."""
    runs = [Run.from_wire(run) for run in runs]
    eager = self.request.is_eager or self.app.conf.task_always_eager
    return run_batch(vantage_point, runs, send_results, eager=eager)


def send_results(results: list[dict]) -> None:
    record_results.apply_async(args=[results])  # routed to the `results` queue


@shared_task(
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The database away (restarting, failing over): try again, the message kept meanwhile.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=None,
    soft_time_limit=120,
    time_limit=150,
)
def record_results(results: list[dict]) -> str:
    """The recorder: one batch of results from the probe workers, one transaction."""
    records = []
    for wire in results:
        try:
            records.append(RunRecord.from_wire(wire))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("recorder: dropping a malformed result (%r): %r", exc, wire)
    return outcome_text(record_batch(records, now=timezone.now()))


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
