"""Maintenance windows: schedule one, edit it, move it forward, and let the system start and
complete the windows staff left to it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from statuspage.actions.audit import Via, audit, author
from statuspage.actions.checks import check_choice, check_title, check_window
from statuspage.changes import public_change
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    Component,
    Event,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
)

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
    check_title(title)
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
    if "title" in fields:
        check_title(str(fields["title"]))
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
