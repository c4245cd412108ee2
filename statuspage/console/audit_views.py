"""The audit log: who changed what, when, through which door, before and after."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from statuspage.console.decorators import staff_required
from statuspage.console.forms import AuditFilterForm
from statuspage.models import AuditEntry

PER_PAGE = 50


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(before, after) -> list[dict]:
    """Before/after as rows of (field, before, after, changed): dicts field by field, anything
    else as one row, so that the log shows what an action really changed."""
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        if isinstance(before, dict) and isinstance(after, dict):
            return [
                {
                    "field": key,
                    "before": as_text(before.get(key)),
                    "after": as_text(after.get(key)),
                    "changed": before.get(key) != after.get(key),
                }
                for key in sorted(before.keys() | after.keys())
            ]
    return [{"field": "", "before": as_text(before), "after": as_text(after), "changed": True}]


@staff_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    object_types = list(
        AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
    form = AuditFilterForm(request.GET or None, object_types=object_types)
    entries = AuditEntry.objects.select_related("actor")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(entry, changes(entry.before, entry.after)) for entry in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render(request, "console/audit_log.html", context)
