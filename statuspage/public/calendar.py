"""An iCalendar feed (RFC 5545) of public scheduled maintenance that calendar apps subscribe to.

Written by hand, it is short: CRLF line ends, lines folded at 75 octets, TEXT values escaped,
times in UTC. Each window keeps its UID for its whole life; SEQUENCE grows with every edit so
that clients replace their copy, and a cancelled window stays in the feed as STATUS:CANCELLED so
that subscribers see it go away rather than silently vanish.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from statuspage.models import Component, Maintenance, MaintenanceStatus
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
    for maintenance in maintenances:
        lines.extend(event_lines(maintenance, host))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


@require_safe
@public_cache(cors=True)
def maintenance_calendar(request: HttpRequest) -> HttpResponse:
    return HttpResponse(calendar_text(), content_type="text/calendar; charset=utf-8")
