"""Reads that several public surfaces share, so that they tell the same story."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet

from monitors.models import MonitoringStall
from statuspage import status as rules
from statuspage.models import (
    OPEN_INCIDENT_STATUSES,
    Component,
    ComponentDay,
    Incident,
    IncidentComponent,
)
from statuspage.public import uptime


def public_components() -> QuerySet[Component]:
    """Public components in display order: by group, then by position within the group."""
    return Component.objects.public().order_by(
        "group__position", "group__name", "group_id", "position", "name"
    )


def day_rows(component_ids, first_day: date) -> dict[int, dict[date, uptime.DayTotals]]:
    """The daily rollups since `first_day` of public components, all of them when
    `component_ids` is None (one query)."""
    rows: dict[int, dict[date, uptime.DayTotals]] = defaultdict(dict)
    values = ComponentDay.objects.filter(day__gte=first_day, component__is_public=True)
    if component_ids is not None:
        values = values.filter(component_id__in=component_ids)
    for cid, day, worst, degraded, partial, major, maint in values.values_list(
        "component_id",
        "day",
        "worst_status",
        "degraded_seconds",
        "partial_seconds",
        "major_seconds",
        "maintenance_seconds",
    ):
        rows[cid][day] = uptime.DayTotals(worst, degraded, partial, major, maint)
    return rows


def incident_facts(incidents: Iterable[Incident]) -> list[rules.OpenIncidentFacts]:
    """The story's view of open public incidents whose `affected` links (public components,
    with the component) are prefetched or cheap to read."""
    return [
        rules.OpenIncidentFacts(
            incident.status,
            incident.impact,
            tuple(link.component.status for link in incident.affected.all()),
        )
        for incident in incidents
    ]


def open_incident_facts() -> list[rules.OpenIncidentFacts]:
    """Every open public incident with what its public components show now (two queries)."""
    incidents = list(
        Incident.objects.public()
        .filter(status__in=OPEN_INCIDENT_STATUSES)
        .values_list("pk", "status", "impact")
    )
    statuses: dict[int, list[str]] = defaultdict(list)
    for incident_id, status in (
        IncidentComponent.objects.public()
        .filter(incident_id__in=[pk for pk, _, _ in incidents])
        .values_list("incident_id", "component__status")
    ):
        statuses[incident_id].append(status)
    return [
        rules.OpenIncidentFacts(status, impact, tuple(statuses[pk]))
        for pk, status, impact in incidents
    ]


def page_story() -> rules.PageStory:
    """The page's story from the database (four queries)."""
    statuses = Component.objects.public().values_list("status", flat=True)
    stale = MonitoringStall.objects.current() is not None
    return rules.page_story(list(statuses), open_incident_facts(), stale=stale)
