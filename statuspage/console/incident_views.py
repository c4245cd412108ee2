"""Incidents in the console: list, open (optionally from a template), timeline, updates, edit,
resolve, postmortem and internal notes. Every change goes through `statuspage.actions`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from statuspage import actions
from statuspage.console.forms import (
    IncidentEditForm,
    IncidentOpenForm,
    IncidentUpdateForm,
    NoteForm,
    PostmortemForm,
    ResolveForm,
    add_action_errors,
)
from statuspage.models import (
    OPEN_INCIDENT_STATUSES,
    AuditEntry,
    ComponentStatus,
    Incident,
    IncidentTemplate,
)
from statuspage.roles import RESPOND, requires, staff_required

VIA = AuditEntry.Via.CONSOLE
PER_PAGE = 50


def get_incident(pk: int) -> Incident:
    return get_object_or_404(Incident, pk=pk)


def status_label(value: str) -> str:
    """A component status's label; the raw value if it is not one we know."""
    return ComponentStatus(value).label if value in ComponentStatus.values else value


def timeline(incident: Incident) -> list[tuple[str, object]]:
    """The incident's public updates and internal notes, newest first, as (kind, row)."""
    updates = list(incident.updates.select_related("author"))
    for update in updates:
        update.affected_labels = [
            (item.get("name", ""), status_label(item.get("new_status", "")))
            for item in update.affected_components
        ]
    entries = [("update", update, update.display_at) for update in updates]
    entries += [("note", note, note.created_at) for note in incident.notes.select_related("author")]
    entries.sort(key=lambda entry: (entry[2], entry[0] == "update"), reverse=True)
    return [(kind, row) for kind, row, _ in entries]


def render_detail(
    request: HttpRequest,
    incident: Incident,
    *,
    update_form: IncidentUpdateForm | None = None,
    resolve_form: ResolveForm | None = None,
    postmortem_form: PostmortemForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The incident page; a form passed in (bound, with errors) replaces the blank one."""
    context = {
        "incident": incident,
        "affected": incident.affected.select_related("component", "component__status_cause"),
        "timeline": timeline(incident),
        "update_form": update_form or IncidentUpdateForm(incident=incident),
        "resolve_form": resolve_form or ResolveForm(),
        "postmortem_form": postmortem_form
        or PostmortemForm(
            initial={
                "body": incident.postmortem,
                "body_alt": incident.postmortem_alt,
                "publish": True,
            }
        ),
        "note_form": note_form or NoteForm(),
    }
    return render(request, "console/incident_detail.html", context, status=status)


@staff_required
@require_safe
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = (
        Incident.objects.annotate(
            closed=Case(
                When(status__in=OPEN_INCIDENT_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-started_at", "-id")
        .prefetch_related("affected__component")
    )
    page = Paginator(incidents, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/incident_list.html", {"page": page})


@staff_required
@requires(RESPOND)
@require_safe
def incident_new(request: HttpRequest) -> HttpResponse:
    initial: dict = {}
    component_initial: dict[int, str] = {}
    template = None
    if request.GET.get("template"):
        try:
            template_id = int(request.GET["template"])
        except ValueError:
            template_id = 0
        template = get_object_or_404(IncidentTemplate, pk=template_id)
        initial = {
            "title": template.title,
            "title_alt": template.title_alt,
            "body": template.body,
            "body_alt": template.body_alt,
            "impact": template.impact,
        }
        component_initial = {
            component.pk: template.component_status for component in template.components.all()
        }
    form = IncidentOpenForm(initial=initial, component_initial=component_initial)
    return render(
        request,
        "console/incident_new.html",
        {"form": form, "templates": IncidentTemplate.objects.all(), "template": template},
    )


@staff_required
@requires(RESPOND)
@require_POST
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentOpenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident = actions.open_incident(
                title=data["title"],
                title_alt=data["title_alt"],
                body=data["body"],
                body_alt=data["body_alt"],
                impact=data["impact"],
                status=data["status"],
                components=form.component_statuses(),
                is_public=data["is_public"],
                notify=data["notify"],
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Incident opened.")
            return redirect("console:incident_detail", pk=incident.pk)
    context = {"form": form, "templates": IncidentTemplate.objects.all(), "template": None}
    return render(request, "console/incident_new.html", context, status=400)


@staff_required
@require_safe
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, get_incident(pk))


@staff_required
@requires(RESPOND)
@require_POST
def incident_update(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(pk)
    form = IncidentUpdateForm(request.POST, incident=incident)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.post_incident_update(
                incident,
                status=data["status"],
                body=data["body"],
                body_alt=data["body_alt"],
                notify=data["notify"],
                impact=data["impact"] if data["impact"] != incident.impact else None,
                components=form.changed_component_statuses(),
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Update posted.")
            return redirect("console:incident_detail", pk=incident.pk)
    return render_detail(request, incident, update_form=form, status=400)


@staff_required
@requires(RESPOND)
@require_POST
def incident_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            actions.resolve_incident(
                incident,
                body=form.cleaned_data["body"],
                body_alt=form.cleaned_data["body_alt"],
                notify=form.cleaned_data["notify"],
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Incident resolved.")
            return redirect("console:incident_detail", pk=incident.pk)
    return render_detail(request, incident, resolve_form=form, status=400)


@staff_required
@requires(RESPOND)
@require_safe
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(pk)
    form = IncidentEditForm(incident=incident)
    return render(request, "console/incident_edit.html", {"incident": incident, "form": form})


@staff_required
@requires(RESPOND)
@require_POST
def incident_save(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(pk)
    form = IncidentEditForm(request.POST, incident=incident)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.edit_incident(
                incident,
                title=data["title"],
                title_alt=data["title_alt"],
                impact=data["impact"],
                is_public=data["is_public"],
                components=form.changed_component_statuses(),
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Incident saved.")
            return redirect("console:incident_detail", pk=incident.pk)
    context = {"incident": incident, "form": form}
    return render(request, "console/incident_edit.html", context, status=400)


@staff_required
@requires(RESPOND)
@require_POST
def incident_postmortem(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(pk)
    form = PostmortemForm(request.POST)
    if form.is_valid():
        try:
            actions.write_postmortem(
                incident,
                body=form.cleaned_data["body"],
                body_alt=form.cleaned_data["body_alt"],
                publish=form.cleaned_data["publish"],
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            published = form.cleaned_data["publish"]
            messages.success(request, "Postmortem published." if published else "Draft saved.")
            return redirect("console:incident_detail", pk=incident.pk)
    return render_detail(request, incident, postmortem_form=form, status=400)


@staff_required
@require_POST
def incident_note(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            actions.add_note(
                body=form.cleaned_data["body"], incident=incident, actor=request.user, via=VIA
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Internal note added.")
            return redirect("console:incident_detail", pk=incident.pk)
    return render_detail(request, incident, note_form=form, status=400)
