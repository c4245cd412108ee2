"""Automatic incidents: one per probable root cause, opened, moved to monitoring, reopened on
flapping and resolved by the system, never edited again once staff took it over (except for
the recovery update).

`reconcile_automatic_incidents(now)` is level-triggered: it compares what the probes say now
with the open automatic incidents and closes the gap. It runs after every change of a probe's
status (inside that transaction) and from a light beat entry
(`monitors.results.settle_automatic_incidents`), which resolves quiet incidents and opens one
when failures outlast a maintenance window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from monitors import incident_texts as texts
from monitors.models import FiringAlert, ProbeState
from statuspage import actions
from statuspage import status as rules
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    AuditEntry,
    Component,
    Incident,
    IncidentStatus,
    InternalNote,
    Maintenance,
    MaintenanceStatus,
    Origin,
)

# --- the pure rule -------------------------------------------------------------------------------


def root_causes(
    auto_status: Mapping[int, str],
    depends_on: Mapping[int, Iterable[int]],
    in_maintenance: Iterable[int] = (),
    suspected: Iterable[int] = (),
) -> dict[int, list[int]]:
    """The probable root causes, each with the components affected through it.

    A root cause is a component failing from its own probes, not under maintenance, none of
    whose dependencies (directly or through others) is failing from its probes: a failing
    dependency, even one under announced maintenance, explains the failure better. A
    dependency with an unconfirmed failure (`suspected`) may be about to explain it too, so
    its dependents wait for it to settle rather than open an incident of their own. The
    affected are the root's dependents, directly or through others, not under maintenance.
    """
    maintenance = set(in_maintenance)
    failing = {cid for cid, status in auto_status.items() if status in rules.FAILING}
    explaining = failing | set(suspected)

    def upstream(cid: int) -> set[int]:
        seen: set[int] = set()
        stack = list(depends_on.get(cid, ()))
        while stack:
            dep = stack.pop()
            if dep in seen or dep == cid:
                continue
            seen.add(dep)
            stack.extend(depends_on.get(dep, ()))
        return seen

    dependents: dict[int, set[int]] = defaultdict(set)
    for cid in auto_status:
        for dep in upstream(cid):
            dependents[dep].add(cid)
    roots = {}
    for cid in sorted(failing - maintenance):
        if upstream(cid) & explaining:
            continue
        roots[cid] = sorted(dependents[cid] - maintenance)
    return roots


# --- the database edge ---------------------------------------------------------------------------


def failure_lines(root: Component) -> tuple[list[str], datetime | None]:
    """What failed, for staff (probe names, conditions, values seen and vantage points never
    reach a public surface), and since when: one line per failing probe."""
    by_probe: dict[int, list[ProbeState]] = defaultdict(list)
    for state in ProbeState.objects.filter(
        probe__component=root, probe__is_enabled=True, is_down=True
    ).select_related("probe"):
        by_probe[state.probe_id].append(state)
    lines, since = [], None
    for states in by_probe.values():
        first = states[0]
        points = ", ".join(sorted(s.vantage_point for s in states))
        started = min(s.failing_since or s.since for s in states)
        since = started if since is None else min(since, started)
        condition = first.failed_condition or "the check"
        seen = first.seen or "-"
        lines.append(
            f"- Probe `{first.probe.name}`: `{condition}` failed (value seen: `{seen}`), "
            f"from {points}."
        )
    # Alerts from Alertmanager or Grafana (monitors.alerts) that ask for a status here.
    for alert in FiringAlert.objects.filter(component=root, resolved_at__isnull=True):
        since = alert.starts_at if since is None else min(since, alert.starts_at)
        summary = f": {alert.summary}" if alert.summary else ""
        lines.append(
            f"- Alert `{alert.name or alert.fingerprint}` from {alert.get_source_display()} "
            f"({alert.labels.get('severity', '-')}){summary}"
        )
    return lines, since


def record_failure_details(incident: Incident, root: Component, now: datetime) -> None:
    """Keep what the probes saw on the incident, for staff only (an internal note)."""
    lines, _ = failure_lines(root)
    if lines:
        InternalNote.objects.create(
            incident=incident,
            body="\n".join([f"Failing checks of {root.name}:", "", *lines]),
            created_at=now,
        )


def named_dependents(root: Component, dependents: list[Component]) -> list[Component]:
    """The dependents an incident's text may name: all of them in an internal incident (one
    whose root cause is internal), only the public ones in a public incident."""
    return [d for d in dependents if d.is_public or not root.is_public]


def incident_text(
    root: Component, dependents: list[Component], now: datetime, reopening: bool
) -> dict:
    """Title and first update (or the update that reopens it), in both languages."""
    _, since = failure_lines(root)
    title, title_alt = texts.title(root)
    body, body_alt = texts.opened(
        root,
        named_dependents(root, dependents),
        since or now,
        reopening=reopening,
        overran=None if reopening else overrun_window(root, now),
    )
    return {"title": title, "title_alt": title_alt, "body": body, "body_alt": body_alt}


def overrun_window(root: Component, now: datetime) -> Maintenance | None:
    """The announced window on `root` that ended within the last hour: a failure right after
    it is the work overrunning it."""
    return (
        Maintenance.objects.filter(
            components=root,
            status__in=(MaintenanceStatus.COMPLETED, *ACTIVE_MAINTENANCE_STATUSES),
            ends_at__lte=now,
            ends_at__gte=now - timedelta(hours=1),
        )
        .order_by("-ends_at")
        .first()
    )


def affected_statuses(root: Component, dependents: list[Component]) -> dict[Component, str]:
    statuses = {root: root.auto_status}
    for dependent in dependents:
        statuses[dependent] = rules.worst((dependent.auto_status, rules.DEGRADED))
    return statuses


def open_incident_for(
    root: Component, dependents: list[Component], now: datetime
) -> Incident | None:
    """Open the automatic incident naming `root`; None when one is already open (the partial
    unique constraint on Incident decides, not this check)."""
    text = incident_text(root, dependents, now, reopening=False)
    try:
        with transaction.atomic():
            incident = actions.open_incident(
                **text,
                actor=None,
                via=AuditEntry.Via.SYSTEM,
                impact=rules.impact_for(root.auto_status),
                components=affected_statuses(root, dependents),
                origin=Origin.AUTOMATIC,
                root_cause=root,
                # An internal root cause makes an internal incident: its public dependents
                # show as degraded "because of a supporting system", and nothing more.
                is_public=root.is_public,
                now=now,
            )
    except IntegrityError:
        return None
    record_failure_details(incident, root, now)
    return incident


def last_monitoring_at(incident: Incident) -> datetime:
    update = (
        incident.updates.filter(status=IncidentStatus.MONITORING).order_by("-display_at").first()
    )
    return update.display_at if update else incident.monitoring_at or incident.updated_at


def components_differ(incident: Incident, wanted: Mapping[Component, str]) -> bool:
    current = dict(incident.affected.values_list("component_id", "status"))
    return current != {c.pk: s for c, s in wanted.items()}


def reconcile_automatic_incidents(now: datetime) -> list[str]:
    """Bring the automatic incidents in line with what the probes say now; return what was
    done (for logs and tests). Call it inside a public change (`public_change`), which holds
    the component locks; the actions it calls join that change."""
    quiet = timedelta(seconds=settings.AUTO_RESOLVE_QUIET_SECONDS)
    components = {c.pk: c for c in Component.objects.all()}
    depends_on: dict[int, list[int]] = defaultdict(list)
    for from_id, to_id in Component.depends_on.through.objects.values_list(
        "from_component_id", "to_component_id"
    ):
        depends_on[from_id].append(to_id)
    in_maintenance = set(
        Maintenance.components.through.objects.filter(
            maintenance__status__in=ACTIVE_MAINTENANCE_STATUSES
        ).values_list("component_id", flat=True)
    )
    suspected = set(
        ProbeState.objects.filter(
            probe__is_enabled=True, is_down=False, consecutive_failures__gt=0
        ).values_list("probe__component_id", flat=True)
    )
    roots = root_causes(
        {cid: c.auto_status for cid, c in components.items()},
        depends_on,
        in_maintenance,
        suspected,
    )
    open_incidents = {
        incident.root_cause_id: incident
        for incident in Incident.objects.filter(
            origin=Origin.AUTOMATIC, resolved_at__isnull=True, root_cause__isnull=False
        )
    }
    done: list[str] = []
    system = {"actor": None, "via": AuditEntry.Via.SYSTEM, "now": now}
    for root_id, dependent_ids in roots.items():
        root = components[root_id]
        dependents = [components[d] for d in dependent_ids]
        incident = open_incidents.get(root_id)
        if incident is None:
            if open_incident_for(root, dependents, now) is not None:
                done.append(f"opened {root.slug}")
            continue
        if incident.taken_over_at is not None:
            continue
        wanted = affected_statuses(root, dependents)
        if incident.status == IncidentStatus.MONITORING:
            text = incident_text(root, dependents, now, reopening=True)
            notify = may_notify_escalation(incident, now)
            actions.post_incident_update(
                incident,
                status=IncidentStatus.INVESTIGATING,
                body=text["body"],
                body_alt=text["body_alt"],
                components=wanted,
                impact=rules.impact_for(root.auto_status),
                notify=notify,
                **system,
            )
            if notify:
                Incident.objects.filter(pk=incident.pk).update(escalation_notified_at=now)
            record_failure_details(incident, root, now)
            done.append(f"reopened {root.slug}")
        elif components_differ(incident, wanted) or incident.impact != rules.impact_for(
            root.auto_status
        ):
            tell_change(incident, root, dependents, wanted, now)
            done.append(f"updated {root.slug}")
    caused_by = {dep: root_id for root_id, deps in roots.items() for dep in deps}
    for root_id, incident in open_incidents.items():
        root = components.get(root_id)
        if root_id in roots or root is None:
            continue
        if root.auto_status in rules.FAILING:
            if root_id in caused_by and incident.taken_over_at is None:
                fold_into_root_cause(incident, root, components[caused_by[root_id]], now)
                done.append(f"folded {root.slug}")
            continue  # still failing (perhaps under maintenance)
        if incident.status in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED):
            taken_over = incident.taken_over_at is not None
            body, body_alt = texts.working_again(root, now)
            actions.post_incident_update(
                incident,
                status=IncidentStatus.MONITORING,
                body=body,
                body_alt=body_alt,
                # Staff who took the incident over decide what the components show.
                components=None
                if taken_over
                else {
                    link.component: rules.OPERATIONAL
                    for link in incident.affected.select_related("component")
                },
                **system,
            )
            done.append(f"monitoring {root.slug}")
        elif (
            incident.status == IncidentStatus.MONITORING
            and incident.taken_over_at is None
            and now - last_monitoring_at(incident) >= quiet
        ):
            body, body_alt = texts.resolved(root, round(quiet.total_seconds() / 60))
            actions.post_incident_update(
                incident, status=IncidentStatus.RESOLVED, body=body, body_alt=body_alt, **system
            )
            done.append(f"resolved {root.slug}")
    return done


def fold_into_root_cause(
    incident: Incident, component: Component, root: Component, now: datetime
) -> None:
    """An incident opened for a component whose dependency turned out to be failing too (its
    probes confirmed a moment earlier): close it, pointing to the root cause's incident."""
    body, body_alt = texts.folded(component, root)
    actions.post_incident_update(
        incident,
        status=IncidentStatus.RESOLVED,
        body=body,
        body_alt=body_alt,
        components={link.component: rules.OPERATIONAL for link in incident.affected.all()},
        actor=None,
        via=AuditEntry.Via.SYSTEM,
        now=now,
    )


