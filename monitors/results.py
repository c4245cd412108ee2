"""Recording one probe run: the raw result, the rollups, the confirmation state, the probe's
status across vantage points, the component's automatic status, the recomputed public
statuses and the automatic incidents, all in one transaction.

Idempotent per (probe, vantage point, scheduled time): a redelivered run (a worker killed
mid-probe, acks_late) hits the unique constraint on `ProbeResult` and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from monitors import confirmation
from monitors.automatic import reconcile_automatic_incidents
from monitors.models import (
    FiringAlert,
    Probe,
    ProbeResult,
    ProbeState,
    VantagePointProblem,
    VantagePointSilence,
)
from monitors.rollups import add_to_rollups
from statuspage import status as rules
from statuspage.changes import public_change
from statuspage.models import Component, Incident, Origin
from statuspage.text import clip
from statuspage.times import moment

try:
    from statuspage.subscriptions.staff import alert_staff
except ImportError:  # notifications not installed yet: the console still shows the problem
    alert_staff = None

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What one run found, reduced to what is stored."""

    ok: bool
    latency_ms: float | None = None
    status_code: int | None = None
    failed_condition: str = ""
    seen: str = ""
    error: str = ""
    severity: str = ""
    certificate: dict | None = None  # what a TLS check read; see ProbeState.certificate

    @classmethod
    def from_check(cls, outcome, verdict) -> RunResult:
        """From a check's Outcome and the conditions' Verdict (monitors.checks, .conditions)."""
        return cls(
            certificate=certificate_facts(outcome.details),
            ok=bool(verdict.ok),
            latency_ms=outcome.response_time_ms,
            status_code=outcome.status_code,
            failed_condition=clip(verdict.failed_condition or "", 200),
            seen=clip(verdict.seen if verdict.seen is not None else "", 200),
            error=clip(outcome.error or "", 300),
            severity="" if verdict.ok else (verdict.severity or confirmation.DEFAULT_SEVERITY),
        )

    @classmethod
    def from_error(cls, error: str, latency_ms: float | None = None) -> RunResult:
        """A run that could not complete (the check raised, or overran its deadline)."""
        return cls(
            ok=False,
            latency_ms=latency_ms,
            error=clip(error, 300),
            severity=confirmation.DEFAULT_SEVERITY,
        )

    @property
    def summary(self) -> str:
        if self.ok:
            return f"ok in {self.latency_ms:.0f} ms" if self.latency_ms is not None else "ok"
        if self.failed_condition:
            return clip(f"{self.failed_condition} failed (seen: {self.seen})", 300)
        return clip(self.error or "failed", 300)


CERTIFICATE_KEYS = (
    "subject",
    "issuer",
    "not_after",
    "days_left",
    "chain_ok",
    "hostname_ok",
    "not_verified_because",
)


def certificate_facts(details: dict | None) -> dict | None:
    """The certificate a TLS check read, as the console shows it; None for other kinds."""
    if not details or "not_after" not in details:
        return None
    return {key: details[key] for key in CERTIFICATE_KEYS if key in details}


def lock_probe(probe_id: int) -> bool:
    """Take the probe's row lock for the rest of the transaction; False if it is gone."""
    if connection.vendor == "sqlite":
        return Probe.objects.filter(pk=probe_id).exists()  # the write lock serialises
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Probe._meta.db_table} WHERE id = %s FOR UPDATE", [probe_id])
        return cursor.fetchone() is not None


RESULT_FIELDS = [field for field in ProbeResult._meta.concrete_fields if not field.primary_key]


