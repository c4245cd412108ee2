"""What the incident, maintenance, component and history pages show, each in a fixed number
of queries; the front page is `front_page`, the view models they share `view_models`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.utils import timezone

from statuspage import times
from statuspage.languages import pick, uses_second_language
from statuspage.models import (
    Component,
    Incident,
    IncidentComponent,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
)
from statuspage.public import queries, uptime
from statuspage.public.component_charts import with_charts
from statuspage.public.view_models import (
    ComponentView,
    IncidentView,
    MaintenanceView,
    component_view,
    incident_view,
    maintenance_view,
    update_views,
)

MONTHS_PER_HISTORY_PAGE = 3
# A recurring maintenance's page lists this many of its next windows.
LATER_WINDOWS = 6


def public_component_names(use_alt: bool) -> dict[int, str]:
    return {
        pk: pick(name, alt, use_alt)
        for pk, name, alt in Component.objects.public().values_list("id", "name", "name_alt")
    }


def load_incident(incident: Incident) -> IncidentView:
    """A public incident with its full timeline and affected public components."""
    use_alt = uses_second_language()
    names = [
        pick(name, alt, use_alt)
        for name, alt in IncidentComponent.objects.filter(
            incident=incident, component__is_public=True
        )
        .order_by("component__group__position", "component__position", "component__name")
        .values_list("component__name", "component__name_alt")
    ]
    updates = update_views(incident.updates.order_by("-display_at", "-id"), use_alt)
    return incident_view(incident, names, use_alt, updates)


def load_maintenance(maintenance: Maintenance) -> MaintenanceView:
    """A public maintenance with its updates and the public components it touches."""
    use_alt = uses_second_language()
    names = [
        pick(name, alt, use_alt)
        for name, alt in maintenance.components.filter(is_public=True).values_list(
            "name", "name_alt"
        )
    ]
    updates = update_views(
        MaintenanceUpdate.objects.filter(maintenance=maintenance).order_by("-display_at", "-id"),
        use_alt,
    )
    view = maintenance_view(maintenance, names, use_alt, updates)
    if maintenance.series_id is None:
        return view
    # The series' next windows, as the front page's card lists them.
    later_starts = (
        Maintenance.objects.public()
        .filter(
            series_id=maintenance.series_id,
            status=MaintenanceStatus.SCHEDULED,
            starts_at__gt=maintenance.starts_at,
        )
        .order_by("starts_at")
        .values_list("starts_at", flat=True)[:LATER_WINDOWS]
    )
    return replace(view, later_starts=list(later_starts))


@dataclass
class ComponentPage:
    component: ComponentView
    months: list[uptime.MonthUptime]
    incidents: list[IncidentView]
    group_name: str | None


def load_component(component: Component, now: datetime | None = None) -> ComponentPage:
    """A public component: its 90-day bar, charts, uptime by month over a year, incidents."""
    now = now or timezone.now()
    use_alt = uses_second_language()
    today = times.local_day(now)
    year_start = today - timedelta(days=364)
    rows = queries.day_rows([component.pk], year_start).get(component.pk, {})
    incidents = list(
        Incident.objects.public()
        .filter(affected__component=component)
        .order_by("-started_at", "-id")[:50]
    )
    links = [
        (component.pk, i.pk, i.title, i.title_alt, i.started_at, i.resolved_at) for i in incidents
    ]
    by_day = uptime.incident_days(links, now, use_alt).get(component.pk)
    year = component_view(component, rows, by_day, now, use_alt, days=365)
    view = with_charts({component.pk: component_view(component, rows, by_day, now, use_alt)}, now)[
        component.pk
    ]
    group = component.group
    return ComponentPage(
        component=view,
        months=uptime.uptime_by_month(year.segments),
        incidents=[incident_view(i, [view.name], use_alt) for i in incidents],
        group_name=pick(group.name, group.name_alt, use_alt) if group else None,
    )


@dataclass
class HistoryMonth:
    month: date
    incidents: list[IncidentView]
    maintenances: list[MaintenanceView]


@dataclass
class HistoryPage:
    page: int
    months: list[HistoryMonth]
    has_older: bool

    @property
    def has_newer(self) -> bool:
        return self.page > 1


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def load_history(page: int, now: datetime | None = None) -> HistoryPage:
    """Incidents and maintenance by month, MONTHS_PER_HISTORY_PAGE months per page, newest
    first: page 1 ends with the current month."""
    now = now or timezone.now()
    use_alt = uses_second_language()
    this_month = times.local_day(now).replace(day=1)
    newest = add_months(this_month, -(page - 1) * MONTHS_PER_HISTORY_PAGE)
    oldest = add_months(newest, -(MONTHS_PER_HISTORY_PAGE - 1))
    window_start, _ = times.day_bounds(oldest)
    window_end, _ = times.day_bounds(add_months(newest, 1))

    names = public_component_names(use_alt)
    incidents = list(
        Incident.objects.public()
        .filter(started_at__gte=window_start, started_at__lt=window_end)
        .order_by("-started_at", "-id")
    )
    incident_components: dict[int, list[str]] = defaultdict(list)
    for incident_id, cid in (
        IncidentComponent.objects.public()
        .filter(
            incident__started_at__gte=window_start,
            incident__started_at__lt=window_end,
        )
        .values_list("incident_id", "component_id")
    ):
        if cid in names:
            incident_components[incident_id].append(names[cid])
    maintenances = list(
        Maintenance.objects.public()
        .filter(starts_at__gte=window_start, starts_at__lt=window_end)
        .order_by("-starts_at", "-id")
    )
    maintenance_components: dict[int, list[str]] = defaultdict(list)
    for maintenance_id, cid in Maintenance.components.through.objects.filter(
        maintenance__is_public=True,
        maintenance__starts_at__gte=window_start,
        maintenance__starts_at__lt=window_end,
    ).values_list("maintenance_id", "component_id"):
        if cid in names:
            maintenance_components[maintenance_id].append(names[cid])
    # One query, so that the page costs the same whether or not there is older history.
    has_older = (
        Incident.objects.public()
        .filter(started_at__lt=window_start)
        .values_list("id")
        .union(Maintenance.objects.public().filter(starts_at__lt=window_start).values_list("id"))
        .exists()
    )

    months = []
    for offset in range(MONTHS_PER_HISTORY_PAGE):
        month = add_months(newest, -offset)
        months.append(
            HistoryMonth(
                month=month,
                incidents=[
                    incident_view(i, sorted(incident_components[i.pk]), use_alt)
                    for i in incidents
                    if times.local_day(i.started_at).replace(day=1) == month
                ],
                maintenances=[
                    maintenance_view(m, sorted(maintenance_components[m.pk]), use_alt)
                    for m in maintenances
                    if times.local_day(m.starts_at).replace(day=1) == month
                ],
            )
        )
    return HistoryPage(page=page, months=months, has_older=has_older)
