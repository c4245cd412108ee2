"""What a probe run found (`RunResult`) and what follows from results: the probe's status
across vantage points, vantage-point network problems, the component's automatic status and
the automatic incidents. The recorder (`monitors.recorder`) stores the results and calls these
inside its transaction; the settle beat calls them on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from monitors import confirmation
from monitors.automatic import reconcile_automatic_incidents
from monitors.models import (
    FiringAlert,
    Probe,
    ProbeState,
    VantagePointProblem,
    VantagePointSilence,
)
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
    on_probes_status_changed([probe], now)


def on_probes_status_changed(probes, now: datetime) -> None:
    """Carry probes' new statuses to their components, the automatic incidents and (at the
    end of the public change) the public statuses: one public change for them all. The caller
    holds the probes' row locks, which come before the component locks in the one global
    order."""
    with public_change(now, changed=False):
        for component_id in sorted({probe.component_id for probe in probes}):
            auto_status = component_auto_status(component_id, now)
            Component.objects.filter(pk=component_id).exclude(auto_status=auto_status).update(
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
