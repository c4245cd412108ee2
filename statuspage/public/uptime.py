"""Uptime from the daily rollups: the 90-day bar (one segment per day) and uptime percentages.

Plain functions over plain data: `statuspage.public.queries.day_rows` reads the `ComponentDay`
rows and the loaders (`front_page`, `detail_pages`) hand them here with the component's current
status, so nothing here touches the database.

How a day counts is `statuspage.status.DOWNTIME_WEIGHT`, as Statuspage counts it: a major
outage is downtime, a partial outage is 30 % downtime, degraded performance and announced
maintenance are not downtime. A day before the component was tracked has no data and is left out
of the percentage rather than counted as up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from statuspage import status as rules
from statuspage import times
from statuspage.languages import pick

# A day whose weighted downtime reaches this is painted in the darker shade of its colour.
LONG_DOWNTIME_SECONDS = 3600


@dataclass
class DayTotals:
    """Seconds spent in each non-operational status during one day, and the worst status."""

    worst_status: str = rules.OPERATIONAL
    degraded_seconds: int = 0
    partial_seconds: int = 0
    major_seconds: int = 0
    maintenance_seconds: int = 0

    def add(self, status: str, seconds: int) -> None:
        if status == rules.DEGRADED:
            self.degraded_seconds += seconds
        elif status == rules.PARTIAL:
            self.partial_seconds += seconds
        elif status == rules.MAJOR:
            self.major_seconds += seconds
        elif status == rules.MAINTENANCE:
            self.maintenance_seconds += seconds
        self.worst_status = rules.worst((self.worst_status, status))

    @property
    def downtime_seconds(self) -> float:
        return rules.downtime_seconds(self.partial_seconds, self.major_seconds)


@dataclass(frozen=True)
class IncidentRef:
    id: int
    title: str


@dataclass
class DaySegment:
    """One day of the uptime bar."""

    day: date
    has_data: bool
    totals: DayTotals
    length_seconds: int
    incidents: list[IncidentRef] = field(default_factory=list)

    @property
    def uptime(self) -> float | None:
        """The day's uptime in percent, or None before the component was tracked."""
        if not self.has_data or self.length_seconds <= 0:
            return None
        up = max(0.0, self.length_seconds - self.totals.downtime_seconds)
        return 100.0 * up / self.length_seconds

    @property
    def level(self) -> str:
        """The segment's colour class: the worst status of the day, `nodata` before tracking."""
        return self.totals.worst_status if self.has_data else "nodata"

    @property
    def is_long(self) -> bool:
        return self.totals.downtime_seconds >= LONG_DOWNTIME_SECONDS

    @property
    def is_quiet(self) -> bool:
        """Nothing to tell about the day beyond its date: fully up (or not yet tracked), in no
        status but operational, and no incident touched it."""
        uptime = self.uptime
        return (
            not self.incidents
            and self.level in (rules.OPERATIONAL, "nodata")
            and (uptime is None or uptime >= 100.0)
        )


def tracked_since(component) -> date:
    """The first day of a component's bar with data: its start date, or the day it was added."""
    if component.start_date:
        return component.start_date
    return times.local_day(component.created_at)


def incident_days(links, now: datetime, use_alt: bool) -> dict[int, dict[date, list[IncidentRef]]]:
    """Per component, the incidents touching each day, from `(component id, incident id,
    title, title_alt, started_at, resolved_at)` rows."""
    by_component: dict[int, dict[date, list[IncidentRef]]] = defaultdict(lambda: defaultdict(list))
    for cid, incident_id, title, title_alt, started, resolved in links:
        ref = IncidentRef(incident_id, pick(title, title_alt, use_alt))
        day = times.local_day(started)
        last = times.local_day(resolved or now)
        while day <= last:
            by_component[cid][day].append(ref)
            day += timedelta(days=1)
    return by_component


