"""The front page (`/`), loaded in a fixed number of queries.

It reads current state and rollups only (`Component.status`, `ComponentDay`, the probe
rollups), never raw probe results, with one query per kind of row whatever the number of
components or the length of history, and returns a `view_models.PageSummary`: names already in
the visitor's language, internal-only rows already left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from monitors import stall as monitoring
from statuspage import status as rules
from statuspage import times
from statuspage.languages import pick, uses_second_language
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    Component,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Journey,
    Maintenance,
    MaintenanceStatus,
)
from statuspage.public import queries, selfcheck, uptime
from statuspage.public.component_charts import with_charts
from statuspage.public.view_models import (
    BAR_DAYS,
    GroupView,
    IncidentView,
    JourneyView,
    MaintenanceView,
    PageSummary,
    component_view,
    fold_series,
    incident_view,
    maintenance_view,
    update_views,
)

RECENT_DAYS = 14


def attach_updates(incidents: list[IncidentView], use_alt: bool, since: datetime) -> None:
    """Give each incident its timeline, newest first (one query for all of them)."""
    by_id = {i.id: i for i in incidents}
    updates = IncidentUpdate.objects.filter(incident_id__in=list(by_id)).filter(
        Q(incident__status__in=OPEN_INCIDENT_STATUSES) | Q(incident__resolved_at__gte=since)
    )
    for update in updates.order_by("-display_at", "-id"):
        view = by_id.get(update.incident_id)
        if view is not None:
            view.updates.extend(update_views([update], use_alt))


def load_page(now: datetime | None = None) -> PageSummary:
    """Everything the front page shows, in thirteen queries."""
    now = now or timezone.now()
    use_alt = uses_second_language()
    today = times.local_day(now)
    first_day = today - timedelta(days=BAR_DAYS - 1)
    bar_start, _ = times.day_bounds(first_day)
    recent_since = now - timedelta(days=RECENT_DAYS)

    components = list(queries.public_components().select_related("group", "status_cause"))  # 1
    by_id = {c.pk: c for c in components}
    names = {c.pk: pick(c.name, c.name_alt, use_alt) for c in components}
    rows = queries.day_rows(None, first_day)  # 2

    # 3: public incidents that are open, recent, or touch the bars, with their components.
    incident_rows = list(
        Incident.objects.public()
        .filter(
            Q(status__in=OPEN_INCIDENT_STATUSES)
            | Q(resolved_at__gte=bar_start)
            | Q(started_at__gte=bar_start)
        )
        .order_by("-started_at", "-id")
    )
    # 4
    links = list(
        IncidentComponent.objects.public()
        .filter(
            Q(incident__status__in=OPEN_INCIDENT_STATUSES)
            | Q(incident__resolved_at__gte=bar_start)
            | Q(incident__started_at__gte=bar_start)
        )
        .values_list(
            "component_id",
            "incident_id",
            "incident__title",
            "incident__title_alt",
            "incident__started_at",
            "incident__resolved_at",
        )
    )
    components_of_incident: dict[int, list[int]] = defaultdict(list)
    for cid, incident_id, *_ in links:
        components_of_incident[incident_id].append(cid)
    by_day = uptime.incident_days(links, now, use_alt)

    component_views = {
        c.pk: component_view(c, rows.get(c.pk, {}), by_day.get(c.pk), now, use_alt)
        for c in components
        if not c.only_show_if_degraded or c.status != rules.OPERATIONAL
    }
    component_views = with_charts(component_views, now, draw=False)  # 5, 6

    incidents = [
        incident_view(
            i, sorted(names[c] for c in components_of_incident[i.pk] if c in names), use_alt
        )
        for i in incident_rows
    ]
    active = [i for i in incidents if i.is_open]
    recent = [
        i for i in incidents if not i.is_open and i.resolved_at and i.resolved_at >= recent_since
    ]
    attach_updates(active + recent, use_alt, recent_since)  # 7

    # 8: maintenance in progress or to come, with the public components it touches.
    maintenances = list(
        Maintenance.objects.public()
        .filter(
            status__in=(MaintenanceStatus.SCHEDULED, *ACTIVE_MAINTENANCE_STATUSES),
        )
        .order_by("starts_at", "id")
    )
    # 9
    maintenance_links: dict[int, list[int]] = defaultdict(list)
    for maintenance_id, cid in Maintenance.components.through.objects.filter(
        maintenance__is_public=True,
        maintenance__status__in=(MaintenanceStatus.SCHEDULED, *ACTIVE_MAINTENANCE_STATUSES),
    ).values_list("maintenance_id", "component_id"):
        maintenance_links[maintenance_id].append(cid)
    maintenance_views = [
        maintenance_view(
            m, sorted(names[c] for c in maintenance_links[m.pk] if c in names), use_alt
        )
        for m in maintenances
    ]

    checked = monitoring.last_checked_by_component(list(by_id))  # 10
    journeys = journey_views(  # 11, 12
        by_id,
        incident_rows,
        components_of_incident,
        maintenances,
        maintenance_links,
        incidents,
        maintenance_views,
        checked,
        use_alt,
    )

    stall = monitoring.open_stall()  # 13
    if stall is not None:
        # Components keep their status, marked with its age.
        for cid, checked_at in checked.items():
            if cid in component_views:
                component_views[cid] = replace(component_views[cid], last_checked_at=checked_at)

    groups: list[GroupView] = []
    for component in components:
        view = component_views.get(component.pk)
        if view is None:
            continue
        group = component.group
        group_name = pick(group.name, group.name_alt, use_alt) if group else None
        if not groups or groups[-1].name != group_name:
            groups.append(GroupView(group_name, []))
        groups[-1].components.append(view)

    story = rules.page_story(
        [c.status for c in components],
        [
            rules.OpenIncidentFacts(
                i.status, i.impact, tuple(by_id[c].status for c in components_of_incident[i.pk])
            )
            for i in incident_rows
            if i.is_open
        ],
        stale=stall is not None,
    )
    return PageSummary(
        story=story,
        groups=groups,
        active_incidents=active,
        recent_incidents=recent,
        active_maintenance=[m for m in maintenance_views if m.is_active],
        upcoming_maintenance=fold_series(
            sorted((m for m in maintenance_views if not m.is_active), key=lambda m: m.starts_at)
        ),
        journeys=journeys,
        monitoring_stalled_since=stall.started_at if stall is not None else None,
    )


def journey_views(
    components: dict[int, Component],
    incident_rows: list[Incident],
    components_of_incident: dict[int, list[int]],
    maintenances: list[Maintenance],
    maintenance_links: dict[int, list[int]],
    incident_views: list[IncidentView],
    maintenance_views: list[MaintenanceView],
    checked: dict[int, datetime],
    use_alt: bool,
) -> list[JourneyView]:
    """The self-check panel: each journey's state (see `selfcheck.journey_state`), from the
    journeys (two queries) and what the page has already loaded."""
    needs: dict[int, set[int]] = defaultdict(set)
    for journey_id, cid in Journey.components.through.objects.values_list(
        "journey_id", "component_id"
    ):
        needs[journey_id].add(cid)
    states = {
        cid: selfcheck.ComponentState(c.status, c.status_since, c.status_cause_id)
        for cid, c in components.items()
    }
    open_incidents = [
        selfcheck.OpenIncident(
            i.pk, i.started_at, frozenset(components_of_incident[i.pk]), i.status
        )
        for i in incident_rows
        if i.is_open
    ]
    windows = [
        selfcheck.Window(
            m.pk,
            m.status in ACTIVE_MAINTENANCE_STATUSES,
            m.starts_at,
            m.ends_at,
            frozenset(maintenance_links[m.pk]),
        )
        for m in maintenances
    ]
    incident_by_id = {v.id: v for v in incident_views}
    maintenance_by_id = {v.id: v for v in maintenance_views}
    result = []
    for journey in Journey.objects.order_by("position", "name"):
        state = selfcheck.journey_state(needs[journey.pk], states, open_incidents, windows)
        # The journey is known to work as of its least recently checked component.
        checks = [checked[cid] for cid in needs[journey.pk] if cid in checked]
        result.append(
            JourneyView(
                name=pick(journey.name, journey.name_alt, use_alt),
                state=state.state,
                status=state.status,
                since=state.since,
                until=state.until,
                incidents=[incident_by_id[i] for i in state.incident_ids],
                maintenances=[maintenance_by_id[m] for m in state.maintenance_ids],
                planned=maintenance_by_id.get(state.planned_id),
                checked_at=min(checks, default=None),
            )
        )
    return result
