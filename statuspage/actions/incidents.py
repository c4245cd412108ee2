"""Incidents: open one, post to its timeline, resolve it, edit it, write its postmortem."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from statuspage.actions.audit import Via, audit, author
from statuspage.actions.checks import check_choice, check_component_statuses, check_title
from statuspage.changes import public_change
from statuspage.models import (
    OPEN_INCIDENT_STATUSES,
    Component,
    Event,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    Origin,
)


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


def take_over_if_staff(incident: Incident, via: str, now: datetime) -> None:
    """Staff touching an automatic incident take it over: the system stops editing it."""
    if incident.origin == Origin.AUTOMATIC and via != Via.SYSTEM and incident.taken_over_at is None:
        incident.taken_over_at = now


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
    check_title(title)
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
    if title is not None:
        check_title(title)
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
