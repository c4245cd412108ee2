"""The probe console: every probe sorted by trouble, and a page per probe."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from monitors import confirmation
from monitors.models import (
    Probe,
    ProbeResult,
    ProbeRollup,
    ProbeState,
    VantagePointProblem,
)
from monitors.rollups import daily_history
from monitors.stall import open_silences
from statuspage import status as rules
from statuspage.roles import staff_required

RECENT_RESULTS_PER_VANTAGE_POINT = 20
CHART_HOURS = 48


@dataclass
class ProbeRow:
    """A probe with what the list shows about it, and its place in the trouble order."""

    probe: Probe
    status: str
    states: list[ProbeState]
    unconfirmed: int
    open_problems: int
    silent: dict[str, datetime]  # its vantage points that are silent: since when

    @property
    def trouble(self) -> int:
        """0 failing, 1 unconfirmed failures, 2 vantage-point network problems or silent
        vantage points, 3 fine, 4 disabled."""
        if not self.probe.is_enabled:
            return 4
        if self.status != rules.OPERATIONAL:
            return 0
        if self.unconfirmed:
            return 1
        if self.open_problems or self.silent:
            return 2
        return 3


def probe_row(
    probe: Probe, states: list[ProbeState], open_problems: int, silences: dict[str, datetime]
) -> ProbeRow:
    states = [s for s in states if s.vantage_point in probe.vantage_points]
    for state in states:
        state.silent_since = silences.get(state.vantage_point)
    status = confirmation.probe_status_across(
        states, probe.vantage_points, probe.quorum, set(silences)
    )
    unconfirmed = sum(1 for s in states if s.is_unconfirmed_failure)
    silent = {vp: silences[vp] for vp in probe.vantage_points if vp in silences}
    return ProbeRow(probe, status, states, unconfirmed, open_problems, silent)


@require_safe
@staff_required
def probe_list(request: HttpRequest) -> HttpResponse:
    probes = list(Probe.objects.select_related("component").prefetch_related("states"))
    open_problems: dict[int, int] = defaultdict(int)
    for probe_id in VantagePointProblem.objects.filter(ended_at__isnull=True).values_list(
        "probe_id", flat=True
    ):
        open_problems[probe_id] += 1
    silences = open_silences()
    rows = [probe_row(p, list(p.states.all()), open_problems[p.pk], silences) for p in probes]
    rows.sort(key=lambda r: (r.trouble, r.probe.component.slug, r.probe.name))
    return render(request, "console/probes/list.html", {"rows": rows, "silences": silences})


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: str  # SVG polyline points

    @property
    def dots(self) -> list[list[str]]:
        """Each point as (x, y), marked too: a single hour has no line to draw."""
        return [point.split(",") for point in self.points.split()]


@dataclass(frozen=True)
class LatencyChart:
    width: int
    height: int
    series: list[Series]
    max_ms: float
    start: datetime
    end: datetime

    @property
    def gridlines(self) -> list[tuple[float, str]]:
        """(y, label) for four horizontal lines."""
        return [
            (self.height - self.height * i / 4, f"{self.max_ms * i / 4:.0f} ms")
            for i in range(1, 5)
        ]


def latency_chart(probe: Probe, now: datetime, width: int = 720, height: int = 180) -> LatencyChart:
    """p50 and p95 per hour and vantage point over the last CHART_HOURS, from hourly rollups."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=CHART_HOURS)
    rollups = ProbeRollup.objects.filter(
        probe=probe, period=ProbeRollup.Period.HOUR, start__gte=start
    ).order_by("start")
    by_vp: dict[str, list[tuple[datetime, float | None, float | None]]] = defaultdict(list)
    for rollup in rollups:
        by_vp[rollup.vantage_point].append((rollup.start, rollup.p50, rollup.p95))
    values = [v for rows in by_vp.values() for _, p50, p95 in rows for v in (p50, p95) if v]
    max_ms = max(values, default=100.0) * 1.1 or 100.0
    span = (end - start).total_seconds()

    def xy(moment: datetime, value: float) -> str:
        x = (moment + timedelta(minutes=30) - start).total_seconds() / span * width
        y = height - value / max_ms * height
        return f"{x:.1f},{y:.1f}"

    series = []
    for index, (vantage_point, rows) in enumerate(sorted(by_vp.items())):
        for label, column in (("p50", 1), ("p95", 2)):
            points = " ".join(xy(row[0], row[column]) for row in rows if row[column] is not None)
            series.append(Series(f"{vantage_point} {label}", f"line-{index % 4} {label}", points))
    return LatencyChart(width, height, series, max_ms, start, end)


@dataclass(frozen=True)
class HeartbeatHowTo:
    """What the job behind a heartbeat probe must call, ready to paste into its script."""

    url: str

    @property
    def fail_url(self) -> str:
        return f"{self.url}/fail"

    @property
    def curl(self) -> str:
        # -f: an HTTP error fails the job's step; -sS: quiet but for errors; -m, --retry: a
        # status site that is briefly away neither hangs the job nor loses the call.
        return f"curl -fsS -m 10 --retry 3 {self.url}"

    @property
    def curl_fail(self) -> str:
        return f"curl -fsS -m 10 --retry 3 {self.fail_url}"


def heartbeat_how_to(probe: Probe) -> HeartbeatHowTo | None:
    if probe.kind != "heartbeat" or not probe.heartbeat_token:
        return None
    path = reverse("heartbeat", args=[probe.heartbeat_token])
    return HeartbeatHowTo(f"{settings.SITE_URL.rstrip('/')}{path}")


@require_safe
@staff_required
def probe_detail(request: HttpRequest, pk: int) -> HttpResponse:
    probe = get_object_or_404(Probe.objects.select_related("component"), pk=pk)
    now = timezone.now()
    since = now - timedelta(days=1)  # pages never read raw results older than a day
    states = list(probe.states.all())
    open_problems = probe.network_problems.filter(ended_at__isnull=True).count()
    row = probe_row(probe, states, open_problems, open_silences())
    recent = {
        vantage_point: list(
            ProbeResult.objects.filter(
                probe=probe, vantage_point=vantage_point, checked_at__gte=since
            ).order_by("-checked_at")[:RECENT_RESULTS_PER_VANTAGE_POINT]
        )
        for vantage_point in probe.vantage_points
    }
    context = {
        "probe": probe,
        "row": row,
        "quorum": confirmation.quorum_size(len(probe.vantage_points), probe.quorum),
        "heard": len(probe.vantage_points) - len(row.silent),
        "heard_quorum": confirmation.quorum_size(
            len(probe.vantage_points) - len(row.silent), probe.quorum
        ),
        "recent": recent,
        "problems": probe.network_problems.all()[:20],
        "chart": latency_chart(probe, now),
        "history": daily_history([probe.pk], 14, now)[::-1],
        "heartbeat": heartbeat_how_to(probe),
        "certificates": [s for s in row.states if s.certificate],
    }
    return render(request, "console/probes/detail.html", context)
