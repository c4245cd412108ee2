"""Alerts in: Alertmanager's and Grafana's webhooks set components' automatic statuses.

An alert that matches a component (its `component` label names the component's slug, or a
mapping rule of the config file says so) asks for a status while it fires: `severity`
`critical` is a major outage, `error` or `major` a partial outage, `warning` degraded
performance. That status joins the component's probes in its automatic status
(`monitors.results`), so the same rules follow as for a failing probe: root-cause grouping
through dependencies, one automatic incident per cause, maintenance windows, the escalation
and recovery texts (`monitors.automatic`). A resolved alert, or one whose `endsAt` has
passed, asks for nothing any more.

Alerts are stored per source and fingerprint (`FiringAlert`): the same notification twice
changes nothing, and a late "firing" for an alert already resolved is ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError

from monitors.alert_rules import MappingRule, Matcher, map_alert
from monitors.automatic import reconcile_automatic_incidents
from monitors.models import FiringAlert
from monitors.results import refresh_auto_statuses
from statuspage.changes import public_change
from statuspage.models import Component
from statuspage.text import clip

MAX_ALERTS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024
# Go's zero time: Alertmanager sends it as the endsAt of an alert still firing.
YEAR_ZERO = 1


def mapping_rules() -> list[MappingRule]:
    """The config file's mapping rules (stored on each component as `alert_rules`), in page
    order: the first that matches an alert wins."""
    rules = []
    for slug, written in Component.objects.exclude(alert_rules=[]).values_list(
        "slug", "alert_rules"
    ):
        for rule in written:
            matchers = tuple(Matcher.parse(text) for text in rule.get("match", []))
            rules.append(MappingRule(matchers, slug, rule.get("status", "")))
    return rules


# --- reading the payloads ------------------------------------------------------------------------


@dataclass
class IncomingAlert:
    fingerprint: str
    firing: bool
    labels: dict[str, str]
    summary: str
    starts_at: datetime
    ends_at: datetime | None


@dataclass
class Received:
    """What one notification did, for the answer and the logs."""

    received: int = 0
    matched: int = 0
    unmatched: int = 0
    resolved: int = 0
    ignored: int = 0
    components: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "received": self.received,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "resolved": self.resolved,
            "ignored": self.ignored,
            "components": sorted(set(self.components)),
        }


def bad(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: message})


def read_body(body: bytes) -> dict:
    if len(body) > MAX_BODY_BYTES:
        raise bad("body", f"The payload is larger than {MAX_BODY_BYTES} bytes.")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad("body", f"The body is not JSON: {error}.") from None
    if not isinstance(document, dict):
        raise bad("body", "The body must be a JSON object.")
    return document


def read_time(value, where: str, *, required: bool) -> datetime | None:
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str):
        raise bad(where, "An RFC 3339 time is required.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad(where, f"{clip(value, 60)!r} is not an RFC 3339 time.") from None
    if moment.tzinfo is None:
        raise bad(where, "The time needs a time zone (e.g. Z).")
    if moment.year == YEAR_ZERO:
        if required:
            raise bad(where, "The time is Go's zero time.")
        return None
    return moment


def read_strings(value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad(where, "Must be an object of strings.")
    return {clip(k, 100): clip(v, 500) for k, v in value.items()}


def read_alerts(document: dict) -> list[IncomingAlert]:
    """The `alerts` list, common to Alertmanager's (version 4) and Grafana's payloads."""
    alerts = document.get("alerts")
    if not isinstance(alerts, list):
        raise bad("alerts", "A list of alerts is required.")
    if len(alerts) > MAX_ALERTS:
        raise bad("alerts", f"At most {MAX_ALERTS} alerts per notification.")
    read = []
    for index, alert in enumerate(alerts):
        where = f"alerts.{index}"
        if not isinstance(alert, dict):
            raise bad(where, "Each alert must be an object.")
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise bad(f"{where}.status", 'Must be "firing" or "resolved".')
        labels = read_strings(alert.get("labels"), f"{where}.labels")
        if not labels:
            raise bad(f"{where}.labels", "An alert needs labels.")
        annotations = read_strings(alert.get("annotations"), f"{where}.annotations")
        fingerprint = alert.get("fingerprint") or label_fingerprint(labels)
        if not isinstance(fingerprint, str) or len(fingerprint) > 128:
            raise bad(f"{where}.fingerprint", "Must be a string of at most 128 characters.")
        read.append(
            IncomingAlert(
                fingerprint=fingerprint,
                firing=status == "firing",
                labels=labels,
                summary=clip(
                    annotations.get("summary") or annotations.get("description") or "", 500
                ),
                starts_at=read_time(alert.get("startsAt"), f"{where}.startsAt", required=True),
                ends_at=read_time(alert.get("endsAt"), f"{where}.endsAt", required=False),
            )
        )
    return read


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """For a sender that gives none: the labels identify an alert, as in Alertmanager."""
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:32]


def read_alertmanager(body: bytes) -> list[IncomingAlert]:
    document = read_body(body)
    if str(document.get("version", "")) != "4":
        raise bad("version", 'Only Alertmanager\'s webhook payload version "4" is understood.')
    return read_alerts(document)


def read_grafana(body: bytes) -> list[IncomingAlert]:
    return read_alerts(read_body(body))


# --- storing them -------------------------------------------------------------------------------


def receive_alerts(
    source: str, alerts: list[IncomingAlert], mapping_rules: list[MappingRule], now: datetime
) -> Received:
    """Store the alerts by fingerprint and carry them to the automatic statuses and
    incidents, in one public change."""
    done = Received(received=len(alerts))
    with public_change(now, changed=False):
        slugs = dict(Component.objects.values_list("slug", "id"))
        for alert in alerts:
            target = map_alert(alert.labels, mapping_rules, slugs)
            store(source, alert, target, slugs, now, done)
        refresh_auto_statuses(now)
        # Level-triggered: also when no status moved, an alert may be back after a
        # maintenance window ended.
        reconcile_automatic_incidents(now)
    return done


def store(
    source: str,
    alert: IncomingAlert,
    target: tuple[str, str] | None,
    slugs: dict[str, int],
    now: datetime,
    done: Received,
) -> None:
    slug, status = target or ("", "")
    fields = {
        "name": clip(alert.labels.get("alertname", ""), 200),
        "labels": alert.labels,
        "summary": alert.summary,
        "component_id": slugs.get(slug),
        "status": status,
        "ends_at": alert.ends_at,
        "last_received_at": now,
    }
    row = FiringAlert.objects.filter(source=source, fingerprint=alert.fingerprint).first()
    if row is not None and row.resolved_at is not None and alert.firing:
        if alert.starts_at <= row.starts_at:
            # A late retry of a notification sent before the alert resolved.
            FiringAlert.objects.filter(pk=row.pk).update(last_received_at=now)
            done.ignored += 1
            return
    if alert.firing:
        fields.update(resolved_at=None, starts_at=alert.starts_at)
    else:
        fields.update(resolved_at=alert.ends_at or now)
        done.resolved += 1
    if row is None:
        FiringAlert.objects.create(
            source=source,
            fingerprint=alert.fingerprint,
            first_received_at=now,
            **{"starts_at": alert.starts_at, **fields},
        )
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.times_received += 1
        row.save()
    if target is None:
        done.unmatched += 1
    else:
        done.matched += 1
        done.components.append(slug)
