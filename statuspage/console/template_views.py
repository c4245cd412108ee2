"""Incident templates in the console: list, add, edit, delete. Opening an incident from one is
in `incident_views.incident_new`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from statuspage import actions
from statuspage.console.forms import IncidentTemplateForm, add_action_errors
from statuspage.models import AuditEntry, IncidentTemplate
from statuspage.roles import RESPOND, requires, staff_required

VIA = AuditEntry.Via.CONSOLE
FIELDS = ("name", "title", "title_alt", "body", "body_alt", "impact", "component_status")


@staff_required
@require_http_methods(["GET"])
def template_list(request: HttpRequest) -> HttpResponse:
    templates = IncidentTemplate.objects.prefetch_related("components")
    return render(request, "console/templates/list.html", {"templates": templates})


@staff_required
@requires(RESPOND)
@require_http_methods(["GET", "POST"])
def template_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """GET shows the form (empty, or the template's); POST saves it."""
    template = get_object_or_404(IncidentTemplate, pk=pk) if pk is not None else None
    form = IncidentTemplateForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = actions.save_incident_template(
                template,
                fields={name: data[name] for name in FIELDS},
                components=data["components"],
                actor=request.user,
                via=VIA,
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, f"Template “{saved.name}” saved.")
            return redirect("console:template_list")
    status = 400 if form.is_bound else 200
    context = {"form": form, "template": template}
    return render(request, "console/templates/form.html", context, status=status)


@staff_required
@requires(RESPOND)
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(IncidentTemplate, pk=pk)
    actions.delete_incident_template(template, actor=request.user, via=VIA)
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("console:template_list")
