"""Stalled monitoring is shown, not hidden.

When the dispatcher (the beat's `dispatch_due_probes`) stops running, or a probe's vantage
points all stop delivering results, its status on the page silently freezes at its last value.
This module decides when that has gone on too long (`stalled_since`, a pure function), records
each stall as a `MonitoringStall` row (its opening and its closing each alert staff once and
bump the public version, so that cached pages show and clear the notice), and loads what the
page, the console and `/health` show about it.

One vantage point falling silent while the others still deliver (an agent cut off from the
site) is not a stall: the public statuses are still current, taken by quorum over the vantage
points still heard (`confirmation.probe_status_across`). That vantage point is *silent*: a
`VantagePointSilence` row (`monitors.silence`) that staff see in the console and `/health`,
with one alert when it starts and one when it ends; the public page says nothing about it.

Who notices: the beat runs `watch_monitoring` every 10 s, but the beat (or the worker it sends
to) may be the very thing that died, and a dead process cannot report itself. So web requests
run the same watch too, at most once per MONITORING_WATCH_SECONDS per process and, through a
conditional UPDATE on `DispatcherState.watched_at`, at most once per that period across all
processes (`StallWatchMiddleware`). The web process is what must be alive for the notice to
matter at all, and load balancers and the platform's own monitoring poll `/health`, so a stall
is noticed even when nobody reads the page. It runs in the request (one claim query per
period; a flip writes three rows), and any error there is logged, never shown to the visitor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from monitors.models import (
    MINIMUM_INTERVAL_SECONDS,
    DispatcherState,
    MonitoringStall,
    Probe,
    ProbeState,
    VantagePointSilence,
)
from monitors.silence import track_silences
from statuspage.models import SiteState
from statuspage.times import to_the_second as local_text

log = logging.getLogger(__name__)

MINIMUM_STALE_SECONDS = 120
DISPATCHER = "dispatcher"


def default_threshold(shortest_interval_seconds: float | None) -> timedelta:
    """max(120 s, 3 x the shortest probe interval): a probe that runs every 60 s has missed
    three runs before its silence counts as a stall."""
    shortest = max(MINIMUM_INTERVAL_SECONDS, shortest_interval_seconds or 0)
    return timedelta(seconds=max(MINIMUM_STALE_SECONDS, 3 * shortest))


def vantage_point_threshold(threshold: timedelta, shortest_interval_seconds: float) -> timedelta:
    """How long a vantage point may stay quiet: the stale threshold, but never less than three
    intervals of its own most frequent probe (an agent running only 5-minute probes is not
    silent between two runs, whatever MONITORING_STALE_SECONDS says)."""
    shortest = max(MINIMUM_INTERVAL_SECONDS, shortest_interval_seconds)
    return max(threshold, timedelta(seconds=3 * shortest))


@dataclass(frozen=True)
class Silence:
    """One source of results that has been quiet for longer than the threshold."""

    source: str  # DISPATCHER or a vantage point's name
    since: datetime  # the last time it was heard from

    @property
    def label(self) -> str:
        if self.source == DISPATCHER:
            return "the dispatcher (beat)"
        return f"vantage point {self.source}"


def silences(
    now: datetime,
    last_dispatch: datetime,
    last_results: Mapping[str, datetime],
    threshold: timedelta,
    thresholds: Mapping[str, timedelta] | None = None,
) -> list[Silence]:
    """The sources silent for longer than their threshold at `now`, oldest first: the
    dispatcher (when it last ran) and each vantage point (when it last delivered a result);
    `thresholds` by vantage point, `threshold` for the others."""
    heard = {DISPATCHER: last_dispatch, **last_results}
    limits = thresholds or {}
    quiet = [
        Silence(source, at)
        for source, at in heard.items()
        if now - at > limits.get(source, threshold)
    ]
    return sorted(quiet, key=lambda silence: (silence.since, silence.source))


def stalling(
    quiet: list[Silence], probe_vantage_points: Iterable[Collection[str]]
) -> list[Silence]:
    """The silences that freeze what the public sees: the dispatcher's, and those of vantage
    points that leave some probe with none of its vantage points heard. A vantage point
    silent while every probe it runs is still heard elsewhere freezes nothing."""
    names = {silence.source for silence in quiet}
    voiceless: set[str] = set()
    for vantage_points in probe_vantage_points:
        if vantage_points and set(vantage_points) <= names:
            voiceless |= set(vantage_points)
    return [s for s in quiet if s.source == DISPATCHER or s.source in voiceless]


def stalled_since(
    now: datetime,
    last_dispatch: datetime,
    last_results: Mapping[str, datetime],
    threshold: timedelta,
    probe_vantage_points: Iterable[Collection[str]],
) -> datetime | None:
    """Since when monitoring is stale at `now` (the last time the first source to fall silent
    was heard from), or None when the dispatcher ran within `threshold` and every probe has a
    vantage point that delivered a result within it."""
    quiet = stalling(silences(now, last_dispatch, last_results, threshold), probe_vantage_points)
    return quiet[0].since if quiet else None


# --- what is known ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringFacts:
    last_dispatch: datetime
    last_results: dict[str, datetime]
    threshold: timedelta  # the dispatcher's
    thresholds: dict[str, timedelta]  # each vantage point's
    probe_vantage_points: list[frozenset[str]]  # each distinct set the enabled probes list

    def silences(self, now: datetime) -> list[Silence]:
        return silences(now, self.last_dispatch, self.last_results, self.threshold, self.thresholds)

    def stalling(self, quiet: list[Silence]) -> list[Silence]:
        return stalling(quiet, self.probe_vantage_points)


def stale_threshold(shortest_interval_seconds: float | None) -> timedelta:
    if settings.MONITORING_STALE_SECONDS:
        return timedelta(seconds=settings.MONITORING_STALE_SECONDS)
    return default_threshold(shortest_interval_seconds)


def load_facts() -> MonitoringFacts | None:
    """What the enabled probes, the dispatcher row and the probe states say (three small
    queries), or None when no probe is enabled: then nothing is monitored, and nothing can
    stall.

    A vantage point's last result is the newest `last_checked_at` of its probe states (or,
    before its first result, when its states were created). That is an aggregate over one row
    per (probe, vantage point), a few thousand at most, rather than a column written per
    result or an index that would take the per-result UPDATE off PostgreSQL's HOT path."""
    shapes = list(
        Probe.objects.filter(is_enabled=True)
        .values_list("interval_seconds", "vantage_points")
        .order_by()
        .distinct()
    )
    shortest_at: dict[str, int] = {}
    sets: set[frozenset[str]] = set()
    for interval, vantage_points in shapes:
        sets.add(frozenset(vantage_points or ()))
        for name in vantage_points or ():
            shortest_at[name] = min(interval, shortest_at.get(name, interval))
    if not sets:
        return None
    threshold = stale_threshold(min(interval for interval, _ in shapes))
    rows = (
        ProbeState.objects.filter(probe__is_enabled=True)
        .values("vantage_point")
        .annotate(last=Max(Coalesce("last_checked_at", "since")))
        .order_by()
    )
    last_results = {row["vantage_point"]: row["last"] for row in rows}
    return MonitoringFacts(
        last_dispatch=DispatcherState.last_run(),
        last_results=last_results,
        threshold=threshold,
        thresholds={
            name: vantage_point_threshold(threshold, shortest_at.get(name, 0))
            for name in last_results
        },
        probe_vantage_points=sorted(sets, key=sorted),
    )


