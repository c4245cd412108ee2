"""The "is it me or the system?" panel's rule, as a plain function over plain data.

For one journey (something a borrower does, and the components it needs): it is affected when
one of its components fails, and names the open incident on that component or on its root
cause; it is under maintenance (until the end of the window) when a component is in announced
maintenance; otherwise it works, and the next planned maintenance that will touch it is named.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from statuspage import status as rules

WORKS = "works"
AFFECTED = "affected"
MAINTENANCE = "maintenance"


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
    since: datetime | None = None
    until: datetime | None = None
    incident_id: int | None = None
    planned_id: int | None = None


def journey_state(
    uses: Collection[int],
    components: Mapping[int, ComponentState],
    open_incidents: Iterable[OpenIncident],
    windows: Iterable[Window],
) -> JourneyState:
    """Where one journey stands. `uses` are the ids of the components it needs; ids missing
    from `components` (internal-only ones) are left out, so that the panel never says more
    than the rest of the public page."""
    uses = {cid for cid in uses if cid in components}
    windows = list(windows)
    failing = [components[cid] for cid in uses if components[cid].status in rules.FAILING]
    if failing:
        suspects = {cid for cid in uses if components[cid].status in rules.FAILING} | {
            c.cause_id for c in failing if c.cause_id is not None
        }
        incident = next(
            (
                i
                for i in sorted(open_incidents, key=lambda i: (i.started_at, i.id))
                if suspects & i.component_ids
            ),
            None,
        )
        return JourneyState(
            AFFECTED,
            since=min(c.since for c in failing),
            incident_id=incident.id if incident else None,
        )
    if any(components[cid].status == rules.MAINTENANCE for cid in uses):
        active = [w for w in windows if w.is_active and uses & w.component_ids]
        return JourneyState(MAINTENANCE, until=max((w.ends_at for w in active), default=None))
    planned = min(
        (w for w in windows if not w.is_active and uses & w.component_ids),
        key=lambda w: (w.starts_at, w.id),
        default=None,
    )
    return JourneyState(WORKS, planned_id=planned.id if planned else None)
