"""/api/v1/reports/availability: the availability report as JSON (statuspage.reports), the
same figures as the console's /console/reports/ HTML and CSV."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from statuspage import reports
from statuspage.api.errors import ERROR_RESPONSES
from statuspage.languages import uses_second_language

router = Router(tags=["reports"])


class AvailabilityQuery(Schema):
    start: date = Field(..., alias="from", description="The first day, YYYY-MM-DD (local).")
    end: date = Field(..., alias="to", description="The last day, included.")
    lang: Literal["en", "zh-hans"] = Field("en", description="The language of the incident titles.")


class UptimePercent(Schema):
    maintenance_excluded: float | None
    maintenance_included: float | None


class IncidentLineOut(Schema):
    id: int
    title: str
    impact: str
    component_status: str
    started_at: str
    resolved_at: str | None
    duration_minutes: int | None


class ComponentAvailability(Schema):
    component: str
    name: str
    name_alt: str
    tracked_minutes: int
    uptime_percent: UptimePercent
    minutes: dict[str, int]
    incidents: list[IncidentLineOut]
    time_to_recovery_minutes: int | None


class AvailabilityOut(Schema):
    start: date = Field(..., serialization_alias="from")
    end: date = Field(..., serialization_alias="to")
    time_zone: str
    rule: str
    components: list[ComponentAvailability]


RULE = (
    "A major outage is downtime, a partial outage 30 % downtime, degraded performance is not; "
    "maintenance_excluded does not count announced maintenance as downtime (the public page's "
    "figure), maintenance_included does. Days before a component was tracked are left out."
)


@router.get("/availability", response={200: AvailabilityOut, **ERROR_RESPONSES}, by_alias=True)
def availability(request: HttpRequest, query: Query[AvailabilityQuery]):
    """Per public component, over local days `from` to `to` (at most 366): uptime with
    maintenance excluded and included, minutes in each status, incidents with their duration,
    and the mean time to recovery."""
    error = reports.range_error(query.start, query.end, timezone.localdate())
    if error:
        raise ValidationError({error[0]: [error[1]]})
    rows = reports.availability(
        query.start, query.end, timezone.now(), uses_second_language(query.lang)
    )
    return {
        "start": query.start,
        "end": query.end,
        "time_zone": timezone.get_current_timezone_name(),
        "rule": RULE,
        "components": [reports.as_json(row) for row in rows],
    }