def add_ongoing(
    totals: dict[date, DayTotals],
    current_status: str,
    since: datetime,
    now: datetime,
    first_day: date,
) -> None:
    """Add the time spent in the current status so far, which the rollups only receive when the
    status next changes, to the days it covers (from `first_day` on)."""
    if current_status == rules.OPERATIONAL or since >= now:
        return
    day = max(times.local_day(since), first_day)
    today = times.local_day(now)
    while day <= today:
        start, end = times.day_bounds(day)
        seconds = int((min(end, now) - max(start, since)).total_seconds())
        if seconds > 0:
            totals[day] = _copy(totals.get(day, DayTotals()))
            totals[day].add(current_status, seconds)
        day += timedelta(days=1)


def build_segments(
    rows: Mapping[date, DayTotals],
    *,
    now: datetime,
    days: int,
    tracked_since: date,
    current_status: str = rules.OPERATIONAL,
    status_since: datetime | None = None,
    incidents_by_day: Mapping[date, Sequence[IncidentRef]] | None = None,
) -> list[DaySegment]:
    """The last `days` days up to today (oldest first), from the rollup rows of those days.

    `rows` maps a day to its rollup; days without a row were fully operational. Today counts only
    the time elapsed so far.
    """
    today = times.local_day(now)
    first = today - timedelta(days=days - 1)
    totals = dict(rows)  # add_ongoing copies a day's rollup before adding to it
    if status_since is not None:
        add_ongoing(totals, current_status, status_since, now, first)
    incidents_by_day = incidents_by_day or {}
    tz = timezone.get_current_timezone()
    segments = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        start, end = times.day_bounds(day, tz)
        length = int((min(end, now) - start).total_seconds())
        segments.append(
            DaySegment(
                day=day,
                has_data=day >= tracked_since,
                totals=totals.get(day, DayTotals()),
                length_seconds=max(length, 0),
                incidents=list(incidents_by_day.get(day, ())),
            )
        )
    return segments


def bar_runs(segments: Sequence[DaySegment]) -> list[list[DaySegment]]:
    """The segments in the bar's pieces, oldest first: each run of consecutive quiet days of the
    same level (see `DaySegment.is_quiet`) is one piece, told in one sentence; every other day
    is a piece of its own, with its own uptime and incidents."""
    runs: list[list[DaySegment]] = []
    for segment in segments:
        previous = runs[-1][-1] if runs else None
        if (
            previous is not None
            and segment.is_quiet
            and previous.is_quiet
            and segment.level == previous.level
        ):
            runs[-1].append(segment)
        else:
            runs.append([segment])
    return runs


def uptime_percent(segments: Iterable[DaySegment]) -> float | None:
    """Uptime over the segments that have data, weighted by their length; None without data."""
    total = 0
    down = 0.0
    for segment in segments:
        if segment.has_data and segment.length_seconds > 0:
            total += segment.length_seconds
            down += min(segment.totals.downtime_seconds, segment.length_seconds)
    if total == 0:
        return None
    return 100.0 * (total - down) / total


def format_percent(value: float | None) -> str:
    """Uptime as people read it: never rounded up to 100 % while there was downtime."""
    if value is None:
        return "—"
    if value >= 100.0:
        return "100%"
    truncated = int(value * 100) / 100  # 99.996 must not read as 100.00
    return f"{truncated:.2f}%"


@dataclass(frozen=True)
class MonthUptime:
    month: date  # the first day of the month
    uptime: float | None
    worst_status: str

    @property
    def uptime_text(self) -> str:
        return format_percent(self.uptime)


def uptime_by_month(segments: Sequence[DaySegment]) -> list[MonthUptime]:
    """Group day segments by calendar month, newest month first."""
    months: dict[date, list[DaySegment]] = {}
    for segment in segments:
        months.setdefault(segment.day.replace(day=1), []).append(segment)
    result = []
    for month, month_segments in sorted(months.items(), reverse=True):
        with_data = [s for s in month_segments if s.has_data]
        if not with_data:
            continue
        result.append(
            MonthUptime(
                month=month,
                uptime=uptime_percent(with_data),
                worst_status=rules.worst(s.totals.worst_status for s in with_data),
            )
        )
    return result


def _copy(t: DayTotals) -> DayTotals:
    return DayTotals(
        t.worst_status,
        t.degraded_seconds,
        t.partial_seconds,
        t.major_seconds,
        t.maintenance_seconds,
    )
