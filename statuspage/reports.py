"""The availability report for auditors and the regulator: per public component and for any
range of days, uptime with announced maintenance excluded and included, minutes in each status,
the incidents with their duration, and the time to recovery.

The uptime rule is the public page's (`statuspage.public.uptime`): a major outage is downtime,
a partial outage 30 % downtime, degraded performance is not downtime, and days before a
component was tracked are left out. "Maintenance excluded" is the public page's figure
(announced maintenance is not downtime); "maintenance included" counts it as downtime too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q

from statuspage import status as rules
from statuspage import times
from statuspage.languages import pick
from statuspage.models import Component, ComponentDay, IncidentComponent
from statuspage.public import uptime

# The longest range one report covers (a year and a day, for leap years).
MAX_DAYS = 366
STATUSES = (rules.OPERATIONAL, rules.DEGRADED, rules.PARTIAL, rules.MAJOR, rules.MAINTENANCE)


@dataclass(frozen=True)
class IncidentLine:
    id: int
    title: str
    impact: str
    status: str  # what the incident set the component to
    started_at: datetime
    resolved_at: datetime | None

    @property
    def duration(self) -> timedelta | None:
        return self.resolved_at - self.started_at if self.resolved_at else None

    @property
    def duration_minutes(self) -> int | None:
        duration = self.duration
        return round(duration.total_seconds() / 60) if duration is not None else None


@dataclass
class ComponentReport:
    component: Component
    name: str
    tracked_minutes: int  # the minutes of the range with data (after tracking began)
    minutes: dict[str, int]  # per status, summing to tracked_minutes
    uptime_excluding_maintenance: float | None
    uptime_including_maintenance: float | None
    incidents: list[IncidentLine] = field(default_factory=list)

    @property
    def time_to_recovery(self) -> timedelta | None:
        """The mean duration of the resolved incidents, None when there were none."""
        durations = [i.duration for i in self.incidents if i.duration is not None]
        return sum(durations, timedelta()) / len(durations) if durations else None

    @property
    def time_to_recovery_minutes(self) -> int | None:
        mean = self.time_to_recovery
        return round(mean.total_seconds() / 60) if mean is not None else None

    @property
    def excluding_text(self) -> str:
        return uptime.format_percent(self.uptime_excluding_maintenance)

    @property
    def including_text(self) -> str:
        return uptime.format_percent(self.uptime_including_maintenance)


def range_error(start: date | None, end: date | None, today: date) -> tuple[str, str] | None:
    """What is wrong with a report's range, as (field, message) with the API's field names,
    or None."""
    if start is None or end is None:
        return None
    if end < start:
        return "to", "The end is before the start."
    if (end - start).days + 1 > MAX_DAYS:
        return "to", f"At most {MAX_DAYS} days at a time."
    if start > today:
        return "from", "The range starts in the future."
    return None


def range_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`, local days."""
    return times.day_bounds(first)[0], times.day_bounds(last)[1]


def day_segments(
    rows: dict[date, uptime.DayTotals],
    first: date,
    last: date,
    now: datetime,
    tracked: date,
    current_status: str,
    status_since: datetime | None,
) -> list[uptime.DaySegment]:
    """The days from `first` to `last` as the public page counts them: the daily rollups, plus
    the current status since it began (not rolled up yet), each day only up to `now`."""
    totals = dict(rows)
    if status_since is not None:
        uptime.add_ongoing(totals, current_status, status_since, now, first)
    segments = []
    day = first
    while day <= last:
        start, end = times.day_bounds(day)
        length = max(0, int((min(end, now) - start).total_seconds()))
        segments.append(
            uptime.DaySegment(
                day=day,
                has_data=day >= tracked,
                totals=totals.get(day, uptime.DayTotals()),
                length_seconds=length,
            )
        )
        day += timedelta(days=1)
    return segments


