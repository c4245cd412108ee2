"""Statuspage's public API v2 (`/api/v2/*.json`), with its field names, nesting, enumerations
and time format, so that tools built for Statuspage pages work against ours unchanged.

Only public data: internal-only components are left out of every list (and out of incidents'
affected components), internal-only incidents and maintenances never appear, internal notes
are never read. Every endpoint runs a fixed number of queries whatever the size of the page.

Ids are strings. Components keep their primary key; groups, maintenances and maintenance
updates live in other tables, so they carry a prefix (`g`, `m`) to stay distinct from the
component and incident ids they share a list or a namespace with.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from monitors.models import MonitoringStall
from statuspage import status as rules
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    Component,
    ComponentGroup,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
    SiteState,
)
from statuspage.public import queries
from statuspage.public.caching import public_cache
from statuspage.public.visibility import internal_component_ids, public_affected_components

RECENT_LIMIT = 50

# Statuspage has no "cancelled": its consumers only know these four. A cancelled window is
# left out of the API (it disappears from `upcoming`, which is what a consumer acts on).
LISTED_MAINTENANCE_STATUSES = (
    MaintenanceStatus.SCHEDULED,
    MaintenanceStatus.IN_PROGRESS,
    MaintenanceStatus.VERIFYING,
    MaintenanceStatus.COMPLETED,
)
UPCOMING_OR_ACTIVE = (MaintenanceStatus.SCHEDULED, *ACTIVE_MAINTENANCE_STATUSES)

# What Statuspage itself posts when a maintenance moves without a message from staff.
DEFAULT_MAINTENANCE_BODIES = {
    MaintenanceStatus.SCHEDULED: "This maintenance has been scheduled.",
    MaintenanceStatus.IN_PROGRESS: (
        "Scheduled maintenance is currently in progress. We will provide updates as necessary."
    ),
    MaintenanceStatus.VERIFYING: "Verification is currently underway for the maintenance items.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
}


# --- formatting ---------------------------------------------------------------------------------


def api_time(moment: datetime | None) -> str | None:
    """Statuspage's time format: ISO 8601 in the page's time zone, with milliseconds."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="milliseconds")


def api_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def group_id(group_pk: int) -> str:
    return f"g{group_pk}"


def maintenance_id(maintenance_pk: int) -> str:
    return f"m{maintenance_pk}"


def page_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- page and status ----------------------------------------------------------------------------


def page_object(state: SiteState) -> dict:
    return {
        "id": settings.PAGE_ID,
        "name": settings.SITE_NAME,
        "url": settings.SITE_URL,
        "time_zone": settings.TIME_ZONE,
        "updated_at": api_time(state.changed_at),
    }


def site_state() -> SiteState:
    """The single SiteState row, without creating it (a read-only request must not write)."""
    return SiteState.objects.filter(pk=1).first() or SiteState(pk=1)


def status_object(story: rules.PageStory) -> dict:
    """Statuspage's `status`, plus the page's story in one word (`story`: none, minor, major,
    critical, maintenance, recovering, stalled, or a problem with `-stalled`) and whether the
    automatic checks are delayed: extra fields, which Statuspage's consumers ignore."""
    return {
        "indicator": story.indicator,
        "description": story.description,
        "story": story.key,
        "checks_delayed": story.stale,
    }


# --- components ---------------------------------------------------------------------------------


def component_object(component: Component) -> dict:
    return {
        "id": str(component.pk),
        "page_id": settings.PAGE_ID,
        "group_id": group_id(component.group_id) if component.group_id else None,
        "group": False,
        "name": component.name,
        "description": component.description or None,
        "position": component.position,
        "status": component.status,
        "showcase": True,
        "only_show_if_degraded": component.only_show_if_degraded,
        "start_date": api_date(component.start_date),
        "created_at": api_time(component.created_at),
        "updated_at": api_time(max(component.updated_at, component.status_since)),
    }


