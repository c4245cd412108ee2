"""Public-site situations for the data tests (API, feeds, calendar, badges, snapshot).

Every internal-only thing carries the marker SECRET in its name or text, so that a test can
assert that no public output contains it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from statuspage import actions
from statuspage.models import Component, ComponentDay, ComponentGroup, Incident, Maintenance

SECRET = "SECRET"


def components(count: int = 3) -> dict[str, Component]:
    """A group with `count - 1` components, one standalone component and one internal-only."""
    lending = ComponentGroup.objects.create(name="Lending", slug="lending", position=1)
    made = {
        "bureau": Component.objects.create(
            name="Credit bureau", slug="bureau", position=1, description="Credit reference"
        ),
        "secret": Component.objects.create(
            name=f"{SECRET} risk engine", slug="risk-engine", is_public=False
        ),
    }
    for index in range(count - 1):
        slug = "loan-app" if index == 0 else f"service-{index}"
        made[slug] = Component.objects.create(
            name=slug.replace("-", " ").title(), slug=slug, group=lending, position=index
        )
    return made


def busy(now: datetime, count: int = 3) -> dict:
    """Components, an open and a resolved public incident, an internal incident with a note,
    and maintenance in every state."""
    c = components(count)
    hour = timedelta(hours=1)
    open_incident = actions.open_incident(
        title="Credit checks are slow",
        body="We are investigating slow answers from the credit bureau.",
        actor=None,
        via="system",
        impact="minor",
        components={c["bureau"]: "degraded_performance", c["secret"]: "major_outage"},
        now=now - 2 * hour,
    )
    actions.post_incident_update(
        open_incident,
        status="identified",
        body="The bureau's gateway drops connections.",
        actor=None,
        via="system",
        now=now - hour,
    )
    actions.add_note(
        body=f"{SECRET} note: the vendor's on-call is Bob",
        actor=None,
        via="system",
        incident=open_incident,
        now=now - hour,
    )
    resolved = actions.open_incident(
        title="Repayments delayed",
        body="Repayments are delayed.",
        actor=None,
        via="system",
        impact="major",
        components={c["loan-app"]: "partial_outage"},
        now=now - 30 * hour,
    )
    actions.resolve_incident(
        resolved, body="Repayments are back.", actor=None, via="system", now=now - 28 * hour
    )
    actions.open_incident(
        title=f"{SECRET} incident",
        body=f"{SECRET} body",
        actor=None,
        via="system",
        impact="critical",
        components={c["secret"]: "major_outage"},
        is_public=False,
        now=now - hour,
    )
    upcoming = actions.schedule_maintenance(
        title="Database upgrade",
        description="Upgrading the loan database; short pauses.",
        starts_at=now + 24 * hour,
        ends_at=now + 26 * hour,
        actor=None,
        via="system",
        components=[c["loan-app"], c["secret"]],
        now=now - hour,
    )
    active = actions.schedule_maintenance(
        title="Gateway certificates",
        starts_at=now - hour,
        ends_at=now + hour,
        actor=None,
        via="system",
        components=[c["bureau"]],
        now=now - 2 * hour,
    )
    actions.set_maintenance_status(active, "in_progress", actor=None, via="system", now=now - hour)
    done = actions.schedule_maintenance(
        title="Network switch swap",
        starts_at=now - 50 * hour,
        ends_at=now - 49 * hour,
        actor=None,
        via="system",
        now=now - 60 * hour,
    )
    actions.set_maintenance_status(
        done, "in_progress", actor=None, via="system", now=now - 50 * hour
    )
    actions.set_maintenance_status(
        done, "completed", actor=None, via="system", body="All done.", now=now - 49 * hour
    )
    cancelled = actions.schedule_maintenance(
        title="Cancelled window",
        starts_at=now + 48 * hour,
        ends_at=now + 49 * hour,
        actor=None,
        via="system",
        now=now - hour,
    )
    actions.set_maintenance_status(
        cancelled, "cancelled", actor=None, via="system", now=now - hour / 2
    )
    actions.schedule_maintenance(
        title=f"{SECRET} maintenance",
        starts_at=now + hour,
        ends_at=now + 2 * hour,
        actor=None,
        via="system",
        is_public=False,
        now=now - hour,
    )
    return {
        "components": c,
        "open": open_incident,
        "resolved": resolved,
        "upcoming": upcoming,
        "active": active,
        "done": done,
        "cancelled": cancelled,
    }


def long_history(now: datetime, days: int = 365) -> None:
    """A year of daily rollups for every component, and an incident and a maintenance a week."""
    rows = []
    for component in Component.objects.all():
        for back in range(days):
            rows.append(
                ComponentDay(
                    component=component,
                    day=(now - timedelta(days=back)).date(),
                    worst_status="degraded_performance" if back % 7 == 0 else "operational",
                    degraded_seconds=600 if back % 7 == 0 else 0,
                )
            )
    ComponentDay.objects.bulk_create(rows, ignore_conflicts=True)
    public = list(Component.objects.filter(is_public=True)[:3])
    for week in range(1, days // 7):
        start = now - timedelta(days=7 * week)
        incident = Incident.objects.create(
            title=f"Old incident {week}",
            status="resolved",
            impact="minor",
            started_at=start,
            resolved_at=start + timedelta(hours=1),
            created_at=start,
            updated_at=start + timedelta(hours=1),
        )
        incident.updates.create(
            status="investigating",
            body="Looking.",
            display_at=start,
            created_at=start,
            updated_at=start,
        )
        incident.updates.create(
            status="resolved", body="Fixed.", display_at=start, created_at=start, updated_at=start
        )
        for component in public:
            incident.affected.create(component=component, status="degraded_performance")
        maintenance = Maintenance.objects.create(
            title=f"Old maintenance {week}",
            status="completed",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            created_at=start,
            updated_at=start,
        )
        maintenance.components.set(public)
        maintenance.updates.create(
            status="completed", body="Done.", display_at=start, created_at=start
        )
