"""What the public pages display: frozen view models, and how a row becomes one.

A view model holds texts already in the visitor's language and only what the public may see;
templates show it as it is. The loaders (`front_page`, `detail_pages`) read the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from statuspage import status as rules
from statuspage.languages import pick
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    Component,
    Incident,
    Maintenance,
)
from statuspage.public import charts, uptime
from statuspage.public.visibility import public_cause_name

BAR_DAYS = 90

STATUS_WORDS = {
    rules.OPERATIONAL: _("Operational"),
    rules.DEGRADED: _("Degraded performance"),
    rules.PARTIAL: _("Partial outage"),
    rules.MAJOR: _("Major outage"),
    rules.MAINTENANCE: _("Under maintenance"),
}


@dataclass(frozen=True)
class ChartView:
    label: str  # "24h" or "7d"
    svg: str  # empty on the front page, which links to the chart as a file (`url`)
    summary: charts.ChartSummary
    url: str = ""
    alt: str = ""


@dataclass(frozen=True)
class ComponentView:
    id: int
    slug: str
    name: str
    description: str
    status: str
    status_since: datetime
    cause_name: str | None
    segments: list[uptime.DaySegment]  # the uptime bar (`uptime_bars` draws it)
    uptime: float | None
    has_probes: bool = False
    charts: list[ChartView] = field(default_factory=list)
    # Shown only while monitoring is stalled: the status is the last known one, as of then.
    last_checked_at: datetime | None = None

    @property
    def uptime_text(self) -> str:
        return uptime.format_percent(self.uptime)

    @property
    def is_failing(self) -> bool:
        return self.status != rules.OPERATIONAL


@dataclass(frozen=True)
class GroupView:
    name: str | None
    components: list[ComponentView]

    @property
    def status(self) -> str:
        return rules.worst(c.status for c in self.components)


@dataclass(frozen=True)
class UpdateView:
    status: str
    body: str
    display_at: datetime


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    status: str
    impact: str
    started_at: datetime
    resolved_at: datetime | None
    component_names: list[str]
    updates: list[UpdateView] = field(default_factory=list)
    postmortem: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INCIDENT_STATUSES


@dataclass(frozen=True)
class MaintenanceView:
    id: int
    title: str
    description: str
    status: str
    starts_at: datetime
    ends_at: datetime
    component_names: list[str]
    updates: list[UpdateView] = field(default_factory=list)
    series_id: int | None = None  # an occurrence of a recurring maintenance
    later_starts: list[datetime] = field(default_factory=list)  # its series' next windows

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_MAINTENANCE_STATUSES


@dataclass(frozen=True)
class JourneyView:
    """One line of the "is it me or the system?" panel."""

    name: str
    state: str  # "works", "affected", "maintenance" or "recovering"
    status: str = rules.OPERATIONAL  # the worst of its components: the icon
    since: datetime | None = None
    until: datetime | None = None
    incidents: list[IncidentView] = field(default_factory=list)
    maintenances: list[MaintenanceView] = field(default_factory=list)
    planned: MaintenanceView | None = None  # upcoming maintenance that will touch it
    checked_at: datetime | None = None  # when all its probed components were last checked


@dataclass(frozen=True)
class PageSummary:
    """The front page."""

    story: rules.PageStory
    groups: list[GroupView]
    active_incidents: list[IncidentView]
    recent_incidents: list[IncidentView]
    active_maintenance: list[MaintenanceView]
    upcoming_maintenance: list[MaintenanceView]
    journeys: list[JourneyView]
    # Set while monitoring is stalled (monitors.stall): the statuses may be out of date.
    monitoring_stalled_since: datetime | None = None

    @property
    def indicator(self) -> str:
        return self.story.indicator

    @property
    def journeys_all_work(self) -> bool:
        return all(j.state == "works" for j in self.journeys)

    @property
    def journeys_recovering(self) -> bool:
        """Nothing fails, but a fix is being watched on some journey."""
        states = {j.state for j in self.journeys}
        return "recovering" in states and states <= {"works", "recovering"}

    @property
    def components(self) -> list[ComponentView]:
        return [c for g in self.groups for c in g.components]


# --- from rows ---------------------------------------------------------------------------------


def component_view(
    component: Component,
    rows: dict,
    incidents_by_day,
    now: datetime,
    use_alt: bool,
    days: int = BAR_DAYS,
) -> ComponentView:
    """A component with its bar of the last `days` days, from its daily rollups (`rows`)."""
    segments = uptime.build_segments(
        rows,
        now=now,
        days=days,
        tracked_since=uptime.tracked_since(component),
        current_status=component.status,
        status_since=component.status_since,
        incidents_by_day=incidents_by_day,
    )
    return ComponentView(
        id=component.pk,
        slug=component.slug,
        name=pick(component.name, component.name_alt, use_alt),
        description=pick(component.description, component.description_alt, use_alt),
        status=component.status,
        status_since=component.status_since,
        cause_name=public_cause_name(component, use_alt),
        segments=segments,
        uptime=uptime.uptime_percent(segments),
    )


def incident_view(
    incident: Incident, names: list[str], use_alt: bool, updates: list[UpdateView] | None = None
) -> IncidentView:
    return IncidentView(
        id=incident.pk,
        title=pick(incident.title, incident.title_alt, use_alt),
        status=incident.status,
        impact=incident.impact,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        component_names=names,
        updates=updates if updates is not None else [],
        postmortem=pick(incident.postmortem, incident.postmortem_alt, use_alt)
        if incident.postmortem_published_at
        else "",
    )


def maintenance_view(
    maintenance: Maintenance,
    names: list[str],
    use_alt: bool,
    updates: list[UpdateView] | None = None,
) -> MaintenanceView:
    return MaintenanceView(
        id=maintenance.pk,
        title=pick(maintenance.title, maintenance.title_alt, use_alt),
        description=pick(maintenance.description, maintenance.description_alt, use_alt),
        status=maintenance.status,
        starts_at=maintenance.starts_at,
        ends_at=maintenance.ends_at,
        component_names=names,
        updates=updates if updates is not None else [],
        series_id=maintenance.series_id,
    )


def update_views(updates, use_alt: bool) -> list[UpdateView]:
    return [UpdateView(u.status, pick(u.body, u.body_alt, use_alt), u.display_at) for u in updates]


def fold_series(views: list[MaintenanceView]) -> list[MaintenanceView]:
    """One card per recurring maintenance: its next window, with the later ones listed on it
    (views come in start order)."""
    folded: list[MaintenanceView] = []
    first_of: dict[int, MaintenanceView] = {}
    for view in views:
        if view.series_id is not None and view.series_id in first_of:
            first_of[view.series_id].later_starts.append(view.starts_at)
            continue
        if view.series_id is not None:
            first_of[view.series_id] = view
        folded.append(view)
    return folded