def group_object(group: ComponentGroup, children: list[Component]) -> dict:
    return {
        "id": group_id(group.pk),
        "page_id": settings.PAGE_ID,
        "group_id": None,
        "group": True,
        "name": group.name,
        "description": group.description or None,
        "position": group.position,
        "status": rules.worst(c.status for c in children),
        "showcase": False,
        "only_show_if_degraded": False,
        "start_date": None,
        "created_at": api_time(group.created_at),
        "updated_at": api_time(max([group.updated_at, *(c.updated_at for c in children)])),
        "components": [str(c.pk) for c in children],
    }


def component_list(components: list[Component]) -> list[dict]:
    """Groups (with at least one public child) and components, as Statuspage lists them: each
    group followed by its children, in position order."""
    groups = {g.pk: g for g in ComponentGroup.objects.all()}
    children: dict[int, list[Component]] = {}
    for component in components:
        if component.group_id is not None:
            children.setdefault(component.group_id, []).append(component)
    listed: list[dict] = []
    seen_groups: set[int] = set()
    for component in components:
        gid = component.group_id
        if gid is not None and gid not in seen_groups and gid in groups:
            seen_groups.add(gid)
            listed.append(group_object(groups[gid], children[gid]))
        listed.append(component_object(component))
    return listed


# --- incidents ----------------------------------------------------------------------------------


def incident_queryset() -> QuerySet[Incident]:
    """Public incidents with their updates and public affected components, prefetched."""
    return Incident.objects.public().prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-display_at", "-id")),
        Prefetch(
            "affected",
            queryset=IncidentComponent.objects.filter(component__is_public=True)
            .select_related("component")
            .order_by("component__position", "component__name"),
        ),
    )


