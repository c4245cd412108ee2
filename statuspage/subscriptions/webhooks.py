"""Webhook payloads (modelled on Statuspage's: `meta`, `page`, then `incident` with its
`incident_updates`, or `component_update` + `component`) and their signature.

Signature: `X-Statuspage-Timestamp: <unix seconds>` and
`X-Statuspage-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
Receivers recompute it over the raw body and reject old timestamps (replays)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime

import requests
from django.conf import settings

from statuspage.models import Incident, Maintenance
from statuspage.public.queries import page_story
from statuspage.public.visibility import internal_component_ids, public_affected_components
from statuspage.subscriptions import links, outbound
from statuspage.subscriptions.models import Delivery, Notification

log = logging.getLogger(__name__)

DOCUMENTATION = "https://developer.statuspage.io/#section/Webhooks"
SIGNATURE_HEADER = "X-Statuspage-Signature"
TIMESTAMP_HEADER = "X-Statuspage-Timestamp"
# Retried: the receiver is down, slow or overloaded. Any other non-2xx is permanent.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def page_object() -> dict:
    story = page_story()
    return {
        "id": settings.PAGE_ID,
        "status_indicator": story.indicator,
        "status_description": story.description,
    }


def incident_object(incident: Incident) -> dict:
    internal_ids = internal_component_ids()
    return {
        "id": str(incident.pk),
        "name": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "started_at": iso(incident.started_at),
        "monitoring_at": iso(incident.monitoring_at),
        "resolved_at": iso(incident.resolved_at),
        "shortlink": f"{settings.SITE_URL}/incidents/{incident.pk}",
        "components": [
            {"id": str(link.component_id), "name": link.component.name, "status": link.status}
            for link in incident.affected.filter(component__is_public=True).select_related(
                "component"
            )
        ],
        "incident_updates": [
            {
                "id": str(update.pk),
                "incident_id": str(incident.pk),
                "status": update.status,
                "body": update.body,
                "created_at": iso(update.created_at),
                "updated_at": iso(update.updated_at),
                "display_at": iso(update.display_at),
                "affected_components": public_affected_components(
                    update.affected_components, internal_ids
                ),
            }
            for update in incident.updates.order_by("-display_at", "-id")
        ],
    }


def maintenance_object(maintenance: Maintenance) -> dict:
    """A scheduled maintenance is an incident in Statuspage's payloads."""
    return {
        "id": f"m{maintenance.pk}",
        "name": maintenance.title,
        "status": maintenance.status,
        "impact": "maintenance",
        "created_at": iso(maintenance.created_at),
        "updated_at": iso(maintenance.updated_at),
        "started_at": iso(maintenance.started_at),
        "resolved_at": iso(maintenance.completed_at),
        "scheduled_for": iso(maintenance.starts_at),
        "scheduled_until": iso(maintenance.ends_at),
        "shortlink": f"{settings.SITE_URL}/maintenance/{maintenance.pk}",
        "components": [
            {"id": str(c.pk), "name": c.name, "status": c.status}
            for c in maintenance.components.public()
        ],
        "incident_updates": [
            {
                "id": f"mu{update.pk}",
                "incident_id": f"m{maintenance.pk}",
                "status": update.status,
                "body": update.body,
                "created_at": iso(update.created_at),
                "updated_at": iso(update.created_at),
                "display_at": iso(update.display_at),
                "affected_components": [],
            }
            for update in maintenance.updates.order_by("-display_at", "-id")
        ],
    }


def payload(notification: Notification) -> dict:
    """The body for a notification, without `meta.unsubscribe` (added per subscriber)."""
    body: dict = {"meta": {"documentation": DOCUMENTATION}, "page": page_object()}
    event = notification.event
    if notification.kind == Notification.Kind.COMPONENT_STATUS_CHANGED and event is not None:
        component = event.component
        body["component_update"] = {
            "id": str(event.pk),
            "component_id": str(component.pk),
            "old_status": event.old_status,
            "new_status": event.new_status,
            "created_at": iso(event.created_at),
            "component_type": "Component",
        }
        body["component"] = {
            "id": str(component.pk),
            "name": component.name,
            "status": component.status,
            "created_at": iso(component.created_at),
            "updated_at": iso(component.updated_at),
            "position": component.position,
            "description": component.description or None,
            "group_id": str(component.group_id) if component.group_id else None,
        }
    elif notification.kind == Notification.Kind.WEBHOOK_TEST:
        # Not a Statuspage shape (it has no test delivery): a receiver that knows neither
        # `incident` nor `component_update` can ignore it, and one that logs it sees why.
        body["test"] = {
            "id": str(notification.pk),
            "message": f"A test delivery from {settings.SITE_NAME}: nothing has changed.",
            "created_at": iso(notification.created_at),
        }
    elif notification.incident is not None:
        body["incident"] = incident_object(notification.incident)
    elif notification.maintenance is not None:
        body["incident"] = maintenance_object(notification.maintenance)
    return body


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance=300):
    """What a receiver does: recompute the signature and refuse stale timestamps."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    transient: bool = False
    reason: str = ""


# What staff see for every failed delivery: telling a timeout, a refused connection or an HTTP
# status apart would let whoever can add a webhook map which hosts and ports answer (the
# detail goes to the log for operators).
COULD_NOT_DELIVER = "could not deliver"


def post(delivery: Delivery, base_payload: dict, now: datetime) -> Outcome:
    """POST one signed payload, only to an allowed address (statuspage.subscriptions.outbound);
    classify the result."""
    subscriber = delivery.subscriber
    problem = outbound.url_problem(delivery.address)
    if problem:
        log.warning("webhook %s not delivered: %s", subscriber.pk, problem)
        return Outcome(False, False, COULD_NOT_DELIVER)
    document = dict(base_payload)
    document["meta"] = dict(base_payload["meta"], unsubscribe=links.unsubscribe_url(subscriber))
    document["meta"]["generated_at"] = iso(now)
    body = json.dumps(document, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.SITE_NAME} webhooks",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(subscriber.secret, timestamp, body),
    }
    try:
        with outbound.guarded_session() as session:
            response = session.post(
                delivery.address,
                data=body,
                headers=headers,
                timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        blocked = outbound.is_blocked(exc)
        log.warning(
            "webhook %s not delivered: %s",
            subscriber.pk,
            "address not allowed" if blocked else f"{type(exc).__name__}: {exc}",
        )
        # A host that resolves to a forbidden address will not get better by retrying.
        transient = not blocked and isinstance(exc, requests.Timeout | requests.ConnectionError)
        return Outcome(False, transient, COULD_NOT_DELIVER)
    if 200 <= response.status_code < 300:
        return Outcome(True)
    log.warning("webhook %s not delivered: HTTP %s", subscriber.pk, response.status_code)
    return Outcome(False, response.status_code in TRANSIENT_STATUSES, COULD_NOT_DELIVER)
