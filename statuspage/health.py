"""`GET /health`: is this site able to tell the truth right now? For load balancers and the
platform's own monitoring.

JSON with the database, the broker, the dispatcher's last run, each vantage point's last result
and the outbox backlog; 200 when all are healthy, 503 with the reasons when any is not. Never
cached, and cheap: six small queries and a broker ping with a short timeout. No hostnames,
addresses or error messages: the answer is public.

A silent vantage point (`monitors.silence`) is reported (`ok: false`, and a line in
`warnings`), but it is a reason for 503 only when it leaves some probe with no vantage point
heard: while the others deliver, the site still tells the truth, and a load balancer must not
take it out of service because one agent lost its link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from kombu import Connection

from monitors import stall as monitoring
from statuspage.subscriptions.models import Delivery

BROKER_TIMEOUT_SECONDS = 1.0
# Deliveries due for longer than this mean the senders are not keeping up (or not running).
OUTBOX_MAX_WAIT = timedelta(minutes=10)
OUTBOX_COUNT_LIMIT = 10_000


def seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 1)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def check_broker(url: str, timeout: float = BROKER_TIMEOUT_SECONDS) -> dict:
    """Connect to the broker (and PING it, for Redis) within `timeout` seconds."""
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    options.setdefault("socket_timeout", timeout)
    options.setdefault("socket_connect_timeout", timeout)
    try:
        with Connection(url, connect_timeout=timeout, transport_options=options) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            client = getattr(broker.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()
    except Exception as error:  # any failure to reach it is the answer, not a 500
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def check_monitoring(now: datetime) -> tuple[dict, dict, set[str]]:
    """The dispatcher's last run and each vantage point's last result, against their stale
    thresholds (monitors.stall), and the silent sources that stall monitoring."""
    facts = monitoring.load_facts()
    if facts is None:
        return {"ok": True, "last_run_at": None, "note": "no probe is enabled"}, {}, set()
    silences = facts.silences(now)
    quiet = {silence.source for silence in silences}
    stalling = {silence.source for silence in facts.stalling(silences)}

    def entry(source: str, at: datetime, key: str) -> dict:
        return {
            "ok": source not in quiet,
            key: at.isoformat(),
            "age_seconds": seconds(now - at),
        }

    dispatcher = entry(monitoring.DISPATCHER, facts.last_dispatch, "last_run_at")
    dispatcher["stale_after_seconds"] = seconds(facts.threshold)
    vantage_points = {
        name: {
            **entry(name, at, "last_result_at"),
            "stale_after_seconds": seconds(facts.thresholds[name]),
        }
        for name, at in sorted(facts.last_results.items())
    }
    return dispatcher, vantage_points, stalling


def check_outbox(now: datetime) -> dict:
    due = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    oldest = due.values_list("next_attempt_at", flat=True).first()
    count = due.values("id")[: OUTBOX_COUNT_LIMIT + 1].count()
    waited = now - oldest if oldest is not None else timedelta(0)
    return {
        "ok": waited <= OUTBOX_MAX_WAIT,
        "due": count if count <= OUTBOX_COUNT_LIMIT else f"{OUTBOX_COUNT_LIMIT}+",
        "oldest_due_seconds": seconds(waited) if oldest is not None else None,
    }


def health_report(now: datetime) -> dict:
    report: dict = {
        "database": check_database(),
        "broker": check_broker(settings.CELERY_BROKER_URL),
    }
    reasons, warnings = [], []
    stalling: set[str] = set()
    if report["database"]["ok"]:
        try:
            report["dispatcher"], report["vantage_points"], stalling = check_monitoring(now)
            report["outbox"] = check_outbox(now)
        except DatabaseError as error:
            report["database"] = {"ok": False, "error": type(error).__name__}
    if not report["database"]["ok"]:
        reasons.append("the database is unreachable")
    if not report["broker"]["ok"]:
        reasons.append("the broker is unreachable")
    dispatcher = report.get("dispatcher")
    if dispatcher is not None and not dispatcher["ok"]:
        reasons.append(f"the dispatcher has not run for {dispatcher['age_seconds']:.0f} s")
    for name, vantage_point in report.get("vantage_points", {}).items():
        if vantage_point["ok"]:
            continue
        silent = f"vantage point {name} has delivered no result for "
        silent += f"{vantage_point['age_seconds']:.0f} s"
        if name in stalling:
            reasons.append(silent)
        else:
            warnings.append(silent + " (its probes are heard from other vantage points)")
    outbox = report.get("outbox")
    if outbox is not None and not outbox["ok"]:
        reasons.append(f"notifications have waited {outbox['oldest_due_seconds']:.0f} s to be sent")
    return {
        "status": "ok" if not reasons else "failing",
        "reasons": reasons,
        "warnings": warnings,
        **report,
    }


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    report = {"checked_at": now.isoformat(), **health_report(now)}
    response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response
