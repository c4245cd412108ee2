"""/api/v1/incidents: list, read, open, edit, post updates, resolve, postmortem, notes."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from statuspage import actions
from statuspage.api.auth import RESPONDER_TOKEN
from statuspage.api.errors import ERROR_RESPONSES, renamed_fields
from statuspage.api.lookups import components_by_ref, find_component, get_by_id
from statuspage.api.schemas import (
    IncidentCreate,
    IncidentEdit,
    IncidentOut,
    IncidentQuery,
    IncidentUpdateCreate,
    NoteCreate,
    NoteOut,
    Postmortem,
    Resolution,
)
from statuspage.models import (
    OPEN_INCIDENT_STATUSES,
    AuditEntry,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    InternalNote,
)

router = Router(tags=["incidents"])

# The service layer's names for what the API calls `name` and `name_alt`.
INCIDENT_FIELDS = {"title": "name", "title_alt": "name_alt"}


def incidents_with_details() -> QuerySet[Incident]:
    return Incident.objects.prefetch_related(
        Prefetch("affected", IncidentComponent.objects.select_related("component")),
        Prefetch("updates", IncidentUpdate.objects.select_related("author")),
        Prefetch("notes", InternalNote.objects.select_related("author")),
    )


def incident_or_404(incident_id: str) -> Incident:
    return get_by_id(incidents_with_details(), incident_id, "incident")


def detailed(incident: Incident) -> Incident:
    return incidents_with_details().get(pk=incident.pk)


def component_statuses(refs_to_status: dict[str, str] | None):
    if refs_to_status is None:
        return None
    found = components_by_ref(refs_to_status)
    return {found[ref]: status for ref, status in refs_to_status.items()}


@router.get("", response={200: list[IncidentOut], **ERROR_RESPONSES})
def list_incidents(request: HttpRequest, filters: Query[IncidentQuery]):
    """Incidents, newest first."""
    incidents = incidents_with_details()
    status = filters.status
    if status in ("open", "unresolved"):
        incidents = incidents.filter(status__in=OPEN_INCIDENT_STATUSES)
    elif status is not None:
        incidents = incidents.filter(status=status)
    if filters.impact is not None:
        incidents = incidents.filter(impact=filters.impact)
    if filters.origin is not None:
        incidents = incidents.filter(origin=filters.origin)
    if filters.component is not None:
        found = find_component(filters.component)
        incidents = incidents.filter(components=found) if found else incidents.none()
    return incidents[filters.offset : filters.offset + filters.limit]


@router.get("/{incident_id}", response={200: IncidentOut, **ERROR_RESPONSES})
def get_incident(request: HttpRequest, incident_id: str):
    return incident_or_404(incident_id)


@router.post("", response={201: IncidentOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN)
def open_incident(request: HttpRequest, payload: IncidentCreate):
    """Open an incident with its first update."""
    with renamed_fields(INCIDENT_FIELDS):
        incident = actions.open_incident(
            title=payload.name,
            title_alt=payload.name_alt,
            body=payload.body,
            body_alt=payload.body_alt,
            status=payload.status,
            impact=payload.impact,
            components=component_statuses(payload.components),
            is_public=payload.is_public,
            notify=payload.deliver_notifications,
            actor=request.auth,
            via=AuditEntry.Via.API,
        )
    return Status(201, detailed(incident))


@router.patch(
    "/{incident_id}", response={200: IncidentOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN
)
def edit_incident(request: HttpRequest, incident_id: str, payload: IncidentEdit):
    """Change an incident's name, impact, visibility or components, without a timeline entry."""
    incident = incident_or_404(incident_id)
    changes = payload.model_dump(exclude_none=True)
    with renamed_fields(INCIDENT_FIELDS):
        incident = actions.edit_incident(
            incident,
            title=changes.get("name"),
            title_alt=changes.get("name_alt"),
            impact=changes.get("impact"),
            is_public=changes.get("is_public"),
            components=component_statuses(payload.components),
            actor=request.auth,
            via=AuditEntry.Via.API,
        )
    return detailed(incident)


@router.post(
    "/{incident_id}/updates", response={201: IncidentOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN
)
def post_update(request: HttpRequest, incident_id: str, payload: IncidentUpdateCreate):
    """Post an update to the timeline, moving the incident to its status (any status: resolved
    resolves it, an open status reopens a resolved one)."""
    incident = incident_or_404(incident_id)
    with renamed_fields(INCIDENT_FIELDS):
        actions.post_incident_update(
            incident,
            status=payload.status,
            body=payload.body,
            body_alt=payload.body_alt,
            impact=payload.impact,
            components=component_statuses(payload.components),
            notify=payload.deliver_notifications,
            actor=request.auth,
            via=AuditEntry.Via.API,
        )
    return Status(201, detailed(incident))


@router.post(
    "/{incident_id}/resolve", response={200: IncidentOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN
)
def resolve_incident(request: HttpRequest, incident_id: str, payload: Resolution):
    incident = incident_or_404(incident_id)
    actions.resolve_incident(
        incident,
        body=payload.body,
        body_alt=payload.body_alt,
        notify=payload.deliver_notifications,
        actor=request.auth,
        via=AuditEntry.Via.API,
    )
    return detailed(incident)


@router.post(
    "/{incident_id}/postmortem",
    response={200: IncidentOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def write_postmortem(request: HttpRequest, incident_id: str, payload: Postmortem):
    """Save the postmortem of a resolved incident; publishing it moves it to postmortem."""
    incident = incident_or_404(incident_id)
    with renamed_fields({"postmortem": "body"}):
        actions.write_postmortem(
            incident,
            body=payload.body,
            body_alt=payload.body_alt,
            publish=payload.publish,
            actor=request.auth,
            via=AuditEntry.Via.API,
        )
    return detailed(incident)


@router.post("/{incident_id}/notes", response={201: NoteOut, **ERROR_RESPONSES})
def add_note(request: HttpRequest, incident_id: str, payload: NoteCreate):
    """An internal note: staff only, never on a public page, feed or the public API."""
    incident = incident_or_404(incident_id)
    note = actions.add_note(
        incident=incident, body=payload.body, actor=request.auth, via=AuditEntry.Via.API
    )
    return Status(201, note)