def open_stall() -> MonitoringStall | None:
    """The stall shown now, if any (one query on a tiny table)."""
    return MonitoringStall.objects.filter(ended_at__isnull=True).first()


def open_silences() -> dict[str, datetime]:
    """The silent vantage points (`monitors.silence`) and since when, by name."""
    return dict(
        VantagePointSilence.objects.filter(ended_at=None)
        .order_by("vantage_point")
        .values_list("vantage_point", "started_at")
    )


def last_checked_by_component(component_ids) -> dict[int, datetime]:
    """When each component's enabled probes last delivered a result, from any vantage point."""
    rows = (
        ProbeState.objects.filter(
            probe__component_id__in=component_ids,
            probe__is_enabled=True,
            last_checked_at__isnull=False,
        )
        .values("probe__component_id")
        .annotate(last=Max("last_checked_at"))
        .order_by()
    )
    return {row["probe__component_id"]: row["last"] for row in rows}


# --- the watch ----------------------------------------------------------------------------------


def alert(subject: str, body: str, subject_alt: str = "", body_alt: str = "") -> None:
    try:
        from statuspage.subscriptions.staff import alert_staff
    except ImportError:  # notifications not installed: the console still shows the stall
        return
    alert_staff(
        subject,
        body,
        event="monitoring_stalled",
        subject_alt=subject_alt,
        body_alt=body_alt,
        path="/console/",
    )


