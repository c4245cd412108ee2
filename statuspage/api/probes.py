"""/api/v1/probes: the probes, where each stands at each vantage point, and their recent raw
results (for automation, and to see what a vantage point or an agent delivered). Read-only;
a probe's config (headers, bodies: possibly secrets) is never shown here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from monitors.models import VANTAGE_POINT, Probe, ProbeResult, ProbeState
from statuspage.api.errors import ERROR_RESPONSES
from statuspage.api.lookups import get_by_id
from statuspage.api.schemas import Moment

router = Router(tags=["probes"])

VantagePointName = Annotated[str, Field(pattern=VANTAGE_POINT.pattern)]


class VantagePointStateOut(Schema):
    vantage_point: str
    state: Literal["up", "failing", "down", "unknown"] = Field(
        description="`failing`: failed, not confirmed yet; `unknown`: no result yet."
    )
    since: datetime | None
    last_checked_at: datetime | None
    last_ok: bool | None
    last_summary: str
    consecutive_failures: int
    consecutive_successes: int


class ProbeOut(Schema):
    id: str
    component: str = Field(description="The component's slug.")
    name: str
    kind: str
    is_enabled: bool
    interval_seconds: int
    vantage_points: list[str]
    states: list[VantagePointStateOut] = Field(description="One per vantage point, in order.")


class ProbeResultOut(Schema):
    checked_at: datetime
    scheduled_at: datetime
    received_at: datetime | None = Field(
        description="When the site stored it: an agent's kept results arrive late."
    )
    vantage_point: str
    ok: bool
    latency_ms: float | None
    status_code: int | None
    severity: str
    failed_condition: str
    seen: str
    error: str


class ProbeQuery(Schema):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000)


class ResultQuery(Schema):
    vantage_point: VantagePointName | None = None
    since: Moment | None = Field(None, description="Only results checked after this time.")
    limit: int = Field(100, ge=1, le=1000)


def state_word(state: ProbeState | None) -> str:
    if state is None or state.last_checked_at is None:
        return "unknown"
    if state.is_down:
        return "down"
    return "failing" if state.consecutive_failures else "up"


def state_out(vantage_point: str, state: ProbeState | None) -> dict:
    return {
        "vantage_point": vantage_point,
        "state": state_word(state),
        "since": state.since if state else None,
        "last_checked_at": state.last_checked_at if state else None,
        "last_ok": state.last_ok if state else None,
        "last_summary": state.last_summary if state else "",
        "consecutive_failures": state.consecutive_failures if state else 0,
        "consecutive_successes": state.consecutive_successes if state else 0,
    }


def probe_out(probe: Probe) -> dict:
    states = {state.vantage_point: state for state in probe.states.all()}
    return {
        "id": str(probe.pk),
        "component": probe.component.slug,
        "name": probe.name,
        "kind": probe.kind,
        "is_enabled": probe.is_enabled,
        "interval_seconds": probe.interval_seconds,
        "vantage_points": list(probe.vantage_points),
        "states": [state_out(vp, states.get(vp)) for vp in probe.vantage_points],
    }


@router.get("", response={200: list[ProbeOut], **ERROR_RESPONSES})
def list_probes(request: HttpRequest, filters: Query[ProbeQuery]):
    """Every probe, by component and name, with its state at each of its vantage points."""
    probes = Probe.objects.select_related("component").prefetch_related("states")
    return [probe_out(probe) for probe in probes[filters.offset : filters.offset + filters.limit]]


@router.get("/{probe_id}", response={200: ProbeOut, **ERROR_RESPONSES})
def get_probe(request: HttpRequest, probe_id: str):
    queryset = Probe.objects.select_related("component").prefetch_related("states")
    return probe_out(get_by_id(queryset, probe_id, "probe"))


@router.get("/{probe_id}/results", response={200: list[ProbeResultOut], **ERROR_RESPONSES})
def list_results(request: HttpRequest, probe_id: str, filters: Query[ResultQuery]):
    """The probe's recent raw results (kept RESULT_RETENTION_DAYS), newest first."""
    probe = get_by_id(Probe.objects.all(), probe_id, "probe")
    results = ProbeResult.objects.filter(probe=probe)
    if filters.vantage_point is not None:
        results = results.filter(vantage_point=filters.vantage_point)
    if filters.since is not None:
        results = results.filter(checked_at__gt=filters.since)
    return list(results.order_by("-checked_at", "-id")[: filters.limit])
