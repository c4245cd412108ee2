"""What staff (console, API, admin) and the system do to incidents, maintenance and components.

Each action writes inside one public change (`statuspage.changes.public_change`): the change,
its audit entry and its public event (the outbox row notifications are sent from), then the
recomputed component statuses and the version bump, in one transaction, so that either all of
it happens or none. Bad input raises `django.core.exceptions.ValidationError` keyed by field
name, before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from statuspage.changes import public_change
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    AuditEntry,
    Component,
    ComponentStatus,
    Event,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentTemplate,
    IncidentUpdate,
    InternalNote,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
    Origin,
)

Via = AuditEntry.Via

# Maintenance moves forward only; cancelling is possible until it has completed.
MAINTENANCE_NEXT = {
    MaintenanceStatus.SCHEDULED: {MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.CANCELLED},
    MaintenanceStatus.IN_PROGRESS: {
        MaintenanceStatus.VERIFYING,
        MaintenanceStatus.COMPLETED,
        MaintenanceStatus.CANCELLED,
    },
    MaintenanceStatus.VERIFYING: {MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED},
    MaintenanceStatus.COMPLETED: set(),
    MaintenanceStatus.CANCELLED: set(),
}
MAINTENANCE_EVENTS = {
    MaintenanceStatus.IN_PROGRESS: Event.Kind.MAINTENANCE_STARTED,
    MaintenanceStatus.VERIFYING: Event.Kind.MAINTENANCE_UPDATED,
    MaintenanceStatus.COMPLETED: Event.Kind.MAINTENANCE_COMPLETED,
    MaintenanceStatus.CANCELLED: Event.Kind.MAINTENANCE_CANCELLED,
}


# --- audit and events ------------------------------------------------------------------------


def audit(
    actor,
    via: str,
    action: str,
    obj,
    before=None,
    after=None,
    now=None,
    *,
    actor_name: str | None = None,
    object_repr: str | None = None,
) -> AuditEntry:
    """The one writer of audit entries. `actor_name` names an actor that is no user (a config
    file); it defaults to the user's name, or "system"."""
    if actor_name is None:
        actor_name = actor.get_username() if actor is not None else "system"
    return AuditEntry.objects.create(
        at=now or timezone.now(),
        actor=author(actor),
        actor_name=actor_name[:150],
        via=via,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(obj.pk),
        object_repr=(str(obj) if object_repr is None else object_repr)[:200],
        before=before,
        after=after,
    )


def author(actor):
    """The user to store as author: None for the system (and for unsaved stand-ins)."""
    return actor if actor is not None and actor.pk else None


def take_over_if_staff(incident: Incident, via: str, now: datetime) -> None:
    """Staff touching an automatic incident take it over: the system stops editing it."""
    if incident.origin == Origin.AUTOMATIC and via != Via.SYSTEM and incident.taken_over_at is None:
        incident.taken_over_at = now


def incident_state(incident: Incident) -> dict:
    return {
        "title": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "is_public": incident.is_public,
        "components": {
            link.component.slug: link.status
            for link in incident.affected.select_related("component").order_by("component__slug")
        },
        "postmortem": incident.postmortem,
        "postmortem_alt": incident.postmortem_alt,
    }


def maintenance_state(maintenance: Maintenance) -> dict:
    return {
        "title": maintenance.title,
        "status": maintenance.status,
        "starts_at": maintenance.starts_at.isoformat(),
        "ends_at": maintenance.ends_at.isoformat(),
        "auto_start": maintenance.auto_start,
        "auto_complete": maintenance.auto_complete,
        "components": sorted(maintenance.components.values_list("slug", flat=True)),
    }


# --- validation --------------------------------------------------------------------------------


def check_choice(field: str, value: str, choices) -> None:
    if value not in choices.values:
        raise ValidationError({field: f"{value!r} is not one of: {', '.join(choices.values)}"})


def check_component_statuses(component_statuses: Mapping[Component, str]) -> None:
    for component, status in component_statuses.items():
        if status not in ComponentStatus.values:
            choices = ", ".join(ComponentStatus.values)
            message = f"{component.slug}: {status!r} is not one of {choices}"
            raise ValidationError({"components": message})


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The window must end after it starts."})