def insert_once(result: ProbeResult) -> ProbeResult | None:
    """Insert a result unless its run (probe, vantage point, scheduled time) is already stored:
    one INSERT … ON CONFLICT DO NOTHING against the unique constraint, instead of a lookup
    first. Return the saved result, or None for a duplicate."""
    table = connection.ops.quote_name(ProbeResult._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in RESULT_FIELDS)
    placeholders = ", ".join(["%s"] * len(RESULT_FIELDS))
    unique = ", ".join(
        connection.ops.quote_name(ProbeResult._meta.get_field(name).column)
        for name in ("probe", "vantage_point", "scheduled_at")
    )
    values = [
        field.get_db_prep_save(getattr(result, field.attname), connection)
        for field in RESULT_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT ({unique}) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    result.pk = row[0]
    result._state.adding = False
    result._state.db = connection.alias
    return result


def record_result(
    probe: Probe,
    vantage_point: str,
    run: RunResult,
    *,
    now: datetime,
    checked_at: datetime | None = None,
    scheduled_at: datetime | None = None,
) -> ProbeResult | None:
    """Record one run (started at `checked_at`, known at `now`, for the slot `scheduled_at`);
    return the stored result, or None when that run was already recorded."""
    checked_at = checked_at or now
    scheduled_at = scheduled_at or checked_at
    with transaction.atomic():
        # One recorder per probe at a time: the quorum read below must see the other vantage
        # points' latest state. The run keeps the probe it was started with (its thresholds
        # and vantage points as they were then; the settle beat catches up with later edits).
        if not lock_probe(probe.pk):
            log.info("probe %s was deleted during its run at %s", probe.pk, vantage_point)
            return None
        result = insert_once(
            ProbeResult(
                probe=probe,
                vantage_point=vantage_point,
                scheduled_at=scheduled_at,
                checked_at=checked_at,
                ok=run.ok,
                latency_ms=run.latency_ms,
                status_code=run.status_code,
                failed_condition=run.failed_condition,
                seen=run.seen,
                error=run.error,
                severity=run.severity,
                received_at=now,
            )
        )
        if result is None:
            log.info("probe %s at %s for %s already recorded", probe, vantage_point, scheduled_at)
            return None
        states = {s.vantage_point: s for s in ProbeState.objects.filter(probe=probe)}
        state = states.get(vantage_point)
        if state is None:
            state = ProbeState.objects.create(
                probe=probe, vantage_point=vantage_point, next_run_at=now, since=now
            )
            states[vantage_point] = state
        downtime = downtime_since_last(probe, state, now)
        add_to_rollups(probe.pk, vantage_point, checked_at, run.ok, run.latency_ms, downtime)
        if state.last_scheduled_at is not None and scheduled_at < state.last_scheduled_at:
            return result  # a late redelivery: counted in history, too old to move the state
        silent = silent_vantage_points(probe)
        before = status_across(probe, states.values(), silent)
        was_down = state.is_down
        update_state(probe, state, run, now, scheduled_at)
        after = status_across(probe, states.values(), silent)
        if after != rules.OPERATIONAL or state.is_down or was_down:
            track_network_problem(probe, state, after, now)
        if after != before or (after != rules.OPERATIONAL and lacks_open_incident(probe)):
            # Also while failing without an incident: a maintenance window may just have
            # ended, or a dependency's suspected failure has settled.
            on_probe_status_changed(probe, now)
        elif connection.vendor == "postgresql":
            # Nothing public changed: losing this commit in a database crash would cost one
            # probe run (the next one comes within an interval), so do not wait for the WAL
            # flush. Commits that change a status keep the full guarantee.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
    return result


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
) -> None:
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
    # Only what moved: a plain success rewrites three or four columns, not the whole row.
    changed = [name for name in STATE_FIELDS if getattr(state, name) != stored[name]]
    if changed:
        state.save(update_fields=changed)


def silent_vantage_points(probe: Probe) -> frozenset[str]:
    """The vantage points silent now (`VantagePointSilence`, opened and closed by the watch in
    `monitors.stall`). A probe run from one vantage point needs no query: silent or not, its
    last known state stands."""
    if len(probe.vantage_points) < 2:
        return frozenset()
    return VantagePointSilence.objects.silent()


def status_across(probe: Probe, states, silent=frozenset()) -> str:
    """The probe's status across its vantage points: a quorum of confirmed failures among
    those that are not silent (`confirmation.probe_status_across`)."""
    return confirmation.probe_status_across(states, probe.vantage_points, probe.quorum, silent)


def probe_status(probe: Probe, silent=frozenset()) -> str:
    return status_across(probe, ProbeState.objects.filter(probe=probe, is_down=True), silent)


