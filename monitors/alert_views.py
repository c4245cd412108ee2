"""The alerts console: what Alertmanager and Grafana sent (monitors.alerts), firing ones
first, and the alerts that matched no component, so nobody wonders where an alert went."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from monitors.models import FiringAlert
from statuspage.roles import staff_required

RECENT_DAYS = 7
SHOWN = 200


@require_GET
@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    firing = list(
        FiringAlert.objects.firing(now)
        .filter(component__isnull=False)
        .select_related("component")
        .order_by("component__slug", "-starts_at")[:SHOWN]
    )
    recent = FiringAlert.objects.filter(last_received_at__gte=now - timedelta(days=RECENT_DAYS))
    unmatched = recent.filter(component__isnull=True)
    context = {
        "firing": firing,
        "unmatched": list(unmatched[:SHOWN]),
        "unmatched_count": unmatched.count(),
        "recent": list(
            recent.filter(component__isnull=False, resolved_at__isnull=False).select_related(
                "component"
            )[:50]
        ),
        "days": RECENT_DAYS,
        "now": now,
    }
    return render(request, "console/probes/alerts.html", context)
