"""The console's dashboard and the hand-set component status. Incidents, maintenance and the
audit log have their own modules (`incident_views`, `maintenance_views`, `audit_views`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from monitors import stall as monitoring
from statuspage import actions
from statuspage.console.forms import ComponentStatusForm, add_action_errors
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    OPEN_INCIDENT_STATUSES,
    AuditEntry,
    Component,
    ComponentStatus,
    Incident,
    IncidentComponent,
    Maintenance,
    MaintenanceStatus,
)
from statuspage.roles import RESPOND, requires, staff_required

VIA = AuditEntry.Via.CONSOLE


def render_dashboard(
    request: HttpRequest,
    failed: tuple[Component, ComponentStatusForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The dashboard; `failed` is a component whose status form came back with errors."""
    now = timezone.now()
    # What declares each component's status besides the hand: the open incidents naming it.
    declared: dict[int, list[IncidentComponent]] = {}
    for link in IncidentComponent.objects.filter(
        incident__status__in=OPEN_INCIDENT_STATUSES
    ).select_related("incident"):
        declared.setdefault(link.component_id, []).append(link)
    components = []
    for component in Component.objects.select_related("group", "status_cause"):
        component.open_incident_links = declared.get(component.pk, [])
        if failed and failed[0].pk == component.pk:
            form = failed[1]
        else:
            form = ComponentStatusForm(
                initial={"status": component.manual_status}, prefix=f"c{component.pk}"
            )
        components.append((component, form))
    context = {
        "open_incidents": Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES)
        .prefetch_related("affected__component")
        .order_by("-started_at"),
        "active_maintenances": Maintenance.objects.filter(
            status__in=ACTIVE_MAINTENANCE_STATUSES
        ).order_by("ends_at"),
        "upcoming_maintenances": Maintenance.objects.filter(
            status=MaintenanceStatus.SCHEDULED, ends_at__gt=now
        ).order_by("starts_at")[:20],
        "components": components,
        "now": now,
    }
    context["silences"] = monitoring.open_silences()
    stall = monitoring.open_stall()
    if stall is not None:
        context["monitoring_stall"] = stall
        context["staff_notified"] = bool(settings.STAFF_NOTIFY_EMAILS)
        last_checked = monitoring.last_checked_by_component([c.pk for c, _form in components])
        for component, _form in components:
            component.last_checked_at = last_checked.get(component.pk)
    return render(request, "console/dashboard.html", context, status=status)


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render_dashboard(request)


@staff_required
@requires(RESPOND)
@require_POST
def component_status(request: HttpRequest, pk: int) -> HttpResponse:
    component = get_object_or_404(Component, pk=pk)
    form = ComponentStatusForm(request.POST, prefix=f"c{component.pk}")
    if form.is_valid():
        try:
            component = actions.set_component_status(
                component, form.cleaned_data["status"], actor=request.user, via=VIA
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            if component.manual_status == ComponentStatus.OPERATIONAL:
                done = "nothing set by hand any more"
            else:
                done = f"set by hand to {component.get_manual_status_display()}"
            messages.success(
                request, f"{component.name}: {done}; now {component.get_status_display()}."
            )
            return redirect("console:dashboard")
    return render_dashboard(request, failed=(component, form), status=400)
