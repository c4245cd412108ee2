"""An iCalendar feed (RFC 5545) of public scheduled maintenance that calendar apps subscribe to,
written by the `icalendar` library (escaping, folding, CRLF, TZID and VTIMEZONE are its job).

Each window keeps its UID for its whole life; SEQUENCE grows with every edit so that clients
replace their copy, and a cancelled window stays in the feed as STATUS:CANCELLED so that
subscribers see it go away rather than silently vanish. A recurring maintenance is one event
with its RRULE in the wall-clock time of TIME_ZONE (the zone the series is defined in) with that
zone's VTIMEZONE, daylight saving included, so that a weekly 02:00 stays 02:00 across the change;
its cancelled occurrences are EXDATE and the occurrences staff moved are RECURRENCE-ID overrides.
Text is stripped of control characters first (statuspage.text): TEXT cannot carry them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from icalendar import Calendar, Event, vRecur

from statuspage.models import Component, Maintenance, MaintenanceSeries, MaintenanceStatus
from statuspage.public.caching import public_cache
from statuspage.text import clean_line, clean_text

# Past windows kept in the feed, so that a calendar still shows last month's work.
HISTORY = timedelta(days=90)
# How far ahead the VTIMEZONE spells out the zone's offsets (an endless rule has no end).
TIMEZONE_YEARS_AHEAD = 10


def description_for(text: str, components: list[Component], url: str) -> str:
    names = ", ".join(component.name for component in components)
    text = text.strip()
    if names:
        text = f"Affected: {names}.\n\n{text}".strip()
    return f"{text}\n\n{url}" if text else url


def maintenance_url(maintenance: Maintenance) -> str:
    return f"{settings.SITE_URL}/maintenance/{maintenance.pk}"


def stamp(event: Event, created: datetime, modified: datetime) -> None:
    event.add("dtstamp", modified.astimezone(UTC))
    event.add("created", created.astimezone(UTC))
    event.add("last-modified", modified.astimezone(UTC))
    event.add("sequence", max(int((modified - created).total_seconds()), 0))


def window_event(maintenance: Maintenance, uid: str) -> Event:
    """One window, in UTC."""
    event = Event()
    event.add("uid", uid)
    stamp(event, maintenance.created_at, maintenance.updated_at)
    event.add("dtstart", maintenance.starts_at.astimezone(UTC))
    event.add("dtend", maintenance.ends_at.astimezone(UTC))
    event.add("summary", clean_line(maintenance.title))
    url = maintenance_url(maintenance)
    text = description_for(maintenance.description, list(maintenance.components.all()), url)
    event.add("description", clean_text(text))
    event.add("url", url)
    cancelled = maintenance.status == MaintenanceStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["MAINTENANCE"])
    return event


def series_events(
    series: MaintenanceSeries, occurrences: list[Maintenance], host: str
) -> list[Event]:
    """The series as one recurring event (the rule, an EXDATE per cancelled occurrence), an
    override (RECURRENCE-ID) per occurrence staff moved or renamed, and, after the rule was
    changed, the past windows the new rule no longer gives as events of their own."""
    zone = ZoneInfo(settings.TIME_ZONE)
    uid = f"maintenance-series-{series.pk}@{host}"
    # As statuspage.recurrence reads it (importing that module from here would be a cycle);
    # a stored rule has passed its checks.
    rule = rrulestr(series.recurrence, dtstart=series.first_starts_at.astimezone(zone))
    # Ordered by the windows' starts; a moved one may have left its place in the rule.
    first = min(m.occurrence_start for m in occurrences)
    last = max(m.occurrence_start for m in occurrences)
    given = set(rule.between(first, last, inc=True))
    public_components = list(series.components.all())  # prefetched: the public ones
    url = maintenance_url(occurrences[0])
    master = Event()
    master.add("uid", uid)
    stamp(master, series.created_at, max(m.updated_at for m in occurrences))
    master.add("dtstart", series.first_starts_at.astimezone(zone))
    master.add("dtend", (series.first_starts_at + series.duration).astimezone(zone))
    master.add("rrule", vRecur.from_ical(series.recurrence))
    master.add("summary", clean_line(series.title))
    text = description_for(series.description, public_components, url)
    master.add("description", clean_text(text))
    master.add("url", url)
    master.add("status", "CANCELLED" if series.cancelled_at else "CONFIRMED")
    master.add("transp", "TRANSPARENT")
    master.add("categories", ["MAINTENANCE"])
    events = [master]
    excluded = []
    for occurrence in occurrences:
        cancelled = occurrence.status == MaintenanceStatus.CANCELLED
        if occurrence.occurrence_start not in given:
            if not cancelled:
                events.append(window_event(occurrence, f"maintenance-{occurrence.pk}@{host}"))
            continue
        if cancelled:
            excluded.append(occurrence.occurrence_start.astimezone(zone))
            continue
        moved = (
            occurrence.starts_at != occurrence.occurrence_start
            or occurrence.ends_at - occurrence.starts_at != series.duration
            or occurrence.title != series.title
        )
        if moved:
            override = window_event(occurrence, uid)
            override.add("recurrence-id", occurrence.occurrence_start.astimezone(zone))
            events.append(override)
    if excluded and not series.cancelled_at:
        master.add("exdate", sorted(excluded))
    return events


def calendar_text(now: datetime | None = None) -> str:
    """The whole calendar: public windows that end after `now - HISTORY`."""
    now = now or timezone.now()
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    public_components = Prefetch("components", queryset=Component.objects.public())
    maintenances = (
        Maintenance.objects.public()
        .filter(ends_at__gte=now - HISTORY)
        .prefetch_related(public_components)
        .order_by("starts_at", "id")
    )
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{clean_line(settings.SITE_NAME)}//Maintenance//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{clean_line(settings.SITE_NAME)}: maintenance")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    by_series: dict[int, list[Maintenance]] = {}
    for maintenance in maintenances:
        if maintenance.series_id is None:
            calendar.add_component(
                window_event(maintenance, f"maintenance-{maintenance.pk}@{host}")
            )
        else:
            by_series.setdefault(maintenance.series_id, []).append(maintenance)
    if by_series:
        series = MaintenanceSeries.objects.prefetch_related(public_components).in_bulk(
            list(by_series)
        )
        for series_id, occurrences in by_series.items():
            for event in series_events(series[series_id], occurrences, host):
                calendar.add_component(event)
        first = min(s.first_starts_at for s in series.values()) - timedelta(days=1)
        last = now + timedelta(days=366 * TIMEZONE_YEARS_AHEAD)
        calendar.add_missing_timezones(first_date=first.date(), last_date=last.date())
    return calendar.to_ical().decode()


@require_safe
@public_cache(cors=True)
def maintenance_calendar(request: HttpRequest) -> HttpResponse:
    return HttpResponse(calendar_text(), content_type="text/calendar; charset=utf-8")
