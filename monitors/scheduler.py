"""One scheduler: a beat entry calls `dispatch_due` every few seconds; it claims the probe
states that are due (a `next_run_at` column with an index), moves each one's next run forward
and sends the claimed runs, each with its probe's spec (`monitors.runner.spec_of`), in
`run_probes` messages to the vantage point's queue (one per pass and vantage point, up to
PROBE_RUNS_PER_MESSAGE runs each): the probe workers need no database.

A vantage point with a live agent token (`monitors.agent_tokens`) is an agent's: the agent runs
its probes on its own clock and uploads the results, so nothing is sent to its queue, where
no worker would ever take the messages off.

Probes with the same interval do not all fire together: each (probe, vantage point) runs on
its own stable phase within its interval. A message carries `expires` = its successor's time,
so a backlog drops stale runs instead of running them late (the worker also drops each run
of a batch whose own expiry passed).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q

from monitors.agent_tokens import agent_vantage_points
from monitors.confirmation import Confirmation
from monitors.models import (
    MINIMUM_INTERVAL_SECONDS,
    DispatcherState,
    Probe,
    ProbeState,
    update_rows,
)
from monitors.runner import Run, spec_of

# Sent by name: the scheduler does not import the tasks that call it (monitors.tasks names its
# task with this constant).
RUN_PROBES = "monitors.tasks.run_probes"


def queue_for(vantage_point: str) -> str:
    return f"probes.{vantage_point}"


def stable_offset(probe_id: int, vantage_point: str, interval_seconds: float) -> float:
    """The phase (seconds into each interval) at which this probe runs at this vantage point:
    the same on every dispatcher and across restarts, spread evenly over the interval."""
    millis = max(1, int(interval_seconds * 1000))
    return (zlib.crc32(f"{probe_id}:{vantage_point}".encode()) % millis) / 1000


def next_slot(after: datetime, interval_seconds: float, offset_seconds: float) -> datetime:
    """The first time strictly after `after` that falls on the probe's phase, to the ms."""
    epoch = after.timestamp()
    k = math.floor((epoch - offset_seconds) / interval_seconds) + 1
    moment = k * interval_seconds + offset_seconds
    return datetime.fromtimestamp(round(moment, 3), tz=UTC)


def effective_interval(probe: Probe) -> float:
    return max(MINIMUM_INTERVAL_SECONDS, probe.interval_seconds)


def next_run_after(probe: Probe, state: ProbeState, scheduled: datetime, now: datetime) -> datetime:
    """When the run after the one scheduled at `scheduled` is due: the recheck interval while a
    failure (or a recovery) is unconfirmed, else the next slot on the probe's phase."""
    confirmation = Confirmation(
        state.consecutive_failures, state.consecutive_successes, state.is_down
    )
    if confirmation.in_transition:
        return max(scheduled, now) + timedelta(seconds=max(1, probe.recheck_seconds))
    interval = effective_interval(probe)
    offset = stable_offset(probe.pk, state.vantage_point, interval)
    return next_slot(max(scheduled, now), interval, offset)


@dataclass(frozen=True)
class Dispatch:
    """One run to send: what, where, for which slot, until when it is worth running, and the
    probe's spec (read by `send` when missing)."""

    probe_id: int
    vantage_point: str
    scheduled_at: datetime
    expires_at: datetime
    spec: dict | None = None

    @property
    def queue(self) -> str:
        return queue_for(self.vantage_point)


def sync_states(now: datetime) -> None:
    """Give every enabled probe a state per vantage point it names (first run on its phase)
    and drop the states of vantage points a probe no longer names."""
    wanted: dict[tuple[int, str], float] = {}
    for probe_id, vantage_points, interval in Probe.objects.filter(is_enabled=True).values_list(
        "id", "vantage_points", "interval_seconds"
    ):
        for vantage_point in vantage_points or []:
            wanted[(probe_id, vantage_point)] = max(MINIMUM_INTERVAL_SECONDS, interval)
    existing = dict(
        ((probe_id, vp), pk)
        for pk, probe_id, vp in ProbeState.objects.values_list("id", "probe_id", "vantage_point")
    )
    missing = [key for key in wanted if key not in existing]
    if missing:
        ProbeState.objects.bulk_create(
            [
                ProbeState(
                    probe_id=probe_id,
                    vantage_point=vp,
                    next_run_at=next_slot(
                        now,
                        wanted[(probe_id, vp)],
                        stable_offset(probe_id, vp, wanted[(probe_id, vp)]),
                    ),
                    since=now,
                )
                for probe_id, vp in missing
            ],
            ignore_conflicts=True,
        )
    enabled_ids = {probe_id for probe_id, _ in wanted}
    stale = [
        pk
        for (probe_id, vp), pk in existing.items()
        if probe_id in enabled_ids and (probe_id, vp) not in wanted
    ]
    if stale:
        ProbeState.objects.filter(pk__in=stale).delete()


