"""Automatic incidents: one per probable root cause, opened, moved to monitoring, reopened on
flapping and resolved by the system, never edited again once staff took it over (except for
the recovery update).

`reconcile_automatic_incidents(now)` is level-triggered: it compares what the probes say now
with the open automatic incidents and closes the gap. It runs after every change of a probe's
status (inside that transaction) and from a light beat entry, which is what resolves quiet
incidents and opens one when failures outlast a maintenance window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitors.models import ProbeState
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
    Origin,
)
from statuspage.recompute import lock_components

LABELS = {
    rules.DEGRADED: ("degraded performance", "性能下降"),
    rules.PARTIAL: ("partial outage", "部分中断"),
    rules.MAJOR: ("major outage", "严重中断"),
}


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


def local_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


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


def incident_text(root: Component, dependents: list[Component], reopening: bool) -> dict:
    """Title and first update (or flapping update) in English and Chinese."""
    english_label, chinese_label = LABELS.get(root.auto_status, LABELS[rules.PARTIAL])
    name_alt = root.name_alt or root.name
    _, since = failure_lines(root)
    since_text = local_time(since or timezone.now())
    intro_en = "is failing again" if reopening else "has a problem"
    intro_zh = "再次出现异常" if reopening else "出现异常"
    body = [f"Our automatic checks show that **{root.name}** {intro_en} since {since_text}."]
    body_alt = [f"自动检测发现 **{name_alt}** 自 {since_text} 起{intro_zh}。"]
    dependents = named_dependents(root, dependents)
    if dependents:
        names = ", ".join(d.name for d in dependents)
        names_alt = "、".join(d.name_alt or d.name for d in dependents)
        body += ["", f"Also affected, because of {root.name}: {names}."]
        body_alt += ["", f"受其影响的还有：{names_alt}。"]
    body += ["", "We are investigating."]
    body_alt += ["", "我们正在调查。"]
    return {
        "title": f"{root.name}: {english_label}",
        "title_alt": f"{name_alt}：{chinese_label}",
        "body": "\n".join(body),
        "body_alt": "\n".join(body_alt),
    }


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
    text = incident_text(root, dependents, reopening=False)
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
    done (for logs and tests). Call it with the component lock held (`lock_components`)."""
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
            text = incident_text(root, dependents, reopening=True)
            actions.post_incident_update(
                incident,
                status=IncidentStatus.INVESTIGATING,
                body=text["body"],
                body_alt=text["body_alt"],
                components=wanted,
                impact=rules.impact_for(root.auto_status),
                **system,
            )
            record_failure_details(incident, root, now)
            done.append(f"reopened {root.slug}")
        elif components_differ(incident, wanted) or incident.impact != rules.impact_for(
            root.auto_status
        ):
            actions.edit_incident(
                incident, components=wanted, impact=rules.impact_for(root.auto_status), **system
            )
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
        name_alt = root.name_alt or root.name
        if incident.status in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED):
            taken_over = incident.taken_over_at is not None
            actions.post_incident_update(
                incident,
                status=IncidentStatus.MONITORING,
                body=f"Our automatic checks show **{root.name}** working again since "
                f"{local_time(now)}. We are monitoring the recovery.",
                body_alt=f"自动检测显示 **{name_alt}** 已于 {local_time(now)} 恢复正常，"
                "我们正在持续观察。",
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
            minutes = round(quiet.total_seconds() / 60)
            actions.post_incident_update(
                incident,
                status=IncidentStatus.RESOLVED,
                body=f"**{root.name}** has worked normally for {minutes} minutes. "
                "This incident is resolved.",
                body_alt=f"**{name_alt}** 已连续 {minutes} 分钟运行正常，本次事件已解决。",
                **system,
            )
            done.append(f"resolved {root.slug}")
    return done


def fold_into_root_cause(
    incident: Incident, component: Component, root: Component, now: datetime
) -> None:
    """An incident opened for a component whose dependency turned out to be failing too (its
    probes confirmed a moment earlier): close it, pointing to the root cause's incident."""
    name, name_alt = component.name, component.name_alt or component.name
    if root.is_public or not component.is_public:
        body = (
            f"The problem with **{name}** is caused by **{root.name}**; "
            "updates continue in the incident about it."
        )
        body_alt = (
            f"**{name_alt}** 的问题由 **{root.name_alt or root.name}** 引起，"
            "后续进展请关注关于它的事件。"
        )
    else:  # a public incident never names an internal component, nor points to its incident
        body = (
            f"The problem with **{name}** comes from a supporting system that we are working "
            "on; the component's status on this page shows when it is fixed."
        )
        body_alt = (
            f"**{name_alt}** 的问题源自后台支撑系统，我们正在处理；"
            "修复后本页面上该组件的状态会随之更新。"
        )
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


def settle_automatic_incidents(now: datetime) -> list[str]:
    """The beat's pass: correct automatic statuses that probe edits left behind, resolve
    incidents that stayed quiet, open those that a maintenance window was hiding."""
    from monitors.results import refresh_auto_statuses

    with transaction.atomic():
        lock_components()
        refresh_auto_statuses(now)
        return reconcile_automatic_incidents(now)