# --- incidents ---------------------------------------------------------------------------------


def write_incident_update(
    incident: Incident,
    *,
    body: str,
    body_alt: str,
    actor,
    notify: bool,
    affected: list[dict],
    now: datetime,
) -> IncidentUpdate:
    """One entry on the incident's timeline, at the incident's (new) status."""
    return IncidentUpdate.objects.create(
        incident=incident,
        status=incident.status,
        body=body,
        body_alt=body_alt,
        author=author(actor),
        notify_subscribers=notify,
        affected_components=affected,
        display_at=now,
        created_at=now,
        updated_at=now,
    )


def set_incident_components(
    incident: Incident, component_statuses: Mapping[Component, str]
) -> list[dict]:
    """Make the incident affect exactly these components; return Statuspage's
    affected_components list ({code, name, old_status, new_status}) for the update."""
    existing = {link.component_id: link for link in incident.affected.select_related("component")}
    affected = []
    for component, status in component_statuses.items():
        link = existing.pop(component.pk, None)
        if link is None:
            IncidentComponent.objects.create(incident=incident, component=component, status=status)
        elif link.status != status:
            link.status = status
            link.save(update_fields=["status"])
        affected.append(
            {
                "code": str(component.pk),
                "name": component.name,
                "old_status": component.status,
                "new_status": status,
            }
        )
    for link in existing.values():
        link.delete()
    return affected


def open_incident(
    *,
    title: str,
    body: str,
    actor,
    via: str,
    impact: str = Impact.MINOR,
    status: str = IncidentStatus.INVESTIGATING,
    components: Mapping[Component, str] | None = None,
    is_public: bool = True,
    notify: bool = True,
    title_alt: str = "",
    body_alt: str = "",
    origin: str = Origin.MANUAL,
    root_cause: Component | None = None,
    now: datetime | None = None,
) -> Incident:
    """Open an incident with its first update, affecting `components` (component -> status)."""
    now = now or timezone.now()
    components = components or {}
    if not title.strip():
        raise ValidationError({"title": "A title is required."})
    if not body.strip():
        raise ValidationError({"body": "The first message is required."})
    check_choice("impact", impact, Impact)
    if status not in OPEN_INCIDENT_STATUSES:
        raise ValidationError(
            {"status": "A new incident starts as investigating, identified or monitoring."}
        )
    check_component_statuses(components)
    with public_change(now) as change:
        incident = Incident.objects.create(
            title=title.strip(),
            title_alt=title_alt.strip(),
            status=status,
            impact=impact,
            origin=origin,
            is_public=is_public,
            root_cause=root_cause,
            started_at=now,
            created_at=now,
            updated_at=now,
            monitoring_at=now if status == IncidentStatus.MONITORING else None,
        )
        affected = set_incident_components(incident, components)
        update = write_incident_update(
            incident,
            body=body,
            body_alt=body_alt,
            actor=actor,
            notify=notify,
            affected=affected,
            now=now,
        )
        audit(actor, via, "incident.open", incident, None, incident_state(incident), now)
        # An internal automatic incident still alerts staff (the outbox sends subscribers
        # only what is public).
        if is_public or origin == Origin.AUTOMATIC:
            change.record_event(
                Event.Kind.INCIDENT_OPENED, notify, incident=incident, incident_update=update
            )
    return incident