# What the probes and states looked like at this process's last sync_states, per database.
_last_synced: dict[str, tuple] = {}


def states_fingerprint() -> tuple:
    """Changes whenever a probe is added, enabled, disabled, deleted or saved, or a state goes:
    two cheap aggregates instead of reading every probe and state on every pass."""
    probes = Probe.objects.aggregate(
        enabled=Count("id", filter=Q(is_enabled=True)), changed=Max("updated_at"), last=Max("id")
    )
    states = ProbeState.objects.aggregate(count=Count("id"), last=Max("id"))
    return (*probes.values(), *states.values())


def sync_states_if_changed(now: datetime) -> None:
    """`sync_states`, unless nothing it reads changed since this process last ran it (with
    5,000 probes at two vantage points, reading them all took a third of each pass)."""
    fingerprint = states_fingerprint()
    if _last_synced.get(connection.alias) == fingerprint:
        return
    sync_states(now)
    after = states_fingerprint()
    # Remembered once committed: a rolled-back transaction (a test's) leaves nothing behind.
    transaction.on_commit(lambda: _last_synced.__setitem__(connection.alias, after))


def claim_due(now: datetime, lookahead_seconds: float, limit: int) -> list[Dispatch]:
    """Claim the states due before `now + lookahead`, move each one's next run forward, and
    return what to send. Concurrent dispatchers never claim the same state: on PostgreSQL
    rows locked by another dispatcher are skipped, on SQLite the write lock serialises."""
    horizon = now + timedelta(seconds=lookahead_seconds)
    dispatches: list[Dispatch] = []
    with transaction.atomic():
        due = (
            ProbeState.objects.filter(next_run_at__lte=horizon, probe__is_enabled=True)
            .exclude(vantage_point__in=agent_vantage_points())
            .select_related("probe")
            .order_by("next_run_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        states = list(due[:limit])
        for state in states:
            scheduled = state.next_run_at
            if scheduled < now - timedelta(seconds=effective_interval(state.probe)):
                # Far behind (the dispatcher was down): run once now rather than replay the gap.
                scheduled = now
            following = next_run_after(state.probe, state, scheduled, now)
            state.next_run_at = following
            dispatches.append(
                Dispatch(
                    state.probe_id, state.vantage_point, scheduled, following, spec_of(state.probe)
                )
            )
        if states:
            update_rows(ProbeState, states, ["next_run_at"])
    return dispatches


def send(dispatches: list[Dispatch], now: datetime, broker_connection=None) -> None:
    """The runs in `run_probes` messages, one per vantage point (and PROBE_RUNS_PER_MESSAGE
    runs), each message expiring with its last run; the worker holds each run until its slot."""
    missing = {d.probe_id for d in dispatches if d.spec is None}
    specs = {probe.pk: spec_of(probe) for probe in Probe.objects.filter(pk__in=missing)}
    by_queue: dict[str, list[Dispatch]] = {}
    for dispatch in dispatches:
        if dispatch.spec is None and dispatch.probe_id not in specs:
            continue  # deleted since it was claimed
        by_queue.setdefault(dispatch.queue, []).append(dispatch)
    size = settings.PROBE_RUNS_PER_MESSAGE
    for queue, queued in by_queue.items():
        for offset in range(0, len(queued), size):
            chunk = queued[offset : offset + size]
            runs = [
                Run(d.probe_id, d.scheduled_at, d.expires_at, d.spec or specs[d.probe_id])
                for d in chunk
            ]
            current_app.send_task(
                RUN_PROBES,
                args=[chunk[0].vantage_point, [run.to_wire() for run in runs]],
                queue=queue,
                expires=max(d.expires_at for d in chunk),
                connection=broker_connection,
            )


def dispatch_due(now: datetime, broker_connection=None) -> list[Dispatch]:
    """The beat's work: make sure states exist, claim what is due, send it once committed."""
    sync_states_if_changed(now)
    dispatches = claim_due(
        now, settings.PROBE_DISPATCH_LOOKAHEAD_SECONDS, settings.PROBE_DISPATCH_BATCH
    )
    send(dispatches, now, broker_connection=broker_connection)
    # Once per run, after the sends: the stall watch (monitors.stall) reads it.
    DispatcherState.record_run(now)
    return dispatches
