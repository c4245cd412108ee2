"""What the public pages show, loaded in a fixed number of queries.

Each loader reads current state and rollups only (`Component.status`, `ComponentDay`, the probe
rollups), never raw probe results, with one query per kind of row whatever the number of
components or the length of history, and returns plain objects the templates display as they
are: names already in the visitor's language, internal-only rows already left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from monitors import stall as monitoring
from monitors.models import Probe, ProbeRollup
from statuspage import status as rules
from statuspage.languages import pick, uses_second_language
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    Component,
    ComponentDay,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Journey,
    Maintenance,
    MaintenanceStatus,
)
from statuspage.public import charts, selfcheck, uptime
from statuspage.public.visibility import public_cause_name

BAR_DAYS = 90
RECENT_DAYS = 14


# --- what the templates display ----------------------------------------------------------------


@dataclass
class ComponentView:
    id: int
    slug: str
    name: str
    description: str
    status: str
    status_since: datetime
    cause_name: str | None
    segments: list[uptime.DaySegment]
    uptime: float | None
    has_probes: bool = False
    charts: list[ChartView] = field(default_factory=list)
    # Shown only while monitoring is stalled: the status is the last known one, as of then.
    last_checked_at: datetime | None = None

    @property
    def uptime_text(self) -> str:
        return uptime.format_percent(self.uptime)

    @cached_property
    def bar_html(self) -> SafeString:
        """The 90-day bar's list items, rendered here rather than in the template: 90 days times
        40 components is where the page's size and rendering time would otherwise go.

        Each day is drawn by an empty `<i>`; a list item holds a run of quiet days or a single
        day with something to tell (see `uptime.bar_runs`), with one text that is both what a
        screen reader reads and, on hover or focus, the tooltip. Only the days with something to
        tell take the keyboard focus, so that the page is not 3,600 tab stops long."""
        language = get_language()
        half = len(self.segments) / 2
        start = 0
        items = []
        for run in uptime.bar_runs(self.segments):
            first = run[0]
            # Quiet operational days, most of the bar, are drawn in the default colour.
            classes = [] if first.is_quiet and first.has_data else [f"seg-{first.level}"]
            if first.is_long:
                classes.append("seg-long")
            if start >= half:
                classes.append("tip-end")  # the tooltip opens leftwards, inside the bar
            attributes = f' class="{" ".join(classes)}"' if classes else ""
            if len(run) > 1:
                # A class per run length (status.css), not a style attribute: the page's
                # Content-Security-Policy allows no inline styles.
                attributes += f' data-days="{len(run)}"'
            if not first.is_quiet:
                attributes += ' tabindex="0"'
            items.append(
                f"<li{attributes}><span>{run_text(run, language)}</span>{'<i></i>' * len(run)}</li>"
            )
            start += len(run)
        return mark_safe("".join(items))  # noqa: S308 - levels are fixed names, texts escaped

    @property
    def is_failing(self) -> bool:
        return self.status != rules.OPERATIONAL


@dataclass
class GroupView:
    name: str | None
    components: list[ComponentView]

    @property
    def status(self) -> str:
        return rules.worst(c.status for c in self.components)


@dataclass
class ChartView:
    label: str  # "24h" or "7d"
    svg: str  # empty on the front page, which links to the chart as a file (`url`)
    summary: charts.ChartSummary
    url: str = ""
    alt: str = ""


@dataclass
class UpdateView:
    status: str
    body: str
    display_at: datetime


@dataclass
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


@dataclass
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


@dataclass
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


@dataclass
class PageSummary:
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


STATUS_WORDS = {
    rules.OPERATIONAL: _("Operational"),
    rules.DEGRADED: _("Degraded performance"),
    rules.PARTIAL: _("Partial outage"),
    rules.MAJOR: _("Major outage"),
    rules.MAINTENANCE: _("Under maintenance"),
}


def run_text(run: list[uptime.DaySegment], language: str) -> str:
    """A piece of the bar in words, HTML-escaped: for a day with something to tell, its date,
    uptime, worst status and incidents; for a run of quiet days, its dates and "no incidents"."""
    first = run[0]
    if not first.is_quiet:
        return day_text(first, language)
    uptime_text = uptime.format_percent(uptime.uptime_percent(run))
    return _quiet_text(first.day, run[-1].day, first.has_data, uptime_text, language)


def day_text(segment: uptime.DaySegment, language: str) -> str:
    """One day of the bar in words, HTML-escaped: its date, uptime, worst status, incidents."""
    return _day_text(
        segment.day,
        segment.has_data,
        uptime.format_percent(segment.uptime),
        segment.level,
        tuple(dict.fromkeys(i.title for i in segment.incidents)),
        language,
    )


# A day often reads the same on several bars (an outage upstream, an incident on several
# components): cached, as the bars are where the page's rendering time would otherwise go.
@lru_cache(maxsize=8192)
def _day_text(
    day: date, has_data: bool, uptime_text: str, level: str, titles: tuple, language: str
) -> str:
    label = date_format(day, "DATE_FORMAT")
    if not has_data:
        text = gettext("%(day)s: no data") % {"day": label}
    elif level != rules.OPERATIONAL:
        text = gettext("%(day)s: %(uptime)s uptime, %(status)s") % {
            "day": label,
            "uptime": uptime_text,
            "status": str(STATUS_WORDS[level]).lower(),
        }
    else:
        text = gettext("%(day)s: %(uptime)s uptime") % {"day": label, "uptime": uptime_text}
    if titles:
        # The punctuation between the parts is the language's own (Chinese has its own comma).
        text = gettext("%(day)s; incidents: %(titles)s") % {
            "day": text,
            "titles": ", ".join(titles),
        }
    return escape(text)


@lru_cache(maxsize=4096)
def _quiet_text(first: date, last: date, has_data: bool, uptime_text: str, language: str) -> str:
    label = date_format(first, "DATE_FORMAT")
    if last != first:
        label = gettext("%(first)s – %(last)s") % {
            "first": label,
            "last": date_format(last, "DATE_FORMAT"),
        }
    if not has_data:
        return escape(gettext("%(day)s: no data") % {"day": label})
    text = gettext("%(day)s: %(uptime)s uptime, no incidents")
    return escape(text % {"day": label, "uptime": uptime_text})


# --- loaders -----------------------------------------------------------------------------------


def public_components() -> list[Component]:
    """Public components in display order, with their group and root cause (one query)."""
    return list(
        Component.objects.public()
        .select_related("group", "status_cause")
        .order_by("group__position", "group__name", "group_id", "position", "name")
    )


def day_rows(component_ids, first_day: date) -> dict[int, dict[date, uptime.DayTotals]]:
    """The daily rollups since `first_day` of public components (one query)."""
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


def incident_days(
    links, now: datetime, use_alt: bool
) -> dict[int, dict[date, list[uptime.IncidentRef]]]:
    """For the uptime bars: per component, the public incidents touching each day."""
    by_component: dict[int, dict[date, list[uptime.IncidentRef]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for cid, incident_id, title, title_alt, started, resolved in links:
        ref = uptime.IncidentRef(incident_id, pick(title, title_alt, use_alt))
        day = timezone.localtime(started).date()
        last = timezone.localtime(resolved or now).date()
        while day <= last:
            by_component[cid][day].append(ref)
            day += timedelta(days=1)
    return by_component


def tracked_since(component: Component) -> date:
    if component.start_date:
        return component.start_date
    return timezone.localtime(component.created_at).date()


def component_view(
    component: Component,
    rows: dict[date, uptime.DayTotals],
    incidents_by_day,
    now: datetime,
    use_alt: bool,
    days: int = BAR_DAYS,
) -> ComponentView:
    segments = uptime.build_segments(
        rows,
        now=now,
        days=days,
        tracked_since=tracked_since(component),
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


def incident_view(incident: Incident, names: list[str], use_alt: bool) -> IncidentView:
    return IncidentView(
        id=incident.pk,
        title=pick(incident.title, incident.title_alt, use_alt),
        status=incident.status,
        impact=incident.impact,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        component_names=names,
        postmortem=pick(incident.postmortem, incident.postmortem_alt, use_alt)
        if incident.postmortem_published_at
        else "",
    )


def maintenance_view(maintenance: Maintenance, names: list[str], use_alt: bool) -> MaintenanceView:
    return MaintenanceView(
        id=maintenance.pk,
        title=pick(maintenance.title, maintenance.title_alt, use_alt),
        description=pick(maintenance.description, maintenance.description_alt, use_alt),
        status=maintenance.status,
        starts_at=maintenance.starts_at,
        ends_at=maintenance.ends_at,
        component_names=names,
        series_id=maintenance.series_id,
    )


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


def update_views(updates, use_alt: bool) -> list[UpdateView]:
    return [UpdateView(u.status, pick(u.body, u.body_alt, use_alt), u.display_at) for u in updates]


def attach_updates(incidents: list[IncidentView], use_alt: bool, since: datetime) -> None:
    """Give each incident its timeline, newest first (one query for all of them)."""
    by_id = {i.id: i for i in incidents}
    updates = IncidentUpdate.objects.filter(incident_id__in=list(by_id)).filter(
        Q(incident__status__in=OPEN_INCIDENT_STATUSES) | Q(incident__resolved_at__gte=since)
    )
    for update in updates.order_by("-display_at", "-id"):
        view = by_id.get(update.incident_id)
        if view is not None:
            view.updates.append(update_views([update], use_alt)[0])


def load_page(now: datetime | None = None) -> PageSummary:
    """Everything the front page shows, in thirteen queries."""
    now = now or timezone.now()
    use_alt = uses_second_language()
    today = timezone.localtime(now).date()
    first_day = today - timedelta(days=BAR_DAYS - 1)
    bar_start, _ = uptime.day_bounds(first_day)
    recent_since = now - timedelta(days=RECENT_DAYS)

    components = public_components()  # 1
    by_id = {c.pk: c for c in components}
    names = {c.pk: pick(c.name, c.name_alt, use_alt) for c in components}
    rows = day_rows(None, first_day)  # 2

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
    by_day = incident_days(links, now, use_alt)

    component_views = {
        c.pk: component_view(c, rows.get(c.pk, {}), by_day.get(c.pk), now, use_alt)
        for c in components
        if not c.only_show_if_degraded or c.status != rules.OPERATIONAL
    }
    attach_charts(component_views, now, draw=False)  # 5, 6

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
                component_views[cid].last_checked_at = checked_at

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


CHART_PERIODS = {
    # label: (hours, time format of the axis, ticks)
    "24h": (24, "%H:%M", 4),
    "7d": (24 * 7, "%m-%d", 7),
}


def attach_charts(views: dict[int, ComponentView], now: datetime, *, draw: bool = True) -> None:
    """Response-time charts, last 24 hours and last 7 days, for the components that have
    probes, from the hourly probe rollups (two queries). Without `draw`, only what the
    front page shows beside a chart it links to (the address and the text summary)."""
    with_probes, latency, hour = chart_latency(list(views), now)
    for cid, view in views.items():
        if cid not in with_probes:
            continue
        view.has_probes = True
        view.charts = component_charts(view.name, view.slug, latency.get(cid, {}), hour, draw=draw)


def chart_latency(
    component_ids: list[int], now: datetime
) -> tuple[set[int], dict[int, dict[datetime, float]], datetime]:
    """Which of the public components `component_ids` have enabled probes, their hourly
    average latency over the last 7 days, and the hour the charts end with (two queries)."""
    probes = Probe.objects.filter(
        component__is_public=True, component_id__in=component_ids, is_enabled=True
    )
    rollups = ProbeRollup.objects.filter(
        probe__component__is_public=True, probe__component_id__in=component_ids
    )
    with_probes = set(probes.values_list("component_id", flat=True).distinct())
    # Rollups start on the hour in UTC (whole hours in every zone that has whole-hour offsets).
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    week_start = hour - timedelta(days=7) + timedelta(hours=1)
    latency: dict[int, dict[datetime, float]] = defaultdict(dict)
    rows = (
        rollups.filter(
            period=ProbeRollup.Period.HOUR,
            start__gte=week_start,
            latency_count__gt=0,
        )
        .values("probe__component_id", "start")
        .annotate(total=Sum("latency_sum_ms"), count=Sum("latency_count"))
        .order_by()
    )
    for row in rows:
        latency[row["probe__component_id"]][row["start"]] = row["total"] / row["count"]
    return with_probes, latency, hour


def component_charts(
    name: str,
    slug: str,
    latency: dict[datetime, float],
    hour: datetime,
    *,
    draw: bool = True,
    labels=tuple(CHART_PERIODS),
    standalone: bool = False,
) -> list[ChartView]:
    end = hour + timedelta(hours=1)
    result = []
    for label in labels:
        hours, time_format, ticks = CHART_PERIODS[label]
        start = end - timedelta(hours=hours)
        points = charts.bucket_series(latency, start=start, end=end, step=timedelta(hours=1))
        summary = charts.summarise(points)
        title = (
            gettext("Response time of %(name)s, last 24 hours")
            if hours == 24
            else gettext("Response time of %(name)s, last 7 days")
        ) % {"name": name}
        if summary.samples:
            description = gettext(
                "Hourly average response time: %(average)d ms on average, at most %(maximum)d ms."
            ) % {"average": round(summary.average), "maximum": round(summary.maximum)}
        else:
            description = gettext("No measurements in this period.")
        svg = (
            charts.response_time_svg(
                points,
                start=start,
                end=end,
                title=title,
                description=description,
                time_format=time_format,
                ticks=ticks,
                standalone=standalone,
            )
            if draw
            else ""
        )
        result.append(
            ChartView(
                label,
                svg,
                summary,
                url=f"/components/{slug}/response-time-{label}.svg",
                alt=f"{title}. {description}",
            )
        )
    return result


def load_chart(component: Component, label: str, now: datetime | None = None) -> ChartView | None:
    """One chart of a public component as a document of its own; None when it has no probes."""
    now = now or timezone.now()
    with_probes, latency, hour = chart_latency([component.pk], now)
    if component.pk not in with_probes:
        return None
    name = pick(component.name, component.name_alt, uses_second_language())
    return component_charts(
        name, component.slug, latency.get(component.pk, {}), hour, labels=(label,), standalone=True
    )[0]