def incident_update_object(update: IncidentUpdate, internal_ids: frozenset[str]) -> dict:
    affected = public_affected_components(update.affected_components, internal_ids)
    return {
        "id": str(update.pk),
        "incident_id": str(update.incident_id),
        "status": update.status,
        "body": update.body,
        "created_at": api_time(update.created_at),
        "updated_at": api_time(update.updated_at),
        "display_at": api_time(update.display_at),
        "affected_components": affected or None,
        "deliver_notifications": update.notify_subscribers,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_object(incident: Incident, internal_ids: frozenset[str]) -> dict:
    components = [link.component for link in incident.affected.all()]
    return {
        "id": str(incident.pk),
        "page_id": settings.PAGE_ID,
        "name": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "created_at": api_time(incident.created_at),
        "updated_at": api_time(incident.updated_at),
        "started_at": api_time(incident.started_at),
        "monitoring_at": api_time(incident.monitoring_at),
        "resolved_at": api_time(incident.resolved_at),
        "shortlink": page_url(f"/incidents/{incident.pk}"),
        "components": [component_object(c) for c in components],
        "incident_updates": [
            incident_update_object(u, internal_ids) for u in incident.updates.all()
        ],
    }


# --- scheduled maintenances ---------------------------------------------------------------------


def maintenance_queryset() -> QuerySet[Maintenance]:
    return (
        Maintenance.objects.public()
        .filter(status__in=LISTED_MAINTENANCE_STATUSES)
        .prefetch_related(
            Prefetch("updates", queryset=MaintenanceUpdate.objects.order_by("-display_at", "-id")),
            Prefetch(
                "components",
                queryset=Component.objects.public().order_by("position", "name"),
            ),
        )
    )


def maintenance_update_object(update: MaintenanceUpdate) -> dict:
    return {
        "id": maintenance_id(update.pk),
        "incident_id": maintenance_id(update.maintenance_id),
        "status": update.status,
        "body": update.body or DEFAULT_MAINTENANCE_BODIES.get(update.status, ""),
        "created_at": api_time(update.created_at),
        "updated_at": api_time(update.created_at),
        "display_at": api_time(update.display_at),
        "affected_components": None,
        "deliver_notifications": update.notify_subscribers,
        "custom_tweet": None,
        "tweet_id": None,
    }


def maintenance_object(maintenance: Maintenance) -> dict:
    return {
        "id": maintenance_id(maintenance.pk),
        "page_id": settings.PAGE_ID,
        "name": maintenance.title,
        "status": maintenance.status,
        "impact": "maintenance",
        "created_at": api_time(maintenance.created_at),
        "updated_at": api_time(maintenance.updated_at),
        "started_at": api_time(maintenance.started_at or maintenance.starts_at),
        "monitoring_at": None,
        "resolved_at": api_time(maintenance.completed_at),
        "shortlink": page_url(f"/maintenance/{maintenance.pk}"),
        "scheduled_for": api_time(maintenance.starts_at),
        "scheduled_until": api_time(maintenance.ends_at),
        "components": [component_object(c) for c in maintenance.components.all()],
        "incident_updates": [maintenance_update_object(u) for u in maintenance.updates.all()],
    }


# --- the documents ------------------------------------------------------------------------------


def summary_document() -> dict:
    """The body of summary.json (also used by the static snapshot and the page's refresher)."""
    components = list(queries.public_components())
    incidents = list(incident_queryset().filter(status__in=OPEN_INCIDENT_STATUSES))
    internal = internal_component_ids()
    maintenances = list(
        maintenance_queryset().filter(status__in=UPCOMING_OR_ACTIVE).order_by("starts_at", "id")
    )
    return {
        "page": page_object(site_state()),
        "components": component_list(components),
        "incidents": [incident_object(i, internal) for i in incidents],
        "scheduled_maintenances": [maintenance_object(m) for m in maintenances],
        "status": status_object(
            rules.page_story(
                (c.status for c in components),
                queries.incident_facts(incidents),
                stale=MonitoringStall.objects.current() is not None,
            )
        ),
    }


def api_response(body: dict) -> JsonResponse:
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def incidents_response(incidents: QuerySet[Incident]) -> JsonResponse:
    internal = internal_component_ids()
    return api_response(
        {
            "page": page_object(site_state()),
            "incidents": [incident_object(i, internal) for i in incidents],
        }
    )


def maintenances_response(maintenances: QuerySet[Maintenance]) -> JsonResponse:
    return api_response(
        {
            "page": page_object(site_state()),
            "scheduled_maintenances": [maintenance_object(m) for m in maintenances],
        }
    )


@require_safe
@public_cache(cors=True)
def summary(request: HttpRequest) -> JsonResponse:
    return api_response(summary_document())


@require_safe
@public_cache(cors=True)
def status(request: HttpRequest) -> JsonResponse:
    return api_response(
        {"page": page_object(site_state()), "status": status_object(queries.page_story())}
    )


@require_safe
@public_cache(cors=True)
def components(request: HttpRequest) -> JsonResponse:
    return api_response(
        {
            "page": page_object(site_state()),
            "components": component_list(list(queries.public_components())),
        }
    )


@require_safe
@public_cache(cors=True)
def incidents(request: HttpRequest) -> JsonResponse:
    return incidents_response(incident_queryset().order_by("-started_at", "-id")[:RECENT_LIMIT])


@require_safe
@public_cache(cors=True)
def unresolved_incidents(request: HttpRequest) -> JsonResponse:
    return incidents_response(
        incident_queryset().filter(status__in=OPEN_INCIDENT_STATUSES).order_by("-started_at")
    )


@require_safe
@public_cache(cors=True)
def scheduled_maintenances(request: HttpRequest) -> JsonResponse:
    return maintenances_response(
        maintenance_queryset().order_by("-starts_at", "-id")[:RECENT_LIMIT]
    )


@require_safe
@public_cache(cors=True)
def upcoming_maintenances(request: HttpRequest) -> JsonResponse:
    return maintenances_response(
        maintenance_queryset().filter(status=MaintenanceStatus.SCHEDULED).order_by("starts_at")
    )


@require_safe
@public_cache(cors=True)
def active_maintenances(request: HttpRequest) -> JsonResponse:
    return maintenances_response(
        maintenance_queryset()
        .filter(status__in=ACTIVE_MAINTENANCE_STATUSES)
        .order_by("starts_at", "id")
    )