def post_incident_update(
    incident: Incident,
    *,
    status: str,
    body: str,
    actor,
    via: str,
    notify: bool = True,
    components: Mapping[Component, str] | None = None,
    impact: str | None = None,
    body_alt: str = "",
    now: datetime | None = None,
) -> IncidentUpdate:
    """Add an update to the timeline, moving the incident to `status`; `components`, when
    given, replaces the affected components and their statuses."""
    now = now or timezone.now()
    check_choice("status", status, IncidentStatus)
    if not body.strip():
        raise ValidationError({"body": "A message is required."})
    if impact is not None:
        check_choice("impact", impact, Impact)
    if components is not None:
        check_component_statuses(components)
    with public_change(now) as change:
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if status == IncidentStatus.POSTMORTEM and incident.resolved_at is None:
            raise ValidationError({"status": "Resolve the incident before its postmortem."})
        before = incident_state(incident)
        was_open = incident.is_open
        if components is not None:
            affected = set_incident_components(incident, components)
        else:
            affected = [
                {
                    "code": str(link.component_id),
                    "name": link.component.name,
                    "old_status": link.component.status,
                    "new_status": link.status,
                }
                for link in incident.affected.select_related("component")
            ]
        incident.status = status
        if impact is not None:
            incident.impact = impact
        if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
            incident.monitoring_at = now
        if status in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM):
            incident.resolved_at = incident.resolved_at or now
        else:
            incident.resolved_at = None
        take_over_if_staff(incident, via, now)
        incident.updated_at = now
        incident.save()
        update = write_incident_update(
            incident,
            body=body,
            body_alt=body_alt,
            actor=actor,
            notify=notify,
            affected=affected,
            now=now,
        )
        audit(actor, via, f"incident.{status}", incident, before, incident_state(incident), now)
        if incident.is_public:
            resolved_now = was_open and not incident.is_open
            kind = Event.Kind.INCIDENT_RESOLVED if resolved_now else Event.Kind.INCIDENT_UPDATED
            change.record_event(kind, notify, incident=incident, incident_update=update)
    return update


def resolve_incident(
    incident: Incident, *, body: str, actor, via: str, notify: bool = True, body_alt="", now=None
):
    return post_incident_update(
        incident,
        status=IncidentStatus.RESOLVED,
        body=body,
        body_alt=body_alt,
        actor=actor,
        via=via,
        notify=notify,
        now=now,
    )


def edit_incident(
    incident: Incident,
    *,
    actor,
    via: str,
    title: str | None = None,
    title_alt: str | None = None,
    impact: str | None = None,
    is_public: bool | None = None,
    components: Mapping[Component, str] | None = None,
    now: datetime | None = None,
) -> Incident:
    """Change an incident's fields without posting to its timeline."""
    now = now or timezone.now()
    if title is not None and not title.strip():
        raise ValidationError({"title": "A title is required."})
    if impact is not None:
        check_choice("impact", impact, Impact)
    if components is not None:
        check_component_statuses(components)
    with public_change(now):
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        before = incident_state(incident)
        if title is not None:
            incident.title = title.strip()
        if title_alt is not None:
            incident.title_alt = title_alt.strip()
        if impact is not None:
            incident.impact = impact
        if is_public is not None:
            incident.is_public = is_public
        if components is not None:
            set_incident_components(incident, components)
        take_over_if_staff(incident, via, now)
        incident.updated_at = now
        incident.save()
        audit(actor, via, "incident.edit", incident, before, incident_state(incident), now)
    return incident