def summarise(segments: list[uptime.DaySegment]) -> tuple[int, dict[str, int], float | None]:
    """Tracked minutes, minutes per status, and uptime with maintenance counted as downtime."""
    tracked = degraded = partial = major = maintenance = 0
    down_with_maintenance = 0.0
    for segment in segments:
        if not segment.has_data or segment.length_seconds <= 0:
            continue
        totals = segment.totals
        tracked += segment.length_seconds
        degraded += totals.degraded_seconds
        partial += totals.partial_seconds
        major += totals.major_seconds
        maintenance += totals.maintenance_seconds
        down_with_maintenance += min(
            totals.downtime_seconds + totals.maintenance_seconds, segment.length_seconds
        )
    minutes = {
        rules.DEGRADED: round(degraded / 60),
        rules.PARTIAL: round(partial / 60),
        rules.MAJOR: round(major / 60),
        rules.MAINTENANCE: round(maintenance / 60),
    }
    tracked_minutes = round(tracked / 60)
    minutes[rules.OPERATIONAL] = max(0, tracked_minutes - sum(minutes.values()))
    including = 100.0 * (tracked - down_with_maintenance) / tracked if tracked else None
    return tracked_minutes, {status: minutes[status] for status in STATUSES}, including


def availability(first: date, last: date, now: datetime, use_alt: bool) -> list[ComponentReport]:
    """The report for the public components, in the public page's order, over local days
    `first` to `last` (both included; days after `now` count up to `now` only)."""
    start, end = range_bounds(first, last)
    components = list(Component.objects.public().select_related("group"))
    rows: dict[int, dict[date, uptime.DayTotals]] = defaultdict(dict)
    for row in ComponentDay.objects.filter(component__in=components, day__gte=first, day__lte=last):
        rows[row.component_id][row.day] = uptime.DayTotals(
            row.worst_status,
            row.degraded_seconds,
            row.partial_seconds,
            row.major_seconds,
            row.maintenance_seconds,
        )
    incidents: dict[int, list[IncidentLine]] = defaultdict(list)
    links = (
        IncidentComponent.objects.public()
        .filter(component__in=components, incident__started_at__lt=end)
        .filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gte=start))
        .select_related("incident")
        .order_by("incident__started_at", "incident_id")
    )
    for link in links:
        incident = link.incident
        incidents[link.component_id].append(
            IncidentLine(
                id=incident.pk,
                title=pick(incident.title, incident.title_alt, use_alt),
                impact=incident.impact,
                status=link.status,
                started_at=incident.started_at,
                resolved_at=incident.resolved_at,
            )
        )
    reports = []
    for component in components:
        segments = day_segments(
            rows[component.pk],
            first,
            last,
            now,
            uptime.tracked_since(component),
            component.status,
            component.status_since,
        )
        tracked, minutes, including = summarise(segments)
        reports.append(
            ComponentReport(
                component=component,
                name=pick(component.name, component.name_alt, use_alt),
                tracked_minutes=tracked,
                minutes=minutes,
                uptime_excluding_maintenance=uptime.uptime_percent(segments),
                uptime_including_maintenance=including,
                incidents=incidents[component.pk],
            )
        )
    return reports


def as_json(report: ComponentReport) -> dict:
    component = report.component
    return {
        "component": component.slug,
        "name": component.name,
        "name_alt": component.name_alt,
        "tracked_minutes": report.tracked_minutes,
        "uptime_percent": {
            "maintenance_excluded": rounded(report.uptime_excluding_maintenance),
            "maintenance_included": rounded(report.uptime_including_maintenance),
        },
        "minutes": report.minutes,
        "incidents": [
            {
                "id": line.id,
                "title": line.title,
                "impact": line.impact,
                "component_status": line.status,
                "started_at": line.started_at.isoformat(),
                "resolved_at": line.resolved_at.isoformat() if line.resolved_at else None,
                "duration_minutes": line.duration_minutes,
            }
            for line in report.incidents
        ],
        "time_to_recovery_minutes": report.time_to_recovery_minutes,
    }


def rounded(value: float | None) -> float | None:
    """Four decimals, truncated like the page's percentages: never 100 while there was
    downtime."""
    return None if value is None else int(value * 10000) / 10000
