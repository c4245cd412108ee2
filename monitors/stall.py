"""Stalled monitoring is shown, not hidden.

When the dispatcher (the beat's `dispatch_due_probes`) stops running, or a vantage point stops
delivering results, every status on the page silently freezes at its last value. This module
decides when that has gone on too long (`stalled_since`, a pure function), records each stall
as a `MonitoringStall` row (its opening and its closing each alert staff once and bump the
public version, so that cached pages show and clear the notice), and loads what the page, the
console and `/health` show about it.

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from monitors.models import (
    MINIMUM_INTERVAL_SECONDS,
    DispatcherState,
    MonitoringStall,
    Probe,
    ProbeState,
)
from statuspage.models import SiteState

log = logging.getLogger(__name__)

MINIMUM_STALE_SECONDS = 120
DISPATCHER = "dispatcher"


def default_threshold(shortest_interval_seconds: float | None) -> timedelta:
    """max(120 s, 3 x the shortest probe interval): a probe that runs every 60 s has missed
    three runs before its silence counts as a stall."""
    shortest = max(MINIMUM_INTERVAL_SECONDS, shortest_interval_seconds or 0)
    return timedelta(seconds=max(MINIMUM_STALE_SECONDS, 3 * shortest))


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
) -> list[Silence]:
    """The sources silent for longer than `threshold` at `now`, oldest first: the dispatcher
    (when it last ran) and each vantage point (when it last delivered a result)."""
    heard = {DISPATCHER: last_dispatch, **last_results}
    quiet = [Silence(source, at) for source, at in heard.items() if now - at > threshold]
    return sorted(quiet, key=lambda silence: (silence.since, silence.source))


def stalled_since(
    now: datetime,
    last_dispatch: datetime,
    last_results: Mapping[str, datetime],
    threshold: timedelta,
) -> datetime | None:
    """Since when monitoring is stale at `now` (the last time the first source to fall silent
    was heard from), or None when the dispatcher ran and every vantage point delivered a
    result within `threshold`."""
    quiet = silences(now, last_dispatch, last_results, threshold)
    return quiet[0].since if quiet else None


# --- what is known ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringFacts:
    last_dispatch: datetime
    last_results: dict[str, datetime]
    threshold: timedelta

    def silences(self, now: datetime) -> list[Silence]:
        return silences(now, self.last_dispatch, self.last_results, self.threshold)


def stale_threshold(shortest_interval_seconds: float | None) -> timedelta:
    if settings.MONITORING_STALE_SECONDS:
        return timedelta(seconds=settings.MONITORING_STALE_SECONDS)
    return default_threshold(shortest_interval_seconds)


def load_facts() -> MonitoringFacts | None:
    """What the dispatcher row and the probe states say (three small queries), or None when no
    probe is enabled: then nothing is monitored, and nothing can stall.

    A vantage point's last result is the newest `last_checked_at` of its probe states (or,
    before its first result, when its states were created). That is an aggregate over one row
    per (probe, vantage point), a few thousand at most, rather than a column written per
    result or an index that would take the per-result UPDATE off PostgreSQL's HOT path."""
    shortest = Probe.objects.filter(is_enabled=True).aggregate(shortest=Min("interval_seconds"))
    if shortest["shortest"] is None:
        return None
    rows = (
        ProbeState.objects.filter(probe__is_enabled=True)
        .values("vantage_point")
        .annotate(last=Max(Coalesce("last_checked_at", "since")))
        .order_by()
    )
    return MonitoringFacts(
        last_dispatch=DispatcherState.last_run(),
        last_results={row["vantage_point"]: row["last"] for row in rows},
        threshold=stale_threshold(shortest["shortest"]),
    )


def open_stall() -> MonitoringStall | None:
    """The stall shown now, if any (one query on a tiny table)."""
    return MonitoringStall.objects.filter(ended_at__isnull=True).first()


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


def local_text(moment: datetime) -> str:
    local = timezone.localtime(moment)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} UTC{offset[:3]}:{offset[3:]}"


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
    with transaction.atomic():
        current = open_stall()
        if quiet and current is None:
            try:
                with transaction.atomic():
                    stall = MonitoringStall.objects.create(
                        started_at=quiet[0].since,
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
        if not quiet and current is not None:
            closed = MonitoringStall.objects.filter(pk=current.pk, ended_at__isnull=True).update(
                ended_at=now
            )
            if not closed:
                return None
            minutes = (now - current.started_at).total_seconds() / 60
            alert(
                f"Monitoring resumed (stalled since {local_text(current.started_at)})",
                f"The dispatcher and every vantage point are delivering results again as of "
                f"{local_text(now)}, after about {minutes:.0f} minutes without. The notice "
                "on the public page is gone.",
                f"自动检测已恢复（自 {local_text(current.started_at)} 起中断）",
                f"调度器与所有探测点自 {local_text(now)} 起恢复上报结果，"
                f"中断约 {minutes:.0f} 分钟。公开页面上的提示已移除。",
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
