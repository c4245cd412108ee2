"""Make the database match a validated config (see `statuspage.config_file`).

`plan_config(config)` compares the file with the database and says what would change, writing
nothing; `apply_config(config, prune=...)` makes those changes in one public change
(`statuspage.changes`), with an audit entry (via=config) for each, which recomputes the
statuses and bumps SiteState. What the file no longer names is only listed, unless `prune` is
given (a maintenance series is then cancelled: its windows that started stay history).

A little over 400 lines: one plan-and-apply pair per section of the file, kept side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from statuspage.actions import audit
from statuspage.changes import public_change
from statuspage.channels.models import StaffChannel
from statuspage.config_file import (
    SITE_TIME_ZONE,
    STARTS_FORMAT,
    Config,
    ConfigError,
    digest,
)
from statuspage.models import (
    AuditEntry,
    Component,
    ComponentGroup,
    Journey,
    MaintenanceSeries,
    SiteState,
)
from statuspage.yaml_nodes import Problem


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete (cancel, for a maintenance series)
    kind: str  # group | component | probe | journey | channel | maintenance
    key: str  # the slug, or component/probe for probes
    before: dict | None
    after: dict | None

    def __str__(self) -> str:
        if self.action != "update":
            return f"{self.action} {self.kind} {self.key}"
        assert self.before is not None and self.after is not None
        changed = [
            f"{name}: {self.before.get(name)!r} -> {self.after.get(name)!r}"
            for name in self.after
            if self.before.get(name) != self.after.get(name)
        ]
        return f"update {self.kind} {self.key} ({'; '.join(changed)})"


@dataclass
class Plan:
    changes: list[Change]  # creates and updates, in the order they are applied
    leftovers: list[Change]  # what the file no longer names: deleted only with prune


def group_state(group: ComponentGroup) -> dict:
    return {
        "name": group.name,
        "name_alt": group.name_alt,
        "description": group.description,
        "description_alt": group.description_alt,
        "position": group.position,
    }


def component_state(component: Component, depends_on: list[str]) -> dict:
    return {
        "name": component.name,
        "name_alt": component.name_alt,
        "description": component.description,
        "description_alt": component.description_alt,
        "position": component.position,
        "group": component.group.slug if component.group else None,
        "is_public": component.is_public,
        "only_show_if_degraded": component.only_show_if_degraded,
        "alert_rules": component.alert_rules,
        "depends_on": depends_on,
    }


def channel_state(channel: StaffChannel) -> dict:
    """As the audit log and the plan show it: the URL and secret only as digests."""
    return {
        "kind": channel.kind,
        "language": channel.language,
        "events": channel.events,
        "is_enabled": channel.is_enabled,
        "url_digest": digest(channel.url),
        "secret_digest": digest(channel.secret),
    }


def probe_state(probe) -> dict:
    return {
        "kind": probe.kind,
        "config": probe.config,
        "conditions": probe.conditions,
        "interval_seconds": probe.interval_seconds,
        "recheck_seconds": probe.recheck_seconds,
        "timeout_seconds": float(probe.timeout_seconds),
        "failure_threshold": probe.failure_threshold,
        "success_threshold": probe.success_threshold,
        "vantage_points": probe.vantage_points,
        "quorum": probe.quorum,
        "is_enabled": probe.is_enabled,
    }


def journey_state(journey: Journey) -> dict:
    return {
        "name": journey.name,
        "name_alt": journey.name_alt,
        "position": journey.position,
        "components": sorted(c.slug for c in journey.components.all()),
    }


def maintenance_state(series: MaintenanceSeries) -> dict:
    return {
        "title": series.title,
        "title_alt": series.title_alt,
        "description": series.description,
        "description_alt": series.description_alt,
        "is_public": series.is_public,
        "recurrence": series.recurrence,
        "starts": timezone.localtime(series.first_starts_at, SITE_TIME_ZONE()).strftime(
            STARTS_FORMAT
        ),
        "duration_minutes": int(series.duration.total_seconds() // 60),
        "components": sorted(c.slug for c in series.components.all()),
    }


def compare(
    kind: str, wanted: dict[str, dict], current: dict[str, dict], plan: Plan, removed="delete"
) -> None:
    for key, after in wanted.items():
        before = current.get(key)
        if before is None:
            plan.changes.append(Change("create", kind, key, None, after))
        elif before != after:
            plan.changes.append(Change("update", kind, key, before, after))
    for key, before in current.items():
        if key not in wanted:
            plan.leftovers.append(Change(removed, kind, key, before, None))


def plan_config(config: Config) -> Plan:
    """What applying `config` would change in the database; writes nothing."""
    from monitors.models import Probe

    plan = Plan([], [])
    compare(
        "group",
        {spec.slug: dict(spec.fields) for spec in config.groups},
        {g.slug: group_state(g) for g in ComponentGroup.objects.all()},
        plan,
    )
    depends: dict[int, list[str]] = {}
    for from_id, slug in Component.depends_on.through.objects.values_list(
        "from_component_id", "to_component__slug"
    ):
        depends.setdefault(from_id, []).append(slug)
    compare(
        "component",
        {
            spec.slug: spec.fields | {"depends_on": sorted(slug for slug, _ in spec.references)}
            for spec in config.components
        },
        {
            c.slug: component_state(c, sorted(depends.get(c.pk, [])))
            for c in Component.objects.select_related("group")
        },
        plan,
    )
    compare(
        "probe",
        {
            f"{spec.slug}/{probe.name}": probe.fields
            for spec in config.components
            for probe in spec.probes
        },
        {
            f"{p.component.slug}/{p.name}": probe_state(p)
            for p in Probe.objects.select_related("component")
        },
        plan,
    )
    compare(
        "journey",
        {
            spec.slug: spec.fields | {"components": sorted(slug for slug, _ in spec.references)}
            for spec in config.journeys
        },
        {j.slug: journey_state(j) for j in Journey.objects.prefetch_related("components")},
        plan,
    )
    compare(
        "channel",
        {spec.slug: dict(spec.fields) for spec in config.channels},
        {c.name: channel_state(c) for c in StaffChannel.objects.filter(from_config=True)},
        plan,
    )
    # Series the console or the API made, and cancelled ones, are not the file's.
    compare(
        "maintenance",
        {
            spec.slug: spec.fields | {"components": sorted(slug for slug, _ in spec.references)}
            for spec in config.maintenances
        },
        {
            s.config_slug: maintenance_state(s)
            for s in MaintenanceSeries.objects.filter(cancelled_at__isnull=True)
            .exclude(config_slug="")
            .prefetch_related("components")
        },
        plan,
        removed="cancel",
    )
    # Deleting goes the other way: what refers to something goes before it.
    order = {"maintenance": 0, "channel": 0, "journey": 0, "probe": 1, "component": 2, "group": 3}
    plan.leftovers.sort(key=lambda change: order[change.kind])
    return plan


# --- applying ----------------------------------------------------------------------------------


def apply_config(config: Config, *, prune: bool = False, now: datetime | None = None) -> Plan:
    """Make the database match `config` in one transaction and return what was done.

    Leftovers (what the file no longer names) are deleted only with `prune`. Each change is
    audited (via=config); the statuses are recomputed and SiteState bumped when anything changed.
    """
    from monitors.models import Probe

    now = now or timezone.now()
    actor_name = f"config {Path(config.source).name}"
    SiteState.current()
    with transaction.atomic():
        # Probe rows before component rows, as the recorder takes them (it holds its probe's
        # lock when it enters a public change); then the SiteState row, which makes two
        # applies take turns even while there is no component to lock yet.
        list(Probe.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        with public_change(now, changed=False) as public:
            SiteState.objects.select_for_update().get(pk=1)
            plan = plan_config(config)
            work = plan.changes + (plan.leftovers if prune else [])
            if not work:
                return plan
            public.changed = True
            deferred: list[tuple[Component, list[str]]] = []
            for change in work:
                if change.kind == "channel":
                    obj = apply_channel(change, config, now)
                elif change.kind == "maintenance":
                    obj = apply_maintenance(change, config, now)
                else:
                    obj = APPLY[change.kind](change, deferred)
                audit(
                    None,
                    AuditEntry.Via.CONFIG,
                    f"{change.kind}.{change.action}",
                    obj,
                    change.before,
                    change.after,
                    now,
                    actor_name=actor_name,
                    object_repr=change.key,
                )
            # Dependencies last: the components they point at may have been created later on.
            slugs = {c.slug: c for c in Component.objects.all()}
            for component, depends_on in deferred:
                component.depends_on.set([slugs[slug] for slug in depends_on])
    if prune:
        plan.changes, plan.leftovers = work, []
    return plan


def apply_group(change: Change, deferred) -> ComponentGroup:
    if change.action == "delete":
        return delete(ComponentGroup.objects.get(slug=change.key))
    group, _ = ComponentGroup.objects.update_or_create(slug=change.key, defaults=change.after)
    return group


def apply_component(change: Change, deferred) -> Component:
    if change.action == "delete":
        return delete(Component.objects.get(slug=change.key))
    assert change.after is not None
    values = dict(change.after)
    depends_on = values.pop("depends_on")
    group = values.pop("group")
    values["group"] = ComponentGroup.objects.get(slug=group) if group else None
    component, _ = Component.objects.update_or_create(slug=change.key, defaults=values)
    if change.before is None or change.before["depends_on"] != depends_on:
        deferred.append((component, depends_on))
    return component


def apply_probe(change: Change, deferred):
    from monitors.checks.heartbeat import new_heartbeat_token
    from monitors.models import Probe

    component_slug, name = change.key.split("/", 1)
    if change.action == "delete":
        return delete(Probe.objects.get(component__slug=component_slug, name=name))
    assert change.after is not None
    component = Component.objects.get(slug=component_slug)
    probe = Probe.objects.filter(component=component, name=name).first()
    if probe is None:
        probe = Probe(component=component, name=name)
    for field_name, value in change.after.items():
        setattr(probe, field_name, value)
    # The heartbeat URL's secret is made once and kept across re-applies.
    if probe.kind == "heartbeat" and not probe.heartbeat_token:
        probe.heartbeat_token = new_heartbeat_token()
    probe.save()
    return probe


def apply_journey(change: Change, deferred) -> Journey:
    if change.action == "delete":
        return delete(Journey.objects.get(slug=change.key))
    assert change.after is not None
    values = dict(change.after)
    components = values.pop("components")
    journey, _ = Journey.objects.update_or_create(slug=change.key, defaults=values)
    journey.components.set(Component.objects.filter(slug__in=components))
    return journey


def apply_channel(change: Change, config: Config, now: datetime) -> StaffChannel:
    if change.action == "delete":
        return delete(StaffChannel.objects.get(name=change.key, from_config=True))
    assert change.after is not None
    url, secret = config.channel_secrets[change.key]
    values = {k: v for k, v in change.after.items() if not k.endswith("_digest")}
    channel, _ = StaffChannel.objects.update_or_create(
        name=change.key,
        defaults=values | {"url": url, "secret": secret, "from_config": True, "updated_at": now},
    )
    return channel


def apply_maintenance(change: Change, config: Config, now: datetime) -> MaintenanceSeries:
    """Through statuspage.recurrence, like the console: a new slug schedules a series, a changed
    entry edits the whole series (a new `starts` replaces it: the rule is anchored there), a
    removed one is cancelled. A rule the clock has made empty is a ConfigError on its line."""
    from statuspage import recurrence

    via = AuditEntry.Via.CONFIG
    running = MaintenanceSeries.objects.filter(config_slug=change.key, cancelled_at__isnull=True)
    series = running.first()
    try:
        if change.action == "cancel" or (
            series is not None and change.before["starts"] != change.after["starts"]
        ):
            recurrence.cancel_series(series, actor=None, via=via, now=now)
            if change.action == "cancel":
                return series
        values = dict(change.after)
        components = list(Component.objects.filter(slug__in=values.pop("components")))
        duration = timedelta(minutes=values.pop("duration_minutes"))
        starts = timezone.make_aware(
            datetime.strptime(values.pop("starts"), STARTS_FORMAT), SITE_TIME_ZONE()
        )
        if series is not None and series.cancelled_at is None:
            values["duration"] = duration
            return recurrence.edit_series(
                series, actor=None, via=via, now=now, components=components, **values
            )
        first = recurrence.schedule_recurring_maintenance(
            recurrence=values.pop("recurrence"),
            title=values.pop("title"),
            starts_at=starts,
            ends_at=starts + duration,
            components=components,
            actor=None,
            via=via,
            now=now,
            **values,
        )
    except ValidationError as error:
        line = next((spec.line for spec in config.maintenances if spec.slug == change.key), 0)
        message = f"maintenance {change.key!r}: {' '.join(error.messages)}"
        raise ConfigError([Problem(config.source, line, message)]) from None
    series = first.series
    MaintenanceSeries.objects.filter(pk=series.pk).update(config_slug=change.key)
    series.config_slug = change.key
    return series


def delete(obj):
    pk = obj.pk
    obj.delete()
    obj.pk = pk  # for the audit entry
    return obj


APPLY = {
    "group": apply_group,
    "component": apply_component,
    "probe": apply_probe,
    "journey": apply_journey,
}
