"""/api/v1/maintenances: list, read, schedule, edit, start, verify, complete, cancel, notes;
for a recurring one, edit or cancel the whole series."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Status

from statuspage import actions, recurrence
from statuspage.api.auth import RESPONDER_TOKEN
from statuspage.api.errors import ERROR_RESPONSES, renamed_fields
from statuspage.api.lookups import components_by_ref, get_by_id
from statuspage.api.schemas import (
    AltTitle,
    ComponentRef,
    Flag,
    MaintenanceCreate,
    MaintenanceEdit,
    MaintenanceOut,
    MaintenanceQuery,
    MaintenanceTransition,
    NoteCreate,
    NoteOut,
    RequestBody,
    Title,
)
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    AuditEntry,
    InternalNote,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
)

router = Router(tags=["maintenances"])

# The service layer's names for the API's (Statuspage's) field names.
MAINTENANCE_FIELDS = {
    "title": "name",
    "title_alt": "name_alt",
    "starts_at": "scheduled_for",
    "ends_at": "scheduled_until",
}
API_TO_MODEL = {api_name: model_name for model_name, api_name in MAINTENANCE_FIELDS.items()}


def maintenances_with_details() -> QuerySet[Maintenance]:
    return Maintenance.objects.select_related("series").prefetch_related(
        "components",
        Prefetch("updates", MaintenanceUpdate.objects.select_related("author")),
        Prefetch("notes", InternalNote.objects.select_related("author")),
    )


class MaintenanceSeriesEdit(RequestBody):
    """Omitted (or null) fields stay as they are; `components`, when given, replaces them."""

    name: Title | None = None
    name_alt: AltTitle | None = None
    description: str | None = None
    description_alt: str | None = None
    duration_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
    recurrence: str | None = Field(
        None, max_length=500, description="The new RFC 5545 RRULE, from the series' first start."
    )
    components: list[ComponentRef] | None = None
    auto_start: Flag | None = None
    auto_complete: Flag | None = None
    is_public: Flag | None = None


SERIES_FIELDS = {**MAINTENANCE_FIELDS, "duration": "duration_minutes"}


def maintenance_or_404(maintenance_id: str) -> Maintenance:
    return get_by_id(maintenances_with_details(), maintenance_id, "maintenance")


def detailed(maintenance: Maintenance) -> Maintenance:
    return maintenances_with_details().get(pk=maintenance.pk)


@router.get("", response={200: list[MaintenanceOut], **ERROR_RESPONSES})
def list_maintenances(request: HttpRequest, filters: Query[MaintenanceQuery]):
    """Maintenance windows, latest start first."""
    maintenances = maintenances_with_details()
    status = filters.status
    if status == "upcoming":
        maintenances = maintenances.filter(
            status=MaintenanceStatus.SCHEDULED, ends_at__gt=timezone.now()
        )
    elif status == "active":
        maintenances = maintenances.filter(status__in=ACTIVE_MAINTENANCE_STATUSES)
    elif status is not None:
        maintenances = maintenances.filter(status=status)
    return maintenances[filters.offset : filters.offset + filters.limit]


@router.get("/{maintenance_id}", response={200: MaintenanceOut, **ERROR_RESPONSES})
def get_maintenance(request: HttpRequest, maintenance_id: str):
    return maintenance_or_404(maintenance_id)


@router.post("", response={201: MaintenanceOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN)
def schedule_maintenance(request: HttpRequest, payload: MaintenanceCreate):
    """Announce a maintenance window."""
    schedule = actions.schedule_maintenance
    extra = {}
    if payload.recurrence is not None:
        schedule, extra = (
            recurrence.schedule_recurring_maintenance,
            {"recurrence": payload.recurrence},
        )
    with renamed_fields(MAINTENANCE_FIELDS):
        maintenance = schedule(
            **extra,
            title=payload.name,
            title_alt=payload.name_alt,
            description=payload.description,
            description_alt=payload.description_alt,
            starts_at=payload.scheduled_for,
            ends_at=payload.scheduled_until,
            components=components_by_ref(payload.components).values(),
            auto_start=payload.auto_start,
            auto_complete=payload.auto_complete,
            is_public=payload.is_public,
            notify=payload.deliver_notifications,
            actor=request.auth,
            via=AuditEntry.Via.API,
        )
    return Status(201, detailed(maintenance))


@router.patch(
    "/{maintenance_id}", response={200: MaintenanceOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN
)
def edit_maintenance(request: HttpRequest, maintenance_id: str, payload: MaintenanceEdit):
    """Change a scheduled or active maintenance: its window, texts, flags or components."""
    maintenance = maintenance_or_404(maintenance_id)
    changes = payload.model_dump(exclude_none=True)
    refs = changes.pop("components", None)
    fields = {API_TO_MODEL.get(name, name): value for name, value in changes.items()}
    with renamed_fields(MAINTENANCE_FIELDS):
        components = components_by_ref(refs).values() if refs is not None else None
        maintenance = actions.edit_maintenance(
            maintenance, components=components, actor=request.auth, via=AuditEntry.Via.API, **fields
        )
    return detailed(maintenance)


def transition(
    request: HttpRequest, maintenance_id: str, payload: MaintenanceTransition | None, status: str
) -> Maintenance:
    # The body is optional: `curl -X POST …/start` is enough.
    payload = payload or MaintenanceTransition()
    maintenance = maintenance_or_404(maintenance_id)
    maintenance = actions.set_maintenance_status(
        maintenance,
        status,
        body=payload.body,
        notify=payload.deliver_notifications,
        actor=request.auth,
        via=AuditEntry.Via.API,
    )
    return detailed(maintenance)


@router.post(
    "/{maintenance_id}/start",
    response={200: MaintenanceOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def start_maintenance(
    request: HttpRequest, maintenance_id: str, payload: MaintenanceTransition | None = None
):
    """Start the work now (in_progress), whatever the window says."""
    return transition(request, maintenance_id, payload, MaintenanceStatus.IN_PROGRESS)


@router.post(
    "/{maintenance_id}/verify",
    response={200: MaintenanceOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def verify_maintenance(
    request: HttpRequest, maintenance_id: str, payload: MaintenanceTransition | None = None
):
    """The work is done and being checked (verifying)."""
    return transition(request, maintenance_id, payload, MaintenanceStatus.VERIFYING)


@router.post(
    "/{maintenance_id}/complete",
    response={200: MaintenanceOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def complete_maintenance(
    request: HttpRequest, maintenance_id: str, payload: MaintenanceTransition | None = None
):
    return transition(request, maintenance_id, payload, MaintenanceStatus.COMPLETED)


@router.post(
    "/{maintenance_id}/cancel",
    response={200: MaintenanceOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def cancel_maintenance(
    request: HttpRequest, maintenance_id: str, payload: MaintenanceTransition | None = None
):
    return transition(request, maintenance_id, payload, MaintenanceStatus.CANCELLED)


@router.post(
    "/{maintenance_id}/cancel-series",
    response={200: MaintenanceOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def cancel_series(request: HttpRequest, maintenance_id: str):
    """Cancel the whole recurring series this occurrence belongs to: its windows not yet
    started are cancelled and no more are created. (`/cancel` cancels this one only.)"""
    maintenance = maintenance_or_404(maintenance_id)
    if maintenance.series is None:
        raise DjangoValidationError({"series": "This maintenance does not recur."})
    recurrence.cancel_series(maintenance.series, actor=request.auth, via=AuditEntry.Via.API)
    return detailed(maintenance_or_404(maintenance_id))


@router.patch(
    "/{maintenance_id}/series",
    response={200: MaintenanceOut, **ERROR_RESPONSES},
    auth=RESPONDER_TOKEN,
)
def edit_series(request: HttpRequest, maintenance_id: str, payload: MaintenanceSeriesEdit):
    """Edit the whole recurring series this occurrence belongs to: its windows not yet started
    take the new texts, duration, components or rule (those the new rule no longer gives are
    cancelled, new ones are created); cancelled and past windows stay as they are.
    (`PATCH /maintenances/{id}` edits this one only.)"""
    maintenance = maintenance_or_404(maintenance_id)
    if maintenance.series is None:
        raise DjangoValidationError({"series": "This maintenance does not recur."})
    changes = payload.model_dump(exclude_none=True)
    refs = changes.pop("components", None)
    if "duration_minutes" in changes:
        changes["duration"] = timedelta(minutes=changes.pop("duration_minutes"))
    fields = {API_TO_MODEL.get(name, name): value for name, value in changes.items()}
    with renamed_fields(SERIES_FIELDS):
        components = components_by_ref(refs).values() if refs is not None else None
        recurrence.edit_series(
            maintenance.series,
            components=components,
            actor=request.auth,
            via=AuditEntry.Via.API,
            **fields,
        )
    return detailed(maintenance_or_404(maintenance_id))


@router.post("/{maintenance_id}/notes", response={201: NoteOut, **ERROR_RESPONSES})
def add_note(request: HttpRequest, maintenance_id: str, payload: NoteCreate):
    """An internal note: staff only, never published."""
    maintenance = maintenance_or_404(maintenance_id)
    note = actions.add_note(
        maintenance=maintenance, body=payload.body, actor=request.auth, via=AuditEntry.Via.API
    )
    return Status(201, note)
