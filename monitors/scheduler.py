"""One scheduler: a beat entry calls `dispatch_due` every few seconds; it claims the probe
states that are due (a `next_run_at` column with an index), moves each one's next run forward
and sends one `run_probe` message per claimed state to the vantage point's queue.

A vantage point with a live agent token (`monitors.agent_tokens`) is an agent's: the agent runs
its probes on its own clock and uploads the results, so nothing is sent to its queue, where
no worker would ever take the messages off.

Probes with the same interval do not all fire together: each (probe, vantage point) runs on
its own stable phase within its interval. A message carries `expires` = its successor's time,
so a backlog drops stale runs instead of running them late.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction

from monitors.agent_tokens import agent_vantage_points
from monitors.confirmation import Confirmation
from monitors.models import MINIMUM_INTERVAL_SECONDS, DispatcherState, Probe, ProbeState

# Sent by name: the scheduler does not import the tasks that call it (monitors.tasks names its
# task with this constant).
RUN_PROBE = "monitors.tasks.run_probe"


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
    """One run to send: what, where, for which slot, and until when it is worth running."""

    probe_id: int
    vantage_point: str
    scheduled_at: datetime
    expires_at: datetime

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
            dispatches.append(Dispatch(state.probe_id, state.vantage_point, scheduled, following))
        if states:
            ProbeState.objects.bulk_update(states, ["next_run_at"], batch_size=500)
    return dispatches


def send(dispatches: list[Dispatch], now: datetime, broker_connection=None) -> None:
    """One `run_probe` message per dispatch, to its vantage point's queue; a run due later in
    this beat's lookahead is held by the worker until its slot (eta)."""
    for dispatch in dispatches:
        eta = dispatch.scheduled_at if dispatch.scheduled_at > now else None
        current_app.send_task(
            RUN_PROBE,
            args=[dispatch.probe_id, dispatch.vantage_point, dispatch.scheduled_at.isoformat()],
            queue=dispatch.queue,
            eta=eta,
            expires=dispatch.expires_at,
            connection=broker_connection,
        )


def dispatch_due(now: datetime, broker_connection=None) -> list[Dispatch]:
    """The beat's work: make sure states exist, claim what is due, send it once committed."""
    sync_states(now)
    dispatches = claim_due(
        now, settings.PROBE_DISPATCH_LOOKAHEAD_SECONDS, settings.PROBE_DISPATCH_BATCH
    )
    send(dispatches, now, broker_connection=broker_connection)
    # Once per run, after the sends: the stall watch (monitors.stall) reads it.
    DispatcherState.record_run(now)
    return dispatches
