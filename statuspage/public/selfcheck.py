"""The "is it me or the system?" panel's rule, as a plain function over plain data.

For one journey (something a borrower does, and the components it needs): affected, under
maintenance, recovering, or working, naming every open incident and active maintenance on it
(see `journey_state`); a working journey names the next planned maintenance that will touch it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from statuspage import status as rules

WORKS = "works"
AFFECTED = "affected"
MAINTENANCE = "maintenance"
RECOVERING = "recovering"


@dataclass(frozen=True)
class ComponentState:
    status: str
    since: datetime
    cause_id: int | None = None  # the probable root cause, when failing through a dependency


@dataclass(frozen=True)
class OpenIncident:
    id: int
    started_at: datetime
    component_ids: frozenset[int]
    status: str = "investigating"


@dataclass(frozen=True)
class Window:
    """A public maintenance that is active or scheduled."""

    id: int
    is_active: bool
    starts_at: datetime
    ends_at: datetime
    component_ids: frozenset[int]


@dataclass(frozen=True)
class JourneyState:
    state: str
    status: str = rules.OPERATIONAL  # the worst status of its components: the icon
    since: datetime | None = None
    until: datetime | None = None
    incident_ids: tuple[int, ...] = ()  # every open incident on it, oldest first
    maintenance_ids: tuple[int, ...] = ()  # every active window on it
    planned_id: int | None = None


def journey_state(
    uses: Collection[int],
    components: Mapping[int, ComponentState],
    open_incidents: Iterable[OpenIncident],
    windows: Iterable[Window],
) -> JourneyState:
    """Where one journey stands, naming every cause. `uses` are the ids of the components it
    needs; ids missing from `components` (internal-only ones) are left out, so that the panel
    never says more than the rest of the public page.

    It is affected when one of its components fails (the icon follows the worst), or when an
    open incident names one of them; under maintenance when one is in announced maintenance;
    recovering when the only incidents on it are in `monitoring` with its components working
    (the banner's "recovering", see `statuspage.status.page_story`); otherwise it works. The
    incidents listed are those on its components or on their root causes.
    """
    uses = {cid for cid in uses if cid in components}
    windows = list(windows)
    failing = [components[cid] for cid in uses if components[cid].status in rules.FAILING]
    suspects = uses | {c.cause_id for c in failing if c.cause_id is not None}
    incidents = sorted(
        (i for i in open_incidents if suspects & i.component_ids),
        key=lambda i: (i.started_at, i.id),
    )
    incident_ids = tuple(i.id for i in incidents)
    active = [w for w in windows if w.is_active and uses & w.component_ids]
    maintenance_ids = tuple(w.id for w in sorted(active, key=lambda w: (w.starts_at, w.id)))
    worst = rules.worst(components[cid].status for cid in uses)
    if failing:
        return JourneyState(
            AFFECTED,
            worst,
            since=min(c.since for c in failing),
            incident_ids=incident_ids,
            maintenance_ids=maintenance_ids,
        )
    if worst == rules.MAINTENANCE:
        return JourneyState(
            MAINTENANCE,
            worst,
            until=max((w.ends_at for w in active), default=None),
            incident_ids=incident_ids,
            maintenance_ids=maintenance_ids,
        )
    if incidents:
        if all(i.status == "monitoring" for i in incidents):
            return JourneyState(RECOVERING, worst, incident_ids=incident_ids)
        # Staff declared a problem on a component that still shows as working.
        return JourneyState(
            AFFECTED, rules.DEGRADED, since=incidents[0].started_at, incident_ids=incident_ids
        )
    planned = min(
        (w for w in windows if not w.is_active and uses & w.component_ids),
        key=lambda w: (w.starts_at, w.id),
        default=None,
    )
    return JourneyState(WORKS, planned_id=planned.id if planned else None)
