"""What staff write for themselves, which the public never sees: internal notes and incident
templates. Audited, but no public change: no component lock, no event, no version bump."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from statuspage.actions.audit import audit, author
from statuspage.actions.checks import check_choice
from statuspage.models import Component, ComponentStatus, Impact, IncidentTemplate, InternalNote


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