def write_postmortem(
    incident: Incident,
    *,
    body: str,
    actor,
    via: str,
    publish: bool = True,
    body_alt: str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Save the postmortem (and its second-language version, unless `body_alt` is None);
    publishing it moves a resolved incident to `postmortem`."""
    now = now or timezone.now()
    if not body.strip():
        raise ValidationError({"postmortem": "The postmortem is empty."})
    with public_change(now):
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.resolved_at is None:
            message = "Resolve the incident before writing its postmortem."
            raise ValidationError({"postmortem": message})
        before = incident_state(incident)
        incident.postmortem = body
        if body_alt is not None:
            incident.postmortem_alt = body_alt
        if publish:
            incident.postmortem_published_at = incident.postmortem_published_at or now
            incident.status = IncidentStatus.POSTMORTEM
        incident.updated_at = now
        incident.save()
        audit(actor, via, "incident.postmortem", incident, before, incident_state(incident), now)
    return incident


def add_note(
    *, body: str, actor, via: str, incident=None, maintenance=None, now=None
) -> InternalNote:
    """An internal note: staff eyes only, so no event and no version bump."""
    now = now or timezone.now()
    if not body.strip():
        raise ValidationError({"body": "The note is empty."})
    # Not a public change: it takes no component lock and moves no version.
    with transaction.atomic():
        note = InternalNote.objects.create(
            incident=incident,
            maintenance=maintenance,
            body=body,
            author=author(actor),
            created_at=now,
        )
        audit(actor, via, "note.add", incident or maintenance, None, {"note": body}, now)
    return note


# --- components --------------------------------------------------------------------------------


def set_component_status(
    component: Component, status: str, *, actor, via: str, now=None
) -> Component:
    """Set the status staff give a component by hand (operational clears it)."""
    now = now or timezone.now()
    check_choice("status", status, ComponentStatus)
    # The public sees only the status derived from it: bump only if that moves.
    with public_change(now, changed=False) as change:
        component = Component.objects.get(pk=component.pk)  # locked by the change
        before = {"manual_status": component.manual_status, "status": component.status}
        component.manual_status = status
        component.save(update_fields=["manual_status", "updated_at"])

        def audit_with_final_status():
            component.refresh_from_db()
            after = {"manual_status": component.manual_status, "status": component.status}
            audit(actor, via, "component.set_status", component, before, after, change.now)

        change.after_recompute(audit_with_final_status)
    return component


# --- maintenance -------------------------------------------------------------------------------


def schedule_maintenance(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    actor,
    via: str,
    description: str = "",
    components: Iterable[Component] = (),
    auto_start: bool = True,
    auto_complete: bool = True,
    is_public: bool = True,
    notify: bool = True,
    title_alt: str = "",
    description_alt: str = "",
    now: datetime | None = None,
) -> Maintenance:
    now = now or timezone.now()
    if not title.strip():
        raise ValidationError({"title": "A title is required."})
    check_window(starts_at, ends_at)
    if ends_at <= now:
        raise ValidationError({"ends_at": "The window is already over."})
    with public_change(now) as change:
        maintenance = Maintenance.objects.create(
            title=title.strip(),
            title_alt=title_alt.strip(),
            description=description,
            description_alt=description_alt,
            starts_at=starts_at,
            ends_at=ends_at,
            auto_start=auto_start,
            auto_complete=auto_complete,
            is_public=is_public,
            created_at=now,
            updated_at=now,
        )
        maintenance.components.set(components)
        update = MaintenanceUpdate.objects.create(
            maintenance=maintenance,
            status=MaintenanceStatus.SCHEDULED,
            body=description,
            body_alt=description_alt,
            author=author(actor),
            notify_subscribers=notify,
            display_at=now,
            created_at=now,
        )
        audit(
            actor,
            via,
            "maintenance.schedule",
            maintenance,
            None,
            maintenance_state(maintenance),
            now,
        )
        if is_public:
            change.record_event(
                Event.Kind.MAINTENANCE_SCHEDULED,
                notify,
                maintenance=maintenance,
                maintenance_update=update,
            )
    return maintenance


def edit_maintenance(
    maintenance: Maintenance,
    *,
    actor,
    via: str,
    now: datetime | None = None,
    components: Iterable[Component] | None = None,
    **fields,
) -> Maintenance:
    """Change a maintenance's title, description, window, flags or components."""
    now = now or timezone.now()
    allowed = {
        "title",
        "title_alt",
        "description",
        "description_alt",
        "starts_at",
        "ends_at",
        "auto_start",
        "auto_complete",
        "is_public",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    if "title" in fields and not str(fields["title"]).strip():
        raise ValidationError({"title": "A title is required."})
    with public_change(now) as change:
        maintenance = Maintenance.objects.select_for_update().get(pk=maintenance.pk)
        if maintenance.status in (MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED):
            raise ValidationError(
                {"status": f"A {maintenance.status} maintenance cannot be edited."}
            )
        before = maintenance_state(maintenance)
        for name, value in fields.items():
            setattr(maintenance, name, value)
        check_window(maintenance.starts_at, maintenance.ends_at)
        maintenance.updated_at = now
        maintenance.save()
        if components is not None:
            maintenance.components.set(components)
        audit(
            actor, via, "maintenance.edit", maintenance, before, maintenance_state(maintenance), now
        )
        if maintenance.is_public and before != maintenance_state(maintenance):
            change.record_event(Event.Kind.MAINTENANCE_UPDATED, False, maintenance=maintenance)
    return maintenance


def set_maintenance_status(
    maintenance: Maintenance,
    status: str,
    *,
    actor,
    via: str,
    body: str = "",
    notify: bool = True,
    now: datetime | None = None,
) -> Maintenance:
    """Move a maintenance forward: start, verify, complete, or cancel it."""
    now = now or timezone.now()
    check_choice("status", status, MaintenanceStatus)
    with public_change(now) as change:
        maintenance = Maintenance.objects.select_for_update().get(pk=maintenance.pk)
        if status not in MAINTENANCE_NEXT[maintenance.status]:
            raise ValidationError(
                {"status": f"A maintenance that is {maintenance.status} cannot move to {status}."}
            )
        before = maintenance_state(maintenance)
        maintenance.status = status
        if status == MaintenanceStatus.IN_PROGRESS:
            maintenance.started_at = now
        if status in (MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED):
            maintenance.completed_at = now
        maintenance.updated_at = now
        maintenance.save()
        update = MaintenanceUpdate.objects.create(
            maintenance=maintenance,
            status=status,
            body=body,
            author=author(actor),
            notify_subscribers=notify,
            display_at=now,
            created_at=now,
        )
        audit(
            actor,
            via,
            f"maintenance.{status}",
            maintenance,
            before,
            maintenance_state(maintenance),
            now,
        )
        if maintenance.is_public:
            change.record_event(
                MAINTENANCE_EVENTS[status],
                notify,
                maintenance=maintenance,
                maintenance_update=update,
            )
    return maintenance


def advance_maintenances(now: datetime | None = None) -> list[Maintenance]:
    """Start the windows that have begun and complete the ones that have ended, where staff left
    that to the system. Safe to run concurrently: each transition re-checks under a row lock."""
    now = now or timezone.now()
    moved = []
    due_start = Maintenance.objects.filter(
        status=MaintenanceStatus.SCHEDULED, auto_start=True, starts_at__lte=now, ends_at__gt=now
    )
    for maintenance in due_start:
        try:
            moved.append(
                set_maintenance_status(
                    maintenance, MaintenanceStatus.IN_PROGRESS, actor=None, via=Via.SYSTEM, now=now
                )
            )
        except ValidationError:
            continue  # another worker moved it first
    due_end = Maintenance.objects.filter(
        status__in=ACTIVE_MAINTENANCE_STATUSES, auto_complete=True, ends_at__lte=now
    )
    for maintenance in due_end:
        try:
            moved.append(
                set_maintenance_status(
                    maintenance, MaintenanceStatus.COMPLETED, actor=None, via=Via.SYSTEM, now=now
                )
            )
        except ValidationError:
            continue
    return moved


def template_state(template: IncidentTemplate) -> dict:
    return {
        "name": template.name,
        "title": template.title,
        "title_alt": template.title_alt,
        "body": template.body,
        "body_alt": template.body_alt,
        "impact": template.impact,
        "component_status": template.component_status,
        "components": sorted(c.slug for c in template.components.all()),
    }


def save_incident_template(
    template: IncidentTemplate | None,
    *,
    fields: Mapping[str, str],
    components: Iterable[Component],
    actor,
    via: str,
    now: datetime | None = None,
) -> IncidentTemplate:
    """Create (`template` None) or change an incident template. Templates are staff tools:
    nothing public changes, so no event and no version bump, only the audit entry."""
    now = now or timezone.now()
    check_choice("impact", fields["impact"], Impact)
    check_choice("component_status", fields["component_status"], ComponentStatus)
    with transaction.atomic():
        before = None
        if template is None:
            template = IncidentTemplate()
        else:
            template = IncidentTemplate.objects.select_for_update().get(pk=template.pk)
            before = template_state(template)
        for name, value in fields.items():
            setattr(template, name, value)
        template.save()
        template.components.set(components)
        action = "incident_template.create" if before is None else "incident_template.edit"
        audit(actor, via, action, template, before, template_state(template), now)
    return template


def delete_incident_template(
    template: IncidentTemplate, *, actor, via: str, now: datetime | None = None
) -> None:
    with transaction.atomic():
        before = template_state(template)
        audit(actor, via, "incident_template.delete", template, before, None, now)
        template.delete()
