"""Maintenance in the console: list, schedule, edit, move through its statuses, notes; the
whole series of a recurring one."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from statuspage import actions, recurrence
from statuspage.console.forms import (
    MaintenanceForm,
    MaintenanceSeriesForm,
    MaintenanceStatusForm,
    NoteForm,
    add_action_errors,
)
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    AuditEntry,
    Maintenance,
    MaintenanceSeries,
    MaintenanceStatus,
)
from statuspage.roles import RESPOND, requires, staff_required

VIA = AuditEntry.Via.CONSOLE
PER_PAGE = 50

# The buttons on a maintenance page: each next status with what the button says.
TRANSITION_LABELS = {
    MaintenanceStatus.IN_PROGRESS: "Start",
    MaintenanceStatus.VERIFYING: "Verify",
    MaintenanceStatus.COMPLETED: "Complete",
    MaintenanceStatus.CANCELLED: "Cancel maintenance",
}


def get_maintenance(pk: int) -> Maintenance:
    return get_object_or_404(Maintenance, pk=pk)


def timeline(maintenance: Maintenance) -> list[tuple[str, object]]:
    """Status updates and internal notes, newest first, as (kind, row)."""
    entries = [
        ("update", update, update.display_at)
        for update in maintenance.updates.select_related("author")
    ]
    entries += [
        ("note", note, note.created_at) for note in maintenance.notes.select_related("author")
    ]
    entries.sort(key=lambda entry: (entry[2], entry[0] == "update"), reverse=True)
    return [(kind, row) for kind, row, _ in entries]


def render_detail(
    request: HttpRequest,
    maintenance: Maintenance,
    *,
    status_form: MaintenanceStatusForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    transitions = [
        (value, TRANSITION_LABELS[value])
        for value in TRANSITION_LABELS
        if value in actions.MAINTENANCE_NEXT[MaintenanceStatus(maintenance.status)]
    ]
    context = {
        "maintenance": maintenance,
        "components": maintenance.components.select_related("group"),
        "timeline": timeline(maintenance),
        "transitions": transitions,
        "status_form": status_form or MaintenanceStatusForm(),
        "note_form": note_form or NoteForm(),
        "editable": maintenance.status
        not in (MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED),
    }
    return render(request, "console/maintenance_detail.html", context, status=status)


@staff_required
@require_safe
def maintenance_list(request: HttpRequest) -> HttpResponse:
    # Active first, then upcoming, then the past; latest window first within each.
    maintenances = Maintenance.objects.annotate(
        rank=Case(
            When(status__in=ACTIVE_MAINTENANCE_STATUSES, then=Value(0)),
            When(status=MaintenanceStatus.SCHEDULED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("rank", "-starts_at", "-id")
    page = Paginator(maintenances, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/maintenance_list.html", {"page": page})


@staff_required
@requires(RESPOND)
@require_safe
def maintenance_new(request: HttpRequest) -> HttpResponse:
    return render(request, "console/maintenance_form.html", {"form": MaintenanceForm()})


@staff_required
@requires(RESPOND)
@require_POST
def maintenance_create(request: HttpRequest) -> HttpResponse:
    form = MaintenanceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        schedule, extra = actions.schedule_maintenance, {}
        if data.get("recurrence", "").strip():
            schedule = recurrence.schedule_recurring_maintenance
            extra = {"recurrence": data["recurrence"]}
        try:
            maintenance = schedule(
                **extra,
                title=data["title"],
                title_alt=data["title_alt"],
                description=data["description"],
                description_alt=data["description_alt"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                components=data["components"],
                auto_start=data["auto_start"],
                auto_complete=data["auto_complete"],
                is_public=data["is_public"],
                notify=data["notify"],
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Maintenance scheduled.")
            return redirect("console:maintenance_detail", pk=maintenance.pk)
    return render(request, "console/maintenance_form.html", {"form": form}, status=400)


@staff_required
@requires(RESPOND)
@require_POST
def maintenance_cancel_series(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance = get_maintenance(pk)
    if maintenance.series is None or maintenance.series.cancelled_at is not None:
        messages.error(request, "This maintenance is not part of an active series.")
    else:
        recurrence.cancel_series(maintenance.series, actor=request.user, via=VIA)
        messages.success(request, "The series is cancelled: no more windows will be created.")
    return redirect("console:maintenance_detail", pk=maintenance.pk)


def active_series_or_404(pk: int) -> tuple[Maintenance, MaintenanceSeries]:
    maintenance = get_object_or_404(
        Maintenance.objects.select_related("series"),
        pk=pk,
        series__isnull=False,
        series__cancelled_at__isnull=True,
    )
    return maintenance, maintenance.series


def render_series_form(
    request: HttpRequest,
    maintenance: Maintenance,
    series: MaintenanceSeries,
    form: MaintenanceSeriesForm,
    status: int = 200,
) -> HttpResponse:
    # What the edit will touch, said before staff press the button.
    now = timezone.now()
    counts = series.occurrences.aggregate(
        upcoming=Count("pk", filter=Q(status=MaintenanceStatus.SCHEDULED, starts_at__gt=now)),
        cancelled=Count("pk", filter=Q(status=MaintenanceStatus.CANCELLED)),
    )
    counts["past"] = series.occurrences.count() - counts["upcoming"] - counts["cancelled"]
    upcoming = series.occurrences.filter(
        status=MaintenanceStatus.SCHEDULED, starts_at__gt=now
    ).order_by("starts_at")[:6]
    context = {
        "form": form,
        "maintenance": maintenance,
        "series": series,
        "counts": counts,
        "upcoming": upcoming,
        "time_zone": timezone.get_current_timezone_name(),
    }
    return render(request, "console/maintenance_series_form.html", context, status=status)


@staff_required
@requires(RESPOND)
@require_safe
def maintenance_series_edit(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance, series = active_series_or_404(pk)
    form = MaintenanceSeriesForm(
        initial={
            "title": series.title,
            "title_alt": series.title_alt,
            "description": series.description,
            "description_alt": series.description_alt,
            "duration_minutes": int(series.duration.total_seconds() // 60),
            "recurrence": series.recurrence,
            "components": list(series.components.all()),
            "auto_start": series.auto_start,
            "auto_complete": series.auto_complete,
            "is_public": series.is_public,
        }
    )
    return render_series_form(request, maintenance, series, form)


@staff_required
@requires(RESPOND)
@require_POST
def maintenance_series_save(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance, series = active_series_or_404(pk)
    form = MaintenanceSeriesForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        components = data.pop("components")
        data["duration"] = timedelta(minutes=data.pop("duration_minutes"))
        try:
            recurrence.edit_series(
                series, components=components, actor=request.user, via=VIA, **data
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Series saved: the windows not yet started follow it.")
            return redirect("console:maintenance_detail", pk=maintenance.pk)
    return render_series_form(request, maintenance, series, form, status=400)


@staff_required
@require_safe
def maintenance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, get_maintenance(pk))


@staff_required
@requires(RESPOND)
@require_safe
def maintenance_edit(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance = get_maintenance(pk)
    form = MaintenanceForm(
        editing=True,
        initial={
            "title": maintenance.title,
            "title_alt": maintenance.title_alt,
            "description": maintenance.description,
            "description_alt": maintenance.description_alt,
            "starts_at": maintenance.starts_at,
            "ends_at": maintenance.ends_at,
            "components": list(maintenance.components.all()),
            "auto_start": maintenance.auto_start,
            "auto_complete": maintenance.auto_complete,
            "is_public": maintenance.is_public,
        },
    )
    context = {"form": form, "maintenance": maintenance}
    return render(request, "console/maintenance_form.html", context)


@staff_required
@requires(RESPOND)
@require_POST
def maintenance_save(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance = get_maintenance(pk)
    form = MaintenanceForm(request.POST, editing=True)
    if form.is_valid():
        data = dict(form.cleaned_data)
        components = data.pop("components")
        try:
            actions.edit_maintenance(
                maintenance, components=components, actor=request.user, via=VIA, **data
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Maintenance saved.")
            return redirect("console:maintenance_detail", pk=maintenance.pk)
    context = {"form": form, "maintenance": maintenance}
    return render(request, "console/maintenance_form.html", context, status=400)


@staff_required
@requires(RESPOND)
@require_POST
def maintenance_status(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance = get_maintenance(pk)
    form = MaintenanceStatusForm(request.POST)
    if form.is_valid():
        try:
            maintenance = actions.set_maintenance_status(
                maintenance,
                form.cleaned_data["status"],
                body=form.cleaned_data["body"],
                notify=form.cleaned_data["notify"],
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, f"Maintenance is now {maintenance.get_status_display()}.")
            return redirect("console:maintenance_detail", pk=maintenance.pk)
    return render_detail(request, maintenance, status_form=form, status=400)


@staff_required
@require_POST
def maintenance_note(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance = get_maintenance(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            actions.add_note(
                body=form.cleaned_data["body"],
                maintenance=maintenance,
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Internal note added.")
            return redirect("console:maintenance_detail", pk=maintenance.pk)
    return render_detail(request, maintenance, note_form=form, status=400)
