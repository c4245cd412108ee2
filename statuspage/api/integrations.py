"""/api/v1/integrations: alerts in from the platform's monitoring (see `monitors.alerts`).

`POST /alertmanager` takes Alertmanager's webhook payload (version 4), `POST /grafana`
Grafana's alerting webhook; both with the bearer token of a staff user. The answer counts what
the notification did: `{"received", "matched", "unmatched", "resolved", "ignored",
"components"}`. A body that does not parse is a 400 naming the field at fault.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from monitors import alerts
from monitors.models import FiringAlert
from statuspage.api.auth import RESPONDER_TOKEN
from statuspage.api.errors import ERROR_RESPONSES

router = Router(tags=["integrations"])
# The body is read by monitors.alerts (to name the field at fault); the schema still says
# that one is expected.
JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


class AlertsReceived(Schema):
    received: int
    matched: int
    unmatched: int
    resolved: int
    ignored: int
    components: list[str]


def receive(source: str, incoming: list[alerts.IncomingAlert]) -> dict:
    done = alerts.receive_alerts(source, incoming, alerts.mapping_rules(), timezone.now())
    return done.as_dict()


@router.post(
    "/alertmanager",
    response={200: AlertsReceived, **ERROR_RESPONSES},
    openapi_extra=JSON_BODY,
    auth=RESPONDER_TOKEN,
)
def alertmanager(request: HttpRequest):
    """Alertmanager's webhook (payload version 4). Point a receiver's `webhook_configs` here,
    with `http_config.authorization.credentials` set to an API token."""
    return receive(FiringAlert.Source.ALERTMANAGER, alerts.read_alertmanager(request.body))


@router.post(
    "/grafana",
    response={200: AlertsReceived, **ERROR_RESPONSES},
    openapi_extra=JSON_BODY,
    auth=RESPONDER_TOKEN,
)
def grafana(request: HttpRequest):
    """Grafana's alerting webhook contact point, with an `Authorization: Bearer` token."""
    return receive(FiringAlert.Source.GRAFANA, alerts.read_grafana(request.body))
