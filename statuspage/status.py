"""The rules that decide what the public sees, as plain functions over plain data.

Nothing here touches the database, a broker or the clock: `statuspage.recompute` gathers the
facts, calls these, and writes what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
MAINTENANCE = "under_maintenance"

# How bad a status is. Maintenance is announced work: worse than nothing, better than a fault.
SEVERITY = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR: 4}
FAILING = {DEGRADED, PARTIAL, MAJOR}

# How much of the time spent in a status is downtime, as Statuspage counts it: a major outage all
# of it, a partial outage 30 %; degraded performance and announced maintenance none (the service
# answers; the work was announced). The one rule for every uptime the site shows or computes.
DOWNTIME_WEIGHT = {MAJOR: 1.0, PARTIAL: 0.3}

IMPACT_SEVERITY = {"none": 0, "minor": 1, "major": 2, "critical": 3}

DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
    "maintenance": "Service Under Maintenance",
}


def downtime_seconds(partial_seconds: float, major_seconds: float) -> float:
    """The downtime in a stretch with that many seconds of partial and of major outage."""
    return DOWNTIME_WEIGHT[MAJOR] * major_seconds + DOWNTIME_WEIGHT[PARTIAL] * partial_seconds


def worst(statuses: Iterable[str]) -> str:
    """The worst of the given component statuses; operational when there are none."""
    return max(statuses, key=SEVERITY.__getitem__, default=OPERATIONAL)


@dataclass(frozen=True)
class ComponentFacts:
    """Everything that decides one component's status."""

    id: int
    manual_status: str = OPERATIONAL
    incident_statuses: tuple[str, ...] = ()
    probe_status: str = OPERATIONAL
    in_maintenance: bool = False
    depends_on: tuple[int, ...] = ()


@dataclass(frozen=True)
class DerivedStatus:
    status: str
    # The failing components this one is affected through, root causes first; empty when its
    # trouble is its own (or it has none).
    causes: tuple[int, ...] = field(default=())

    @property
    def cause(self) -> int | None:
        return self.causes[0] if self.causes else None


def own_status(facts: ComponentFacts) -> str:
    """A component's status from its own inputs, before dependencies are considered.

    Staff-declared statuses (by hand or through an incident) combine as the worst of them. An
    announced maintenance window hides what the probes see (the work is expected to break
    things) but never hides a fault that staff declared explicitly.
    """
    declared = worst((facts.manual_status, *facts.incident_statuses))
    if facts.in_maintenance:
        return worst((declared, MAINTENANCE))
    return worst((declared, facts.probe_status))


def derive_statuses(components: Iterable[ComponentFacts]) -> dict[int, DerivedStatus]:
    """Each component's effective status, with dependency propagation.

    A component whose dependency (directly or through others) is failing shows at least
    `degraded_performance`, and names as its cause the failing dependencies that are root
    causes: failing components none of whose own dependencies fail. A component in maintenance
    does not spread its state to its dependents: its downtime was announced.
    """
    facts = {c.id: c for c in components}
    own = {cid: own_status(f) for cid, f in facts.items()}
    failing = {cid for cid, status in own.items() if status in FAILING}

    reach_cache: dict[int, frozenset[int]] = {}

    def failing_upstream(cid: int, path: frozenset[int] = frozenset()) -> frozenset[int]:
        """The failing components reachable through cid's dependencies (cid excluded)."""
        if cid in reach_cache:
            return reach_cache[cid]
        found: set[int] = set()
        for dep in facts[cid].depends_on:
            if dep not in facts or dep in path:
                continue  # unknown or a cycle (config validation rejects those)
            if dep in failing:
                found.add(dep)
            found |= failing_upstream(dep, path | {cid})
        reach_cache[cid] = frozenset(found)
        return reach_cache[cid]

    def is_root(cid: int) -> bool:
        return cid in failing and not failing_upstream(cid)

    result: dict[int, DerivedStatus] = {}
    for cid, f in facts.items():
        upstream = failing_upstream(cid)
        roots = tuple(sorted(c for c in upstream if is_root(c)))
        status = own[cid]
        if roots and not f.in_maintenance:
            status = worst((status, DEGRADED))
            result[cid] = DerivedStatus(status, roots)
        else:
            result[cid] = DerivedStatus(status)
    return result


