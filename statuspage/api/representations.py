"""Incidents, maintenance and components as /api/v1/ returns them (see `schemas`)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from statuspage.models import (
    Component,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    InternalNote,
    Maintenance,
    MaintenanceUpdate,
)


def optional_id(pk: int | None) -> str | None:
    return str(pk) if pk is not None else None


def username(user) -> str | None:
    return user.get_username() if user is not None else None


def incidents_with_details() -> QuerySet[Incident]:
    return Incident.objects.prefetch_related(
        Prefetch("affected", IncidentComponent.objects.select_related("component")),
        Prefetch("updates", IncidentUpdate.objects.select_related("author")),
        Prefetch("notes", InternalNote.objects.select_related("author")),
    )


def maintenances_with_details() -> QuerySet[Maintenance]:
    return Maintenance.objects.select_related("series").prefetch_related(
        "components",
        Prefetch("updates", MaintenanceUpdate.objects.select_related("author")),
        Prefetch("notes", InternalNote.objects.select_related("author")),
    )


def components_with_details() -> QuerySet[Component]:
    return Component.objects.prefetch_related("depends_on")


def component_out(component: Component) -> dict:
    return {
        "id": str(component.pk),
        "name": component.name,
        "name_alt": component.name_alt,
        "slug": component.slug,
        "description": component.description,
        "description_alt": component.description_alt,
        "group_id": optional_id(component.group_id),
        "position": component.position,
        "status": component.status,
        "manual_status": component.manual_status,
        "auto_status": component.auto_status,
        "status_since": component.status_since,
        "status_cause_id": optional_id(component.status_cause_id),
        "depends_on": sorted(dependency.slug for dependency in component.depends_on.all()),
        "is_public": component.is_public,
        "only_show_if_degraded": component.only_show_if_degraded,
        "created_at": component.created_at,
        "updated_at": component.updated_at,
    }


def component_brief(component: Component) -> dict:
    return {
        "id": str(component.pk),
        "name": component.name,
        "slug": component.slug,
        "status": component.status,
    }


def note_out(note: InternalNote) -> dict:
    return {
        "id": str(note.pk),
        "body": note.body,
        "author": username(note.author),
        "created_at": note.created_at,
    }


def incident_out(incident: Incident) -> dict:
    return {
        "id": str(incident.pk),
        "name": incident.title,
        "name_alt": incident.title_alt,
        "status": incident.status,
        "impact": incident.impact,
        "origin": incident.origin,
        "is_public": incident.is_public,
        "components": [
            {**component_brief(link.component), "affected_status": link.status}
            for link in sorted(incident.affected.all(), key=lambda link: link.component.name)
        ],
        "incident_updates": [
            {
                "id": str(update.pk),
                "incident_id": str(incident.pk),
                "status": update.status,
                "body": update.body,
                "body_alt": update.body_alt,
                "author": username(update.author),
                "deliver_notifications": update.notify_subscribers,
                "affected_components": update.affected_components,
                "display_at": update.display_at,
                "created_at": update.created_at,
                "updated_at": update.updated_at,
            }
            for update in incident.updates.all()
        ],
        "internal_notes": [note_out(note) for note in incident.notes.all()],
        "postmortem_body": incident.postmortem,
        "postmortem_body_alt": incident.postmortem_alt,
        "postmortem_published_at": incident.postmortem_published_at,
        "started_at": incident.started_at,
        "monitoring_at": incident.monitoring_at,
        "resolved_at": incident.resolved_at,
        "created_at": incident.created_at,
        "updated_at": incident.updated_at,
    }


def maintenance_out(maintenance: Maintenance) -> dict:
    return {
        "id": str(maintenance.pk),
        "name": maintenance.title,
        "name_alt": maintenance.title_alt,
        "status": maintenance.status,
        "impact": maintenance.impact,
        "description": maintenance.description,
        "description_alt": maintenance.description_alt,
        "scheduled_for": maintenance.starts_at,
        "scheduled_until": maintenance.ends_at,
        "auto_start": maintenance.auto_start,
        "auto_complete": maintenance.auto_complete,
        "is_public": maintenance.is_public,
        "components": [component_brief(component) for component in maintenance.components.all()],
        "maintenance_updates": [
            {
                "id": str(update.pk),
                "maintenance_id": str(maintenance.pk),
                "status": update.status,
                "body": update.body,
                "body_alt": update.body_alt,
                "author": username(update.author),
                "deliver_notifications": update.notify_subscribers,
                "display_at": update.display_at,
                "created_at": update.created_at,
            }
            for update in maintenance.updates.all()
        ],
        "internal_notes": [note_out(note) for note in maintenance.notes.all()],
        "started_at": maintenance.started_at,
        "completed_at": maintenance.completed_at,
        "created_at": maintenance.created_at,
        "updated_at": maintenance.updated_at,
        "recurrence": maintenance.series.recurrence if maintenance.series_id else None,
        "series_id": str(maintenance.series_id) if maintenance.series_id else None,
    }
