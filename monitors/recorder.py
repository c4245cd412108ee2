"""The recorder: stores probe results in batches, from the probe workers (the `record_results`
task on the `results` queue, `monitors.tasks`) or from a web request (remote agents' uploads).

`record_batch(records)` is one transaction:

1. lock the batch's probe rows, in primary-key order (the first lock of the global order);
   refuse results for probes gone, disabled or not at that vantage point, and drop results run
   from a spec older than the probe's (`monitors.runner.spec_version`: edited since);
2. insert the results with one INSERT … ON CONFLICT DO NOTHING per 500, against the unique
   (probe, vantage point, slot) constraint, and learn from RETURNING which were new: a result
   delivered twice (a worker killed before its ack, an agent re-uploading) counts once;
3. step each vantage point's confirmation state through its new results, in slot order, and
   save the states that moved in one bulk update; add the new results to the rollups in one
   upsert;
4. only when a probe's status across vantage points moved (or it fails without its automatic
   incident), take the component locks: one `public_change` for the whole batch, which sets the
   components' automatic statuses, reconciles the automatic incidents and recomputes once.
   A probe whose status moves twice inside one batch (a long agent upload) has its first move
   published before the second, so that history keeps both.

Batches that change no status skip the component locks and, on PostgreSQL, the wait for the
WAL flush (a crash could lose that commit: one run's worth of history, never a status).
The recorder's message is acknowledged after the commit (acks_late), so a killed recorder
loses nothing either: the batch is delivered again and its results are duplicates.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from monitors import confirmation
from monitors.models import Probe, ProbeResult, ProbeState, VantagePointSilence, update_rows
from monitors.results import (
    RunResult,
    clip,
    lacks_open_incident,
    on_probes_status_changed,
    status_across,
    track_network_problem,
)
from monitors.rollups import RollupEntry, add_many_to_rollups
from monitors.runner import spec_version
from statuspage import status as rules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    """One run to record: which probe, where, what it found, for which slot, when it started,
    and the version of the spec it ran ("" when it ran the probe as stored now)."""

    probe_id: int
    vantage_point: str
    run: RunResult
    scheduled_at: datetime
    checked_at: datetime
    version: str = ""

    @classmethod
    def from_wire(cls, wire: dict) -> RunRecord:
        """From `monitors.runner.result_wire`; KeyError, TypeError or ValueError if malformed."""
        return cls(
            probe_id=int(wire["probe_id"]),
            vantage_point=str(wire["vantage_point"]),
            run=RunResult(**wire["run"]),
            scheduled_at=datetime.fromisoformat(wire["scheduled_at"]),
            checked_at=datetime.fromisoformat(wire["checked_at"]),
            version=str(wire.get("version") or ""),
        )

    @property
    def key(self) -> tuple[int, str, datetime]:
        return (self.probe_id, self.vantage_point, self.scheduled_at)


@dataclass
class BatchOutcome:
    """What became of a batch: stored (accepted), already stored (duplicates), refused (probe
    gone or disabled, or not run at that vantage point), stale (run from an older spec)."""

    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    stale: int = 0
    public_changes: int = 0
    results: list[ProbeResult] = field(default_factory=list)


def record_batch(records: Iterable[RunRecord], now: datetime | None = None) -> BatchOutcome:
    """Record a batch of runs in one transaction (see the module's docstring)."""
    records = list(records)
    now = now or timezone.now()
    outcome = BatchOutcome()
    if not records:
        return outcome
    with transaction.atomic():
        probes = lock_probes({record.probe_id for record in records})
        wanted = []
        for record in records:
            probe = probes.get(record.probe_id)
            if (
                probe is None
                or not probe.is_enabled
                or record.vantage_point not in probe.vantage_points
            ):
                outcome.refused += 1
            elif record.version and record.version != current_version(probe):
                outcome.stale += 1
            else:
                wanted.append(record)
        stored = insert_new(wanted, now)
        outcome.accepted = len(stored)
        outcome.duplicates = len(wanted) - len(stored)
        outcome.results = [result for _, result in stored]
        if stored:
            outcome.public_changes = apply_results(probes, [r for r, _ in stored], now)
    if outcome.refused or outcome.stale:
        log.info("recorder: %s", outcome_text(outcome))
    return outcome


def outcome_text(outcome: BatchOutcome) -> str:
    return (
        f"{outcome.accepted} stored, {outcome.duplicates} duplicates, "
        f"{outcome.refused} refused, {outcome.stale} stale"
    )


def record_result(
    probe: Probe,
    vantage_point: str,
    run: RunResult,
    *,
    now: datetime,
    checked_at: datetime | None = None,
    scheduled_at: datetime | None = None,
) -> ProbeResult | None:
    """Record one run (started at `checked_at`, known at `now`, for the slot `scheduled_at`):
    a batch of one. Return the stored result, or None when that run was already recorded."""
    checked_at = checked_at or now
    record = RunRecord(probe.pk, vantage_point, run, scheduled_at or checked_at, checked_at)
    outcome = record_batch([record], now=now)
    return outcome.results[0] if outcome.results else None


def current_version(probe: Probe) -> str:
    return spec_version(probe.kind, probe.config, probe.conditions, probe.timeout_seconds)


def lock_probes(probe_ids: set[int]) -> dict[int, Probe]:
    """The probes, their rows locked for the rest of the transaction in primary-key order (on
    SQLite the write lock serialises instead). One recorder per probe at a time: the quorum
    read must see the other vantage points' latest state."""
    probes = Probe.objects.filter(pk__in=probe_ids).select_related("component").order_by("pk")
    if connection.features.has_select_for_update:
        probes = probes.select_for_update(of=("self",))
    return {probe.pk: probe for probe in probes}


RESULT_FIELDS = [field for field in ProbeResult._meta.concrete_fields if not field.primary_key]
INSERT_CHUNK = 500


def as_moment(value) -> datetime:
    """A timestamp as a raw cursor returns it (a string on SQLite), aware in UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def insert_new(records: list[RunRecord], now: datetime) -> list[tuple[RunRecord, ProbeResult]]:
    """Insert the records' results unless their run (probe, vantage point, slot) is stored
    already, with INSERT … ON CONFLICT DO NOTHING RETURNING; return the new ones."""
    unique: dict[tuple, RunRecord] = {}
    for record in records:
        unique.setdefault(record.key, record)
    rows = [(record, result_row(record, now)) for record in unique.values()]
    table = connection.ops.quote_name(ProbeResult._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in RESULT_FIELDS)
    row_sql = "(" + ", ".join(["%s"] * len(RESULT_FIELDS)) + ")"
    conflict = ", ".join(
        connection.ops.quote_name(ProbeResult._meta.get_field(name).column)
        for name in ("probe", "vantage_point", "scheduled_at")
    )
    new: list[tuple[RunRecord, ProbeResult]] = []
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[offset : offset + INSERT_CHUNK]
            values = [
                f.get_db_prep_save(getattr(result, f.attname), connection)
                for _, result in chunk
                for f in RESULT_FIELDS
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({conflict}) DO NOTHING "
                "RETURNING id, probe_id, vantage_point, scheduled_at",
                values,
            )
            ids = {(row[1], row[2], as_moment(row[3])): row[0] for row in cursor.fetchall()}
            for record, result in chunk:
                pk = ids.get(record.key)
                if pk is not None:
                    result.pk = pk
                    result._state.adding = False
                    result._state.db = connection.alias
                    new.append((record, result))
    return new


def result_row(record: RunRecord, received_at: datetime) -> ProbeResult:
    run = record.run
    return ProbeResult(
        probe_id=record.probe_id,
        vantage_point=record.vantage_point,
        scheduled_at=record.scheduled_at,
        checked_at=record.checked_at,
        ok=run.ok,
        latency_ms=run.latency_ms,
        status_code=run.status_code,
        failed_condition=run.failed_condition,
        seen=run.seen,
        error=run.error,
        severity=run.severity,
        received_at=received_at,
    )


def apply_results(probes: dict[int, Probe], records: list[RunRecord], now: datetime) -> int:
    """Step the states through the new results, count them in the rollups, and publish the
    status changes; return how many public changes were taken (0 when no status moved)."""
    # Silent vantage points count as unknown in the quorum (one query, and only when a probe
    # of the batch runs from several vantage points).
    several = any(len(probes[r.probe_id].vantage_points) > 1 for r in records)
    silent = VantagePointSilence.objects.silent() if several else frozenset()
    states: dict[int, dict[str, ProbeState]] = {}
    for state in ProbeState.objects.filter(probe_id__in={r.probe_id for r in records}):
        states.setdefault(state.probe_id, {})[state.vantage_point] = state
    status = {
        probe_id: status_across(probes[probe_id], states.get(probe_id, {}).values(), silent)
        for probe_id in {r.probe_id for r in records}
    }
    rollups: list[RollupEntry] = []
    dirty: dict[int, tuple[ProbeState, set[str]]] = {}
    was_down: dict[tuple[int, str], bool] = {}
    moved: dict[int, Probe] = {}
    public_changes = 0

    def publish() -> None:
        nonlocal public_changes
        save_states(dirty)
        for (probe_id, vantage_point), down_before in was_down.items():
            probe, state = probes[probe_id], states[probe_id][vantage_point]
            if status[probe_id] != rules.OPERATIONAL or state.is_down or down_before:
                track_network_problem(probe, state, status[probe_id], state.last_checked_at)
        was_down.clear()
        if moved:
            on_probes_status_changed(list(moved.values()), now)
            public_changes += 1
            moved.clear()

    for record in sorted(records, key=lambda r: r.scheduled_at):
        probe = probes[record.probe_id]
        at = record.checked_at
        per_probe = states.setdefault(probe.pk, {})
        state = per_probe.get(record.vantage_point)
        if state is None:
            state = ProbeState.objects.create(
                probe=probe, vantage_point=record.vantage_point, next_run_at=now, since=at
            )
            per_probe[record.vantage_point] = state
        downtime = downtime_since_last(probe, state, at)
        rollups.append(
            RollupEntry(
                probe.pk, record.vantage_point, at, record.run.ok, record.run.latency_ms, downtime
            )
        )
        if state.last_scheduled_at is not None and record.scheduled_at < state.last_scheduled_at:
            continue  # a late redelivery: counted in history, too old to move the state
        if probe.pk in moved and moves_status(probe, per_probe, record, status[probe.pk], silent):
            publish()  # its second move in this batch: the first one goes out first
        was_down.setdefault((probe.pk, record.vantage_point), state.is_down)
        changed = update_state(probe, state, record.run, at, record.scheduled_at)
        if changed:
            dirty.setdefault(state.pk, (state, set()))[1].update(changed)
        after = status_across(probe, per_probe.values(), silent)
        if after != status[probe.pk]:
            moved[probe.pk] = probe
            status[probe.pk] = after
    add_many_to_rollups(rollups)
    for probe_id, probe_status in status.items():
        if probe_status != rules.OPERATIONAL and probe_id not in moved:
            # Failing without its incident: a maintenance window may just have ended, or a
            # dependency's suspected failure has settled.
            if lacks_open_incident(probes[probe_id]):
                moved[probe_id] = probes[probe_id]
    quiet = not moved and public_changes == 0
    publish()
    if quiet and connection.vendor == "postgresql":
        # Nothing public changed: losing this commit in a database crash would cost these
        # runs' history (the next ones come within an interval), so do not wait for the WAL
        # flush. Commits that change a status keep the full guarantee.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    return public_changes


def moves_status(
    probe: Probe, states: dict, record: RunRecord, status: str, silent: frozenset[str]
) -> bool:
    """Whether `record` would move the probe's status from `status` (tried on a copy)."""
    trial = copy.copy(states[record.vantage_point])
    update_state(probe, trial, record.run, record.checked_at, record.scheduled_at)
    trial_states = {**states, record.vantage_point: trial}.values()
    return status_across(probe, trial_states, silent) != status


def save_states(dirty: dict[int, tuple[ProbeState, set[str]]]) -> None:
    """Only what moved, one bulk update per set of moved columns: a plain success rewrites
    three or four columns, and `next_run_at`, which the dispatcher moves, only when a recheck
    moved it here."""
    groups: dict[frozenset, list[ProbeState]] = {}
    for state, fields in dirty.values():
        groups.setdefault(frozenset(fields), []).append(state)
    for fields, states in groups.items():
        if len(states) == 1:
            states[0].save(update_fields=sorted(fields))
        else:
            update_rows(ProbeState, states, sorted(fields))
    dirty.clear()


def downtime_since_last(probe: Probe, state: ProbeState, now: datetime) -> float:
    """Seconds since this vantage point's previous result, if it was confirmed down then;
    capped so that a gap in probing (the dispatcher stopped) is not all counted as downtime."""
    if not state.is_down or state.last_checked_at is None:
        return 0.0
    gap = (now - state.last_checked_at).total_seconds()
    return max(0.0, min(gap, 2 * max(probe.interval_seconds, probe.recheck_seconds)))


STATE_FIELDS = [
    field.attname
    for field in ProbeState._meta.concrete_fields
    if not field.primary_key and field.attname not in ("probe_id", "vantage_point")
]


def update_state(
    probe: Probe, state: ProbeState, run: RunResult, now: datetime, scheduled_at: datetime
) -> list[str]:
    """Step `state` through one run seen at `now`; return the fields that changed (unsaved)."""
    old = confirmation.Confirmation(
        state.consecutive_failures, state.consecutive_successes, state.is_down
    )
    new = confirmation.step(old, run.ok, probe.failure_threshold, probe.success_threshold)
    stored = {name: getattr(state, name) for name in STATE_FIELDS}
    state.consecutive_failures = new.consecutive_failures
    state.consecutive_successes = new.consecutive_successes
    state.last_scheduled_at = scheduled_at
    state.last_checked_at = now
    state.last_ok = run.ok
    state.last_summary = run.summary
    if run.certificate is not None:
        state.certificate = run.certificate
    if not run.ok:
        if old.consecutive_failures == 0 and not old.is_down:
            state.failing_since = now
            state.severity = ""
        state.severity = confirmation.worse_severity(state.severity, run.severity)
        state.failed_condition = run.failed_condition or clip(run.error, 200)
        state.seen = run.seen
    elif not new.is_down and not new.in_transition:
        state.failing_since = None
        state.severity = ""
    if new.is_down != old.is_down:
        state.since = now
    state.is_down = new.is_down
    if new.in_transition:
        # Recheck soon instead of waiting for the next slot on the normal interval.
        recheck = now + timedelta(seconds=max(1, probe.recheck_seconds))
        state.next_run_at = min(state.next_run_at, recheck)
    return [name for name in STATE_FIELDS if getattr(state, name) != stored[name]]
