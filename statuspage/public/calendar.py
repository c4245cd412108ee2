"""An iCalendar feed (RFC 5545) of public scheduled maintenance that calendar apps subscribe to.

Written by hand, it is short: CRLF line ends, lines folded at 75 octets, TEXT values escaped,
times in UTC. Each window keeps its UID for its whole life; SEQUENCE grows with every edit so
that clients replace their copy, and a cancelled window stays in the feed as STATUS:CANCELLED so
that subscribers see it go away rather than silently vanish. A recurring maintenance is one
event with its RRULE (in TIME_ZONE's local time, with a VTIMEZONE), its cancelled occurrences
as EXDATE and the occurrences staff moved as RECURRENCE-ID overrides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from statuspage.models import Component, Maintenance, MaintenanceSeries, MaintenanceStatus
from statuspage.public.caching import public_cache
from statuspage.text import clean_text

# Past windows kept in the feed, so that a calendar still shows last month's work.
HISTORY = timedelta(days=90)
STATUS = {MaintenanceStatus.CANCELLED: "CANCELLED"}


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11: backslash, semicolon, comma and newlines escaped; other control
    characters, which TEXT cannot carry (3.1), dropped."""
    return (
        clean_text(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue on the next line after a space,
    never splitting a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    pieces: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode()) > limit:
            pieces.append(current)
            current = char
            limit = 74  # continuation lines start with a space
        else:
            current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_lines(maintenance: Maintenance, host: str) -> list[str]:
    components = ", ".join(c.name for c in maintenance.components.all())
    description = maintenance.description.strip()
    if components:
        description = f"Affected: {components}.\n\n{description}".strip()
    url = f"{settings.SITE_URL}/maintenance/{maintenance.pk}"
    if description:
        description += "\n\n"
    description += url
    sequence = int((maintenance.updated_at - maintenance.created_at).total_seconds())
    return [
        "BEGIN:VEVENT",
        f"UID:maintenance-{maintenance.pk}@{host}",
        f"DTSTAMP:{utc_stamp(maintenance.updated_at)}",
        f"CREATED:{utc_stamp(maintenance.created_at)}",
        f"LAST-MODIFIED:{utc_stamp(maintenance.updated_at)}",
        f"SEQUENCE:{max(sequence, 0)}",
        f"DTSTART:{utc_stamp(maintenance.starts_at)}",
        f"DTEND:{utc_stamp(maintenance.ends_at)}",
        f"SUMMARY:{escape_text(maintenance.title)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        f"STATUS:{STATUS.get(maintenance.status, 'CONFIRMED')}",
        "TRANSP:TRANSPARENT",
        "CATEGORIES:MAINTENANCE",
        "END:VEVENT",
    ]


def local_stamp(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y%m%dT%H%M%S")


def timezone_lines(first: datetime) -> list[str]:
    """A VTIMEZONE for TIME_ZONE, which the recurring events' local times refer to. One fixed
    offset (the one at the series' start): exact for zones without daylight saving, such as
    the default Asia/Shanghai."""
    offset = timezone.localtime(first).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    text = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return [
        "BEGIN:VTIMEZONE",
        f"TZID:{settings.TIME_ZONE}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{text}",
        f"TZOFFSETTO:{text}",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]


def series_lines(series: MaintenanceSeries, occurrences: list[Maintenance], host: str) -> list[str]:
    """One recurring event: the rule, an EXDATE per cancelled occurrence, and an override
    (RECURRENCE-ID) per occurrence staff moved or renamed."""
    tzid = f"TZID={settings.TIME_ZONE}"
    uid = f"UID:maintenance-series-{series.pk}@{host}"
    master = event_lines(occurrences[0], host)
    master[1] = uid
    body = [
        line
        for line in master
        if not line.startswith(("DTSTART", "DTEND", "URL:", "STATUS:", "SUMMARY:", "END:VEVENT"))
    ]
    body += [
        f"DTSTART;{tzid}:{local_stamp(series.first_starts_at)}",
        f"DTEND;{tzid}:{local_stamp(series.first_starts_at + series.duration)}",
        f"SUMMARY:{escape_text(series.title)}",
        f"RRULE:{series.recurrence}",
        f"URL:{settings.SITE_URL}/maintenance/{occurrences[0].pk}",
        f"STATUS:{'CANCELLED' if series.cancelled_at else 'CONFIRMED'}",
    ]
    cancelled = [
        m.occurrence_start
        for m in occurrences
        if m.status == MaintenanceStatus.CANCELLED and not series.cancelled_at
    ]
    if cancelled:
        body.append(f"EXDATE;{tzid}:" + ",".join(local_stamp(at) for at in sorted(cancelled)))
    body.append("END:VEVENT")
    for occurrence in occurrences:
        moved = (
            occurrence.starts_at != occurrence.occurrence_start
            or occurrence.ends_at - occurrence.starts_at != series.duration
            or occurrence.title != series.title
        )
        if not moved or occurrence.status == MaintenanceStatus.CANCELLED:
            continue
        override = event_lines(occurrence, host)
        override[1] = uid
        override.insert(2, f"RECURRENCE-ID;{tzid}:{local_stamp(occurrence.occurrence_start)}")
        body += override
    return body


def calendar_text(now: datetime | None = None) -> str:
    """The whole calendar: public windows that end after `now - HISTORY`."""
    now = now or timezone.now()
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    maintenances = (
        Maintenance.objects.public()
        .filter(ends_at__gte=now - HISTORY)
        .prefetch_related(Prefetch("components", queryset=Component.objects.public()))
        .order_by("starts_at", "id")
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(settings.SITE_NAME)}//Maintenance//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(settings.SITE_NAME)}: maintenance",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    by_series: dict[int, list[Maintenance]] = {}
    events: list[str] = []
    for maintenance in maintenances:
        if maintenance.series_id is None:
            events.extend(event_lines(maintenance, host))
        else:
            by_series.setdefault(maintenance.series_id, []).append(maintenance)
    if by_series:
        series = MaintenanceSeries.objects.in_bulk(list(by_series))
        lines.extend(timezone_lines(min(s.first_starts_at for s in series.values())))
        for series_id, occurrences in by_series.items():
            events.extend(series_lines(series[series_id], occurrences, host))
    lines.extend(events)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


@require_safe
@public_cache(cors=True)
def maintenance_calendar(request: HttpRequest) -> HttpResponse:
    return HttpResponse(calendar_text(), content_type="text/calendar; charset=utf-8")