def watch(now: datetime) -> str | None:
    """Open a stall when monitoring has gone quiet, close it when it is back; return "started",
    "ended" or None. Each flip alerts staff and bumps the public version in its own
    transaction, exactly once whatever the number of watchers: at most one stall can be open
    (a partial unique index), and it is closed with a conditional UPDATE."""
    facts = load_facts()
    quiet = facts.silences(now) if facts is not None else []
    stalled = facts.stalling(quiet) if facts is not None else []
    track_silences(
        now,
        {s.source: s.since for s in quiet if s.source != DISPATCHER},
        stalling={s.source for s in stalled},
        known=facts.last_results if facts is not None else {},
        thresholds=facts.thresholds if facts is not None else {},
    )
    with transaction.atomic():
        current = open_stall()
        if stalled and current is None:
            try:
                with transaction.atomic():
                    stall = MonitoringStall.objects.create(
                        started_at=stalled[0].since,
                        noticed_at=now,
                        reasons=[f"{s.label}: last heard {local_text(s.since)}" for s in quiet],
                    )
            except IntegrityError:
                return None  # another watcher opened it a moment ago
            silent = "\n".join(f"- {reason}" for reason in stall.reasons)
            alert(
                f"Monitoring stalled since {local_text(stall.started_at)}",
                "Automatic checks have stopped delivering results for longer than "
                f"{facts.threshold.total_seconds():.0f} s. Nothing has been heard from:\n"
                f"{silent}\n\n"
                "The public page now says that the automatic checks are delayed and that "
                "statuses may be out of date; components keep their last known status. "
                "Check the beat and the probe workers (GET /health shows what is late). "
                "You will get one more email when monitoring resumes.",
                f"自动检测自 {local_text(stall.started_at)} 起停止",
                f"超过 {facts.threshold.total_seconds():.0f} 秒没有收到检测结果。"
                f"没有消息的来源：\n{silent}\n\n公开页面已提示自动检测延迟，组件保持最后已知状态。"
                "请检查 beat 与探测 worker（GET /health 会显示哪一项滞后）。",
            )
            SiteState.bump(now)
            return "started"
        if not stalled and current is not None:
            closed = MonitoringStall.objects.filter(pk=current.pk, ended_at__isnull=True).update(
                ended_at=now
            )
            if not closed:
                return None
            minutes = (now - current.started_at).total_seconds() / 60
            alert(
                f"Monitoring resumed (stalled since {local_text(current.started_at)})",
                f"The dispatcher runs and every probe is heard from a vantage point again as "
                f"of {local_text(now)}, after about {minutes:.0f} minutes without. The notice "
                "on the public page is gone. (A vantage point still silent has an alert of "
                "its own.)",
                f"自动检测已恢复（自 {local_text(current.started_at)} 起中断）",
                f"自 {local_text(now)} 起调度器恢复运行，每个探测都重新有探测点上报结果，"
                f"中断约 {minutes:.0f} 分钟。公开页面上的提示已移除。"
                "（仍无结果的探测点另有单独通知。）",
            )
            SiteState.bump(now)
            return "ended"
    return None


def claim_watch(now: datetime, every_seconds: float) -> bool:
    """Take the turn to watch: True for one caller per `every_seconds` across all processes.
    A clock that went backwards (watched_at in the future) does not block the watch."""
    claimed = (
        DispatcherState.objects.filter(pk=1)
        .filter(Q(watched_at__lte=now - timedelta(seconds=every_seconds)) | Q(watched_at__gt=now))
        .update(watched_at=now)
    )
    if claimed:
        return True
    _, created = DispatcherState.objects.get_or_create(
        pk=1, defaults={"last_run_at": now, "watched_at": now}
    )
    return created


def watch_if_due(now: datetime, every_seconds: float) -> str | None:
    """`watch(now)` unless another process watched less than `every_seconds` ago."""
    if not claim_watch(now, every_seconds):
        return None
    return watch(now)


class StallWatchMiddleware:
    """Runs the watch from web requests, at most once per MONITORING_WATCH_SECONDS in this
    process (see the module's docstring for why the web process watches too)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.next_watch = 0.0
        self.lock = threading.Lock()

    def __call__(self, request):
        every = settings.MONITORING_WATCH_SECONDS
        if every and request.method in ("GET", "HEAD") and self.take_turn(every):
            try:
                watch_if_due(timezone.now(), every)
            except Exception:  # the visitor's page matters more than this look
                log.warning("the stall watch failed", exc_info=True)
        return self.get_response(request)

    def take_turn(self, every: float) -> bool:
        with self.lock:
            if time.monotonic() < self.next_watch:
                return False
            self.next_watch = time.monotonic() + every
            return True