def may_notify_escalation(incident: Incident, now: datetime) -> bool:
    """Whether subscribers may hear of this incident getting worse (or failing again) now:
    at most once per ESCALATION_NOTIFY_MINUTES, so that flapping does not flood them."""
    last = incident.escalation_notified_at
    return last is None or now >= last + timedelta(minutes=settings.ESCALATION_NOTIFY_MINUTES)


def tell_change(
    incident: Incident,
    root: Component,
    dependents: list[Component],
    wanted: Mapping[Component, str],
    now: datetime,
) -> None:
    """The root cause got worse or better, or the incident's scope changed: the title, the
    impact and the components follow, and the timeline says so in plain words. Subscribers
    hear of an escalation at most once per ESCALATION_NOTIFY_MINUTES, so that flapping
    does not flood them; an improvement is posted quietly."""
    impact = rules.impact_for(root.auto_status)
    before = set(incident.affected.values_list("component_id", flat=True))
    added = [c for c in named_dependents(root, dependents) if c.pk not in before]
    worse = rules.IMPACT_SEVERITY[impact] > rules.IMPACT_SEVERITY[incident.impact] or bool(added)
    notify = worse and may_notify_escalation(incident, now)
    title, title_alt = texts.title(root)
    system = {"actor": None, "via": AuditEntry.Via.SYSTEM, "now": now}
    actions.edit_incident(incident, title=title, title_alt=title_alt, **system)
    body, body_alt = texts.changed(root, dependents, added, worse, now)
    actions.post_incident_update(
        incident,
        status=incident.status,
        body=body,
        body_alt=body_alt,
        components=wanted,
        impact=impact,
        notify=notify,
        **system,
    )
    if notify:
        Incident.objects.filter(pk=incident.pk).update(escalation_notified_at=now)