def track_network_problem(probe: Probe, state: ProbeState, status: str, now: datetime) -> None:
    """A vantage point that confirms a failure the quorum does not share has a network
    problem: record it (and tell staff) when it starts, close it when it ends or when the
    quorum joins in (it was the start of a real outage after all)."""
    open_problems = VantagePointProblem.objects.filter(probe=probe, ended_at__isnull=True)
    if status != rules.OPERATIONAL:
        open_problems.update(ended_at=now, escalated=True)
        return
    if not state.is_down:
        open_problems.filter(vantage_point=state.vantage_point).update(ended_at=now)
        return
    if open_problems.filter(vantage_point=state.vantage_point).exists():
        return
    problem = VantagePointProblem.objects.create(
        probe=probe,
        vantage_point=state.vantage_point,
        started_at=now,
        failed_condition=state.failed_condition,
        seen=state.seen,
    )
    if alert_staff is not None:
        alert_staff(
            f"Network problem at vantage point {state.vantage_point}: {probe}",
            f"{probe} fails from {state.vantage_point} only ({state.last_summary}), "
            f"since {moment(problem.started_at)}. Other vantage points see it "
            "working, so the public status is unchanged.",
            event="network_problem",
            subject_alt=f"探测点 {state.vantage_point} 网络问题：{probe}",
            body_alt=f"{probe} 仅在 {state.vantage_point} 失败（{state.last_summary}），"
            f"始于 {moment(problem.started_at)}。其他探测点均正常，公开状态不变。",
            path=f"/console/probes/{probe.pk}/",
        )


def component_auto_status(component_id: int, now: datetime) -> str:
    """The worst status among the component's failing probes and firing alerts."""
    statuses = FiringAlert.objects.statuses_by_component(now).get(component_id, [])
    silent = VantagePointSilence.objects.silent()
    for probe in Probe.objects.filter(component_id=component_id, is_enabled=True):
        statuses.append(probe_status(probe, silent))
    return rules.worst(statuses)


def lacks_open_incident(probe: Probe) -> bool:
    return not Incident.objects.filter(
        origin=Origin.AUTOMATIC, resolved_at__isnull=True, root_cause_id=probe.component_id
    ).exists()


def on_probe_status_changed(probe: Probe, now: datetime) -> None:
    """Carry a probe's new status to its component, the automatic incidents and (at the end
    of the public change) the public statuses. The caller holds the probe's row lock, which
    comes before the component locks in the one global order."""
    with public_change(now, changed=False):
        auto_status = component_auto_status(probe.component_id, now)
        Component.objects.filter(pk=probe.component_id).exclude(auto_status=auto_status).update(
            auto_status=auto_status
        )
        reconcile_automatic_incidents(now)


def refresh_auto_statuses(now: datetime) -> bool:
    """Bring every component's automatic status in line with its enabled probes' states and
    firing alerts (a probe disabled, deleted or given other vantage points changes it without
    any new result, an alert's endsAt passes); return whether one moved. Call it inside a
    public change, which recomputes the public statuses at its end."""
    down: dict[int, list[ProbeState]] = {}
    for state in ProbeState.objects.filter(is_down=True, probe__is_enabled=True).only(
        "probe_id", "vantage_point", "severity", "is_down"
    ):
        down.setdefault(state.probe_id, []).append(state)
    # Alerts (monitors.alerts) count like probes; one whose endsAt passed counts no more.
    statuses = FiringAlert.objects.statuses_by_component(now)
    silent = VantagePointSilence.objects.silent()
    for probe in Probe.objects.filter(is_enabled=True).only(
        "id", "component_id", "vantage_points", "quorum"
    ):
        statuses.setdefault(probe.component_id, []).append(
            status_across(probe, down.get(probe.pk, []), silent)
        )
    moved = False
    for component_id, auto_status in Component.objects.values_list("id", "auto_status"):
        wanted = rules.worst(statuses.get(component_id, []))
        if wanted != auto_status:
            Component.objects.filter(pk=component_id).update(auto_status=wanted)
            moved = True
    return moved


def settle_automatic_incidents(now: datetime) -> list[str]:
    """The beat's pass: correct automatic statuses that probe edits left behind, resolve
    incidents that stayed quiet, open those that a maintenance window was hiding."""
    with public_change(now, changed=False):
        refresh_auto_statuses(now)
        return reconcile_automatic_incidents(now)