def page_indicator(component_statuses: Iterable[str], open_incident_impacts: Iterable[str]) -> str:
    """Statuspage's page indicator: `none`, `minor`, `major`, `critical` or `maintenance`.

    The worse of what the components show (degraded -> minor, partial outage -> major, major
    outage -> critical) and the impact of the open public incidents. `maintenance` when nothing
    is wrong but some component is under maintenance.
    """
    statuses = list(component_statuses)
    from_components = {OPERATIONAL: 0, MAINTENANCE: 0, DEGRADED: 1, PARTIAL: 2, MAJOR: 3}
    level = max((from_components[s] for s in statuses), default=0)
    level = max([level, *(IMPACT_SEVERITY[i] for i in open_incident_impacts)])
    if level == 0:
        return "maintenance" if MAINTENANCE in statuses else "none"
    return {1: "minor", 2: "major", 3: "critical"}[level]


def page_status(
    component_statuses: Iterable[str], open_incident_impacts: Iterable[str]
) -> Mapping[str, str]:
    """Statuspage's `status` object: indicator and description."""
    indicator = page_indicator(component_statuses, open_incident_impacts)
    return {"indicator": indicator, "description": DESCRIPTIONS[indicator]}


@dataclass(frozen=True)
class OpenIncidentFacts:
    """An open public incident as the page's story needs it."""

    status: str  # investigating, identified or monitoring
    impact: str
    component_statuses: tuple[str, ...] = ()  # what its public components show now

    @property
    def is_recovering(self) -> bool:
        """A fix is in and being watched: in `monitoring`, and nothing it names is failing."""
        return self.status == "monitoring" and all(
            s in (OPERATIONAL, MAINTENANCE) for s in self.component_statuses
        )


@dataclass(frozen=True)
class PageStory:
    """What the page as a whole says: Statuspage's indicator and description (the banner, and
    the `status` of the JSON), and whether a fix is being watched."""

    indicator: str
    description: str
    recovering: bool = False
    stale: bool = False  # the automatic checks are delayed: statuses may be out of date

    @property
    def tone(self) -> str:
        """The banner's colour: the indicator; `stale` (neutral) when no problem is known but
        the checks that would show one are delayed; `recovering` (calm) when nothing is wrong
        now but a fix is being watched."""
        if self.stale and self.indicator == "none":
            return "stale"
        return "recovering" if self.recovering else self.indicator

    @property
    def key(self) -> str:
        """The story in one stable word, for machines (the JSON's `status.story`, which the
        page's refresh script compares with the page): the tone, with `stale` told as
        `stalled`, and `-stalled` added when a known problem is shown while checks are delayed."""
        if self.tone == "stale":
            return "stalled"
        return f"{self.tone}-stalled" if self.stale else self.tone


def page_story(
    component_statuses: Iterable[str],
    open_incidents: Iterable[OpenIncidentFacts],
    stale: bool = False,
) -> PageStory:
    """The one story the banner, the component list, the self-check and the incident cards
    tell together (the README's "One story on the page").

    The page is as bad as the worse of its components and its open incidents, except that an
    incident in `monitoring` whose components all work again does not count as an outage: it
    is told as "recovering" (a calm banner), which only shows when nothing else is wrong and
    nothing is under maintenance. While the automatic checks are delayed (`stale`), the page
    never claims that all is well: it says no problem is known and the checks are delayed.
    The indicator keeps Statuspage's vocabulary for the JSON.
    """
    incidents = list(open_incidents)
    counted = [i.impact for i in incidents if not i.is_recovering]
    indicator = page_indicator(component_statuses, counted)
    recovering = indicator == "none" and any(i.is_recovering for i in incidents)
    return PageStory(indicator, DESCRIPTIONS[indicator], recovering, stale)


def impact_for(status: str) -> str:
    """The incident impact that matches a component status (for automatic incidents)."""
    return {DEGRADED: "minor", PARTIAL: "major", MAJOR: "critical"}.get(status, "none")
