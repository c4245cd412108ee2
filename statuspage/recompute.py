"""Gather the facts, apply the rules of `statuspage.status`, store what changed.

`store_statuses` runs once at the end of every public change (`statuspage.changes`), with the
component rows locked by `lock_components`, so that the stored status and its history row are
committed together with the change or not at all. The boundary writes the public events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F

from statuspage import status as rules
from statuspage import times
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    Component,
    ComponentDay,
    ComponentStatusChange,
    IncidentComponent,
    Maintenance,
)

SECONDS_FIELD = {
    rules.DEGRADED: "degraded_seconds",
    rules.PARTIAL: "partial_seconds",
    rules.MAJOR: "major_seconds",
    rules.MAINTENANCE: "maintenance_seconds",
}


@dataclass(frozen=True)
class StatusChange:
    component_id: int
    old_status: str
    new_status: str
    cause_id: int | None
    is_public: bool = True


def gather_facts() -> list[rules.ComponentFacts]:
    """Read every component's inputs in a fixed number of queries."""
    deps: dict[int, list[int]] = defaultdict(list)
    for from_id, to_id in Component.depends_on.through.objects.values_list(
        "from_component_id", "to_component_id"
    ):
        deps[from_id].append(to_id)
    incident_statuses: dict[int, list[str]] = defaultdict(list)
    for component_id, status in IncidentComponent.objects.filter(
        incident__status__in=OPEN_INCIDENT_STATUSES
    ).values_list("component_id", "status"):
        incident_statuses[component_id].append(status)
    in_maintenance = set(
        Maintenance.components.through.objects.filter(
            maintenance__status__in=ACTIVE_MAINTENANCE_STATUSES
        ).values_list("component_id", flat=True)
    )
    return [
        rules.ComponentFacts(
            id=cid,
            manual_status=manual,
            incident_statuses=tuple(incident_statuses[cid]),
            probe_status=auto,
            in_maintenance=cid in in_maintenance,
            depends_on=tuple(deps[cid]),
        )
        for cid, manual, auto in Component.objects.values_list("id", "manual_status", "auto_status")
    ]


def lock_components() -> dict[int, Component]:
    """Lock every component row for this transaction and return them by id. Every public
    change takes this lock first (`statuspage.changes.public_change`, the only caller), so
    concurrent changes go one after the other; rows are locked in primary-key order, so they
    never deadlock (the default ordering would also join the nullable group, which PostgreSQL
    refuses to lock)."""
    components = Component.objects.select_for_update().order_by("pk")
    fields = ("id", "status", "status_since", "status_cause_id", "is_public")
    return {c.id: c for c in components.only(*fields)}


def store_statuses(now: datetime) -> tuple[list[StatusChange], bool]:
    """Bring every component's stored status in line with its inputs; return the statuses
    that moved, and whether anything stored changed at all (a new cause alone counts: the
    page shows it). Call it with the components locked: `statuspage.changes.public_change`
    does, and writes the public events of what moved."""
    changes: list[StatusChange] = []
    touched = False
    fields = ("id", "status", "status_since", "status_cause_id", "is_public")
    current = {c.id: c for c in Component.objects.only(*fields)}
    derived = rules.derive_statuses(gather_facts())
    for cid, result in derived.items():
        component = current[cid]
        if component.status == result.status and component.status_cause_id == result.cause:
            continue
        touched = True
        if component.status != result.status:
            changes.append(
                StatusChange(
                    cid, component.status, result.status, result.cause, component.is_public
                )
            )
            close_interval(cid, component.status, component.status_since, now)
            mark_day(cid, result.status, now)
            ComponentStatusChange.objects.create(
                component_id=cid,
                old_status=component.status,
                new_status=result.status,
                cause_id=result.cause,
                at=now,
            )
            Component.objects.filter(pk=cid).update(
                status=result.status, status_since=now, status_cause_id=result.cause
            )
        else:
            Component.objects.filter(pk=cid).update(status_cause_id=result.cause)
    return changes, touched


def close_interval(component_id: int, status: str, since: datetime, until: datetime) -> None:
    """Add the time spent in `status` from `since` to `until` to the daily rollups."""
    column = SECONDS_FIELD.get(status)
    if column is None or until <= since:
        return
    cursor = since
    while cursor < until:
        day = times.local_day(cursor)
        _, day_end = times.day_bounds(day)
        chunk_end = min(day_end, until)
        seconds = int((chunk_end - cursor).total_seconds())
        mark_day(component_id, status, cursor)
        ComponentDay.objects.filter(component_id=component_id, day=day).update(
            **{column: F(column) + seconds}
        )
        cursor = chunk_end


def mark_day(component_id: int, status: str, moment: datetime) -> None:
    """Make sure the day's rollup exists and its worst status is at least `status`."""
    day = times.local_day(moment)
    row, created = ComponentDay.objects.get_or_create(
        component_id=component_id, day=day, defaults={"worst_status": status}
    )
    if not created and rules.SEVERITY[status] > rules.SEVERITY[row.worst_status]:
        ComponentDay.objects.filter(pk=row.pk).update(worst_status=status)
